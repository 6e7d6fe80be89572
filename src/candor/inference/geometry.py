"""Measurements computed from landmarks and pixels, no learned model involved: head pose,
brightness, sharpness, eye and mouth openness."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from candor.inference.base import PixelBox, Point, RGBArray

# A generic head in millimetres (x right, y down, z away from the camera), nose tip at the origin,
# in the order O-Net returns points: eye left, eye right, nose tip, mouth left, mouth right.
_HEAD_MODEL = np.array(
    [
        [-32.0, -35.0, 30.0],
        [32.0, -35.0, 30.0],
        [0.0, 0.0, 0.0],
        [-25.0, 32.0, 25.0],
        [25.0, 32.0, 25.0],
    ]
)


def head_pose(points5: list[Point]) -> tuple[float, float, float]:
    """(roll, yaw, pitch) in degrees from five landmarks, by fitting the generic head model
    under weak perspective; a person facing the camera gives about (0, 0, 0). Exact on synthetic
    projections of the model; not validated against a head-pose data set.
    Yaw is positive when the face turns towards the image's right, pitch positive when it tilts
    up, roll positive when it leans clockwise in the image."""
    p = np.asarray(points5, dtype=np.float64)
    x = _HEAD_MODEL - _HEAD_MODEL.mean(axis=0)
    p = p - p.mean(axis=0)
    a = (np.linalg.pinv(x) @ p).T  # 2x3: scaled first two rows of the rotation
    r1 = a[0] / max(np.linalg.norm(a[0]), 1e-9)
    r2 = a[1] - np.dot(a[1], r1) * r1
    r2 /= max(np.linalg.norm(r2), 1e-9)
    r3 = np.cross(r1, r2)
    # Signs turn the rotation of the model into the face's motion as a viewer describes it.
    yaw = -math.degrees(math.asin(float(np.clip(-r3[0], -1.0, 1.0))))
    pitch = -math.degrees(math.atan2(float(r3[1]), float(r3[2])))
    roll = math.degrees(math.atan2(float(r2[0]), float(r1[0])))
    return _clamp180(roll), _clamp180(yaw), _clamp180(pitch)


def _clamp180(angle: float) -> float:
    return max(-180.0, min(180.0, angle))


def face_crop_gray(image: RGBArray, box: PixelBox, size: int = 96) -> NDArray[np.float32]:
    h, w = image.shape[:2]
    left, top = max(int(box.left), 0), max(int(box.top), 0)
    right, bottom = min(math.ceil(box.right), w), min(math.ceil(box.bottom), h)
    if right - left < 2 or bottom - top < 2:
        return np.zeros((size, size), dtype=np.float32)
    crop = Image.fromarray(image[top:bottom, left:right]).convert("L")
    crop = crop.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(crop, dtype=np.float32)


def brightness(gray: NDArray[np.float32]) -> float:
    """Mean luminance of the face, 0 (black) to 100 (white)."""
    return float(gray.mean() / 255.0 * 100.0)


# Variance of the Laplacian of a 96x96 face at which sharpness reads 63 (1 - 1/e).
_SHARPNESS_SCALE = 150.0


def sharpness(gray: NDArray[np.float32]) -> float:
    """0 (blurred) to 100 (crisp): variance of the Laplacian of the face resampled to 96x96,
    mapped by 100 * (1 - exp(-var / 150))."""
    lap = (
        -4.0 * gray[1:-1, 1:-1]
        + gray[:-2, 1:-1]
        + gray[2:, 1:-1]
        + gray[1:-1, :-2]
        + gray[1:-1, 2:]
    )
    var = float(lap.var())
    return float(100.0 * (1.0 - math.exp(-var / _SHARPNESS_SCALE)))


def _dist(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def eye_aspect_ratio(p68: list[Point]) -> float:
    """Mean eye opening over eye width of both eyes (Soukupová & Čech 2016)."""

    def one(i: int) -> float:
        width = _dist(p68[i], p68[i + 3])
        return (_dist(p68[i + 1], p68[i + 5]) + _dist(p68[i + 2], p68[i + 4])) / max(
            2 * width, 1e-9
        )

    return (one(36) + one(42)) / 2


def mouth_aspect_ratio(p68: list[Point]) -> float:
    """Inner-lip gap over inner mouth width."""
    return _dist(p68[62], p68[66]) / max(_dist(p68[60], p68[64]), 1e-9)


EAR_THRESHOLD = 0.20
MAR_THRESHOLD = 0.15


def threshold_confidence(value: float, threshold: float, spread: float) -> tuple[bool, float]:
    """A yes/no read off a geometric ratio, with a confidence that grows with the distance from
    the threshold and never claims more than 95: the ratio is a heuristic, not a trained
    classifier."""
    decided = value > threshold
    margin = abs(value - threshold) / spread
    return decided, 50.0 + 45.0 * math.tanh(margin)


# Rekognition landmark types read off dlib's 68-point (iBUG) layout. Pairs are averaged.
LANDMARKS_68: dict[str, tuple[int, ...]] = {
    "leftEyeBrowLeft": (17,),
    "leftEyeBrowUp": (19,),
    "leftEyeBrowRight": (21,),
    "rightEyeBrowLeft": (22,),
    "rightEyeBrowUp": (24,),
    "rightEyeBrowRight": (26,),
    "leftEyeLeft": (36,),
    "leftEyeRight": (39,),
    "leftEyeUp": (37, 38),
    "leftEyeDown": (40, 41),
    "rightEyeLeft": (42,),
    "rightEyeRight": (45,),
    "rightEyeUp": (43, 44),
    "rightEyeDown": (46, 47),
    "noseLeft": (31,),
    "noseRight": (35,),
    "mouthUp": (51,),
    "mouthDown": (57,),
    "leftPupil": (36, 37, 38, 39, 40, 41),
    "rightPupil": (42, 43, 44, 45, 46, 47),
    "upperJawlineLeft": (1,),
    "midJawlineLeft": (4,),
    "chinBottom": (8,),
    "midJawlineRight": (12,),
    "upperJawlineRight": (15,),
}


def landmarks_from_68(p68: list[Point]) -> dict[str, Point]:
    out = {}
    for name, idx in LANDMARKS_68.items():
        xs = [p68[i][0] for i in idx]
        ys = [p68[i][1] for i in idx]
        out[name] = (sum(xs) / len(xs), sum(ys) / len(ys))
    return out

