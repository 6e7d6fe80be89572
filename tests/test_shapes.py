"""The in-process client's responses match botocore's output shapes for each operation."""

from __future__ import annotations

from typing import Any

import pytest

from candor import Client
from candor.api.model import operation_model
from candor.api.validate import validate

from .conftest import DEEPFACE, SMOKE


def check_output(operation: str, response: dict[str, Any]) -> None:
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    validate(operation_model(operation).output_shape, body)


def test_validator_catches_a_wrong_shape() -> None:
    with pytest.raises(Exception, match="FaceDetails"):
        check_output("DetectFaces", {"FaceDetails": {"not": "a list"}})
    with pytest.raises(Exception, match=r"[Uu]nknown"):
        check_output("DetectFaces", {"Faces": []})


def test_detect_faces_shape(client: Client) -> None:
    for attrs in (["DEFAULT"], ["ALL"]):
        r = client.detect_faces(
            Image={"Bytes": (DEEPFACE / "selfie-many-people.jpg").read_bytes()}, Attributes=attrs
        )
        assert r["FaceDetails"]
        check_output("DetectFaces", r)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_compare_faces_shape(client: Client) -> None:
    r = client.compare_faces(
        SourceImage={"Bytes": (SMOKE / "examples" / "obama.jpg").read_bytes()},
        TargetImage={
            "Bytes": (SMOKE / "examples" / "knn_examples" / "test" / "obama_and_biden.jpg").read_bytes()
        },
    )
    assert r["FaceMatches"] and r["UnmatchedFaces"]
    check_output("CompareFaces", r)
