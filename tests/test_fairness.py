"""The shipped scoring's stated false match rate holds for every group of utkface-dev.

Slow (embeds 3,600 faces): ``pytest -m slow tests/test_fairness.py``; CI runs it. Within-group
pairs of different files are impostor pairs, except those ``bench/fairness-same-person.tsv``
records as one person seen twice (and pairs joined through them), as ``bench/fairness.py``
counts them. A group fails when the whole Wilson 95% interval of its observed FMR lies above
the stated one.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from candor.calibration import fmr_for_similarity
from candor.imaging import decode_image
from candor.inference.scoring import FAIR_SCORING, LEGACY_SCORING, Scoring, load_scoring
from candor.runtime import Runtime
from candor.services.evaluation import Rate

from .conftest import FACES, ROOT

UTK = FACES / "utkface-dev"
THRESHOLDS = (80.0, 90.0, 95.0, 99.0)

pytestmark = pytest.mark.slow


def _people(files: list[str]) -> dict[str, str]:
    """File → a representative of its same-person component."""
    parent = {f: f for f in files}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for line in (ROOT / "bench" / "fairness-same-person.tsv").read_text().splitlines():
        cols = line.split("\t")
        if len(cols) == 3 and cols[1] in parent and cols[2] in parent:
            parent[find(cols[1])] = find(cols[2])
    return {f: find(f) for f in files}


@pytest.fixture(scope="module")
def groups(runtime: Runtime) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Group → (descriptors, person of each)."""
    rows = list(csv.DictReader((UTK / "labels.csv").read_text().splitlines()))

    def embed(name: str) -> np.ndarray | None:
        data = (UTK / "images" / name).read_bytes()
        img = decode_image(data, max_bytes=15 << 20, max_pixels=36_000_000)
        dets = runtime.faces.detect(img.pixels)
        if not dets:
            return None
        (face,) = runtime.faces.analyze(img.pixels, embed=True, detections=dets[:1])
        assert face.embedding is not None
        return np.frombuffer(face.embedding.data, dtype="<f4")

    with ThreadPoolExecutor(2) as pool:
        vectors = list(pool.map(embed, [r["file"] for r in rows]))
    found = [(r, v) for r, v in zip(rows, vectors, strict=True) if v is not None]
    assert len(found) > 0.99 * len(rows)
    person = _people([r["file"] for r, _ in found])
    out: dict[str, list[tuple[np.ndarray, str]]] = {}
    for r, v in found:
        out.setdefault(f"{r['race']} {r['gender']}", []).append((v, person[r["file"]]))
    return {g: (np.stack([v for v, _ in m]), np.array([p for _, p in m])) for g, m in out.items()}


def _rates(scoring: Scoring, x: np.ndarray, people: np.ndarray) -> dict[float, Rate]:
    d2 = ((x[:, None, :].astype(np.float64) - x[None, :, :]) ** 2).sum(-1)
    if scoring.normalizer is not None:
        w = scoring.normalizer.weight(x).astype(np.float64)
        d2 = d2 * w[:, None] * w[None, :]
    iu = np.triu_indices(len(x), 1)
    impostor = np.sqrt(d2[iu][people[iu[0]] != people[iu[1]]])
    return {
        t: Rate(int((impostor <= scoring.distance_for_similarity(t)).sum()), len(impostor))
        for t in THRESHOLDS
    }


def _exceeded(scoring: Scoring, groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[str]:
    over = []
    for g, (x, people) in groups.items():
        for t, r in _rates(scoring, x, people).items():
            if r.interval[0] > fmr_for_similarity(t):
                over.append(f"{g} at {t:g}: {r.errors}/{r.trials} = {r.value:.1e}")
    return over


def test_fair_scoring_states_an_upper_bound_for_every_group(
    groups: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    assert len(groups) == 8 and all(len(x) > 400 for x, _ in groups.values())
    assert _exceeded(load_scoring(FAIR_SCORING), groups) == []


def test_legacy_scoring_is_exceeded_where_the_issue_found_it(
    groups: dict[str, tuple[np.ndarray, np.ndarray]],
) -> None:
    # The check can fail: FaceModelVersion 1.0 (fitted on LFW alone) understates most groups.
    over = _exceeded(load_scoring(LEGACY_SCORING), groups)
    assert any(o.startswith("Asian female at 80") for o in over)
    assert len(over) > 20


def test_same_person_list_names_real_files() -> None:
    files = {r["file"] for r in csv.DictReader((UTK / "labels.csv").read_text().splitlines())}
    listed = [
        line.split("\t")
        for line in (ROOT / "bench" / "fairness-same-person.tsv").read_text().splitlines()
        if not line.startswith(("#", "group", "LFW"))
    ]
    assert listed and all(a in files and b in files for _, a, b in listed)
