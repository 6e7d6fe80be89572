"""Wire handlers for DetectFaces and CompareFaces."""

from __future__ import annotations

from candor.api import serialize
from candor.api.handlers.common import Handler, Wire, image_input
from candor.runtime import Runtime
from candor.services import faces
from candor.types import Caller


def detect_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = faces.detect_faces(
        rt,
        image=image_input(p["Image"], "Image"),
        attributes=p.get("Attributes") or ["DEFAULT"],
        caller=caller,
    )
    return serialize.detect_faces(result)


def compare_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = faces.compare_faces(
        rt,
        caller,
        source_image=image_input(p["SourceImage"], "SourceImage"),
        target_image=image_input(p["TargetImage"], "TargetImage"),
        similarity_threshold=float(p.get("SimilarityThreshold", 80.0)),
        quality_filter=p.get("QualityFilter", "NONE"),
    )
    return serialize.compare_faces(result)


HANDLERS: dict[str, Handler] = {
    "DetectFaces": detect_faces,
    "CompareFaces": compare_faces,
}
