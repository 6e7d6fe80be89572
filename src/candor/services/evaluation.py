"""Evaluation reports an operator can run on their own data: 1:1 verification and 1:N
identification error rates at Candor's thresholds, optionally per demographic group with
confidence intervals and max/min ratios (the shape of NIST FRVT's demographic report).

Every image goes through the same pipeline as the API (largest face, calibrated Similarity), so
the figures describe what the service will do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from candor.errors import ServiceError
from candor.imaging import decode_image
from candor.inference.base import Embedding
from candor.runtime import Runtime

THRESHOLDS = (80.0, 90.0, 95.0, 99.0)
MAX_FILE_BYTES = 15 * 1024 * 1024


@dataclass(frozen=True)
class Rate:
    """A proportion with its Wilson 95% confidence interval."""

    errors: int
    trials: int

    @property
    def value(self) -> float:
        return self.errors / self.trials if self.trials else float("nan")

    @property
    def interval(self) -> tuple[float, float]:
        n, z = self.trials, 1.96
        if n == 0:
            return float("nan"), float("nan")
        p = self.errors / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class VerificationReport:
    pairs: int
    genuine: int
    impostor: int
    failed_images: tuple[str, ...]
    best_accuracy: float
    fmr: dict[float, Rate]
    fnmr: dict[float, Rate]
    curve: tuple[tuple[float, float, float], ...]  # (similarity threshold, FMR, FNMR)
    groups: dict[str, tuple[Rate, Rate]] = field(default_factory=dict)  # group → (FMR, FNMR)


@dataclass(frozen=True)
class IdentificationReport:
    gallery: int
    mated: int
    non_mated: int
    failed_images: tuple[str, ...]
    rank1: float
    fnir: dict[float, Rate]
    fpir: dict[float, Rate]
    groups: dict[str, tuple[Rate, Rate]] = field(default_factory=dict)  # group → (FNIR, FPIR)


def embed_files(
    rt: Runtime, paths: Iterable[Path], progress: Callable[[int], None] | None = None
) -> dict[Path, Embedding | None]:
    """Descriptor of the largest face in each file; None where the file is unreadable or has
    no face."""
    out: dict[Path, Embedding | None] = {}
    for i, path in enumerate(sorted(set(paths)), 1):
        try:
            img = decode_image(
                path.read_bytes(), max_bytes=MAX_FILE_BYTES, max_pixels=rt.settings.max_image_pixels
            )
        except (OSError, ServiceError):
            out[path] = None
        else:
            dets = rt.faces.detect(img.pixels)
            faces = rt.faces.analyze(img.pixels, embed=True, detections=dets[:1]) if dets else []
            out[path] = faces[0].embedding if faces else None
        if progress:
            progress(i)
    return out


def _similarity(rt: Runtime, a: Embedding | None, b: Embedding | None) -> float:
    if a is None or b is None:
        return -1.0  # no face: never a match
    return rt.scoring.similarity_of(a.data, [b.data])[0]


def verification(
    rt: Runtime,
    pairs: Sequence[tuple[Path, Path, bool]],
    embeddings: Mapping[Path, Embedding | None],
    groups: Mapping[Path, str] | None = None,
    group_threshold: float = 80.0,
) -> VerificationReport:
    scored = [(_similarity(rt, embeddings[a], embeddings[b]), same, a, b) for a, b, same in pairs]
    genuine = [s for s, same, _, _ in scored if same]
    impostor = [s for s, same, _, _ in scored if not same]
    cuts = sorted({s for s, *_ in scored} | {100.0})
    best = max(
        (sum((s >= t) == same for s, same, _, _ in scored) / len(scored) for t in cuts),
        default=0.0,
    )

    def fmr(t: float, xs: Sequence[float]) -> Rate:
        return Rate(sum(s >= t for s in xs), len(xs))

    def fnmr(t: float, xs: Sequence[float]) -> Rate:
        return Rate(sum(s < t for s in xs), len(xs))

    curve = tuple((float(t), fmr(t, impostor).value, fnmr(t, genuine).value) for t in range(0, 101))
    by_group: dict[str, tuple[Rate, Rate]] = {}
    if groups:
        names = sorted({g for g in groups.values()})
        for g in names:
            gen = [s for s, same, a, b in scored if same and groups.get(a) == g]
            imp = [
                s
                for s, same, a, b in scored
                if not same and groups.get(a) == g and groups.get(b) == g
            ]
            by_group[g] = (fmr(group_threshold, imp), fnmr(group_threshold, gen))
    return VerificationReport(
        pairs=len(pairs),
        genuine=len(genuine),
        impostor=len(impostor),
        failed_images=tuple(sorted(str(p) for p, e in embeddings.items() if e is None)),
        best_accuracy=best,
        fmr={t: fmr(t, impostor) for t in THRESHOLDS},
        fnmr={t: fnmr(t, genuine) for t in THRESHOLDS},
        curve=curve,
        groups=by_group,
    )


def identification(
    rt: Runtime,
    gallery: Sequence[tuple[str, Path]],
    probes: Sequence[tuple[str, Path]],
    embeddings: Mapping[Path, Embedding | None],
    groups: Mapping[str, str] | None = None,
    group_threshold: float = 80.0,
) -> IdentificationReport:
    """Gallery and probes are (identity, image) pairs; a probe whose identity is not in the
    gallery is non-mated."""
    enrolled = [(who, e) for who, p in gallery if (e := embeddings[p]) is not None]
    names = {who for who, _ in enrolled}
    results: list[tuple[str, bool, str | None, float]] = []  # identity, mated, top id, top sim
    for who, path in probes:
        e = embeddings[path]
        top_id, top_sim = None, -1.0
        if e is not None and enrolled:
            dists = rt.scoring.distances(e.data, [g.data for _, g in enrolled])
            i = min(range(len(dists)), key=dists.__getitem__)
            top_id, top_sim = enrolled[i][0], rt.scoring.similarity(dists[i])
        results.append((who, who in names, top_id, top_sim))
    mated = [r for r in results if r[1]]
    non_mated = [r for r in results if not r[1]]

    def fnir(t: float, rs: Sequence[tuple[str, bool, str | None, float]]) -> Rate:
        return Rate(sum(not (top == who and sim >= t) for who, _, top, sim in rs), len(rs))

    def fpir(t: float, rs: Sequence[tuple[str, bool, str | None, float]]) -> Rate:
        return Rate(sum(sim >= t for *_, sim in rs), len(rs))

    by_group: dict[str, tuple[Rate, Rate]] = {}
    if groups:
        for g in sorted(set(groups.values())):
            gm = [r for r in mated if groups.get(r[0]) == g]
            gn = [r for r in non_mated if groups.get(r[0]) == g]
            by_group[g] = (fnir(group_threshold, gm), fpir(group_threshold, gn))
    return IdentificationReport(
        gallery=len(enrolled),
        mated=len(mated),
        non_mated=len(non_mated),
        failed_images=tuple(sorted(str(p) for p, e in embeddings.items() if e is None)),
        rank1=sum(top == who for who, _, top, _ in mated) / len(mated) if mated else float("nan"),
        fnir={t: fnir(t, mated) for t in THRESHOLDS},
        fpir={t: fpir(t, non_mated) for t in THRESHOLDS},
        groups=by_group,
    )


def max_min_ratio(rates: Iterable[Rate]) -> float:
    """Largest over smallest group rate (inf when a group has none): FRVT's disparity figure."""
    values = [r.value for r in rates if r.trials]
    if not values:
        return float("nan")
    low = min(values)
    return float("inf") if low == 0 and max(values) > 0 else (max(values) / low if low else 1.0)
