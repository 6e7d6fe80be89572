"""Small interfaces every face model family fills, and the plain results they return.

Coordinates here are pixels of the decoded image (x right, y down). Nothing in these types is a
dlib or onnxruntime object; numpy arrays appear only as inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

RGBArray = NDArray[np.uint8]
Point = tuple[float, float]


@dataclass(frozen=True)
class PixelBox:
    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def scaled(self, factor: float) -> PixelBox:
        return PixelBox(
            self.left * factor, self.top * factor, self.right * factor, self.bottom * factor
        )


@dataclass(frozen=True)
class Detection:
    box: PixelBox
    score: float  # the detector's own score: a margin for dlib, a probability for MTCNN
    detector: str
    # Five points (eye left, eye right, nose tip, mouth left, mouth right) and a face
    # probability, where the detector provides them (MTCNN does).
    points5: tuple[Point, ...] | None = None
    probability: float | None = None


@dataclass(frozen=True)
class Embedding:
    """A face descriptor: float32 little-endian bytes, tagged with the model that made it."""

    model: str
    data: bytes

    @property
    def dims(self) -> int:
        return len(self.data) // 4


class FaceDetector(Protocol):
    name: str

    def detect(self, image: RGBArray) -> list[Detection]: ...


class LandmarkModel(Protocol):
    name: str

    def points(self, image: RGBArray, box: PixelBox) -> list[Point]: ...


class FaceEmbedder(Protocol):
    name: str

    def embed(self, image: RGBArray, box: PixelBox, points5: list[Point]) -> Embedding: ...
