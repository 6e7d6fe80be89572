"""The in-process face vector index: exact answers below the limit, re-ranked IVF candidates
above it, and never a removed face."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from candor.storage import vectors
from candor.storage.vectors import DIM, FaceVectorIndex, VectorIndex


def faces(n: int, seed: int = 0, people: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` descriptors of ``people`` identities, spread like dlib's: ~0.8 apart between
    people, ~0.4 within one. Returns (vectors, identity per row)."""
    rng = np.random.default_rng(seed)
    people = people or max(1, n // 3)
    centres = rng.normal(0.0, 0.05, (people, DIM)).astype(np.float32)
    who = rng.integers(0, people, n)
    noise = rng.normal(0.0, 0.025, (n, DIM)).astype(np.float32)
    return centres[who] + noise, who


def brute(ids: np.ndarray, vecs: np.ndarray, q: np.ndarray, k: int) -> list[tuple[int, float]]:
    d = np.sqrt(((vecs.astype(np.float64) - q) ** 2).sum(axis=1))
    order = np.lexsort((ids, d))[:k]
    return [(int(ids[i]), float(d[i])) for i in order]


def check_against(got: list[tuple[int, float]], live: dict[int, np.ndarray], q: np.ndarray) -> None:
    """What every answer must satisfy, exact or not: live ids, their true distances, sorted."""
    dists = [d for _, d in got]
    assert dists == sorted(dists)
    assert len({i for i, _ in got}) == len(got)
    for face, d in got:
        assert face in live, f"returned id {face} is not live"
        assert d == pytest.approx(float(np.linalg.norm(live[face] - q)), abs=1e-5)


def test_satisfies_the_protocol() -> None:
    index: VectorIndex = FaceVectorIndex()
    assert len(index) == 0


def test_empty_index_finds_nothing() -> None:
    index = FaceVectorIndex()
    assert index.search(np.zeros(DIM, np.float32), k=5) == []
    assert index.ids().shape == (0,)
    index.remove([1, 2, 3])
    assert len(index) == 0


@pytest.mark.parametrize("k", [1, 5, 50])
@pytest.mark.parametrize("n", [1, 37, 2_000])
def test_exact_matches_brute_force(n: int, k: int) -> None:
    vecs, _ = faces(n, seed=n)
    ids = np.random.default_rng(1).permutation(10 * n)[:n].astype(np.int64)
    index = FaceVectorIndex()
    index.add(ids.tolist(), vecs)
    for q in faces(20, seed=99)[0]:
        got = index.search(q, k)
        want = brute(ids, vecs, q, k)
        assert [i for i, _ in got] == [i for i, _ in want]
        assert [d for _, d in got] == pytest.approx([d for _, d in want], abs=1e-5)


def test_k_larger_than_the_index_returns_everything() -> None:
    vecs, _ = faces(7)
    index = FaceVectorIndex()
    index.add(range(7), vecs)
    got = index.search(vecs[0], k=100)
    assert sorted(i for i, _ in got) == list(range(7))
    assert got[0] == (0, 0.0)


def test_max_distance_keeps_only_close_faces() -> None:
    vecs, _ = faces(500, seed=3)
    index = FaceVectorIndex()
    index.add(range(500), vecs)
    q = vecs[10]
    everything = index.search(q, k=500)
    for limit in [0.0, 0.3, 0.6, 0.9]:
        got = index.search(q, k=500, max_distance=limit)
        assert got == [(i, d) for i, d in everything if d <= limit]
    assert index.search(q, k=3, max_distance=10.0) == everything[:3]


def test_removed_faces_are_never_returned() -> None:
    vecs, _ = faces(300, seed=4)
    index = FaceVectorIndex()
    index.add(range(300), vecs)
    index.remove([*range(0, 300, 2), 10_000])
    assert len(index) == 150
    assert sorted(index.ids().tolist()) == list(range(1, 300, 2))
    for i in range(0, 300, 2):
        got = index.search(vecs[i], k=300)
        assert len(got) == 150
        assert all(face % 2 == 1 for face, _ in got)


def test_readding_an_id_replaces_its_descriptor() -> None:
    vecs, _ = faces(100, seed=5)
    index = FaceVectorIndex()
    index.add(range(100), vecs)
    index.add([3], vecs[50:51] + 0.001)
    assert len(index) == 100
    assert index.search(vecs[3], k=1)[0][0] != 3
    assert {i for i, _ in index.search(vecs[50], k=2)} == {3, 50}
    before = index.memory_bytes()
    index.add([3], vecs[50:51] + 0.001)  # same descriptor again: nothing changes
    assert len(index) == 100
    assert index.memory_bytes() == before


def test_the_last_descriptor_for_a_repeated_id_in_one_call_wins() -> None:
    vecs, _ = faces(3, seed=6)
    index = FaceVectorIndex()
    index.add([1, 1, 2], vecs)
    assert len(index) == 2
    assert index.search(vecs[1], k=1) == [(1, 0.0)]


@pytest.mark.parametrize(
    ("ids", "shape", "message"),
    [
        ([1, 2], (3, DIM), r"shape \(2, 128\) for 2 ids, but got shape \(3, 128\)"),
        ([1], (1, 64), r"shape \(1, 128\) for 1 ids, but got shape \(1, 64\)"),
    ],
)
def test_bad_batches_say_what_was_expected(
    ids: list[int], shape: tuple[int, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        FaceVectorIndex().add(ids, np.zeros(shape, np.float32))


def test_bad_queries_are_refused() -> None:
    index = FaceVectorIndex()
    with pytest.raises(ValueError, match=r"shape \(128,\), but got shape \(1, 128\)"):
        index.search(np.zeros((1, DIM), np.float32), k=1)
    with pytest.raises(ValueError, match="k must be at least 1, got 0"):
        index.search(np.zeros(DIM, np.float32), k=0)
    with pytest.raises(ValueError, match="finite"):
        index.search(np.full(DIM, np.nan, np.float32), k=1)
    with pytest.raises(ValueError, match="finite"):
        index.add([1], np.full((1, DIM), np.inf, np.float32))


# -- above the exact limit ---------------------------------------------------------------------


def test_ivf_recall_at_1_against_exact() -> None:
    """~50k faces, queries are fresh photos of enrolled people: the re-ranked IVF top-1 is the
    exact top-1 for at least 99% of them."""
    n = 50_000
    vecs, _ = faces(n, seed=7, people=20_000)
    index = FaceVectorIndex(exact_limit=20_000, background=False)
    index.add(range(n), vecs)
    assert index.approximate
    exact = FaceVectorIndex()
    exact.add(range(n), vecs)
    rng = np.random.default_rng(8)
    probes = vecs[rng.choice(n, 500, replace=False)]
    probes += rng.normal(0.0, 0.025, probes.shape).astype(np.float32)
    hits = sum(index.search(q, 1)[0][0] == exact.search(q, 1)[0][0] for q in probes)
    assert hits / len(probes) >= 0.99
    per_face = index.memory_bytes() / n
    assert 600 < per_face < 1_000  # dense float32 row + ids + 136 B of IVF codes and label


def test_ivf_answers_are_live_and_exact_through_churn() -> None:
    """Random adds, replacements and removals with the IVF index on (and rebuilt as
    tombstones pile up): every answer holds only live ids at their true distances."""
    rng = np.random.default_rng(9)
    pool, _ = faces(6_000, seed=10)
    index = FaceVectorIndex(exact_limit=2_000, background=False)
    live: dict[int, np.ndarray] = {}
    first = rng.choice(6_000, 3_000, replace=False)
    index.add(first.tolist(), pool[first])
    live.update({int(i): pool[i] for i in first})
    assert index.approximate
    for step in range(60):
        op = rng.integers(0, 3)
        ids = rng.choice(6_000, 40, replace=False)
        if op == 0:
            index.add(ids.tolist(), pool[ids])
            live.update({int(i): pool[i] for i in ids})
        elif op == 1:  # replace with someone else's descriptor
            other = pool[rng.choice(6_000, 40)]
            index.add(ids.tolist(), other)
            live.update({int(i): v for i, v in zip(ids, other, strict=True)})
        else:
            index.remove(ids.tolist())
            for i in ids:
                live.pop(int(i), None)
        assert len(index) == len(live)
        for q in pool[rng.choice(6_000, 3)]:
            check_against(index.search(q, 5), live, q)
        if step % 20 == 19:
            assert sorted(index.ids().tolist()) == sorted(live)
    assert index.approximate


def test_deleting_a_whole_neighbourhood_leaves_no_trace() -> None:
    vecs, who = faces(4_000, seed=11, people=400)
    index = FaceVectorIndex(exact_limit=2_000, background=False)
    index.add(range(4_000), vecs)
    person = np.flatnonzero(who == who[0])
    index.remove(person.tolist())
    got = index.search(vecs[0], k=20)
    assert len(got) == 20
    assert not set(person.tolist()) & {i for i, _ in got}


def test_shrinking_below_half_the_limit_goes_back_to_exact() -> None:
    vecs, _ = faces(3_000, seed=12)
    index = FaceVectorIndex(exact_limit=2_000, background=False)
    index.add(range(3_000), vecs)
    assert index.approximate
    index.remove(list(range(2_100)))
    assert not index.approximate
    q = vecs[2_500]
    got, want = index.search(q, 3), brute(np.arange(2_100, 3_000), vecs[2_100:], q, 3)
    assert [i for i, _ in got] == [i for i, _ in want]


def test_background_build_swaps_in_without_losing_concurrent_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Adds, replacements and removals (which move rows the build has already copied) that land
    while the build is copying are all reconciled when the new index is swapped in."""
    copying, release = threading.Event(), threading.Event()

    class SlowIvf(vectors.IvfCandidates):
        def add(self, rows: np.ndarray) -> int:
            copying.set()
            release.wait(timeout=30)
            return super().add(rows)

    monkeypatch.setattr(vectors, "IvfCandidates", SlowIvf)
    monkeypatch.setattr(vectors, "BUILD_CHUNK", 1_000)
    vecs, _ = faces(8_000, seed=13)
    index = FaceVectorIndex(exact_limit=4_000)
    index.add(range(4_000), vecs[:4_000])
    assert copying.wait(timeout=30)  # the first chunk (rows 0–999) is copied, not yet added
    # Rows 0–499 go, and the untouched faces 3500–3999 move from the tail into them, behind
    # the copy's back; then new faces, and replacements.
    index.remove(list(range(0, 500)) + list(range(2_000, 2_300)))
    index.add(range(4_000, 8_000), vecs[4_000:])
    index.add([700, 3_000], vecs[7_998:8_000])  # 700 was in the copied chunk
    assert not index.approximate  # still exact while the build runs
    release.set()
    assert index.wait_built(timeout=60)
    assert index.approximate
    live = {i: vecs[i] for i in range(500, 8_000) if not 2_000 <= i < 2_300}
    live[700], live[3_000] = vecs[7_998], vecs[7_999]
    assert sorted(index.ids().tolist()) == sorted(live)
    for q in vecs[::400]:
        check_against(index.search(q, 10), live, q)
    # Every live face is reachable through the IVF index: its own descriptor finds it at 0.
    for face in sorted(live):
        got = index.search(live[face], k=2)
        assert got[0][1] == 0.0
        assert face in {i for i, d in got if d == 0.0}


def test_concurrent_adds_removes_and_searches() -> None:
    """Smoke test: writers churn while readers search; nothing raises, nothing removed for good
    comes back, and the end state matches brute force."""
    vecs, _ = faces(6_000, seed=14)
    index = FaceVectorIndex(exact_limit=2_000)
    index.add(range(4_000), vecs[:4_000])
    gone = list(range(0, 4_000, 4))
    index.remove(gone)
    gone_set = set(gone)
    errors: list[BaseException] = []
    stop = threading.Event()

    def writer(lo: int, hi: int) -> None:
        try:
            for start in range(lo, hi, 50):
                batch = list(range(start, start + 50))
                index.add(batch, vecs[start : start + 50])
                index.remove(batch[::2])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                for face, _ in index.search(vecs[rng.integers(0, 4_000)], 10):
                    assert face not in gone_set
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    readers = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    writers = [threading.Thread(target=writer, args=r) for r in [(4_000, 5_000), (5_000, 6_000)]]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors
    assert index.wait_built(timeout=60)
    live_ids = np.array(sorted(set(range(4_000)) - gone_set | set(range(4_001, 6_000, 2))))
    assert sorted(index.ids().tolist()) == live_ids.tolist()
    live = {int(i): vecs[i] for i in live_ids}
    for q in vecs[::500]:
        check_against(index.search(q, 5), live, q)
