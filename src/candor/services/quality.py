"""QualityFilter: which faces are good enough to compare or index, and why not."""

from __future__ import annotations

from dataclasses import dataclass

from candor.inference.pipeline import AnalyzedFace

QUALITY_FILTERS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")


@dataclass(frozen=True)
class QualityBar:
    min_confidence: float
    min_side_px: float
    max_abs_yaw: float
    max_abs_pitch: float
    min_brightness: float
    min_sharpness: float


# AUTO is MEDIUM, as Rekognition's AUTO picks a middle bar.
BARS: dict[str, QualityBar] = {
    "LOW": QualityBar(50.0, 20.0, 75.0, 60.0, 5.0, 3.0),
    "MEDIUM": QualityBar(80.0, 32.0, 60.0, 45.0, 10.0, 8.0),
    "HIGH": QualityBar(95.0, 48.0, 40.0, 30.0, 20.0, 20.0),
}
BARS["AUTO"] = BARS["MEDIUM"]


def rejection_reasons(face: AnalyzedFace, quality_filter: str) -> list[str]:
    """Rekognition's UnindexedFaces reasons this face fails; empty when it passes."""
    if quality_filter == "NONE":
        return []
    bar = BARS[quality_filter]
    reasons = []
    if face.confidence < bar.min_confidence:
        reasons.append("LOW_CONFIDENCE")
    if min(face.box.width, face.box.height) < bar.min_side_px:
        reasons.append("SMALL_BOUNDING_BOX")
    if abs(face.yaw) > bar.max_abs_yaw or abs(face.pitch) > bar.max_abs_pitch:
        reasons.append("EXTREME_POSE")
    if face.brightness < bar.min_brightness:
        reasons.append("LOW_BRIGHTNESS")
    if face.sharpness < bar.min_sharpness:
        reasons.append("LOW_SHARPNESS")
    return reasons
