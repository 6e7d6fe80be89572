"""How two descriptors become a Similarity: an optional score normalisation, then a calibration.

A *scoring* is what a collection's FaceModelVersion names. It pairs a descriptor model with

- a **normaliser** (or none): Fair Score Normalization (Terhörst et al., IJCB 2020). k-means
  centroids of descriptors, and per cluster a weight learnt from where that cluster's impostor
  pairs lie. Two faces in a crowded region of descriptor space (where, with dlib's ResNet,
  different people of some groups lie closer together than others) are moved apart, so one
  threshold means the same false match rate across regions. It needs no label at query time:
  a face's cluster is its nearest centroid, never a race or gender, and nothing of it is stored
  or returned.
- a **calibration** (:mod:`candor.calibration`): normalised distance → Similarity, fitted so the
  stated false match rate is an upper bound for every group measured (``bench/fairness.py``).

The normalisation scales squared distances, so the vector index can apply it in its scan and a
face still matches its own image at distance 0 (an additive shift, FSN's original form, would
not give Similarity 100 for the same photo):

    d'² = ‖x − y‖² · w(x) · w(y),   w(x) = weight of x's cluster = √(t / t_c)

where t_c is the squared distance at FMR 1e-3 among impostor pairs touching cluster c and t the
same over all pairs, so every cluster's 1e-3 point lands in one place.

>>> s = load_scoring("dlib-resnet-v1-fair")
>>> s.similarity_of(probe_bytes, [face_bytes])     # [Similarity, ...]
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from candor.calibration import Calibration
from candor.errors import ConfigurationError

# Scorings this build knows, with the FaceModelVersion each is reported as (digits and dots,
# as Rekognition's wire format wants). A collection keeps the scoring it was created with.
LEGACY_SCORING = "dlib-resnet-v1"
FAIR_SCORING = "dlib-resnet-v1-fair"
SCORING_VERSIONS = {LEGACY_SCORING: "1.0", FAIR_SCORING: "2.0"}
# What new collections, CompareFaces and evaluation use, per descriptor model.
DEFAULT_SCORING = {"dlib-resnet-v1": FAIR_SCORING}


def scoring_version(name: str) -> str:
    """The FaceModelVersion string for a scoring name."""
    return SCORING_VERSIONS.get(name, "0.0")


@dataclass(frozen=True, eq=False)
class Normalizer:
    """Fair Score Normalization: per-cluster weights on squared distances."""

    centroids: np.ndarray  # (K, dims) float32
    weights: np.ndarray  # (K,) float32, > 0

    def __post_init__(self) -> None:
        if self.centroids.ndim != 2 or self.weights.shape != (len(self.centroids),):
            raise ConfigurationError(
                "normaliser needs centroids of shape (K, dims) and weights of shape (K,), "
                f"but got {self.centroids.shape} and {self.weights.shape}"
            )
        if not (self.weights > 0).all():
            raise ConfigurationError("normaliser weights must all be positive")

    def clusters(self, vectors: np.ndarray) -> np.ndarray:
        """Nearest centroid of each row of ``vectors`` ((n, dims) float32)."""
        c = self.centroids
        sq = (c * c).sum(axis=1)[None, :] - 2.0 * (vectors @ c.T)
        return np.asarray(sq.argmin(axis=1))

    def weight(self, vectors: np.ndarray) -> np.ndarray:
        """w(x) for each row: the factor a squared distance takes at each end of a pair."""
        return np.asarray(self.weights[self.clusters(vectors)], dtype=np.float32)

    def to_json(self) -> dict[str, object]:
        return {
            "method": "fair-score-normalization (weights on squared distance)",
            "centroids": [[round(float(x), 7) for x in row] for row in self.centroids],
            "weights": [float(x) for x in self.weights],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Normalizer:
        return cls(
            centroids=np.asarray(data["centroids"], dtype=np.float32),
            weights=np.asarray(data["weights"], dtype=np.float32),
        )


def normalized_distances(
    normalizer: Normalizer | None, probe: np.ndarray, candidates: np.ndarray
) -> np.ndarray:
    """d' from ``probe`` ((dims,)) to each row of ``candidates`` ((n, dims))."""
    diff = candidates.astype(np.float32) - probe.astype(np.float32)
    sq = np.einsum("ij,ij->i", diff, diff)
    if normalizer is not None:
        sq = sq * normalizer.weight(probe[None, :])[0] * normalizer.weight(candidates)
    return np.asarray(np.sqrt(sq))


@dataclass(frozen=True, eq=False)
class Scoring:
    name: str
    version: str  # FaceModelVersion
    descriptor_model: str
    calibration: Calibration
    normalizer: Normalizer | None

    def distances(self, probe: bytes, candidates: Sequence[bytes]) -> list[float]:
        """Normalised distances from ``probe`` to each candidate (float32 descriptor bytes)."""
        if not candidates:
            return []
        p = np.frombuffer(probe, dtype="<f4")
        m = np.stack([np.frombuffer(c, dtype="<f4") for c in candidates])
        if m.shape[1] != p.shape[0]:
            raise ValueError(f"descriptors of {m.shape[1]} and {p.shape[0]} dims do not compare")
        return [float(d) for d in normalized_distances(self.normalizer, p, m)]

    def similarity(self, distance: float) -> float:
        return self.calibration.similarity(distance)

    def distance_for_similarity(self, similarity: float) -> float:
        return self.calibration.distance_for_similarity(similarity)

    def similarity_of(self, probe: bytes, candidates: Sequence[bytes]) -> list[float]:
        return [self.similarity(d) for d in self.distances(probe, candidates)]


@functools.cache
def load_scoring(name: str) -> Scoring:
    """A shipped scoring (``data/calibration-<name>.json``), read once per process."""
    if name not in SCORING_VERSIONS:
        known = ", ".join(sorted(SCORING_VERSIONS))
        raise ConfigurationError(f"unknown scoring {name!r}; this build knows {known}")
    file = f"calibration-{name}.json"
    try:
        data = json.loads(resources.files("candor.data").joinpath(file).read_text())
    except FileNotFoundError:
        raise ConfigurationError(
            f"no calibration file {file} for scoring {name}; run bench/fairness.py"
        ) from None
    raw = data.get("normalizer")
    return Scoring(
        name=name,
        version=scoring_version(name),
        descriptor_model=str(data.get("descriptor_model", data["model"])),
        calibration=Calibration.from_json(data),
        normalizer=None if raw is None else Normalizer.from_json(raw),
    )


def default_scoring(descriptor_model: str) -> Scoring:
    """The scoring new collections and CompareFaces use for a descriptor model."""
    try:
        return load_scoring(DEFAULT_SCORING[descriptor_model])
    except KeyError:
        raise ConfigurationError(f"no scoring for descriptor model {descriptor_model}") from None
