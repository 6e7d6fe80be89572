"""dlib's face models: HOG and MMOD CNN detectors, 5/68-point shape predictors, ResNet descriptor.

dlib objects stay in this module: callers get :class:`Detection`, point lists and
:class:`Embedding`. Each model loads on first use and is kept for the life of the process.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from candor.inference.base import Detection, Embedding, PixelBox, Point, RGBArray
from candor.inference.modelfiles import path_for

EMBEDDING_MODEL = "dlib-resnet-v1"
# FaceModelVersion names a scoring of these descriptors: see candor.inference.scoring.


def _dlib() -> Any:
    import dlib  # imported on first use: importing dlib costs time and memory

    return dlib


def _rect(box: PixelBox) -> Any:
    dlib = _dlib()
    return dlib.rectangle(
        round(box.left), round(box.top), round(box.right) - 1, round(box.bottom) - 1
    )


def _box(rect: Any) -> PixelBox:
    return PixelBox(
        float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1)
    )


class _Lazy:
    """Loads a dlib model once per process, safely under threads."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self.load()
        return self._model

    def load(self) -> Any:
        raise NotImplementedError


class HogDetector(_Lazy):
    name = "hog"

    def __init__(self, upsample: int) -> None:
        super().__init__()
        self.upsample = upsample

    def load(self) -> Any:
        return _dlib().get_frontal_face_detector()

    def detect(self, image: RGBArray) -> list[Detection]:
        rects, scores, _ = self.get().run(image, self.upsample, 0.0)
        return [
            Detection(_box(r), float(s), self.name) for r, s in zip(rects, scores, strict=True)
        ]


class CnnDetector(_Lazy):
    name = "cnn"

    def __init__(self, models_dir: Path, upsample: int = 0) -> None:
        super().__init__()
        self.models_dir = models_dir
        self.upsample = upsample

    def load(self) -> Any:
        path = path_for("mmod_human_face_detector.dat", self.models_dir)
        return _dlib().cnn_face_detection_model_v1(str(path))

    def detect(self, image: RGBArray) -> list[Detection]:
        found = self.get()(image, self.upsample)
        return [Detection(_box(d.rect), float(d.confidence), self.name) for d in found]


class CascadeDetector:
    """HOG first; the CNN only for images where HOG finds nothing (profiles, odd light)."""

    name = "hog+cnn"

    def __init__(self, hog: HogDetector, cnn: CnnDetector) -> None:
        self.hog = hog
        self.cnn = cnn

    def detect(self, image: RGBArray) -> list[Detection]:
        return self.hog.detect(image) or self.cnn.detect(image)


class ShapePredictor(_Lazy):
    def __init__(self, models_dir: Path, points: int) -> None:
        super().__init__()
        self.models_dir = models_dir
        self.n_points = points
        self.name = f"dlib-shape-{points}"

    def load(self) -> Any:
        path = path_for(f"shape_predictor_{self.n_points}_face_landmarks.dat", self.models_dir)
        return _dlib().shape_predictor(str(path))

    def points(self, image: RGBArray, box: PixelBox) -> list[Point]:
        shape = self.get()(image, _rect(box))
        return [(float(p.x), float(p.y)) for p in shape.parts()]


class ResNetEmbedder(_Lazy):
    """dlib's 128-D ResNet descriptor on the face aligned by its 5 points: dlib cuts the chip,
    onnxruntime runs the network (:mod:`candor.inference.dlib_resnet`; equal to dlib's own
    descriptors within 1e-6), all faces of an image in one batch."""

    name = EMBEDDING_MODEL

    def __init__(self, models_dir: Path) -> None:
        super().__init__()
        self.models_dir = models_dir

    def load(self) -> Any:
        from candor.inference import dlib_resnet
        from candor.inference.onnx import load_session

        return load_session(dlib_resnet.onnx_path(self.models_dir))

    def embed_many(
        self, image: RGBArray, faces: list[tuple[PixelBox, list[Point]]]
    ) -> list[Embedding]:
        """One descriptor per (shape-predictor box, its 5 points), in order."""
        from candor.inference import dlib_resnet

        if not faces:
            return []
        dlib = _dlib()
        shapes = dlib.full_object_detections()
        for box, points5 in faces:
            shapes.append(
                dlib.full_object_detection(
                    _rect(box), [dlib.point(round(x), round(y)) for x, y in points5]
                )
            )
        chips = dlib.get_face_chips(
            image, shapes, size=dlib_resnet.CHIP, padding=dlib_resnet.CHIP_PADDING
        )
        batch = dlib_resnet.chip_batch([np.asarray(c) for c in chips])
        (vectors,) = self.get().run(["descriptor"], {"input": batch})
        return [
            Embedding(model=self.name, data=np.asarray(v, dtype="<f4").tobytes())
            for v in vectors
        ]
