"""DetectFaces and CompareFaces through the in-process client, on real photos."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ParamValidationError

from candor import Client, Settings
from candor.runtime import Runtime

from .conftest import DEEPFACE, SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"
OBAMA2 = SMOKE / "examples" / "obama2.jpg"
BIDEN = SMOKE / "examples" / "biden.jpg"
OBAMA_AND_BIDEN = SMOKE / "examples" / "knn_examples" / "test" / "obama_and_biden.jpg"

# Counted by eye. The selfie shows seven people; the seventh, at the bottom-left edge, shows
# less than half a face and is not found (see the README's detection notes).
MULTI_FACE = [
    (SMOKE / "examples" / "two_people.jpg", 2),
    (OBAMA_AND_BIDEN, 3),
    (SMOKE / "examples" / "knn_examples" / "test" / "kit_with_rose.jpg", 2),
    (DEEPFACE / "couple.jpg", 2),
    (DEEPFACE / "selfie-many-people.jpg", 6),
]


def image(path: Path) -> dict[str, bytes]:
    return {"Bytes": path.read_bytes()}


@pytest.mark.parametrize(("path", "count"), MULTI_FACE, ids=[p.name for p, _ in MULTI_FACE])
def test_every_face_is_found(client: Client, path: Path, count: int) -> None:
    faces = client.detect_faces(Image=image(path))["FaceDetails"]
    assert len(faces) == count


def test_face_detail_contents(client: Client) -> None:
    (face,) = client.detect_faces(Image=image(OBAMA))["FaceDetails"]
    box = face["BoundingBox"]
    assert 0.3 < box["Left"] < 0.5 and 0.05 < box["Top"] < 0.2
    assert face["Confidence"] > 95
    marks = {m["Type"]: m for m in face["Landmarks"]}
    assert set(marks) == {"eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight"}
    assert marks["eyeLeft"]["X"] < marks["nose"]["X"] < marks["eyeRight"]["X"]
    assert marks["eyeLeft"]["Y"] < marks["nose"]["Y"] < marks["mouthLeft"]["Y"]
    for m in marks.values():
        assert box["Left"] <= m["X"] <= box["Left"] + box["Width"]
        assert box["Top"] <= m["Y"] <= box["Top"] + box["Height"]
    assert abs(face["Pose"]["Yaw"]) < 15 and abs(face["Pose"]["Roll"]) < 10
    assert 20 < face["Quality"]["Brightness"] < 90
    assert face["Quality"]["Sharpness"] > 50


def test_no_face_gives_empty_list(client: Client) -> None:
    from .test_imaging import encode, gradient

    assert client.detect_faces(Image={"Bytes": encode(gradient(200, 200), "PNG")}) [
        "FaceDetails"
    ] == []


def test_all_attributes_without_68_point_model(client: Client) -> None:
    (face,) = client.detect_faces(Image=image(OBAMA), Attributes=["ALL"])["FaceDetails"]
    assert "EyesOpen" not in face and "MouthOpen" not in face
    for never in ("Gender", "AgeRange", "Emotions", "Smile"):
        assert never not in face


@pytest.fixture(scope="module")
def client68(settings: Settings) -> Client:
    from dataclasses import replace

    return Client(runtime=Runtime(replace(settings, landmarks_68=True)))


def test_all_attributes_with_68_point_model(client68: Client) -> None:
    (face,) = client68.detect_faces(Image=image(OBAMA), Attributes=["ALL"])["FaceDetails"]
    assert face["EyesOpen"]["Value"] is True
    assert face["MouthOpen"]["Value"] is True  # a broad smile, teeth showing
    assert 50 <= face["EyesOpen"]["Confidence"] <= 95
    types = {m["Type"] for m in face["Landmarks"]}
    assert {"leftPupil", "chinBottom", "mouthUp", "noseLeft"} <= types
    assert len(types) == 30
    for never in ("Gender", "AgeRange", "Emotions"):
        assert never not in face
    # DEFAULT stays the five points even with the model on.
    (face,) = client68.detect_faces(Image=image(OBAMA))["FaceDetails"]
    assert len(face["Landmarks"]) == 5 and "EyesOpen" not in face


def test_compare_same_person(client: Client) -> None:
    r = client.compare_faces(SourceImage=image(OBAMA), TargetImage=image(OBAMA2))
    (match,) = r["FaceMatches"]
    assert match["Similarity"] > 80
    assert r["UnmatchedFaces"] == []
    assert set(r["SourceImageFace"]) == {"BoundingBox", "Confidence"}


def test_compare_different_people(client: Client) -> None:
    r = client.compare_faces(SourceImage=image(OBAMA), TargetImage=image(BIDEN))
    assert r["FaceMatches"] == []
    assert len(r["UnmatchedFaces"]) == 1


def test_compare_finds_the_right_face_in_a_group(client: Client) -> None:
    r = client.compare_faces(SourceImage=image(OBAMA), TargetImage=image(OBAMA_AND_BIDEN))
    assert len(r["FaceMatches"]) == 1 and len(r["UnmatchedFaces"]) == 2
    box = r["FaceMatches"][0]["Face"]["BoundingBox"]
    assert box["Left"] > 0.5  # Obama stands on the right in that photo


def test_similarity_threshold_moves_faces_between_lists(client: Client) -> None:
    r = client.compare_faces(
        SourceImage=image(OBAMA), TargetImage=image(OBAMA_AND_BIDEN), SimilarityThreshold=0
    )
    assert len(r["FaceMatches"]) == 3
    sims = [m["Similarity"] for m in r["FaceMatches"]]
    assert sims == sorted(sims, reverse=True) and sims[0] > 80 > sims[1]


def test_quality_filter_drops_poor_target_faces(client: Client) -> None:
    from PIL import Image as PILImage
    from PIL import ImageFilter

    from .test_imaging import encode

    blurred = PILImage.open(OBAMA2).convert("RGB").filter(ImageFilter.GaussianBlur(6))
    target = {"Bytes": encode(blurred, "JPEG")}
    (face,) = client.detect_faces(Image=target)["FaceDetails"]
    assert face["Quality"]["Sharpness"] < 20
    none = client.compare_faces(SourceImage=image(OBAMA), TargetImage=target, QualityFilter="NONE")
    high = client.compare_faces(SourceImage=image(OBAMA), TargetImage=target, QualityFilter="HIGH")
    assert len(none["FaceMatches"]) + len(none["UnmatchedFaces"]) == 1
    assert high["FaceMatches"] == [] and high["UnmatchedFaces"] == []


def test_compare_without_a_source_face(client: Client) -> None:
    from .test_imaging import encode, gradient

    blank = {"Bytes": encode(gradient(200, 200), "PNG")}
    with pytest.raises(client.exceptions.InvalidParameterException, match="No face"):
        client.compare_faces(SourceImage=blank, TargetImage=image(OBAMA))


def test_s3_object_input(client: Client, settings: Settings) -> None:
    bucket = settings.media_dir / "people"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "obama.jpg").write_bytes(OBAMA.read_bytes())
    r = client.detect_faces(Image={"S3Object": {"Bucket": "people", "Name": "obama.jpg"}})
    assert len(r["FaceDetails"]) == 1
    with pytest.raises(client.exceptions.InvalidS3ObjectException):
        client.detect_faces(Image={"S3Object": {"Bucket": "people", "Name": "nobody.jpg"}})


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"Image": {"Bytes": b"\xff\xd8\xff" + b"\0" * (6 << 20)}}, "ImageTooLargeException", "5,242,880"),
        ({"Image": {}}, "InvalidParameterException", "exactly one of Bytes or S3Object"),
        ({"Image": {"Bytes": b"x" * 100}}, "InvalidImageFormatException", "JPEG and PNG"),
        ({"Image": {"Bytes": b"\xff\xd8\xff"}, "Attributes": ["MOOD"]}, "InvalidParameterException", "Attributes"),
    ],
    ids=["too-large", "no-source", "not-an-image", "bad-attribute"],
)
def test_detect_errors(client: Client, kwargs: dict, code: str, words: str) -> None:
    with pytest.raises(client.exceptions.ClientError) as info:
        client.detect_faces(**kwargs)
    assert info.value.response["Error"]["Code"] == code
    assert words in info.value.response["Error"]["Message"]
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"SimilarityThreshold": 101}, "at most 100"),
        ({"QualityFilter": "BEST"}, "QualityFilter"),
    ],
)
def test_compare_parameter_errors(client: Client, kwargs: dict, words: str) -> None:
    with pytest.raises(client.exceptions.InvalidParameterException, match=words):
        client.compare_faces(SourceImage=image(OBAMA), TargetImage=image(OBAMA), **kwargs)


def test_boto3_style_client_side_validation(client: Client) -> None:
    with pytest.raises(ParamValidationError, match="Image"):
        client.detect_faces()
    with pytest.raises(ParamValidationError):
        client.compare_faces(SourceImage="not a dict", TargetImage=image(OBAMA))


def test_file_like_blob_is_read(client: Client) -> None:
    with OBAMA.open("rb") as fh:
        assert len(client.detect_faces(Image={"Bytes": fh})["FaceDetails"]) == 1
