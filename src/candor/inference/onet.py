"""MTCNN's O-Net run on a face box from any detector: five landmarks (eyes, nose tip, mouth
corners) and a face probability.

O-Net was trained on square boxes in MTCNN's own convention (forehead to chin). A dlib box is
tighter, so O-Net is run twice: the first pass's box regression moves the box into O-Net's
convention, the second reads the landmarks and the probability from it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from candor.inference.base import PixelBox, Point, RGBArray
from candor.inference.modelfiles import path_for
from candor.inference.onnx import load_session

_SIZE = 48


@dataclass(frozen=True)
class OnetResult:
    points: list[Point]  # eyeLeft, eyeRight, nose, mouthLeft, mouthRight (image left first)
    probability: float
    box: PixelBox


class Onet:
    name = "mtcnn-onet"

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._session: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._session = load_session(path_for("mtcnn_onet.onnx", self.models_dir))
        return self._session

    def _run(self, image: RGBArray, box: PixelBox) -> tuple[Any, Any, float]:
        crop = crop_resized(image, box)
        # O-Net was trained in Caffe's column-major layout: x before y.
        batch = ((crop.astype(np.float32) - 127.5) * 0.0078125).transpose(1, 0, 2)[None]
        session = self._get()
        reg, marks, prob = session.run(["dense_5", "dense_6", "softmax_2"], {"input_3": batch})
        return reg[0], marks[0], float(prob[0][1])

    def refine(self, image: RGBArray, box: PixelBox) -> OnetResult:
        square = _square(box, scale=1.15, shift_up=0.08)
        reg, _, _ = self._run(image, square)
        w, h = square.width, square.height
        moved = _square(
            PixelBox(
                square.left + reg[0] * w,
                square.top + reg[1] * h,
                square.right + reg[2] * w,
                square.bottom + reg[3] * h,
            ),
            scale=1.0,
            shift_up=0.0,
        )
        _, marks, prob = self._run(image, moved)
        w, h = moved.width, moved.height
        points = [
            (float(moved.left + marks[i] * w), float(moved.top + marks[i + 5] * h))
            for i in range(5)
        ]
        return OnetResult(points=points, probability=prob, box=moved)


def _square(box: PixelBox, *, scale: float, shift_up: float) -> PixelBox:
    side = max(box.width, box.height) * scale
    cx = (box.left + box.right) / 2
    cy = (box.top + box.bottom) / 2 - shift_up * box.height
    return PixelBox(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def crop_resized(image: RGBArray | Image.Image, box: PixelBox, size: int = _SIZE) -> Any:
    """The box resampled to size x size; parts outside the image are black, as MTCNN pads.
    Pass the image as a PIL image to cut many boxes from it without converting it each time."""
    pil = image if isinstance(image, Image.Image) else Image.fromarray(image)
    left, top = int(np.floor(box.left)), int(np.floor(box.top))
    right, bottom = int(np.ceil(box.right)), int(np.ceil(box.bottom))
    # Pillow fills what lies outside the image with zeros: black.
    crop = pil.crop((left, top, max(right, left + 1), max(bottom, top + 1)))
    return np.asarray(crop.resize((size, size), Image.Resampling.BILINEAR))
