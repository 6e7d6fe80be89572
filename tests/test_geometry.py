"""Pose, quality and openness measures on synthetic inputs with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageFilter

from candor.inference import geometry
from candor.inference.base import PixelBox
from candor.inference.pipeline import dlib_style_box


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return rz @ ry @ rx


def project(yaw: float = 0, pitch: float = 0, roll: float = 0) -> list[tuple[float, float]]:
    """The generic head seen by a camera after a head motion (viewer's convention)."""
    pts = geometry._HEAD_MODEL @ _rotation(-yaw, -pitch, roll).T
    return [(200 + 1.5 * x, 150 + 1.5 * y) for x, y, _ in pts]


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(0, 0, 0), (25, 0, 0), (-25, 0, 0), (0, 15, 0), (0, -15, 0), (0, 0, 20), (20, 10, -15)],
)
def test_head_pose_recovers_known_rotation(yaw: float, pitch: float, roll: float) -> None:
    got_roll, got_yaw, got_pitch = geometry.head_pose(project(yaw, pitch, roll))
    assert got_roll == pytest.approx(roll, abs=1.0)
    assert got_yaw == pytest.approx(yaw, abs=1.0)
    assert got_pitch == pytest.approx(pitch, abs=1.0)


def test_yaw_sign_follows_the_nose() -> None:
    pts = project(yaw=30)
    eye_mid_x = (pts[0][0] + pts[1][0]) / 2
    assert pts[2][0] > eye_mid_x  # turning towards the image's right moves the nose right


def test_roll_is_positive_clockwise() -> None:
    pts = project(roll=15)
    assert pts[1][1] > pts[0][1]  # the right eye sits lower: clockwise in image coordinates


def _face_like(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.random((96, 96)) * 255).astype(np.float32)


def test_sharpness_drops_with_blur() -> None:
    sharp = Image.fromarray(_face_like().astype(np.uint8))
    values = [
        geometry.sharpness(np.asarray(sharp.filter(ImageFilter.GaussianBlur(r)), np.float32))
        for r in (0, 1, 2, 4)
    ]
    assert values == sorted(values, reverse=True)
    assert values[0] > 95 and values[-1] < 20


def test_brightness_range() -> None:
    assert geometry.brightness(np.zeros((10, 10), np.float32)) == 0
    assert geometry.brightness(np.full((10, 10), 255, np.float32)) == 100


def test_face_crop_outside_image_is_safe() -> None:
    img = np.zeros((50, 50, 3), np.uint8)
    crop = geometry.face_crop_gray(img, PixelBox(100, 100, 120, 120))
    assert crop.shape == (96, 96)


def _eyes(open_: bool) -> list[tuple[float, float]]:
    pts = [(0.0, 0.0)] * 68
    h = 4.0 if open_ else 0.5
    for base, x0 in ((36, 0.0), (42, 40.0)):
        pts[base] = (x0, 0.0)
        pts[base + 3] = (x0 + 12.0, 0.0)
        pts[base + 1], pts[base + 2] = (x0 + 4, -h), (x0 + 8, -h)
        pts[base + 5], pts[base + 4] = (x0 + 4, h), (x0 + 8, h)
    return pts


def test_eye_aspect_ratio_separates_open_and_closed() -> None:
    open_ear = geometry.eye_aspect_ratio(_eyes(True))
    closed_ear = geometry.eye_aspect_ratio(_eyes(False))
    assert open_ear > geometry.EAR_THRESHOLD > closed_ear
    value, confidence = geometry.threshold_confidence(open_ear, geometry.EAR_THRESHOLD, 0.05)
    assert value is True and 50 < confidence <= 95


def test_dlib_style_box_is_centred_on_the_face() -> None:
    pts = project()
    box = dlib_style_box(pts)
    assert box.width == pytest.approx(box.height)
    assert box.left < pts[0][0] < pts[1][0] < box.right
    assert box.top < pts[0][1] and pts[3][1] < box.bottom
