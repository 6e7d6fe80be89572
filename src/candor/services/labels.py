"""DetectLabels: what the image shows (MobileNetV2 over ImageNet's 1000 classes, with WordNet
parents), people and faces (the face detector), and image properties.

Person, Face and Head come from the face detector: their instances are face boxes, not whole
bodies. Person is also a parent of a few ImageNet classes (scuba diver, groom, ballplayer); its
confidence is the larger of the two. The face pass runs on the image scaled to at most 640 px on
its longer side (faces from about 6% of that side are found), keeps faces of confidence 90 or
more, and is skipped when the label filters leave no face label to report.
"""

from __future__ import annotations

from collections.abc import Sequence

from candor.errors import InvalidParameterException
from candor.image_types import (
    DetectLabelsResult,
    Label,
    LabelFilters,
    LabelInstance,
)
from candor.imaging import DecodedImage, ImageInput, crop, fit_within, load_image
from candor.inference.image_properties import DEFAULT_MAX_COLORS, dominant_colors, image_properties
from candor.inference.label_taxonomy import FACE, FACE_LABELS, HEAD, PERSON, Taxonomy, load_taxonomy
from candor.runtime import Runtime
from candor.types import BoundingBox, Caller

GENERAL_LABELS, IMAGE_PROPERTIES = "GENERAL_LABELS", "IMAGE_PROPERTIES"
FEATURES = (GENERAL_LABELS, IMAGE_PROPERTIES)
DEFAULT_MIN_CONFIDENCE = 55.0
FACE_PASS_SIDE = 640
# Downscaling makes the odd non-face look like one to MTCNN (about 89% on the smoke sets); the
# faces DetectFaces finds at full resolution score over 90 here.
FACE_MIN_CONFIDENCE = 90.0


def detect_labels(
    rt: Runtime,
    *,
    image: ImageInput,
    max_labels: int | None = None,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    features: Sequence[str] = (GENERAL_LABELS,),
    filters: LabelFilters | None = None,
    max_dominant_colors: int = DEFAULT_MAX_COLORS,
    caller: Caller | None = None,
) -> DetectLabelsResult:
    """Labels at or above ``min_confidence``, most confident first, at most ``max_labels``.

        >>> r = detect_labels(rt, image=photo, features=["GENERAL_LABELS", "IMAGE_PROPERTIES"])
        >>> [(l.name, round(l.confidence)) for l in r.labels][:3]
        [('Dog', 97), ('Canine', 97), ('Mammal', 97)]
    """
    wanted = set(features) if features else {GENERAL_LABELS}
    unknown = sorted(wanted - set(FEATURES))
    if unknown:
        raise InvalidParameterException(f"Features must be among {list(FEATURES)}, got {unknown}")
    if not 0.0 <= min_confidence <= 100.0:
        raise InvalidParameterException(
            f"MinConfidence must be between 0 and 100, got {min_confidence}"
        )
    if max_labels is not None and max_labels < 0:
        raise InvalidParameterException(f"MaxLabels must be 0 or more, got {max_labels}")
    if not 0 <= max_dominant_colors <= 20:
        raise InvalidParameterException(
            f"MaxDominantColors must be between 0 and 20, got {max_dominant_colors}"
        )
    account = (caller or Caller.local()).account
    decoded = load_image(image, rt.media, max_pixels=rt.settings.max_image_pixels, account=account)
    with_colors = IMAGE_PROPERTIES in wanted
    labels = None
    if GENERAL_LABELS in wanted:
        labels = general_labels(
            rt,
            decoded,
            min_confidence=min_confidence,
            filters=filters or LabelFilters(),
            colors=max_dominant_colors if with_colors else 0,
        )
        if max_labels is not None:
            labels = labels[:max_labels]
    properties = None
    if with_colors:
        properties = image_properties(decoded.pixels, max_colors=max_dominant_colors)
    return DetectLabelsResult(
        labels=labels, image_properties=properties, model_version=rt.classifier.name
    )


def general_labels(
    rt: Runtime,
    decoded: DecodedImage,
    *,
    min_confidence: float,
    filters: LabelFilters,
    colors: int = 0,
) -> tuple[Label, ...]:
    taxonomy = load_taxonomy()
    keep = _Keep(taxonomy, filters)
    probabilities = rt.classifier.probabilities(decoded.pixels)
    confidence = taxonomy.confidences(probabilities, floor=min_confidence)
    instances: dict[str, tuple[LabelInstance, ...]] = {}
    if any(keep(name) for name in FACE_LABELS):
        faces = _face_instances(rt, decoded, colors)
        if faces:
            best = max(f.confidence for f in faces)
            confidence[FACE] = confidence[HEAD] = best
            confidence[PERSON] = max(taxonomy.confidence(PERSON, probabilities), best)
            instances[PERSON] = instances[FACE] = faces
    labels = []
    for name, value in confidence.items():
        if value < min_confidence or not keep(name):
            continue
        info = taxonomy.labels[name]
        labels.append(
            Label(
                name=name,
                confidence=value,
                instances=instances.get(name, ()),
                parents=info.parents,
                aliases=info.aliases,
                categories=info.categories,
            )
        )
    labels.sort(key=lambda label: (-label.confidence, label.name))
    return tuple(labels)


class _Keep:
    """Settings.GeneralLabels: a label is kept when it matches an inclusion filter (by name or
    category; no inclusion filters means every label) and no exclusion filter."""

    def __init__(self, taxonomy: Taxonomy, filters: LabelFilters) -> None:
        self.taxonomy = taxonomy
        self.include = {x.casefold() for x in filters.include}
        self.exclude = {x.casefold() for x in filters.exclude}
        self.include_cat = {x.casefold() for x in filters.include_categories}
        self.exclude_cat = {x.casefold() for x in filters.exclude_categories}

    def __call__(self, name: str) -> bool:
        info = self.taxonomy.labels[name]
        folded = name.casefold()
        cats = {c.casefold() for c in info.categories}
        if (self.include or self.include_cat) and not (
            folded in self.include or cats & self.include_cat
        ):
            return False
        return folded not in self.exclude and not cats & self.exclude_cat


def _face_instances(rt: Runtime, decoded: DecodedImage, colors: int) -> tuple[LabelInstance, ...]:
    pixels = decoded.pixels
    small = fit_within(pixels, FACE_PASS_SIDE)
    sh, sw = small.shape[:2]
    out = []
    for face in rt.faces.analyze(small):
        if face.confidence < FACE_MIN_CONFIDENCE:
            continue
        box = BoundingBox(
            left=max(0.0, face.box.left / sw),
            top=max(0.0, face.box.top / sh),
            width=min(face.box.right, sw) / sw - max(0.0, face.box.left / sw),
            height=min(face.box.bottom, sh) / sh - max(0.0, face.box.top / sh),
        )
        out.append(
            LabelInstance(
                bounding_box=box,
                confidence=face.confidence,
                dominant_colors=dominant_colors(crop(pixels, box), colors) if colors else None,
            )
        )
    return tuple(out)
