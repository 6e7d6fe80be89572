"""DetectText: lines and words of text (PP-OCRv4), with Rekognition's filters and its limit of
100 words per image.

A LINE is made of its WORDs. Filters act on words: a word is dropped when it fails the
WordFilter or lies outside every region of interest, and a line keeps only its remaining words
(its text, confidence and polygon are rebuilt from them; a line left with none is dropped).
A word is inside a box region when more than half of its bounding box is, and inside a polygon
region when its centre is. After filtering, the first 100 words in reading order are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from candor.errors import InvalidParameterException
from candor.image_types import DetectTextResult, Region, TextDetection, Vertex, WordFilter
from candor.imaging import ImageInput, load_image
from candor.inference.ocr import OcrWord
from candor.runtime import Runtime
from candor.types import BoundingBox, Caller

MAX_WORDS = 100
MAX_REGIONS = 10


@dataclass(frozen=True)
class _Word:
    text: str
    confidence: float  # 0..100
    polygon: tuple[Vertex, Vertex, Vertex, Vertex]
    box: BoundingBox


def detect_text(
    rt: Runtime,
    *,
    image: ImageInput,
    word_filter: WordFilter | None = None,
    regions: Sequence[Region] = (),
    max_words: int | None = MAX_WORDS,
    caller: Caller | None = None,
) -> DetectTextResult:
    """LINE detections (ids 0..n-1) then WORD detections, each word's ParentId its line.

    ``max_words`` is Rekognition's limit of 100; ``None`` lifts it (for measurement).
    """
    _check(word_filter, regions)
    account = (caller or Caller.local()).account
    decoded = load_image(image, rt.media, max_pixels=rt.settings.max_image_pixels, account=account)
    w, h = float(decoded.width), float(decoded.height)
    lines: list[list[_Word]] = []
    budget = max_words
    for line in rt.ocr.read(decoded.pixels):
        words = [
            word
            for word in (_word(x, w, h) for x in line.words)
            if _passes(word, word_filter) and _inside(word, regions)
        ]
        if budget is not None:
            words = words[:budget]
            budget -= len(words)
        if words:
            lines.append(words)
        if budget == 0:
            break
    detections = [_line_detection(i, words) for i, words in enumerate(lines)]
    next_id = len(lines)
    for parent, words in enumerate(lines):
        for word in words:
            detections.append(
                TextDetection(
                    id=next_id,
                    parent_id=parent,
                    type="WORD",
                    text=word.text,
                    confidence=word.confidence,
                    bounding_box=word.box,
                    polygon=word.polygon,
                )
            )
            next_id += 1
    return DetectTextResult(detections=tuple(detections), model_version=rt.ocr.name)


def _check(word_filter: WordFilter | None, regions: Sequence[Region]) -> None:
    if len(regions) > MAX_REGIONS:
        raise InvalidParameterException(
            f"RegionsOfInterest takes at most {MAX_REGIONS} regions, got {len(regions)}"
        )
    for i, region in enumerate(regions):
        if region.box is None and len(region.polygon) < 3:
            raise InvalidParameterException(
                f"RegionsOfInterest[{i}] needs a BoundingBox or a Polygon of at least 3 points"
            )
    if word_filter is not None:
        if not 0 <= word_filter.min_confidence <= 100:
            raise InvalidParameterException(
                f"WordFilter.MinConfidence must be 0..100, got {word_filter.min_confidence}"
            )
        for name, v in (("Height", word_filter.min_height), ("Width", word_filter.min_width)):
            if not 0 <= v <= 1:
                raise InvalidParameterException(
                    f"WordFilter.MinBoundingBox{name} must be a ratio 0..1, got {v}"
                )


def _clip(v: float) -> float:
    return min(1.0, max(0.0, v))


def _word(word: OcrWord, w: float, h: float) -> _Word:
    a, b, c, d = (Vertex(_clip(x / w), _clip(y / h)) for x, y in word.quad)
    return _Word(
        text=word.text,
        confidence=100.0 * word.confidence,
        polygon=(a, b, c, d),
        box=_bounds((a, b, c, d)),
    )


def _bounds(polygon: Sequence[Vertex]) -> BoundingBox:
    xs, ys = [p.x for p in polygon], [p.y for p in polygon]
    return BoundingBox(left=min(xs), top=min(ys), width=max(xs) - min(xs), height=max(ys) - min(ys))


def _passes(word: _Word, word_filter: WordFilter | None) -> bool:
    if word_filter is None:
        return True
    return (
        word.confidence >= word_filter.min_confidence
        and word.box.height >= word_filter.min_height
        and word.box.width >= word_filter.min_width
    )


def _inside(word: _Word, regions: Sequence[Region]) -> bool:
    if not regions:
        return True
    cx, cy = word.box.left + word.box.width / 2, word.box.top + word.box.height / 2
    for region in regions:
        if region.box is not None and _overlap(word.box, region.box) > 0.5:
            return True
        if len(region.polygon) >= 3 and _contains(region.polygon, cx, cy):
            return True
    return False


def _overlap(box: BoundingBox, region: BoundingBox) -> float:
    """The share of ``box`` that lies inside ``region``."""
    iw = min(box.left + box.width, region.left + region.width) - max(box.left, region.left)
    ih = min(box.top + box.height, region.top + region.height) - max(box.top, region.top)
    if iw <= 0 or ih <= 0:
        return 0.0
    return (iw * ih) / box.area if box.area > 0 else 1.0


def _contains(polygon: Sequence[Vertex], x: float, y: float) -> bool:
    """Even-odd rule."""
    inside = False
    n = len(polygon)
    for i in range(n):
        a, b = polygon[i], polygon[(i + 1) % n]
        if (a.y > y) != (b.y > y):
            cross = a.x + (y - a.y) * (b.x - a.x) / (b.y - a.y)
            if x < cross:
                inside = not inside
    return inside


def _line_detection(line_id: int, words: list[_Word]) -> TextDetection:
    first, last = words[0].polygon, words[-1].polygon
    polygon = (first[0], last[1], last[2], first[3])
    chars = [max(1, len(w.text)) for w in words]
    confidence = sum(w.confidence * n for w, n in zip(words, chars, strict=True)) / sum(chars)
    return TextDetection(
        id=line_id,
        parent_id=None,
        type="LINE",
        text=" ".join(w.text for w in words),
        confidence=confidence,
        bounding_box=_bounds(polygon),
        polygon=polygon,
    )
