"""Result dataclasses → Rekognition's response dicts (PascalCase, as botocore parses them)."""

from __future__ import annotations

from typing import Any

from candor.types import (
    BoundingBox,
    CompareFacesResult,
    DetectFacesResult,
    FaceDetail,
    Landmark,
)

Wire = dict[str, Any]


def bounding_box(b: BoundingBox) -> Wire:
    return {"Width": b.width, "Height": b.height, "Left": b.left, "Top": b.top}


def landmark(m: Landmark) -> Wire:
    return {"Type": m.type, "X": m.x, "Y": m.y}


def face_detail(f: FaceDetail) -> Wire:
    out: Wire = {
        "BoundingBox": bounding_box(f.bounding_box),
        "Landmarks": [landmark(m) for m in f.landmarks],
        "Pose": {"Roll": f.pose.roll, "Yaw": f.pose.yaw, "Pitch": f.pose.pitch},
        "Quality": {"Brightness": f.quality.brightness, "Sharpness": f.quality.sharpness},
        "Confidence": f.confidence,
    }
    if f.eyes_open is not None:
        out["EyesOpen"] = {"Value": f.eyes_open.value, "Confidence": f.eyes_open.confidence}
    if f.mouth_open is not None:
        out["MouthOpen"] = {"Value": f.mouth_open.value, "Confidence": f.mouth_open.confidence}
    return out


def compared_face(f: FaceDetail) -> Wire:
    """ComparedFace: the FaceDetail members CompareFaces returns."""
    return {
        "BoundingBox": bounding_box(f.bounding_box),
        "Confidence": f.confidence,
        "Landmarks": [landmark(m) for m in f.landmarks],
        "Pose": {"Roll": f.pose.roll, "Yaw": f.pose.yaw, "Pitch": f.pose.pitch},
        "Quality": {"Brightness": f.quality.brightness, "Sharpness": f.quality.sharpness},
    }


def detect_faces(r: DetectFacesResult) -> Wire:
    return {"FaceDetails": [face_detail(f) for f in r.face_details]}


def compare_faces(r: CompareFacesResult) -> Wire:
    return {
        "SourceImageFace": {
            "BoundingBox": bounding_box(r.source_face.bounding_box),
            "Confidence": r.source_face.confidence,
        },
        "FaceMatches": [
            {"Similarity": m.similarity, "Face": compared_face(m.face)} for m in r.matches
        ],
        "UnmatchedFaces": [compared_face(f) for f in r.unmatched],
    }
