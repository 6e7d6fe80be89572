"""Frozen result types of image analysis: labels, text and moderation.

Coordinates are ratios of the image's width and height, as in :mod:`candor.types`, measured on
the image after EXIF orientation has been applied. Confidences are percentages, 0..100.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from candor.types import BoundingBox, wire

# --- DetectLabels -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DominantColor:
    red: int
    green: int
    blue: int
    hex_code: str  # "#RRGGBB"
    css_color: str  # nearest CSS3 colour keyword
    simplified_color: str  # one of a dozen plain names: red, blue, grey …
    pixel_percent: float


@dataclass(frozen=True)
class ImageQuality:
    brightness: float  # 0 (black) .. 100 (white)
    sharpness: float  # 0 (blurred) .. 100 (crisp)
    contrast: float  # 0 (flat) .. 100


@dataclass(frozen=True)
class ImageProperties:
    quality: ImageQuality
    dominant_colors: tuple[DominantColor, ...]


@dataclass(frozen=True)
class LabelInstance:
    bounding_box: BoundingBox
    confidence: float
    dominant_colors: tuple[DominantColor, ...] | None = None  # None unless IMAGE_PROPERTIES


@dataclass(frozen=True)
class Label:
    name: str
    confidence: float
    instances: tuple[LabelInstance, ...]
    parents: tuple[str, ...]  # every ancestor, nearest first
    aliases: tuple[str, ...]
    categories: tuple[str, ...]


@dataclass(frozen=True)
class LabelFilters:
    """Settings.GeneralLabels: names and categories to keep or drop (case does not matter)."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    include_categories: tuple[str, ...] = ()
    exclude_categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class DetectLabelsResult:
    labels: tuple[Label, ...] | None  # None when GENERAL_LABELS was not asked for
    image_properties: ImageProperties | None  # None when IMAGE_PROPERTIES was not asked for
    model_version: str = field(metadata=wire("LabelModelVersion"))


# --- DetectText -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vertex:
    x: float
    y: float


@dataclass(frozen=True)
class TextDetection:
    id: int
    parent_id: int | None  # the LINE a WORD belongs to; None for lines
    type: str  # "LINE" or "WORD"
    text: str = field(metadata=wire("DetectedText"))
    confidence: float
    bounding_box: BoundingBox
    polygon: tuple[Vertex, ...]  # four corners in reading order: top-left first, clockwise

    @property
    def geometry(self) -> dict[str, object]:
        return {"BoundingBox": self.bounding_box, "Polygon": self.polygon}


@dataclass(frozen=True)
class WordFilter:
    min_confidence: float = 0.0
    min_height: float = 0.0  # ratio of the image height
    min_width: float = 0.0


@dataclass(frozen=True)
class Region:
    """A region of interest: a box, or a polygon of at least three vertices."""

    box: BoundingBox | None = None
    polygon: tuple[Vertex, ...] = ()


@dataclass(frozen=True)
class DetectTextResult:
    detections: tuple[TextDetection, ...] = field(metadata=wire("TextDetections"))  # lines first
    model_version: str = field(metadata=wire("TextModelVersion"))


# --- DetectModerationLabels -------------------------------------------------------------------


@dataclass(frozen=True)
class ModerationLabel:
    name: str
    parent_name: str  # "" at the top level, as Rekognition
    taxonomy_level: int  # 1, 2 or 3
    confidence: float


@dataclass(frozen=True)
class DetectModerationLabelsResult:
    labels: tuple[ModerationLabel, ...] = field(metadata=wire("ModerationLabels"))
    model_version: str = field(metadata=wire("ModerationModelVersion"))
