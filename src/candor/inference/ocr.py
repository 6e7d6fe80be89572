"""Text in images with PaddleOCR's PP-OCRv4 networks (ONNX files from PyPI
``rapidocr-onnxruntime``): DB text detection → per-line orientation (0° or 180°) → CTC
recognition, and word boxes from where along the line the recogniser emitted each character.

The networks were trained on BGR images, as OpenCV reads them. A detected quadrilateral is
rectified into a horizontal strip (turned a quarter when it is much taller than wide, as vertical
or rotated-page text is); every word box is mapped back through the same transform, so words
and lines of a rotated page come back as rotated quadrilaterals of the original image.
"""

from __future__ import annotations

import dataclasses
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from candor.inference import ocr_det
from candor.inference.base import Point, RGBArray
from candor.inference.modelfiles import path_for
from candor.inference.onnx import load_session

DET_MODEL = "ch_PP-OCRv4_det_infer.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_infer.onnx"
REC_MODEL = "ch_PP-OCRv4_rec_infer.onnx"

_REC_HEIGHT = 48
_REC_MIN_RATIO = 320 / 48
_REC_BATCH = 6
_CLS_SIZE = (48, 192)
_CLS_BATCH = 6
_CLS_THRESHOLD = 0.9  # turn a line over only when the classifier is this sure
_REREAD_BELOW = 0.9  # an unsure line read with less confidence is also read upside down
_VOTE_MIN_LINES = 3  # quarter-turned lines decide their orientation together from this many
_LINE_MIN_SCORE = 0.5  # lines read with less mean character confidence are dropped
_WORD_GAP_COLUMNS = 5  # a wider gap between two characters' CTC columns separates words

Quad = tuple[Point, Point, Point, Point]  # top-left, top-right, bottom-right, bottom-left


@dataclass(frozen=True)
class OcrWord:
    text: str
    confidence: float  # 0..1, mean of the characters' probabilities
    quad: Quad


@dataclass(frozen=True)
class OcrLine:
    text: str
    confidence: float
    quad: Quad
    words: tuple[OcrWord, ...]


@dataclass
class _Strip:
    """A rectified line image and the way back from its pixels to the original image's."""

    image: NDArray[np.uint8]
    inverse: NDArray[np.float64]  # 3x3: rectified (before turning) → original
    width: float  # rectified width and height, before turning
    height: float
    quarter_turn: bool = False
    half_turn: bool = False

    def to_image(self, x: float, y: float) -> Point:
        """A point of ``image`` (as it is now, turned) in original-image pixels."""
        h, w = self.image.shape[:2]
        if self.half_turn:
            x, y = w - x, h - y
        if self.quarter_turn:  # np.rot90 turned it counter-clockwise
            x, y = self.width - y, x
        px, py, pz = self.inverse @ np.array([x, y, 1.0])
        return (float(px / pz), float(py / pz))


