"""In-process nearest-neighbour search over face descriptors: derived data, one index per
collection, rebuilt from the database at start (DESIGN.md, Storage).

Faces are 128-D float32 descriptors keyed by int64 row ids. Every live descriptor sits in one
dense matrix (:mod:`candor.storage.vectors_dense`), which answers exactly while the collection
is small. From ``exact_limit`` faces on, a FAISS IVF index (:mod:`candor.storage.vectors_ann`)
proposes candidates, and the dense matrix re-ranks them with exact distances, so returned
distances are always exact and a deleted or replaced descriptor can never be returned.

Building the IVF index takes ~10 s at 100k faces and ~90–120 s at 1M on 2 shared cores, so
it happens off the request path: a background thread builds it from chunked copies of the rows,
taken under the read lock, while searches stay exact (or keep using the previous IVF index);
faces replaced or removed during the build are reconciled when the new index is swapped in. It
is rebuilt when a quarter of its nodes are tombstones or the collection has doubled since it
was trained.

>>> index = FaceVectorIndex()
>>> index.add([7, 8], np.stack([a, b]))      # (2, 128) float32
>>> index.search(a, k=1)
[(7, 0.0)]
>>> index.remove([7])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol

import numpy as np

from candor.storage.vectors_ann import TRAIN_PER_LIST, IvfCandidates, lists_for
from candor.storage.vectors_dense import DenseRows

log = logging.getLogger("candor.vectors")

DIM = 128
# Where exact search stops being fast enough (bench/scale.py --exact-scan, 2 cores): the scan's
# own cost (thread CPU time) is p99 2.1–2.5 ms at 100k, 4.0–4.2 ms at 200k, 6.1 ms at 300k,
# so it would pass 5 ms near 250k on an idle machine; wall-clock p99 on the shared machine
# (load average 4–6) was already ~5 ms at 25k–50k and 7–10 ms from 100k, the noise floor of the
# other tenants, which the IVF path pays just the same. 100k keeps the scan's memory traffic
# (51 MB per query) and its CPU cost at half the 5 ms mark. The IVF index is built from here
# on and dropped again below half of it.
EXACT_LIMIT = 100_000
# Candidates re-ranked per wanted result, and the least re-ranked at all.
OVERFETCH = 4
MIN_CANDIDATES = 64
# A k this large against the collection makes the candidate set most of the collection anyway.
EXACT_WHEN_CANDIDATES_OVER = 1 / 16
REBUILD_DEAD_FRACTION = 0.25
REBUILD_GROWTH = 2.0
BUILD_CHUNK = 50_000

# A scoring's per-descriptor weight: (n, 128) float32 → (n,) float32 (candor.inference.scoring).
Weight = Callable[[np.ndarray], np.ndarray]


class VectorIndex(Protocol):
    """Nearest neighbours by Euclidean distance among face descriptors keyed by row id."""

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Insert ``vectors`` ((len(ids), 128) float32) under ``ids``; an id already present is
        replaced (a no-op when the descriptor is unchanged)."""
        ...

    def remove(self, ids: Sequence[int]) -> None:
        """Remove ``ids``; unknown ids are ignored."""
        ...

    def search(
        self, query: np.ndarray, k: int, max_distance: float | None = None
    ) -> list[tuple[int, float]]:
        """Up to ``k`` (id, distance) pairs, nearest first, each within ``max_distance``."""
        ...

    def __len__(self) -> int: ...

    def ids(self) -> np.ndarray:
        """The live ids (int64), in no particular order."""
        ...

    def memory_bytes(self) -> int: ...


class _ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


