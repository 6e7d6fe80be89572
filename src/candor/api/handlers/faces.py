"""Wire handlers for DetectFaces and CompareFaces."""

from __future__ import annotations

from candor.api.handlers.common import Handler, Wire, given, image_input
from candor.api.shapes import output
from candor.runtime import Runtime
from candor.services import faces
from candor.types import Caller


def detect_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = faces.detect_faces(
        rt,
        image=image_input(p["Image"], "Image"),
        caller=caller,
        **given(p, attributes="Attributes"),
    )
    return output("DetectFaces", result)


def compare_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = faces.compare_faces(
        rt,
        caller,
        source_image=image_input(p["SourceImage"], "SourceImage"),
        target_image=image_input(p["TargetImage"], "TargetImage"),
        **given(p, similarity_threshold="SimilarityThreshold", quality_filter="QualityFilter"),
    )
    return output("CompareFaces", result)


HANDLERS: dict[str, Handler] = {
    "DetectFaces": detect_faces,
    "CompareFaces": compare_faces,
}
