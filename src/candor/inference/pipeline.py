"""The face pipeline: detect → landmarks → pose and quality → aligned 128-D descriptor.

One :class:`FacePipeline` per process (see :func:`candor.inference.registry.face_pipeline`);
every model inside loads on first use.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from candor.config import Settings
from candor.inference import geometry
from candor.inference.base import Detection, Embedding, FaceDetector, PixelBox, Point, RGBArray
from candor.inference.dlib_faces import (
    CascadeDetector,
    CnnDetector,
    HogDetector,
    ResNetEmbedder,
    ShapePredictor,
)
from candor.inference.mtcnn import MtcnnDetector
from candor.inference.onet import Onet

MAX_FACES_PER_IMAGE = 100


@dataclass(frozen=True)
class AnalyzedFace:
    """One face in pixel coordinates of the analysed image."""

    box: PixelBox
    confidence: float  # 0..100, O-Net's face probability
    detector: str
    landmarks: dict[str, Point]
    roll: float
    yaw: float
    pitch: float
    brightness: float
    sharpness: float
    eyes_open: tuple[bool, float] | None
    mouth_open: tuple[bool, float] | None
    embedding: Embedding | None


def make_detector(settings: Settings) -> FaceDetector:
    name = settings.face_detector
    if name == "mtcnn":
        return MtcnnDetector(
            settings.models_dir,
            min_face=settings.min_face_size,
            mirror_threshold=settings.face_mirror_check,
        )
    hog = HogDetector(settings.hog_upsample)
    cnn = CnnDetector(settings.models_dir)
    if name == "hog":
        return hog
    if name == "cnn":
        return cnn
    return CascadeDetector(hog, cnn)


# dlib's shape predictor was trained on dlib detector boxes. For other detectors a box of that
# convention is rebuilt from the five landmarks; the factors were fitted on 297 LFW-dev faces
# found by both detectors (residual about 8 px on 110 px boxes).
_CENTRE_ALONG_EYE_MOUTH = 0.42
_SIDE_PER_EYE_MOUTH = 0.91
_SIDE_PER_EYE_EYE = 1.51


def dlib_style_box(points5: Sequence[Point]) -> PixelBox:
    """A dlib-detector-like square box around a face from its five landmarks."""
    (lx, ly), (rx, ry), _, (mlx, mly), (mrx, mry) = points5
    ex, ey = (lx + rx) / 2, (ly + ry) / 2
    ux, uy = (mlx + mrx) / 2 - ex, (mly + mry) / 2 - ey
    cx, cy = ex + _CENTRE_ALONG_EYE_MOUTH * ux, ey + _CENTRE_ALONG_EYE_MOUTH * uy
    side = _SIDE_PER_EYE_MOUTH * math.hypot(ux, uy) + _SIDE_PER_EYE_EYE * math.hypot(
        rx - lx, ry - ly
    )
    return PixelBox(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


class FacePipeline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.detector = make_detector(settings)
        self.shape5 = ShapePredictor(settings.models_dir, 5)
        self.shape68 = ShapePredictor(settings.models_dir, 68) if settings.landmarks_68 else None
        self.onet = Onet(settings.models_dir)
        self.embedder = ResNetEmbedder(settings.models_dir)

    @property
    def embedding_model(self) -> str:
        return self.embedder.name

    def detect(self, image: RGBArray) -> list[Detection]:
        """Faces found, largest first, at most 100; large images are searched downscaled."""
        h, w = image.shape[:2]
        scale = 1.0
        small = image
        if h * w > self.settings.max_detect_pixels:
            scale = (self.settings.max_detect_pixels / (h * w)) ** 0.5
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            small = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
        found = self.detector.detect(small)
        if scale != 1.0:
            found = [Detection(d.box.scaled(1 / scale), d.score, d.detector) for d in found]
        found.sort(key=lambda d: d.box.width * d.box.height, reverse=True)
        return found[:MAX_FACES_PER_IMAGE]

    def analyze(
        self,
        image: RGBArray,
        *,
        embed: bool = False,
        all_attributes: bool = False,
        detections: list[Detection] | None = None,
    ) -> list[AnalyzedFace]:
        if detections is None:
            detections = self.detect(image)
        faces = [self._one(image, d, all_attributes) for d in detections]
        if not embed:
            return [face for face, _ in faces]
        # Every face of the image goes through the descriptor network in one batch.
        aligned = [(box, self.shape5.points(image, box)) for _, box in faces]
        embeddings = self.embedder.embed_many(image, aligned)
        return [
            dataclasses.replace(face, embedding=e)
            for (face, _), e in zip(faces, embeddings, strict=True)
        ]

    def _one(
        self, image: RGBArray, det: Detection, all_attributes: bool
    ) -> tuple[AnalyzedFace, PixelBox]:
        """The face without its descriptor, and the box its shape predictors are run on."""
        if det.points5 is not None and det.probability is not None:
            points5, probability = list(det.points5), det.probability
        else:
            refined = self.onet.refine(image, det.box)
            points5, probability = refined.points, refined.probability
        # The shape predictors want a dlib-style box; dlib detectors already give one.
        shape_box = det.box if det.points5 is None else dlib_style_box(points5)
        names = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
        landmarks = dict(zip(names, points5, strict=True))
        roll, yaw, pitch = geometry.head_pose(points5)
        gray = geometry.face_crop_gray(image, det.box)
        eyes_open = mouth_open = None
        if all_attributes and self.shape68 is not None:
            p68 = self.shape68.points(image, shape_box)
            landmarks.update(geometry.landmarks_from_68(p68))
            eyes_open = geometry.threshold_confidence(
                geometry.eye_aspect_ratio(p68), geometry.EAR_THRESHOLD, 0.05
            )
            mouth_open = geometry.threshold_confidence(
                geometry.mouth_aspect_ratio(p68), geometry.MAR_THRESHOLD, 0.08
            )
        face = AnalyzedFace(
            box=det.box,
            confidence=100.0 * probability,
            detector=det.detector,
            landmarks=landmarks,
            roll=roll,
            yaw=yaw,
            pitch=pitch,
            brightness=geometry.brightness(gray),
            sharpness=geometry.sharpness(gray),
            eyes_open=eyes_open,
            mouth_open=mouth_open,
            embedding=None,
        )
        return face, shape_box


def embedding_distances(probe: Embedding, candidates: list[Embedding]) -> list[float]:
    """Euclidean distances from ``probe`` to each candidate (same model only)."""
    if not candidates:
        return []
    for c in candidates:
        if c.model != probe.model:
            raise ValueError(f"cannot compare a {probe.model} descriptor with a {c.model} one")
    p = np.frombuffer(probe.data, dtype="<f4")
    m = np.stack([np.frombuffer(c.data, dtype="<f4") for c in candidates])
    return [float(d) for d in np.linalg.norm(m - p, axis=1)]