class FaceVectorIndex:
    """The embedded :class:`VectorIndex`: exact below ``exact_limit`` faces, IVF candidates
    re-ranked exactly above it.

    ``background=False`` builds the IVF index on the mutating call's thread instead (tests,
    benchmarks); :meth:`wait_built` waits for a background build.

    With ``weight``, distances are √(‖x − q‖² · w(x) · w(q)) — a normalising scoring's
    metric — in the exact scan and in the re-ranking. The IVF candidates are still proposed by
    plain distance; weights lie within about ±15% of 1, which the overfetch largely absorbs,
    but above ``exact_limit`` a weighted search is approximate in that sense too.
    """

    def __init__(
        self,
        *,
        exact_limit: int = EXACT_LIMIT,
        background: bool = True,
        weight: Weight | None = None,
    ) -> None:
        if exact_limit < 1:
            raise ValueError(f"exact_limit must be at least 1, got {exact_limit}")
        self._weight = weight
        self._exact_limit = exact_limit
        self._background = background
        self._lock = _ReadWriteLock()
        self._rows = DenseRows(DIM, weighted=weight is not None)
        self._ann: IvfCandidates | None = None
        self._node_row = np.empty(0, dtype=np.int64)  # the current ANN's node → row, -1 dead
        self._built_for = 0  # faces when the current ANN was trained
        self._next_try = 0  # after a failed build, the size at which to try again
        # Ids replaced or removed while a build copies rows; None when no build is running.
        self._touched: set[int] | None = None
        self._build_done = threading.Event()
        self._build_done.set()
        self._generation = 0  # bumped to abandon an in-flight build

    # -- reads -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._rows.n

    def ids(self) -> np.ndarray:
        with self._lock.read():
            return self._rows.ids[: self._rows.n].copy()

    def memory_bytes(self) -> int:
        with self._lock.read():
            ann = self._ann.memory_bytes() + self._node_row.nbytes if self._ann else 0
            return self._rows.memory_bytes() + ann

    @property
    def approximate(self) -> bool:
        """Whether searches currently go through the IVF index."""
        return self._ann is not None

    def search(
        self, query: np.ndarray, k: int, max_distance: float | None = None
    ) -> list[tuple[int, float]]:
        q = _check_query(query)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if max_distance is not None and not max_distance >= 0:
            raise ValueError(f"max_distance must be ≥ 0, got {max_distance}")
        qw = 1.0 if self._weight is None else float(self._weight(q[None, :])[0])
        with self._lock.read():
            rows_store = self._rows
            n = rows_store.n
            if n == 0:
                return []
            count = max(OVERFETCH * k, MIN_CANDIDATES)
            if self._ann is None or count > n * EXACT_WHEN_CANDIDATES_OVER:
                # The expanded form is off by float32 rounding; widen the cut, re-check below.
                max_sq = None if max_distance is None else (max_distance + 1e-4) ** 2 + 1e-4
                rows, _ = rows_store.nearest(q, k, max_sq, qw)
            else:
                nodes = self._ann.candidates(q, count)
                rows = self._node_row[nodes]
                rows = np.unique(rows[rows >= 0])
            dist = rows_store.distances(rows, q, qw)
            ids = rows_store.ids[rows]
        if max_distance is not None:
            keep = dist <= max_distance
            dist, ids = dist[keep], ids[keep]
        order = np.lexsort((ids, dist))[:k]
        return list(zip(ids[order].tolist(), dist[order].tolist(), strict=True))

    # -- writes ----------------------------------------------------------------------------

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        keys, vecs = _check_batch(ids, vectors)
        weight = None if self._weight is None else self._weight(vecs).astype(np.float32)
        with self._lock.write():
            changed, old_nodes, replaced = self._rows.put(keys, vecs, weight)
            if len(changed) == 0:
                return
            if self._touched is not None:
                # New faces need no mark: they land past the rows a build has copied (it
                # copies up to the end as the end moves), and the swap adds any it missed.
                self._touched.update(self._rows.ids[changed[:replaced]].tolist())
            if self._ann is not None:
                self._ann.kill(old_nodes)
                self._node_row[old_nodes[old_nodes >= 0]] = -1
                self._ann_add(changed)
            generation = self._start_build()
        self._run_build(generation)

    def remove(self, ids: Sequence[int]) -> None:
        keys = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._lock.write():
            rows = self._rows
            dead_nodes, moved = rows.delete(keys)
            if len(dead_nodes) == 0:
                return
            if self._touched is not None:
                # Moved rows need no mark: a move takes the last row, which a build copies
                # last, so a moved face is copied once (before or after) or not at all, and
                # the swap adds whatever it finds missing.
                self._touched.update(keys.tolist())
            if self._ann is not None:
                self._ann.kill(dead_nodes)
                self._node_row[dead_nodes[dead_nodes >= 0]] = -1
                nodes = rows.node[moved]
                self._node_row[nodes[nodes >= 0]] = moved[nodes >= 0]
            if rows.n < self._exact_limit // 2 and (self._ann or self._touched is not None):
                self._drop_ann()
            generation = self._start_build()
        self._run_build(generation)

    def wait_built(self, timeout: float | None = None) -> bool:
        """Wait for an in-flight IVF build; False if it is still running after ``timeout``."""
        return self._build_done.wait(timeout)

    # -- the IVF index (callers hold the write lock) -----------------------------------------

    def _ann_add(self, rows: np.ndarray) -> None:
        assert self._ann is not None
        first = self._ann.add(self._rows.vectors[rows])
        nodes = np.arange(first, first + len(rows))
        self._rows.node[rows] = nodes
        if len(self._node_row) < first + len(rows):
            grown = np.full(max(first + len(rows), 2 * len(self._node_row)), -1, np.int64)
            grown[: len(self._node_row)] = self._node_row
            self._node_row = grown
        self._node_row[nodes] = rows

    def _drop_ann(self) -> None:
        self._ann = None
        self._node_row = np.empty(0, dtype=np.int64)
        self._rows.node[: self._rows.n] = -1
        self._generation += 1
        self._touched = None
        self._build_done.set()

    def _start_build(self) -> int | None:
        """Claim a build if one is due; returns its generation for :meth:`_run_build`."""
        n = self._rows.n
        if self._touched is not None or n < max(self._exact_limit, self._next_try):
            return None
        if self._ann is not None and not (
            self._ann.dead > REBUILD_DEAD_FRACTION * self._ann.nodes
            or n > REBUILD_GROWTH * self._built_for
        ):
            return None
        self._touched = set()
        self._build_done.clear()
        return self._generation

    def _run_build(self, generation: int | None) -> None:
        """Run a claimed build (called without the lock held)."""
        if generation is None:
            return
        if self._background:
            threading.Thread(
                target=self._build, args=(generation,), name="candor-vectors-build", daemon=True
            ).start()
        else:
            self._build(generation)

    def _build(self, generation: int) -> None:
        try:
            self._build_and_swap(generation)
        except Exception:
            log.exception("building the IVF index failed; searches stay as they were")
            with self._lock.write():
                if generation == self._generation:
                    self._touched = None
                    # Retry only once the collection has grown a good deal, not per add.
                    self._next_try = int(REBUILD_GROWTH * self._rows.n)
        finally:
            self._build_done.set()

    def _build_and_swap(self, generation: int) -> None:
        with self._lock.read():
            n = self._rows.n
            nlist = lists_for(n)
            pick = np.random.default_rng(n).choice(n, min(n, TRAIN_PER_LIST * nlist), False)
            sample = self._rows.vectors[np.sort(pick)]
        ann = IvfCandidates(DIM, nlist, sample)
        del sample
        copied: list[np.ndarray] = []
        start = 0
        while True:
            with self._lock.read():
                if generation != self._generation:
                    return
                end = min(start + BUILD_CHUNK, self._rows.n)
                if start >= end:
                    break
                chunk = self._rows.vectors[start:end].copy()
                copied.append(self._rows.ids[start:end].copy())
            ann.add(chunk)
            start = end
        with self._lock.write():
            if generation != self._generation or self._touched is None:
                return
            self._swap_in(ann, np.concatenate(copied), self._touched)
            self._touched = None

    def _swap_in(self, ann: IvfCandidates, node_ids: np.ndarray, touched: set[int]) -> None:
        """Make ``ann`` (node i holds a copy of face ``node_ids[i]``) current; faces touched
        since their copy was taken lose every node and are added afresh."""
        rows = self._rows
        stale = np.isin(node_ids, np.fromiter(touched, dtype=np.int64, count=len(touched)))
        ann.kill(np.flatnonzero(stale))
        live_nodes = np.flatnonzero(~stale)
        by_id = np.argsort(node_ids[live_nodes])
        sorted_ids = node_ids[live_nodes][by_id]
        live_ids = rows.ids[: rows.n]
        at = np.minimum(np.searchsorted(sorted_ids, live_ids), max(len(sorted_ids) - 1, 0))
        found = sorted_ids[at] == live_ids if len(sorted_ids) else np.zeros(rows.n, dtype=bool)
        rows.node[: rows.n] = -1
        rows.node[: rows.n][found] = live_nodes[by_id[at[found]]]
        self._ann = ann
        self._built_for = rows.n
        self._node_row = np.full(max(ann.nodes, 1024), -1, dtype=np.int64)
        self._node_row[rows.node[: rows.n][found]] = np.flatnonzero(found)
        ann.kill(np.flatnonzero(self._node_row[: ann.nodes] < 0))  # copies of removed faces
        missing = np.flatnonzero(~found)
        if len(missing):
            self._ann_add(missing)


def _check_query(query: np.ndarray) -> np.ndarray:
    q = np.asarray(query)
    if q.shape != (DIM,):
        raise ValueError(f"query must have shape ({DIM},), but got shape {q.shape}")
    q = q.astype(np.float32, copy=False)
    if not np.isfinite(q).all():
        raise ValueError("query must be finite, but it holds NaN or infinity")
    return np.ascontiguousarray(q)


def _check_batch(ids: Sequence[int], vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keys = np.asarray(ids, dtype=np.int64).reshape(-1)
    vecs = np.asarray(vectors)
    if vecs.shape != (len(keys), DIM):
        raise ValueError(
            f"vectors must have shape ({len(keys)}, {DIM}) for {len(keys)} ids, "
            f"but got shape {vecs.shape}"
        )
    vecs = np.ascontiguousarray(vecs, dtype=np.float32)
    if not np.isfinite(vecs).all():
        raise ValueError("vectors must be finite, but some hold NaN or infinity")
    # Within one call the last descriptor for an id wins.
    _, last = np.unique(keys[::-1], return_index=True)
    if len(last) != len(keys):
        pick = np.sort(len(keys) - 1 - last)
        keys, vecs = keys[pick], vecs[pick]
    return keys, vecs
