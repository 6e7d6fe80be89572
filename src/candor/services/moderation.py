"""DetectModerationLabels: NudeNet's body-part detections mapped onto Rekognition's moderation
taxonomy (version 7: three levels, e.g. Explicit › Explicit Nudity › Exposed Male Genitalia).

Only the taxonomy's nudity branches are covered; violence, drugs, alcohol, gambling, hate symbols
and rude gestures are never reported, and neither is Swimwear or Underwear: NudeNet's "covered"
classes fire on ordinary clothes. Feet, armpits and belly have no place in the taxonomy. NudeNet's
face classes, which name a gender, never leave the inference layer.

Confidence is NudeNet's score rescaled so that 50 — the default MinConfidence — sits at score
0.75 and 100 at 1.0: ``100 × (score − 0.5) / 0.5``. On everyday photos (ImageNet samples, LFW)
NudeNet gives its explicit classes scores up to about 0.7, which would otherwise read as
confident explicit labels. A label's confidence is that of its most confident detection; a parent
is as confident as its most confident child.
"""

from __future__ import annotations

from candor.errors import InvalidParameterException
from candor.image_types import DetectModerationLabelsResult, ModerationLabel
from candor.imaging import ImageInput, load_image
from candor.runtime import Runtime
from candor.types import Caller

DEFAULT_MIN_CONFIDENCE = 50.0
_SCORE_AT_ZERO = 0.5

EXPLICIT = "Explicit"
EXPLICIT_NUDITY = "Explicit Nudity"
NON_EXPLICIT = "Non-Explicit Nudity of Intimate parts and Kissing"
NON_EXPLICIT_NUDITY = "Non-Explicit Nudity"

# NudeNet class → (level-3 label, its level-2 parent, its level-1 parent).
TAXONOMY: dict[str, tuple[str, str, str]] = {
    "MALE_GENITALIA_EXPOSED": ("Exposed Male Genitalia", EXPLICIT_NUDITY, EXPLICIT),
    "FEMALE_GENITALIA_EXPOSED": ("Exposed Female Genitalia", EXPLICIT_NUDITY, EXPLICIT),
    "BUTTOCKS_EXPOSED": ("Exposed Buttocks or Anus", EXPLICIT_NUDITY, EXPLICIT),
    "ANUS_EXPOSED": ("Exposed Buttocks or Anus", EXPLICIT_NUDITY, EXPLICIT),
    "FEMALE_BREAST_EXPOSED": ("Exposed Female Nipple", EXPLICIT_NUDITY, EXPLICIT),
    "MALE_BREAST_EXPOSED": ("Exposed Male Nipple", NON_EXPLICIT_NUDITY, NON_EXPLICIT),
}


def confidence(score: float) -> float:
    """NudeNet's score (0..1) as a moderation confidence (0..100)."""
    return 100.0 * min(1.0, max(0.0, (score - _SCORE_AT_ZERO) / (1.0 - _SCORE_AT_ZERO)))


def detect_moderation_labels(
    rt: Runtime,
    *,
    image: ImageInput,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    human_loop: bool = False,
    project_version: str | None = None,
    caller: Caller | None = None,
) -> DetectModerationLabelsResult:
    """Moderation labels at or above ``min_confidence``: each detected level-3 label with its
    level-2 and level-1 parents, most confident first."""
    if not 0.0 <= min_confidence <= 100.0:
        raise InvalidParameterException(
            f"MinConfidence must be between 0 and 100, got {min_confidence}"
        )
    if human_loop:
        raise InvalidParameterException(
            "HumanLoopConfig is not supported: Candor has no human review workflow"
        )
    if project_version is not None:
        raise InvalidParameterException(
            "ProjectVersion (a custom moderation adapter) is not supported by Candor"
        )
    account = (caller or Caller.local()).account
    decoded = load_image(image, rt.media, max_pixels=rt.settings.max_image_pixels, account=account)
    best: dict[tuple[str, str, int], float] = {}
    for part in rt.nudity.detect(decoded.pixels):
        mapped = TAXONOMY.get(part.label)
        if mapped is None:
            continue
        leaf, middle, top = mapped
        value = confidence(part.score)
        for key in ((leaf, middle, 3), (middle, top, 2), (top, "", 1)):
            best[key] = max(best.get(key, 0.0), value)
    labels = [
        ModerationLabel(name=name, parent_name=parent, taxonomy_level=level, confidence=value)
        for (name, parent, level), value in best.items()
        if value >= min_confidence and value > 0.0
    ]
    labels.sort(key=lambda m: (-m.confidence, m.taxonomy_level, m.name))
    return DetectModerationLabelsResult(labels=tuple(labels), model_version=rt.nudity.name)