def _rectify(bgr: NDArray[np.uint8], quad: ocr_det.Quad) -> _Strip:
    import cv2

    w = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    h = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    w, h = max(w, 1), max(h, 1)
    target = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    forward = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    strip = cv2.warpPerspective(
        bgr, forward, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    out = _Strip(
        np.asarray(strip, dtype=np.uint8), np.linalg.inv(forward).astype(np.float64), w, h
    )
    if h / w >= 1.5:
        out.image = np.ascontiguousarray(np.rot90(strip))
        out.quarter_turn = True
    return out


def _confidence(line: OcrLine | None) -> float:
    return 0.0 if line is None else line.confidence


def _turned_over(strip: _Strip) -> _Strip:
    return dataclasses.replace(
        strip,
        image=np.ascontiguousarray(strip.image[::-1, ::-1]),
        half_turn=not strip.half_turn,
    )


def _resize_pad(image: NDArray[np.uint8], height: int, width: int) -> tuple[NDArray[Any], int]:
    """Resize to ``height`` keeping the aspect (at most ``width`` wide), normalise to -1..1,
    pad right with zeros; return the array (3, height, width) and the resized width."""
    import cv2

    h, w = image.shape[:2]
    resized_w = min(width, max(1, math.ceil(height * w / h)))
    resized = cv2.resize(image, (resized_w, height)).astype(np.float32)
    out = np.zeros((3, height, width), dtype=np.float32)
    out[:, :, :resized_w] = resized.transpose(2, 0, 1) * (2.0 / 255.0) - 1.0
    return out, resized_w


class PaddleOcr:
    """Lines and words of text in an image. The three sessions load on first use."""

    name = "pp-ocrv4"

    def __init__(self, models_dir: Path) -> None:
        self.models_dir = models_dir
        self._sessions: tuple[Any, Any, Any] | None = None
        self._charset: list[str] = []
        self._lock = threading.Lock()

    def _get(self) -> tuple[Any, Any, Any]:
        with self._lock:
            if self._sessions is None:
                det = load_session(path_for(DET_MODEL, self.models_dir))
                cls = load_session(path_for(CLS_MODEL, self.models_dir))
                rec = load_session(path_for(REC_MODEL, self.models_dir))
                chars = rec.get_modelmeta().custom_metadata_map["character"].splitlines()
                # CTC blank first, then the dictionary, then the space PaddleOCR appends.
                self._charset = ["", *chars, " "]
                self._sessions = (det, cls, rec)
            return self._sessions

    def read(self, image: RGBArray) -> list[OcrLine]:
        """Every line read with confidence of at least 0.5, in reading order."""
        det, cls, rec = self._get()
        bgr = np.ascontiguousarray(image[:, :, ::-1])
        height, width = bgr.shape[:2]
        (prob,) = det.run(None, {det.get_inputs()[0].name: ocr_det.preprocess(bgr)})
        quads = ocr_det.boxes_from_map(prob[0, 0], height, width)
        strips = [_rectify(bgr, q) for q, _ in quads]
        unsure = self._orient(cls, strips)
        lines = self._recognise(rec, strips)
        # Where the orientation classifier hesitated and the reading is poor, read the other
        # way up too and keep the reading the recogniser is surer of.
        unsure = [i for i in unsure if _confidence(lines[i]) < _REREAD_BELOW]
        if unsure:
            flipped = [_turned_over(strips[i]) for i in unsure]
            for i, other in zip(unsure, self._recognise(rec, flipped), strict=True):
                mine = lines[i]
                if other is not None and (mine is None or other.confidence > mine.confidence):
                    lines[i] = other
        return reading_order([line for line in lines if line is not None])

    def _orient(self, cls: Any, strips: list[_Strip]) -> list[int]:
        """Turn over the strips that read upside down; return those it is unsure about.

        Lines vote in two groups, those turned a quarter (a page rotated by 90°, or vertical
        text) and the level ones: a page is rotated one way, so when most of a group reads
        upside down the whole group is turned over.
        """
        if not strips:
            return []
        name = cls.get_inputs()[0].name
        order = np.argsort([s.image.shape[1] / s.image.shape[0] for s in strips])
        upside_down = np.zeros(len(strips))
        for start in range(0, len(strips), _CLS_BATCH):
            idx = order[start : start + _CLS_BATCH]
            x = np.stack([_resize_pad(strips[i].image, *_CLS_SIZE)[0] for i in idx])
            (probs,) = cls.run(None, {name: x})
            upside_down[idx] = probs[:, 1]
        unsure = []
        # Upright scene text often scores 0.5-0.8 upside down, so level lines need a clear
        # majority; quarter-turned lines are nearly always a rotated page.
        for group, bar in ((True, 0.5), (False, _CLS_THRESHOLD)):
            members = [i for i, s in enumerate(strips) if s.quarter_turn is group]
            vote = (
                len(members) >= _VOTE_MIN_LINES and float(np.median(upside_down[members])) > bar
            )
            for i in members:
                p = float(upside_down[i])
                if vote or p > _CLS_THRESHOLD:
                    strips[i] = _turned_over(strips[i])
                if not vote and 1 - _CLS_THRESHOLD < p <= _CLS_THRESHOLD:
                    unsure.append(i)
        return unsure

    def _recognise(self, rec: Any, strips: list[_Strip]) -> list[OcrLine | None]:
        name = rec.get_inputs()[0].name
        ratios = [s.image.shape[1] / s.image.shape[0] for s in strips]
        order = np.argsort(ratios)
        out: list[OcrLine | None] = [None] * len(strips)
        for start in range(0, len(strips), _REC_BATCH):
            idx = [int(i) for i in order[start : start + _REC_BATCH]]
            max_ratio = max([_REC_MIN_RATIO, *(ratios[i] for i in idx)])
            batch_w = int(_REC_HEIGHT * max_ratio)
            packed = [_resize_pad(strips[i].image, _REC_HEIGHT, batch_w) for i in idx]
            (probs,) = rec.run(None, {name: np.stack([p[0] for p in packed])})
            for k, i in enumerate(idx):
                out[i] = self._decode(probs[k], strips[i], batch_w, packed[k][1])
        return out

    def _decode(
        self, probs: NDArray[np.float32], strip: _Strip, batch_w: int, resized_w: int
    ) -> OcrLine | None:
        steps = probs.shape[0]
        best = probs.argmax(axis=1)
        keep = best != 0
        keep[1:] &= best[1:] != best[:-1]
        columns = np.flatnonzero(keep)
        if len(columns) == 0:
            return None
        chars = [self._charset[int(best[c])] for c in columns]
        scores = [float(probs[c, best[c]]) for c in columns]
        text_scores = [s for ch, s in zip(chars, scores, strict=True) if ch != " "]
        if not text_scores or float(np.mean(text_scores)) < _LINE_MIN_SCORE:
            return None
        # Strip x of a CTC column's centre: columns tile the padded input evenly.
        strip_w, strip_h = strip.image.shape[1], strip.image.shape[0]
        x_per_col = batch_w / steps * strip_w / resized_w
        groups = _split_words(chars, columns)
        glyph_cols = [float(c) for ch, c in zip(chars, columns, strict=True) if ch != " "]
        gaps = np.diff(glyph_cols)
        pitch = float(np.median(gaps)) if len(gaps) else strip_h / 2 / x_per_col
        words = []
        for group in groups:
            first, last = columns[group[0]], columns[group[-1]]
            x0 = max(0.0, (first + 0.5 - pitch / 2) * x_per_col)
            x1 = min(float(strip_w), (last + 0.5 + pitch / 2) * x_per_col)
            quad = (strip.to_image(x0, 0), strip.to_image(x1, 0),
                    strip.to_image(x1, strip_h), strip.to_image(x0, strip_h))
            words.append(
                OcrWord(
                    text="".join(chars[i] for i in group),
                    confidence=float(np.mean([scores[i] for i in group])),
                    quad=quad,
                )
            )
        if not words:
            return None
        line_quad = (strip.to_image(0, 0), strip.to_image(strip_w, 0),
                     strip.to_image(strip_w, strip_h), strip.to_image(0, strip_h))
        return OcrLine(
            text=" ".join(w.text for w in words),
            confidence=float(np.mean(text_scores)),
            quad=line_quad,
            words=tuple(words),
        )


def _split_words(chars: list[str], columns: NDArray[np.intp]) -> list[list[int]]:
    """Indices of each word's characters: words end at a space, or at a gap between two
    characters' columns wider than a space usually is."""
    groups: list[list[int]] = []
    current: list[int] = []
    for i, ch in enumerate(chars):
        if ch == " ":
            if current:
                groups.append(current)
            current = []
            continue
        if current and columns[i] - columns[current[-1]] > _WORD_GAP_COLUMNS:
            groups.append(current)
            current = []
        current.append(i)
    if current:
        groups.append(current)
    return groups


def reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Columns and blocks as a reader takes them, in the frame of the text itself (the median
    line direction, so a page rotated a quarter reads in its own order).

    A recursive XY-cut: split at horizontal white bands taller than a line (blocks, top to
    bottom), else at vertical white bands (columns, left to right); within what is left, top to
    bottom, lines whose tops lie within half a line height sharing a row, left to right.
    """
    if not lines:
        return []
    angles = [math.atan2(ln.quad[1][1] - ln.quad[0][1], ln.quad[1][0] - ln.quad[0][0])
              for ln in lines]
    theta = float(np.median(angles))
    cos, sin = math.cos(-theta), math.sin(-theta)
    boxes = []
    for ln in lines:
        xs = [p[0] * cos - p[1] * sin for p in ln.quad]
        ys = [p[0] * sin + p[1] * cos for p in ln.quad]
        boxes.append((min(xs), min(ys), max(xs), max(ys)))
    height = float(np.median([b[3] - b[1] for b in boxes]))
    order = _xy_cut(list(range(len(lines))), boxes, height)
    return [lines[i] for i in order]


def _gaps(items: list[int], lo: list[float], hi: list[float], min_gap: float) -> list[list[int]]:
    """``items`` split where the intervals [lo, hi] leave a gap wider than ``min_gap``."""
    ordered = sorted(items, key=lambda i: lo[i])
    groups, reach = [[ordered[0]]], hi[ordered[0]]
    for i in ordered[1:]:
        if lo[i] - reach > min_gap:
            groups.append([i])
        else:
            groups[-1].append(i)
        reach = max(reach, hi[i])
    return groups


def _xy_cut(
    items: list[int], boxes: list[tuple[float, float, float, float]], height: float
) -> list[int]:
    if len(items) <= 1:
        return items
    x0, y0, x1, y1 = ([b[k] for b in boxes] for k in range(4))
    for groups in (_gaps(items, y0, y1, height), _gaps(items, x0, x1, height / 2)):
        if len(groups) > 1:
            return [i for g in groups for i in _xy_cut(g, boxes, height)]
    rows: list[list[int]] = []
    for i in sorted(items, key=lambda i: (y0[i], x0[i])):
        if rows and abs(y0[i] - y0[rows[-1][0]]) < height / 2:
            rows[-1].append(i)
        else:
            rows.append([i])
    return [i for row in rows for i in sorted(row, key=lambda i: x0[i])]
