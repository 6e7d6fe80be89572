"""QualityFilter bars, table-driven on synthetic faces."""

from __future__ import annotations

from dataclasses import replace

import pytest

from candor.inference.base import PixelBox
from candor.inference.pipeline import AnalyzedFace
from candor.services.quality import rejection_reasons

GOOD = AnalyzedFace(
    box=PixelBox(0, 0, 120, 120),
    confidence=99.9,
    detector="mtcnn",
    landmarks={},
    roll=0.0,
    yaw=5.0,
    pitch=5.0,
    brightness=55.0,
    sharpness=80.0,
    eyes_open=None,
    mouth_open=None,
    embedding=None,
)


@pytest.mark.parametrize(
    ("change", "level", "reasons"),
    [
        ({}, "HIGH", []),
        ({"confidence": 90.0}, "HIGH", ["LOW_CONFIDENCE"]),
        ({"confidence": 90.0}, "MEDIUM", []),
        ({"box": PixelBox(0, 0, 30, 30)}, "MEDIUM", ["SMALL_BOUNDING_BOX"]),
        ({"box": PixelBox(0, 0, 30, 30)}, "LOW", []),
        ({"yaw": 50.0}, "HIGH", ["EXTREME_POSE"]),
        ({"pitch": -50.0}, "AUTO", ["EXTREME_POSE"]),
        ({"brightness": 8.0}, "AUTO", ["LOW_BRIGHTNESS"]),
        ({"sharpness": 5.0}, "MEDIUM", ["LOW_SHARPNESS"]),
        ({"sharpness": 5.0, "confidence": 10.0}, "NONE", []),
        ({"sharpness": 1.0, "confidence": 10.0}, "LOW", ["LOW_CONFIDENCE", "LOW_SHARPNESS"]),
    ],
)
def test_rejection_reasons(change: dict, level: str, reasons: list[str]) -> None:
    assert rejection_reasons(replace(GOOD, **change), level) == reasons
