"""Image-analysis results → Rekognition's DetectLabels, DetectText and DetectModerationLabels
response dicts."""

from __future__ import annotations

from typing import Any

from candor.api.serialize import bounding_box
from candor.image_types import (
    DetectLabelsResult,
    DetectModerationLabelsResult,
    DetectTextResult,
    DominantColor,
    ImageQuality,
    Label,
    TextDetection,
)

Wire = dict[str, Any]


def dominant_color(c: DominantColor) -> Wire:
    return {
        "Red": c.red,
        "Blue": c.blue,
        "Green": c.green,
        "HexCode": c.hex_code,
        "CSSColor": c.css_color,
        "SimplifiedColor": c.simplified_color,
        "PixelPercent": c.pixel_percent,
    }


def image_quality(q: ImageQuality) -> Wire:
    return {"Brightness": q.brightness, "Sharpness": q.sharpness, "Contrast": q.contrast}


def label(x: Label) -> Wire:
    instances = []
    for i in x.instances:
        instance: Wire = {"BoundingBox": bounding_box(i.bounding_box), "Confidence": i.confidence}
        if i.dominant_colors:
            instance["DominantColors"] = [dominant_color(c) for c in i.dominant_colors]
        instances.append(instance)
    return {
        "Name": x.name,
        "Confidence": x.confidence,
        "Instances": instances,
        "Parents": [{"Name": p} for p in x.parents],
        "Aliases": [{"Name": a} for a in x.aliases],
        "Categories": [{"Name": c} for c in x.categories],
    }


def detect_labels(r: DetectLabelsResult) -> Wire:
    out: Wire = {}
    if r.labels is not None:
        out["Labels"] = [label(x) for x in r.labels]
    if r.image_properties is not None:
        out["ImageProperties"] = {
            "Quality": image_quality(r.image_properties.quality),
            "DominantColors": [dominant_color(c) for c in r.image_properties.dominant_colors],
        }
    out["LabelModelVersion"] = r.model_version
    return out


def text_detection(d: TextDetection) -> Wire:
    out: Wire = {
        "DetectedText": d.text,
        "Type": d.type,
        "Id": d.id,
        "Confidence": d.confidence,
        "Geometry": {
            "BoundingBox": bounding_box(d.bounding_box),
            "Polygon": [{"X": p.x, "Y": p.y} for p in d.polygon],
        },
    }
    if d.parent_id is not None:
        out["ParentId"] = d.parent_id
    return out


def detect_text(r: DetectTextResult) -> Wire:
    return {
        "TextDetections": [text_detection(d) for d in r.detections],
        "TextModelVersion": r.model_version,
    }


def detect_moderation_labels(r: DetectModerationLabelsResult) -> Wire:
    return {
        "ModerationLabels": [
            {
                "Confidence": m.confidence,
                "Name": m.name,
                "ParentName": m.parent_name,
                "TaxonomyLevel": m.taxonomy_level,
            }
            for m in r.labels
        ],
        "ModerationModelVersion": r.model_version,
    }
