"""Wire handlers for image analysis: DetectLabels, DetectText, DetectModerationLabels."""

from __future__ import annotations

from candor.api.handlers.common import Handler, Wire, given, image_input
from candor.api.shapes import output
from candor.image_types import LabelFilters, Region, Vertex, WordFilter
from candor.runtime import Runtime
from candor.services import labels, moderation, text
from candor.types import BoundingBox, Caller


def label_filters(general: Wire) -> LabelFilters:
    """Settings.GeneralLabels of DetectLabels (and StartLabelDetection) as LabelFilters."""
    return LabelFilters(
        include=tuple(general.get("LabelInclusionFilters") or ()),
        exclude=tuple(general.get("LabelExclusionFilters") or ()),
        include_categories=tuple(general.get("LabelCategoryInclusionFilters") or ()),
        exclude_categories=tuple(general.get("LabelCategoryExclusionFilters") or ()),
    )


def detect_labels(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    settings: Wire = p.get("Settings") or {}
    general: Wire = settings.get("GeneralLabels") or {}
    properties: Wire = settings.get("ImageProperties") or {}
    result = labels.detect_labels(
        rt,
        image=image_input(p["Image"], "Image"),
        filters=label_filters(general),
        caller=caller,
        **given(p, max_labels="MaxLabels", min_confidence="MinConfidence", features="Features"),
        **given(properties, max_dominant_colors="MaxDominantColors"),
    )
    return output("DetectLabels", result)


def _box(w: Wire) -> BoundingBox:
    return BoundingBox(
        left=float(w.get("Left", 0.0)),
        top=float(w.get("Top", 0.0)),
        width=max(0.0, float(w.get("Width", 0.0))),
        height=max(0.0, float(w.get("Height", 0.0))),
    )


def text_filters(filters: Wire) -> tuple[WordFilter | None, tuple[Region, ...]]:
    """DetectText's (and StartTextDetection's) Filters as a word filter and regions."""
    wf: Wire | None = filters.get("WordFilter")
    word_filter = None
    if wf is not None:
        word_filter = WordFilter(
            **given(
                wf,
                min_confidence="MinConfidence",
                min_height="MinBoundingBoxHeight",
                min_width="MinBoundingBoxWidth",
            )
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
    return word_filter, regions


def detect_text(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    word_filter, regions = text_filters(p.get("Filters") or {})
    result = text.detect_text(
        rt,
        image=image_input(p["Image"], "Image"),
        word_filter=word_filter,
        regions=regions,
        caller=caller,
    )
    return output("DetectText", result)


def detect_moderation_labels(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = moderation.detect_moderation_labels(
        rt,
        image=image_input(p["Image"], "Image"),
        human_loop=p.get("HumanLoopConfig") is not None,
        caller=caller,
        **given(p, min_confidence="MinConfidence", project_version="ProjectVersion"),
    )
    return output("DetectModerationLabels", result)


HANDLERS: dict[str, Handler] = {
    "DetectLabels": detect_labels,
    "DetectText": detect_text,
    "DetectModerationLabels": detect_moderation_labels,
}
