"""Text detection with PP-OCRv4's DB network (Liao et al. 2020, Differentiable Binarization).

The network maps an image to a per-pixel text probability; regions above a threshold become
contours, each contour's minimum-area rectangle is scored by the mean probability inside it,
then grown ("unclipped") by area × 1.6 / perimeter, since DB learns shrunken text kernels.
Parameters are PaddleOCR's and RapidOCR's defaults for this model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Quad = NDArray[np.float32]  # (4, 2): top-left, top-right, bottom-right, bottom-left, pixels

MAX_SIDE = 2000  # larger images are downscaled first (RapidOCR's max_side_len)
MIN_SIDE = 736  # the shorter side is brought up to this (RapidOCR's limit_side_len, "min")
MAX_STRIP = 4 * MAX_SIDE  # the long side of a banner or strip, whatever its short side
_BIN_THRESHOLD = 0.3
_BOX_THRESHOLD = 0.5
_UNCLIP_RATIO = 1.6
_MAX_CANDIDATES = 1000
_MIN_BOX_SIDE = 3


def input_scale(height: int, width: int) -> float:
    """The factor the image is resized by before detection."""
    scale = 1.0
    if max(height, width) > MAX_SIDE:
        scale = MAX_SIDE / max(height, width)
    if min(height, width) * scale < MIN_SIDE:
        scale = MIN_SIDE / min(height, width)
    # Bringing the short side of a long strip up to MIN_SIDE would blow the long side up with
    # it (100000×80 → 920000×736, 7.6 GB as float32, and more inside the network): the input
    # never holds more pixels than a MAX_SIDE square, nor a side over MAX_STRIP.
    budget = math.sqrt(MAX_SIDE * MAX_SIDE / (height * width))
    return min(scale, budget, MAX_STRIP / max(height, width))


def preprocess(bgr: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Resize (sides rounded to multiples of 32) and normalise to -1..1, NCHW."""
    import cv2

    h, w = bgr.shape[:2]
    scale = input_scale(h, w)
    rh = max(32, int(round(h * scale / 32) * 32))
    rw = max(32, int(round(w * scale / 32) * 32))
    resized = cv2.resize(bgr, (rw, rh))
    x = resized.astype(np.float32) * (2.0 / 255.0) - 1.0
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def boxes_from_map(prob: NDArray[np.float32], height: int, width: int) -> list[tuple[Quad, float]]:
    """Text quadrilaterals in pixels of the original ``height`` × ``width`` image, with the
    mean text probability inside each."""
    import cv2

    mask = cv2.dilate((prob > _BIN_THRESHOLD).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    mh, mw = prob.shape
    out: list[tuple[Quad, float]] = []
    for contour in contours[:_MAX_CANDIDATES]:
        quad, side = _min_area_quad(contour)
        if side < _MIN_BOX_SIDE:
            continue
        score = _mean_inside(prob, quad)
        if score < _BOX_THRESHOLD:
            continue
        grown = _unclip(quad)
        if grown is None:
            continue
        quad, side = _min_area_quad(grown)
        if side < _MIN_BOX_SIDE + 2:
            continue
        quad[:, 0] = np.clip(np.round(quad[:, 0] / mw * width), 0, width)
        quad[:, 1] = np.clip(np.round(quad[:, 1] / mh * height), 0, height)
        quad = order_clockwise(quad)
        quad[:, 0] = np.clip(quad[:, 0], 0, width - 1)
        quad[:, 1] = np.clip(quad[:, 1], 0, height - 1)
        if np.linalg.norm(quad[0] - quad[1]) <= 3 or np.linalg.norm(quad[0] - quad[3]) <= 3:
            continue
        out.append((quad, score))
    return out


def _min_area_quad(points: NDArray[Any]) -> tuple[Quad, float]:
    import cv2

    rect = cv2.minAreaRect(points.astype(np.float32))
    corners = sorted(cv2.boxPoints(rect).tolist(), key=lambda p: p[0])
    left = sorted(corners[:2], key=lambda p: p[1])
    right = sorted(corners[2:], key=lambda p: p[1])
    quad = np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)
    return quad, float(min(rect[1]))


def _mean_inside(prob: NDArray[np.float32], quad: Quad) -> float:
    import cv2

    h, w = prob.shape
    x0 = int(np.clip(np.floor(quad[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(quad[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(quad[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(quad[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    shifted = (quad - np.array([x0, y0], dtype=np.float32)).astype(np.int32)
    cv2.fillPoly(mask, [shifted], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(quad: Quad) -> NDArray[np.float64] | None:
    import pyclipper

    x, y = quad[:, 0].astype(np.float64), quad[:, 1].astype(np.float64)
    area = 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
    perimeter = float(np.linalg.norm(quad - np.roll(quad, 1, axis=0), axis=1).sum())
    if perimeter == 0:
        return None
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(quad.tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(area * _UNCLIP_RATIO / perimeter)
    if len(grown) != 1:
        return None
    return np.array(grown[0], dtype=np.float64).reshape(-1, 1, 2)


def order_clockwise(quad: Quad) -> Quad:
    """Top-left, top-right, bottom-right, bottom-left."""
    by_x = quad[np.argsort(quad[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)
