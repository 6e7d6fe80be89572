"""Wire handlers for image analysis: DetectLabels, DetectText, DetectModerationLabels."""

from __future__ import annotations

from candor.api import serialize_images
from candor.api.handlers.common import Handler, Wire, image_input
from candor.image_types import LabelFilters, Region, Vertex, WordFilter
from candor.runtime import Runtime
from candor.services import labels, moderation, text
from candor.types import BoundingBox, Caller


def detect_labels(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    settings: Wire = p.get("Settings") or {}
    general: Wire = settings.get("GeneralLabels") or {}
    properties: Wire = settings.get("ImageProperties") or {}
    result = labels.detect_labels(
        rt,
        image=image_input(p["Image"], "Image"),
        max_labels=p.get("MaxLabels"),
        min_confidence=float(p.get("MinConfidence", labels.DEFAULT_MIN_CONFIDENCE)),
        features=p.get("Features") or [labels.GENERAL_LABELS],
        filters=LabelFilters(
            include=tuple(general.get("LabelInclusionFilters") or ()),
            exclude=tuple(general.get("LabelExclusionFilters") or ()),
            include_categories=tuple(general.get("LabelCategoryInclusionFilters") or ()),
            exclude_categories=tuple(general.get("LabelCategoryExclusionFilters") or ()),
        ),
        max_dominant_colors=int(properties.get("MaxDominantColors", 10)),
        caller=caller,
    )
    return serialize_images.detect_labels(result)


def _box(w: Wire) -> BoundingBox:
    return BoundingBox(
        left=float(w.get("Left", 0.0)),
        top=float(w.get("Top", 0.0)),
        width=max(0.0, float(w.get("Width", 0.0))),
        height=max(0.0, float(w.get("Height", 0.0))),
    )


def detect_text(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    filters: Wire = p.get("Filters") or {}
    wf: Wire | None = filters.get("WordFilter")
    word_filter = None
    if wf is not None:
        word_filter = WordFilter(
            min_confidence=float(wf.get("MinConfidence", 0.0)),
            min_height=float(wf.get("MinBoundingBoxHeight", 0.0)),
            min_width=float(wf.get("MinBoundingBoxWidth", 0.0)),
        )
    regions = tuple(
        Region(
            box=_box(r["BoundingBox"]) if r.get("BoundingBox") else None,
            polygon=tuple(
                Vertex(float(v.get("X", 0.0)), float(v.get("Y", 0.0)))
                for v in r.get("Polygon") or ()
            ),
        )
        for r in filters.get("RegionsOfInterest") or ()
    )
    result = text.detect_text(
        rt,
        image=image_input(p["Image"], "Image"),
        word_filter=word_filter,
        regions=regions,
        caller=caller,
    )
    return serialize_images.detect_text(result)


def detect_moderation_labels(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = moderation.detect_moderation_labels(
        rt,
        image=image_input(p["Image"], "Image"),
        min_confidence=float(p.get("MinConfidence", moderation.DEFAULT_MIN_CONFIDENCE)),
        human_loop=p.get("HumanLoopConfig") is not None,
        project_version=p.get("ProjectVersion"),
        caller=caller,
    )
    return serialize_images.detect_moderation_labels(result)


HANDLERS: dict[str, Handler] = {
    "DetectLabels": detect_labels,
    "DetectText": detect_text,
    "DetectModerationLabels": detect_moderation_labels,
}
