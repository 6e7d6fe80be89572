"""DetectLabels, DetectText and DetectModerationLabels through boto3 against ``candor serve``,
with every response checked against botocore's output shape."""

from __future__ import annotations

import io
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image

from candor.api.model import operation_model
from candor.api.validate import validate

from ..conftest import DATA
from .conftest import OBAMA, Server, post

ZEBRA = DATA / "labels" / "imagenet-dev" / "n02391049_zebra.JPEG"
PHOTOTEST = DATA / "text" / "tesseract-docs" / "phototest-rotated-180.png"


def check_output(operation: str, response: dict[str, Any]) -> None:
    validate(
        operation_model(operation).output_shape,
        {k: v for k, v in response.items() if k != "ResponseMetadata"},
    )


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_detect_labels(rek: Any) -> None:
    r = rek.detect_labels(
        Image={"Bytes": ZEBRA.read_bytes()},
        MaxLabels=5,
        Features=["GENERAL_LABELS", "IMAGE_PROPERTIES"],
        Settings={
            "GeneralLabels": {"LabelExclusionFilters": ["Person"]},
            "ImageProperties": {"MaxDominantColors": 3},
        },
    )
    check_output("DetectLabels", r)
    names = [x["Name"] for x in r["Labels"]]
    assert "Zebra" in names and len(names) <= 5
    assert 1 <= len(r["ImageProperties"]["DominantColors"]) <= 3
    assert r["ImageProperties"]["Quality"]["Sharpness"] > 0


def test_detect_labels_person_instances(rek: Any) -> None:
    r = rek.detect_labels(Image={"Bytes": OBAMA.read_bytes()})
    check_output("DetectLabels", r)
    person = next(x for x in r["Labels"] if x["Name"] == "Person")
    assert len(person["Instances"]) == 1


def test_detect_text(rek: Any) -> None:
    r = rek.detect_text(
        Image={"Bytes": PHOTOTEST.read_bytes()},
        Filters={"WordFilter": {"MinConfidence": 50}},
    )
    check_output("DetectText", r)
    lines = [d["DetectedText"] for d in r["TextDetections"] if d["Type"] == "LINE"]
    assert lines[0] == "This is a lot of 12 point text to test the"


def test_detect_moderation_labels(rek: Any) -> None:
    r = rek.detect_moderation_labels(Image={"Bytes": OBAMA.read_bytes()}, MinConfidence=10)
    check_output("DetectModerationLabels", r)
    assert r["ModerationLabels"] == [] and r["ModerationModelVersion"]


@pytest.mark.parametrize("operation", ["detect_labels", "detect_text",
                                       "detect_moderation_labels"])
def test_bad_image_gets_the_detect_faces_error(rek: Any, operation: str) -> None:
    with pytest.raises(ClientError) as exc:
        getattr(rek, operation)(Image={"Bytes": b"not an image at all"})
    assert error_code(exc) == "InvalidImageFormatException"
    with pytest.raises(ClientError) as small:
        buf = io.BytesIO()
        Image.new("RGB", (40, 40)).save(buf, "PNG")
        getattr(rek, operation)(Image={"Bytes": buf.getvalue()})
    assert error_code(small) == "InvalidParameterException"


@pytest.mark.parametrize("operation", ["DetectLabels", "DetectText", "DetectModerationLabels"])
def test_empty_bytes_and_missing_s3_object(server: Server, operation: str) -> None:
    """What boto3 would not send: an empty blob, and an S3 object that does not exist."""
    empty = post(server, operation, {"Image": {"Bytes": ""}})
    assert empty.status == 400 and empty.code == "InvalidParameterException"
    missing = post(server, operation, {"Image": {"S3Object": {"Bucket": "nobucket",
                                                              "Name": "x.jpg"}}})
    assert missing.status == 400 and missing.code == "InvalidS3ObjectException"


def test_another_accounts_bucket_looks_missing(server: Server) -> None:
    from .conftest import candor as run_candor

    bucket = server.data_dir / "media" / "private-photos"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "obama.jpg").write_bytes(OBAMA.read_bytes())
    created = run_candor("keys", "create", "--account", "team-media", data_dir=server.data_dir)
    key_id = created.stdout.split("AWS_ACCESS_KEY_ID=")[1].split()[0]
    secret = created.stdout.split("AWS_SECRET_ACCESS_KEY=")[1].split()[0]
    admin, other = server.client(), server.client(key_id=key_id, secret=secret)
    ref = {"S3Object": {"Bucket": "private-photos", "Name": "obama.jpg"}}
    assert admin.detect_faces(Image=ref)["FaceDetails"]
    errors = []
    for image in (ref, {"S3Object": {"Bucket": "no-such-bucket", "Name": "obama.jpg"}}):
        with pytest.raises(ClientError) as exc:
            other.detect_faces(Image=image)
        errors.append(exc.value.response["Error"])
    admin.close()
    other.close()
    assert [e["Code"] for e in errors] == ["InvalidS3ObjectException"] * 2
    assert errors[0]["Message"].replace("private-photos", "no-such-bucket") == errors[1]["Message"]
    assert str(server.data_dir) not in errors[0]["Message"]
