"""Calibrated similarity: descriptor distance ↔ false match rate ↔ Similarity (0–100).

A calibration file (``data/calibration-<model>.json``, written by ``bench/calibrate.py``) holds
knots measured on LFW-dev: for each distance, the fraction of impostor pairs at or below it (FMR)
and of genuine pairs above it (FNMR). Similarity is defined from FMR, so a threshold states its
error rate:

    Similarity = 20 · (−log10 FMR)              for FMR ≥ 1e-4   (60 ⇔ 1e-3, 80 ⇔ 1e-4)
    Similarity = 80 + 10 · (−log10 FMR − 4)     for 1e-4 > FMR ≥ 1e-6   (90 ⇔ 1e-5, 100 ⇔ 1e-6)

Between knots Similarity is linear in distance, so the mapping is monotonic and continuous;
distances below the 1e-6 knot read 100.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import json
import math
from dataclasses import dataclass
from importlib import resources

from candor.errors import ConfigurationError

MIN_FMR = 1e-6


def similarity_for_fmr(fmr: float) -> float:
    """The Similarity that a given false match rate is assigned."""
    if fmr >= 1.0:
        return 0.0
    level = -math.log10(max(fmr, MIN_FMR))
    if level <= 4.0:
        return 20.0 * level
    return 80.0 + 10.0 * (level - 4.0)


def fmr_for_similarity(similarity: float) -> float:
    """Inverse of :func:`similarity_for_fmr`: the FMR a threshold stands for."""
    s = min(max(similarity, 0.0), 100.0)
    level = s / 20.0 if s <= 80.0 else 4.0 + (s - 80.0) / 10.0
    return float(10.0**-level)


@dataclass(frozen=True)
class Knot:
    distance: float
    fmr: float
    fnmr: float
    similarity: float


@dataclass(frozen=True)
class Calibration:
    model: str
    dataset: str
    genuine_pairs: int
    impostor_pairs: int
    knots: tuple[Knot, ...]  # distance ascending, similarity descending

    def __post_init__(self) -> None:
        ds = [k.distance for k in self.knots]
        if len(ds) < 2 or any(b <= a for a, b in itertools.pairwise(ds)):
            raise ConfigurationError(
                f"calibration for {self.model} needs >= 2 knots with increasing distance"
            )

    def similarity(self, distance: float) -> float:
        """Similarity 0–100 for a descriptor distance."""
        ks = self.knots
        if distance <= ks[0].distance:
            return ks[0].similarity
        if distance >= ks[-1].distance:
            return ks[-1].similarity
        i = bisect.bisect_right([k.distance for k in ks], distance)
        a, b = ks[i - 1], ks[i]
        t = (distance - a.distance) / (b.distance - a.distance)
        return a.similarity + t * (b.similarity - a.similarity)

    def distance_for_similarity(self, similarity: float) -> float:
        """Largest distance whose Similarity is still >= ``similarity``."""
        ks = self.knots
        if similarity >= ks[0].similarity:
            return ks[0].distance
        if similarity <= ks[-1].similarity:
            return ks[-1].distance
        for a, b in itertools.pairwise(ks):
            if a.similarity >= similarity >= b.similarity:
                if a.similarity == b.similarity:
                    return b.distance
                t = (a.similarity - similarity) / (a.similarity - b.similarity)
                return a.distance + t * (b.distance - a.distance)
        return ks[-1].distance

    def fnmr_at_similarity(self, similarity: float) -> float:
        """Measured FNMR at the knot nearest this threshold (from the calibration set)."""
        d = self.distance_for_similarity(similarity)
        nearest = min(self.knots, key=lambda k: abs(k.distance - d))
        return nearest.fnmr

    def to_json(self) -> dict[str, object]:
        return {
            "model": self.model,
            "dataset": self.dataset,
            "genuine_pairs": self.genuine_pairs,
            "impostor_pairs": self.impostor_pairs,
            "mapping": __doc__.split("\n\n")[1].strip() if __doc__ else "",
            "knots": [[k.distance, k.fmr, k.fnmr, k.similarity] for k in self.knots],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Calibration:
        raw = data["knots"]
        if not isinstance(raw, list):
            raise ConfigurationError("calibration knots must be a list")
        knots = tuple(Knot(float(d), float(f), float(n), float(s)) for d, f, n, s in raw)
        return cls(
            model=str(data["model"]),
            dataset=str(data["dataset"]),
            genuine_pairs=int(str(data["genuine_pairs"])),
            impostor_pairs=int(str(data["impostor_pairs"])),
            knots=knots,
        )


@functools.cache
def load_calibration(model: str) -> Calibration:
    """The shipped calibration for an embedding model, read once per process."""
    name = f"calibration-{model}.json"
    try:
        text = resources.files("candor.data").joinpath(name).read_text()
    except FileNotFoundError:
        raise ConfigurationError(
            f"no calibration file {name} for face model {model}; run bench/calibrate.py"
        ) from None
    return Calibration.from_json(json.loads(text))
