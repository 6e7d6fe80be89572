"""Image input: every rejection is the right Rekognition error, every odd mode decodes right."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from candor.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
    InvalidS3ObjectException,
)
from candor.imaging import MAX_BYTES_INLINE, MAX_BYTES_S3, decode_image, load_image
from candor.media import LocalMediaSource, S3Ref

from .conftest import SMOKE

LIMITS = dict(max_bytes=MAX_BYTES_INLINE, max_pixels=36_000_000)


def encode(im: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def gradient(w: int = 120, h: int = 100) -> Image.Image:
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, w)[None, :]
    arr[..., 1] = np.linspace(0, 255, h)[:, None]
    return Image.fromarray(arr)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size its data does not have: a tiny file, huge dimensions."""


    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "error", "words"),
    [
        (b"", InvalidImageFormatException, "empty"),
        (b"GIF89a" + b"\0" * 200, InvalidImageFormatException, "only JPEG and PNG"),
        (b"BM" + b"\0" * 200, InvalidImageFormatException, "only JPEG and PNG"),
        (b"\xff\xd8\xff" + b"\0" * 50, InvalidImageFormatException, "JPEG"),
        (png_header_only(100_000, 100_000), ImageTooLargeException, "pixels"),
        (png_header_only(60, 50), InvalidParameterException, "at least 80"),
    ],
    ids=["empty", "gif", "bmp", "jpeg-garbage", "huge-dims-tiny-file", "too-small"],
)
def test_rejections(data: bytes, error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        decode_image(data, **LIMITS)


def test_too_many_bytes() -> None:
    data = b"\xff\xd8\xff" + b"\0" * MAX_BYTES_INLINE
    with pytest.raises(ImageTooLargeException, match="5 MiB"):
        decode_image(data, **LIMITS)


def test_truncated_jpeg() -> None:
    data = (SMOKE / "examples" / "obama.jpg").read_bytes()
    with pytest.raises(InvalidImageFormatException, match="truncated or corrupt"):
        decode_image(data[: len(data) // 2], **LIMITS)


def test_truncated_png() -> None:
    data = encode(gradient(300, 300), "PNG")
    with pytest.raises(InvalidImageFormatException):
        decode_image(data[: len(data) // 2], **LIMITS)


def test_pixel_cap_is_configurable() -> None:
    data = encode(gradient(400, 400), "PNG")
    with pytest.raises(ImageTooLargeException, match="160,000 pixels"):
        decode_image(data, max_bytes=MAX_BYTES_INLINE, max_pixels=100_000)


def test_rgb_jpeg_and_digest() -> None:
    data = encode(gradient(), "JPEG", quality=95)
    img = decode_image(data, **LIMITS)
    assert (img.width, img.height, img.format) == (120, 100, "JPEG")
    assert img.pixels.dtype == np.uint8 and img.pixels.shape == (100, 120, 3)
    assert len(img.sha256) == 64


def test_grayscale_png_becomes_rgb() -> None:
    im = gradient().convert("L")
    img = decode_image(encode(im, "PNG"), **LIMITS)
    assert img.pixels.shape == (100, 120, 3)
    assert (img.pixels[..., 0] == img.pixels[..., 2]).all()
    assert np.array_equal(img.pixels[..., 0], np.asarray(im))


def test_palette_png() -> None:
    im = gradient().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    img = decode_image(encode(im, "PNG"), **LIMITS)
    assert np.array_equal(img.pixels, np.asarray(im.convert("RGB")))


def test_rgba_png_composites_on_white() -> None:
    arr = np.zeros((100, 120, 4), np.uint8)
    arr[..., 0] = 200
    arr[:, :60, 3] = 255  # left half opaque red, right half fully transparent black
    img = decode_image(encode(Image.fromarray(arr, "RGBA"), "PNG"), **LIMITS)
    assert tuple(img.pixels[50, 10]) == (200, 0, 0)
    assert tuple(img.pixels[50, 100]) == (255, 255, 255)


def test_real_rgba_png_from_the_data_set() -> None:
    data = (SMOKE / "tests" / "test_images" / "32bit.png").read_bytes()
    img = decode_image(data, **LIMITS)
    assert img.pixels.ndim == 3 and img.pixels.shape[2] == 3


def test_16bit_png_keeps_its_range() -> None:
    arr = (np.linspace(0, 65535, 120 * 100).reshape(100, 120)).astype(np.uint16)
    data = encode(Image.fromarray(arr), "PNG")
    img = decode_image(data, **LIMITS)
    assert img.pixels[0, 0, 0] == 0
    assert img.pixels[-1, -1, 0] == 255
    assert abs(int(img.pixels[50, 60, 0]) - 128) <= 2


@pytest.mark.parametrize(("orientation", "size"), [(1, (160, 100)), (6, (100, 160)), (8, (100, 160)), (3, (160, 100))])
def test_exif_orientation_is_applied(orientation: int, size: tuple[int, int]) -> None:
    arr = np.zeros((100, 160, 3), np.uint8)
    arr[:20, :20] = 255  # a white corner at the stored image's top-left
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = encode(Image.fromarray(arr), "JPEG", quality=95, exif=exif.tobytes())
    img = decode_image(data, **LIMITS)
    assert (img.width, img.height) == size
    corners = {
        "tl": img.pixels[5, 5, 0],
        "tr": img.pixels[5, -5, 0],
        "bl": img.pixels[-5, 5, 0],
        "br": img.pixels[-5, -5, 0],
    }
    white = {k for k, v in corners.items() if v > 200}
    expected = {1: {"tl"}, 6: {"tr"}, 8: {"bl"}, 3: {"br"}}[orientation]
    assert white == expected


def test_cmyk_jpeg() -> None:
    data = encode(gradient().convert("CMYK"), "JPEG")
    img = decode_image(data, **LIMITS)
    assert img.pixels.shape == (100, 120, 3)


# --- S3Object through the local media source -------------------------------------------------


@pytest.fixture
def media(tmp_path: Path) -> LocalMediaSource:
    (tmp_path / "photos" / "sub").mkdir(parents=True)
    (tmp_path / "photos" / "sub" / "g.png").write_bytes(encode(gradient(), "PNG"))
    (tmp_path / "secret.png").write_bytes(encode(gradient(), "PNG"))
    return LocalMediaSource(tmp_path)


def test_s3_object_reads_from_bucket_folder(media: LocalMediaSource) -> None:
    img = load_image(S3Ref("photos", "sub/g.png"), media, max_pixels=10**7, account="admin")
    assert img.width == 120


@pytest.mark.parametrize(
    ("ref", "words"),
    [
        (S3Ref("photos", "missing.png"), "no such object"),
        (S3Ref("photos", "../secret.png"), "outside bucket"),
        (S3Ref("photos", "/etc/passwd"), "outside bucket"),
        (S3Ref("no/slash", "x.png"), "not a valid bucket name"),
        (S3Ref("photos", "sub/g.png", version="3"), "Version"),
    ],
    ids=["missing", "dotdot", "absolute", "bad-bucket", "version"],
)
def test_s3_object_errors(media: LocalMediaSource, ref: S3Ref, words: str) -> None:
    with pytest.raises(InvalidS3ObjectException, match=words):
        load_image(ref, media, max_pixels=10**7, account="admin")


def test_s3_object_over_15_mib(media: LocalMediaSource, tmp_path: Path) -> None:
    (tmp_path / "photos" / "big.jpg").write_bytes(b"\xff\xd8\xff" + b"\0" * MAX_BYTES_S3)
    with pytest.raises(ImageTooLargeException, match="S3 objects"):
        load_image(S3Ref("photos", "big.jpg"), media, max_pixels=10**7, account="admin")


def test_s3_uri_parsing() -> None:
    assert S3Ref.parse_uri("s3://b-1/a/b.jpg") == S3Ref("b-1", "a/b.jpg")
    with pytest.raises(ValueError, match="bucket and a key"):
        S3Ref.parse_uri("s3://bucket")
