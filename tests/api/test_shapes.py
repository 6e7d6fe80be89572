"""The output-shape walker: what it reads from a result, and what it refuses."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from candor.api.shapes import output, snake
from candor.image_types import DetectTextResult, TextDetection, Vertex
from candor.types import (
    BoundingBox,
    DeleteFacesResult,
    FaceAssociationResult,
    UnsuccessfulFace,
    wire,
)


@pytest.mark.parametrize(
    ("member", "attribute"),
    [
        ("BoundingBox", "bounding_box"),
        ("CollectionARN", "collection_arn"),
        ("CollectionArn", "collection_arn"),
        ("CSSColor", "css_color"),
        ("HexCode", "hex_code"),
        ("X", "x"),
    ],
)
def test_members_are_read_by_their_snake_case_names(member: str, attribute: str) -> None:
    assert snake(member) == attribute


def test_wire_metadata_names_a_member_and_one_field_can_fill_several() -> None:
    changed = FaceAssociationResult(
        changed=("f1",),
        unsuccessful=(UnsuccessfulFace("f2", ("FACE_NOT_FOUND",), confidence=12.5),),
        user_status="UPDATING",
    )
    assert output("AssociateFaces", changed) == {
        "AssociatedFaces": [{"FaceId": "f1"}],
        "UnsuccessfulFaceAssociations": [
            {"FaceId": "f2", "Reasons": ["FACE_NOT_FOUND"], "Confidence": 12.5}
        ],
        "UserStatus": "UPDATING",
    }
    # The same result for DisassociateFaces: its shape has no Confidence, so none is written.
    assert output("DisassociateFaces", changed)["UnsuccessfulFaceDisassociations"] == [
        {"FaceId": "f2", "Reasons": ["FACE_NOT_FOUND"]}
    ]


def test_none_is_left_out_and_empty_lists_are_kept() -> None:
    r = DeleteFacesResult(deleted=(), unsuccessful=(UnsuccessfulFace("f", ("X",)),))
    assert output("DeleteFaces", r) == {
        "DeletedFaces": [],
        "UnsuccessfulFaceDeletions": [{"FaceId": "f", "Reasons": ["X"]}],
    }


def test_properties_derive_members_and_numpy_scalars_become_plain_floats() -> None:
    d = TextDetection(
        id=0,
        parent_id=None,
        type="LINE",
        text="hi",
        confidence=np.float32(99.5),  # type: ignore[arg-type]
        bounding_box=BoundingBox(0.1, 0.2, 0.3, 0.4),
        polygon=(Vertex(0.1, 0.2),),
    )
    body = output("DetectText", DetectTextResult(detections=(d,), model_version="3.0"))
    (line,) = body["TextDetections"]
    assert type(line["Confidence"]) is float
    assert line["Geometry"]["Polygon"] == [{"X": 0.1, "Y": 0.2}]
    assert "ParentId" not in line
    assert body["TextModelVersion"] == "3.0"


def test_members_given_by_name_replace_and_are_checked() -> None:
    assert output("DeleteCollection", StatusCode=200) == {"StatusCode": 200}
    assert output("CreateUser") == {}
    with pytest.raises(KeyError, match="NotAMember"):
        output("ListTagsForResource", Tags={}, NotAMember=1)


def test_a_wrong_type_is_a_bug_not_a_quiet_response() -> None:
    @dataclass(frozen=True)
    class Broken:
        deleted: str = field(metadata=wire("DeletedFaces"))  # a string where a list belongs

    with pytest.raises(TypeError, match="DeletedFaces"):
        output("DeleteFaces", Broken("f"))
