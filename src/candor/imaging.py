"""Image input: bytes or an S3 object in, a checked RGB array out.

Everything that can be refused is refused before the pixels are decoded: the byte size, the
format (sniffed from the first bytes, not trusted from a name), and the dimensions read from the
header. Decoding then handles the modes real files come in (grayscale, palette, alpha, 16-bit)
and applies EXIF orientation, so coordinates refer to the image as a person sees it.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageOps, UnidentifiedImageError

from candor.errors import (
    ImageTooLargeException,
    InvalidImageFormatException,
    InvalidParameterException,
)
from candor.media import MediaSource, S3Ref
from candor.types import BoundingBox

MAX_BYTES_INLINE = 5 * 1024 * 1024
MAX_BYTES_S3 = 15 * 1024 * 1024
MIN_SIDE = 80

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True, eq=False)
class DecodedImage:
    """An RGB uint8 array (height, width, 3) after orientation, and the input's digest."""

    pixels: NDArray[np.uint8]
    format: str
    sha256: str

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])


# What services take as an image: the request's bytes, an S3 reference, or pixels already
# decoded (a video frame).
ImageInput = bytes | S3Ref | DecodedImage


def sniff_format(data: bytes) -> str | None:
    if data.startswith(_JPEG_MAGIC):
        return "JPEG"
    if data.startswith(_PNG_MAGIC):
        return "PNG"
    return None


def load_image(
    image: ImageInput, media: MediaSource | None, *, max_pixels: int, account: str
) -> DecodedImage:
    """Resolve, check and decode an image given as bytes or as an S3 reference (read as
    ``account`` may read it); already decoded pixels pass through."""
    if isinstance(image, DecodedImage):
        return image
    if isinstance(image, S3Ref):
        if media is None:
            raise InvalidParameterException("S3Object images need a media source; none is set")
        data = media.read(image, max_bytes=MAX_BYTES_S3, account=account)
        limit = MAX_BYTES_S3
    else:
        data = image
        limit = MAX_BYTES_INLINE
    return decode_image(data, max_bytes=limit, max_pixels=max_pixels)


def decode_image(data: bytes, *, max_bytes: int, max_pixels: int) -> DecodedImage:
    if len(data) == 0:
        raise InvalidImageFormatException("The image is empty (0 bytes); send a JPEG or PNG file")
    if len(data) > max_bytes:
        raise ImageTooLargeException(
            f"The image is {len(data):,} bytes; the limit is {max_bytes:,} bytes "
            f"({max_bytes // (1024 * 1024)} MiB). Resize or recompress it."
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidImageFormatException(
            "Unsupported image format: only JPEG and PNG are accepted "
            f"(the data starts with {data[:8].hex(' ')})"
        )
    try:
        with warnings.catch_warnings():
            # Our pixel cap is lower than Pillow's bomb threshold; its warning would be noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im: Image.Image = Image.open(io.BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise ImageTooLargeException(f"The image has too many pixels: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImageFormatException(f"The {fmt} header could not be read: {exc}") from None
    width, height = im.size
    if width * height > max_pixels:
        raise ImageTooLargeException(
            f"The image is {width}x{height} = {width * height:,} pixels; the limit is "
            f"{max_pixels:,} pixels. Downscale it."
        )
    if width < MIN_SIDE or height < MIN_SIDE:
        raise InvalidParameterException(
            f"The image is {width}x{height} pixels; each side must be at least {MIN_SIDE} pixels"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im.load()
            im = _apply_orientation(im)
            pixels = _to_rgb(im)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageFormatException(
            f"The {fmt} data is truncated or corrupt and could not be decoded: {exc}"
        ) from None
    return DecodedImage(pixels=pixels, format=fmt, sha256=hashlib.sha256(data).hexdigest())


def _apply_orientation(im: Image.Image) -> Image.Image:
    try:
        rotated = ImageOps.exif_transpose(im)
    except Exception:
        return im
    return rotated if rotated is not None else im


def _to_rgb(im: Image.Image) -> NDArray[np.uint8]:
    mode = im.mode
    if mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(im)
        if mode == "I" and arr.max(initial=0) <= 255:
            gray = arr.astype(np.uint8)
        else:
            gray = (arr.astype(np.uint32) >> 8).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode == "F":
        arr = np.clip(np.asarray(im), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(arr[:, :, None], 3, axis=2))
    has_alpha = mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in im.info)
    if has_alpha:
        rgba = im.convert("RGBA")
        # Transparent pixels hold arbitrary colour; show them as white, as a viewer would.
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    rgb = im.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def fit_within(pixels: NDArray[np.uint8], side: int) -> NDArray[np.uint8]:
    """``pixels`` shrunk (bilinear) so its longer side is at most ``side``; unchanged if it is."""
    h, w = pixels.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return pixels
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BILINEAR))


def crop(pixels: NDArray[np.uint8], box: BoundingBox) -> NDArray[np.uint8]:
    """The pixels inside ``box`` (ratios of the image), at least one pixel each way."""
    h, w = pixels.shape[:2]
    x0, y0 = int(box.left * w), int(box.top * h)
    x1 = max(x0 + 1, int((box.left + box.width) * w))
    y1 = max(y0 + 1, int((box.top + box.height) * h))
    return pixels[y0:y1, x0:x1]
