"""DetectModerationLabels: the taxonomy mapping, confidences, and that NudeNet's gendered face
classes never come out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError

from candor import Client, Settings
from candor.api.model import operation_model
from candor.api.validate import validate
from candor.inference.base import PixelBox, RGBArray
from candor.inference.nudenet import CLASSES, INPUT_SIZE, BodyPart, decode
from candor.runtime import Runtime
from candor.services.moderation import confidence

from .conftest import DATA, DEEPFACE, LFW, SMOKE
from .test_imaging import encode, gradient

# Everyday photos with no nudity: faces, and ImageNet classes NudeNet has scored high on.
EVERYDAY = [
    *sorted(DEEPFACE.glob("*.jpg"))[:6],
    SMOKE / "examples" / "obama.jpg",
    sorted(LFW.rglob("*.jpg"))[0],
    DATA / "labels" / "imagenet-dev" / "n01753488_horned_viper.JPEG",
    DATA / "labels" / "imagenet-dev" / "n02807133_bathing_cap.JPEG",
]


def check_output(response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    validate(operation_model("DetectModerationLabels").output_shape, body)


class FakeNudeNet:
    name = "fake"

    def __init__(self, parts: list[BodyPart]) -> None:
        self.parts = parts

    def detect(self, image: RGBArray) -> list[BodyPart]:
        return self.parts


def client_seeing(settings: Settings, *parts: tuple[str, float]) -> Client:
    rt = Runtime(settings)
    box = PixelBox(10, 10, 50, 50)
    rt.__dict__["nudity"] = FakeNudeNet([BodyPart(label, score, box) for label, score in parts])
    return Client(runtime=rt)


PHOTO = {"Bytes": (SMOKE / "examples" / "obama.jpg").read_bytes()}


@pytest.mark.parametrize("path", EVERYDAY, ids=[p.name for p in EVERYDAY])
def test_everyday_photos_get_no_labels(client: Client, path: Path) -> None:
    r = client.detect_moderation_labels(Image={"Bytes": path.read_bytes()})
    check_output(r)
    assert r["ModerationLabels"] == []
    assert r["ModerationModelVersion"] == "nudenet-320n"


def test_face_classes_never_leave_the_detector() -> None:
    """Raw model output where a gendered face class wins every anchor decodes to nothing."""
    output = np.zeros((1, 4 + len(CLASSES), 2100), dtype=np.float32)
    output[0, 0:4, :] = [[160], [160], [100], [100]]  # a box in the middle of every anchor
    for face in ("FACE_FEMALE", "FACE_MALE"):
        output[0, 4 + CLASSES.index(face), :] = 0.99
    assert decode(output, 1.0, INPUT_SIZE, INPUT_SIZE) == []
    # A real class under a face box is still found, and the face did not suppress it.
    output[0, 4 + CLASSES.index("BELLY_EXPOSED"), 7] = 0.6
    (part,) = decode(output, 1.0, INPUT_SIZE, INPUT_SIZE)
    assert part.label == "BELLY_EXPOSED"


def test_no_gender_even_at_zero_confidence(client: Client) -> None:
    for path in EVERYDAY[:6]:
        r = client.detect_moderation_labels(Image={"Bytes": path.read_bytes()}, MinConfidence=0)
        text = " ".join(m["Name"] + m["ParentName"] for m in r["ModerationLabels"]).lower()
        assert "face" not in text


def test_taxonomy_levels(settings: Settings) -> None:
    rek = client_seeing(settings, ("MALE_GENITALIA_EXPOSED", 0.95), ("MALE_BREAST_EXPOSED", 0.8))
    r = rek.detect_moderation_labels(Image=PHOTO)
    check_output(r)
    got = [(m["Name"], m["ParentName"], m["TaxonomyLevel"], round(m["Confidence"]))
           for m in r["ModerationLabels"]]
    assert got == [
        ("Explicit", "", 1, 90),
        ("Explicit Nudity", "Explicit", 2, 90),
        ("Exposed Male Genitalia", "Explicit Nudity", 3, 90),
        ("Non-Explicit Nudity of Intimate parts and Kissing", "", 1, 60),
        ("Non-Explicit Nudity", "Non-Explicit Nudity of Intimate parts and Kissing", 2, 60),
        ("Exposed Male Nipple", "Non-Explicit Nudity", 3, 60),
    ]


def test_parent_takes_its_most_confident_child(settings: Settings) -> None:
    rek = client_seeing(
        settings, ("BUTTOCKS_EXPOSED", 0.8), ("ANUS_EXPOSED", 0.9), ("FEMALE_BREAST_EXPOSED", 0.85)
    )
    labels = {m["Name"]: m["Confidence"] for m in
              rek.detect_moderation_labels(Image=PHOTO)["ModerationLabels"]}
    assert labels["Exposed Buttocks or Anus"] == pytest.approx(80)  # both map here: the max
    assert labels["Exposed Female Nipple"] == pytest.approx(70)
    assert labels["Explicit"] == labels["Explicit Nudity"] == pytest.approx(80)


def test_unmapped_classes_and_min_confidence(settings: Settings) -> None:
    rek = client_seeing(
        settings, ("FEET_EXPOSED", 0.99), ("FEMALE_BREAST_COVERED", 0.99), ("BELLY_EXPOSED", 0.99),
        ("FEMALE_GENITALIA_EXPOSED", 0.7),
    )
    assert rek.detect_moderation_labels(Image=PHOTO)["ModerationLabels"] == []  # 40 < 50
    low = rek.detect_moderation_labels(Image=PHOTO, MinConfidence=30)["ModerationLabels"]
    assert {m["Name"] for m in low} == {"Explicit", "Explicit Nudity", "Exposed Female Genitalia"}


def test_confidence_mapping() -> None:
    assert confidence(0.5) == 0 and confidence(0.75) == 50 and confidence(1.0) == 100
    assert confidence(0.2) == 0


def test_human_loop_is_refused(client: Client) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_moderation_labels(
            Image=PHOTO,
            HumanLoopConfig={"HumanLoopName": "review", "FlowDefinitionArn": "arn:x"},
        )
    assert exc.value.response["Error"]["Code"] == "InvalidParameterException"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"BM" + b"\0" * 100, "InvalidImageFormatException"),
        (encode(gradient(79, 200), "JPEG"), "InvalidParameterException"),
    ],
    ids=["bmp", "too-narrow"],
)
def test_bad_input_gets_rekognition_errors(client: Client, data: bytes, code: str) -> None:
    with pytest.raises(ClientError) as exc:
        client.detect_moderation_labels(Image={"Bytes": data})
    assert exc.value.response["Error"]["Code"] == code
