"""Hostile input: every malformed image or request gets a Rekognition error, in bounded time,
never a 500. Includes time-boxed fuzzing of the image decoder and the request parser."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from candor.api import http
from candor.errors import ServiceError
from candor.imaging import MAX_BYTES_INLINE, decode_image
from candor.runtime import Runtime

from .conftest import SMOKE

LIMITS = dict(max_bytes=MAX_BYTES_INLINE, max_pixels=36_000_000)
SMALL_JPEG = (SMOKE / "examples" / "obama_small.jpg").read_bytes()


def _png(width: int, height: int) -> bytes:
    """A real, fully compressed RGB PNG of zeros: a few KB that decode to width*height*3 bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    comp = zlib.compressobj(9)
    row = b"\0" * (1 + 3 * width)
    data = b"".join(comp.compress(row) for _ in range(height))
    data += comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png(12_000, 12_000)  # 432 MB of pixels in a few hundred KB
    assert len(bomb) < 1_000_000
    start = time.perf_counter()
    with pytest.raises(ServiceError) as info:
        decode_image(bomb, **LIMITS)
    assert info.value.code == "ImageTooLargeException"
    assert time.perf_counter() - start < 1.0


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_image_decoder(data: st.DataObject) -> None:
    """Corrupt a real JPEG and PNG anywhere: decoding succeeds or raises a Rekognition error."""
    png = io.BytesIO()
    Image.open(io.BytesIO(SMALL_JPEG)).save(png, "PNG")
    base = bytearray(data.draw(st.sampled_from([SMALL_JPEG, png.getvalue()])))
    for _ in range(data.draw(st.integers(1, 8))):
        pos = data.draw(st.integers(0, len(base) - 1))
        base[pos] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        base = base[: data.draw(st.integers(0, len(base)))]
    try:
        img = decode_image(bytes(base), **LIMITS)
    except ServiceError as exc:
        assert exc.status == 400 and exc.message
    else:
        assert img.pixels.ndim == 3 and img.pixels.shape[2] == 3


@pytest.fixture(scope="module")
def wire_runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    from candor.config import Settings

    return Runtime(Settings(data_dir=tmp_path_factory.mktemp("hostile")))


OPERATIONS = ["DetectFaces", "CompareFaces", "CreateCollection", "ListFaces", "SearchFaces",
              "IndexFaces", "AssociateFaces", "TagResource", "ListCollections"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["Image", "Bytes", "S3Object", "Bucket", "Name", "CollectionId", "FaceId",
                         "MaxFaces", "FaceIds", "Tags", "ResourceArn", "UserId", "Attributes",
                         "SourceImage", "TargetImage", "x"]) | st.text(max_size=8),
        inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=200, deadline=3000, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(op=st.sampled_from(OPERATIONS), body=json_values)
def test_fuzz_request_parser(wire_runtime: Runtime, op: str, body: object) -> None:
    reply = http.handle(wire_runtime, op, json.dumps(body).encode(), "fuzz")
    assert reply.status in (200, 400), reply.body
    if reply.status == 400:
        error = json.loads(reply.body)
        assert error["__type"] and error["message"]


@pytest.mark.parametrize(
    ("op", "body", "code"),
    [
        ("DetectFaces", b"{not json", "SerializationException"),
        ("DetectFaces", b"[1, 2]", "SerializationException"),
        ("DetectFaces", b'{"Image": {"Bytes": NaN}}', "SerializationException"),
        ("DetectFaces", b"[" * 100_000 + b"]" * 100_000, "SerializationException"),
        ("DetectFaces", b'{"Image": {"Bytes": "***"}}', "InvalidParameterException"),
        ("DetectFaces", b'{"Image": "x"}', "InvalidParameterException"),
        ("DetectFaces", b'{"Image": {"Bytes": 5}}', "InvalidParameterException"),
        ("CreateCollection", json.dumps({"CollectionId": "a" * 1_000_000}).encode(), "InvalidParameterException"),
        ("SearchFaces", json.dumps({"CollectionId": "c", "FaceId": "x", "MaxFaces": 10**12}).encode(), "InvalidParameterException"),
        ("ListFaces", json.dumps({"CollectionId": "c", "FaceIds": ["x"] * 5000}).encode(), "InvalidParameterException"),
        ("DetectFaces", json.dumps({"Image": {"Bytes": "AAAA"}, "Extra": {"a": [[[[[1]]]]]}}).encode(), "InvalidParameterException"),
    ],
    ids=["malformed", "not-object", "nan", "deep-nesting", "bad-base64", "wrong-type", "number-blob",
         "huge-string", "huge-maxfaces", "too-many-ids", "unknown-member"],
)
def test_hostile_requests(wire_runtime: Runtime, op: str, body: bytes, code: str) -> None:
    start = time.perf_counter()
    reply = http.handle(wire_runtime, op, body, "hostile")
    assert time.perf_counter() - start < 2.0
    assert reply.status == 400
    assert json.loads(reply.body)["__type"] == code
