"""NudeNet 320n (a YOLOv8n detector, PyPI ``nudenet``): exposed and covered body parts.

Preprocessing is NudeNet's own: pad the image to a square (right and bottom, black), resize to
320×320, scale to 0..1. Each of the 2100 anchors gives a box and 18 class scores; anchors whose
best score reaches 0.2 go through non-maximum suppression (IoU 0.45), as NudeNet does.

NudeNet's two face classes are labelled by gender (FACE_FEMALE, FACE_MALE). Candor does not infer
gender, so those rows are discarded before anything else looks at them: they are never returned,
never counted and never suppress another box.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from candor.inference.base import PixelBox, RGBArray
from candor.inference.modelfiles import path_for
from candor.inference.mtcnn import nms
from candor.inference.onnx import load_session

MODEL = "nudenet_320n.onnx"
INPUT_SIZE = 320

# NudeNet 3.4's class order (its nudenet.py ``__labels``).
CLASSES = (
    "FEMALE_GENITALIA_COVERED",
    "FACE_FEMALE",
    "BUTTOCKS_EXPOSED",
    "FEMALE_BREAST_EXPOSED",
    "FEMALE_GENITALIA_EXPOSED",
    "MALE_BREAST_EXPOSED",
    "ANUS_EXPOSED",
    "FEET_EXPOSED",
    "BELLY_COVERED",
    "FEET_COVERED",
    "ARMPITS_COVERED",
    "ARMPITS_EXPOSED",
    "FACE_MALE",
    "BELLY_EXPOSED",
    "MALE_GENITALIA_EXPOSED",
    "ANUS_COVERED",
    "FEMALE_BREAST_COVERED",
    "BUTTOCKS_COVERED",
)
NEVER_REPORTED = frozenset({"FACE_FEMALE", "FACE_MALE"})
_KEPT = np.array([c not in NEVER_REPORTED for c in CLASSES])
_MIN_SCORE = 0.25  # NudeNet keeps anchors from 0.2 but its NMS drops those under 0.25
_IOU = 0.45


@dataclass(frozen=True)
class BodyPart:
    label: str  # one of CLASSES, never a face class
    score: float  # 0..1
    box: PixelBox


def preprocess(image: RGBArray) -> tuple[NDArray[np.float32], float]:
    """The (1, 3, 320, 320) input and the factor from model pixels back to image pixels."""
    import cv2

    h, w = image.shape[:2]
    side = max(h, w)
    # Letterbox: scale the long side to the input size, then pad — never pad the full-size
    # image to a square first (a 100000×80 strip would make a 28 GB square).
    rh, rw = max(1, round(h * INPUT_SIZE / side)), max(1, round(w * INPUT_SIZE / side))
    square = np.zeros((INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8)
    square[:rh, :rw] = cv2.resize(image, (rw, rh), interpolation=cv2.INTER_AREA)
    x = square.astype(np.float32).transpose(2, 0, 1)[None] * (1.0 / 255.0)
    return np.ascontiguousarray(x), side / INPUT_SIZE


def decode(output: NDArray[np.float32], scale: float, height: int, width: int) -> list[BodyPart]:
    rows = output[0].T  # (2100, 4 + 18)
    scores = np.where(_KEPT, rows[:, 4:], 0.0)
    best = scores.argmax(axis=1)
    best_score = scores[np.arange(len(rows)), best]
    hit = best_score >= _MIN_SCORE
    if not hit.any():
        return []
    cx, cy, bw, bh = (rows[hit, k] * scale for k in range(4))
    x0 = np.clip(cx - bw / 2, 0, width)
    y0 = np.clip(cy - bh / 2, 0, height)
    x1 = np.clip(cx + bw / 2, 0, width)
    y1 = np.clip(cy + bh / 2, 0, height)
    boxes = np.stack([x0, y0, x1, y1, best_score[hit]], axis=1).astype(np.float64)
    labels = best[hit]
    return [
        BodyPart(
            label=CLASSES[int(labels[i])],
            score=float(boxes[i, 4]),
            box=PixelBox(*(float(v) for v in boxes[i, :4])),
        )
        for i in nms(boxes, _IOU)
    ]


class NudeNet:
    """Body parts found in an RGB image. The session loads on first use."""

    name = "nudenet-320n"

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._session: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._session is None:
                self._session = load_session(path_for(MODEL, self.models_dir))
            return self._session

    def detect(self, image: RGBArray) -> list[BodyPart]:
        session = self._get()
        x, scale = preprocess(image)
        (out,) = session.run(None, {session.get_inputs()[0].name: x})
        return decode(out, scale, image.shape[0], image.shape[1])
