"""boto3, unchanged but for endpoint_url, against a running ``candor serve``."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from candor.api.model import operation_model
from candor.api.validate import validate

from .conftest import BIDEN, OBAMA, OBAMA2, Server


def check_output(operation: str, response: dict[str, Any]) -> None:
    validate(
        operation_model(operation).output_shape,
        {k: v for k, v in response.items() if k != "ResponseMetadata"},
    )


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_detect_faces(rek: Any, server: Server) -> None:
    r = rek.detect_faces(Image={"Bytes": OBAMA.read_bytes()}, Attributes=["ALL"])
    assert len(r["FaceDetails"]) == 1
    check_output("DetectFaces", r)
    meta = r["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 200
    assert meta["RequestId"] and meta["HTTPHeaders"]["x-amzn-requestid"] == meta["RequestId"]
    logged = [e for e in server.access_log() if e["request_id"] == meta["RequestId"]]
    assert logged and logged[0]["operation"] == "DetectFaces" and logged[0]["status"] == 200
    assert logged[0]["access_key_id"] == server.key_id and logged[0]["bytes_in"] > 300_000


def test_compare_faces(rek: Any) -> None:
    same = rek.compare_faces(
        SourceImage={"Bytes": OBAMA.read_bytes()}, TargetImage={"Bytes": OBAMA2.read_bytes()}
    )
    check_output("CompareFaces", same)
    assert [m["Similarity"] > 80 for m in same["FaceMatches"]] == [True]
    other = rek.compare_faces(
        SourceImage={"Bytes": OBAMA.read_bytes()}, TargetImage={"Bytes": BIDEN.read_bytes()}
    )
    check_output("CompareFaces", other)
    assert not other["FaceMatches"] and len(other["UnmatchedFaces"]) == 1


def _blank_png(size: int = 200) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (128, 128, 128)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda rek: rek.detect_faces(Image={"Bytes": b"not an image at all"}),
         "InvalidImageFormatException"),
        (lambda rek: rek.detect_faces(Image={"S3Object": {"Bucket": "nobucket", "Name": "x.jpg"}}),
         "InvalidS3ObjectException"),
        (lambda rek: rek.compare_faces(SourceImage={"Bytes": _blank_png()},
                                       TargetImage={"Bytes": OBAMA.read_bytes()}),
         "InvalidParameterException"),
        (lambda rek: rek.compare_faces(SourceImage={"Bytes": OBAMA.read_bytes()},
                                       TargetImage={"Bytes": b"\x89PNG broken"}),
         "InvalidImageFormatException"),
        (lambda rek: rek.compare_faces(SourceImage={"Bytes": OBAMA.read_bytes()},
                                       TargetImage={"Bytes": OBAMA2.read_bytes()},
                                       SimilarityThreshold=101.0),
         "InvalidParameterException"),
    ],
    ids=["garbage-bytes", "missing-s3-object", "no-source-face", "bad-target", "threshold-101"],
)
def test_errors_reach_boto3_as_client_errors(rek: Any, call: Any, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        call(rek)
    assert error_code(exc) == code
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert exc.value.response["Error"]["Message"]
    assert isinstance(exc.value, getattr(rek.exceptions, code))


def test_unserved_operation_says_so(rek: Any) -> None:
    with pytest.raises(ClientError) as exc:
        rek.detect_protective_equipment(Image={"Bytes": OBAMA.read_bytes()})
    assert error_code(exc) == "AccessDeniedException"
    assert "does not serve" in exc.value.response["Error"]["Message"]


def test_celebrity_recognition_is_refused_with_the_reason(rek: Any) -> None:
    with pytest.raises(ClientError) as exc:
        rek.recognize_celebrities(Image={"Bytes": OBAMA.read_bytes()})
    assert error_code(exc) == "AccessDeniedException"
    assert "refused by design" in exc.value.response["Error"]["Message"]


def test_six_mib_image_is_refused_before_it_is_read(rek: Any) -> None:
    big = bytes(6 * 1024 * 1024)
    with pytest.raises(ClientError) as exc:
        rek.detect_faces(Image={"Bytes": big})
    assert error_code(exc) == "ImageTooLargeException"
    assert "at most" in exc.value.response["Error"]["Message"]


def test_twenty_concurrent_clients(server: Server) -> None:
    image = OBAMA.read_bytes()
    clients = [server.client() for _ in range(20)]
    results: list[Any] = [None] * 20
    barrier = threading.Barrier(20)

    def call(i: int) -> None:
        barrier.wait()
        try:
            results[i] = clients[i].detect_faces(Image={"Bytes": image})
        except Exception as exc:  # reported below, not lost in the thread
            results[i] = exc

    started = time.perf_counter()
    threads = [threading.Thread(target=call, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    for c in clients:
        c.close()
    failures = [r for r in results if not isinstance(r, dict)]
    assert not failures, failures[:3]
    assert all(len(r["FaceDetails"]) == 1 for r in results)
    ids = {r["ResponseMetadata"]["RequestId"] for r in results}
    assert len(ids) == 20
    print(f"20 concurrent DetectFaces: {elapsed:.2f} s")
