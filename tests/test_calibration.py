"""The similarity mapping: monotonic, anchored where the README says, and shipped."""

from __future__ import annotations

import pytest

from candor.calibration import (
    Calibration,
    Knot,
    fmr_for_similarity,
    load_calibration,
    similarity_for_fmr,
)
from candor.errors import ConfigurationError
from candor.inference.dlib_faces import EMBEDDING_MODEL


@pytest.mark.parametrize(
    ("fmr", "similarity"),
    [(1.0, 0.0), (1e-1, 20.0), (1e-3, 60.0), (1e-4, 80.0), (1e-5, 90.0), (1e-6, 100.0)],
)
def test_similarity_anchors(fmr: float, similarity: float) -> None:
    assert similarity_for_fmr(fmr) == pytest.approx(similarity)
    assert fmr_for_similarity(similarity) == pytest.approx(fmr)


def test_fmr_mapping_is_monotonic() -> None:
    sims = [similarity_for_fmr(10 ** (-k / 7)) for k in range(43)]
    assert sims == sorted(sims)


def test_shipped_calibration_is_monotonic_and_sane() -> None:
    cal = load_calibration(EMBEDDING_MODEL)
    assert cal.impostor_pairs > 1_000_000
    distances = [i / 100 for i in range(0, 150)]
    sims = [cal.similarity(d) for d in distances]
    assert sims == sorted(sims, reverse=True)
    assert cal.similarity(0.0) == 100.0
    assert cal.similarity(1.5) == pytest.approx(0.0, abs=1e-6)
    # dlib's customary 0.6 threshold is a lax one: well under the default of 80.
    assert cal.similarity(0.6) < 80
    for s in (50, 80, 90, 95, 99):
        assert cal.similarity(cal.distance_for_similarity(s)) == pytest.approx(s, abs=0.01)


def test_interpolation_between_knots() -> None:
    cal = Calibration(
        "m", "test", 1, 1, (Knot(0.0, 0.0, 0.0, 100.0), Knot(1.0, 1e-4, 0.1, 80.0))
    )
    assert cal.similarity(0.5) == pytest.approx(90.0)
    assert cal.distance_for_similarity(90.0) == pytest.approx(0.5)


def test_bad_calibration_is_refused() -> None:
    with pytest.raises(ConfigurationError):
        Calibration("m", "t", 1, 1, (Knot(0.5, 0, 0, 100), Knot(0.4, 1, 1, 0)))
