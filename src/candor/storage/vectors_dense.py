"""The exact half of :mod:`candor.storage.vectors`: live descriptors as one dense float32 matrix.

Rows are kept contiguous (a deletion moves the last row into the hole), so exact search is one
pass over ``matrix[:n]`` and re-ranking a candidate set is a gather. Squared norms are stored
beside the rows: ‖x − q‖² = ‖x‖² − 2·x·q + ‖q‖² turns the scan into a matrix-vector product.
A per-row weight w(x) (a scoring's normalisation, :mod:`candor.inference.scoring`) scales
that: the distance served is √(‖x − q‖² · w(x) · w(q)), which costs the scan one multiply.

The product uses ``np.einsum``, which runs on the calling thread, rather than ``matrix @ q``,
which OpenBLAS splits across every core: on a shared 2-core machine the threaded version's p99
was 3–10× worse (bench/scale.py ``--exact-scan``), and a server already runs one search per
request thread. Not thread-safe by itself; :class:`candor.storage.vectors.FaceVectorIndex` holds
the lock.
"""

from __future__ import annotations

import sys

import numpy as np

# Python int objects behind each id → row dict entry (key, value), plus the dict's own slot.
_DICT_ENTRY_BYTES = 2 * 32 + 24


class DenseRows:
    """Live (id, descriptor) rows; ``node[r]`` is row r's node in the ANN index, or -1."""

    def __init__(self, dim: int, *, weighted: bool = False) -> None:
        self.dim = dim
        self.weighted = weighted  # whether rows carry weights other than 1
        self.n = 0
        self.vectors = np.empty((0, dim), dtype=np.float32)
        self.sq_norms = np.empty(0, dtype=np.float32)
        self.weight = np.empty(0, dtype=np.float32)
        self.ids = np.empty(0, dtype=np.int64)
        self.node = np.empty(0, dtype=np.int64)
        self.row_of: dict[int, int] = {}

    def _reserve(self, rows: int) -> None:
        if rows <= len(self.ids):
            return
        cap = max(rows, len(self.ids) * 3 // 2, 1024)

        def grown(a: np.ndarray) -> np.ndarray:
            b = np.empty((cap, *a.shape[1:]), dtype=a.dtype)
            b[: self.n] = a[: self.n]
            return b

        self.vectors, self.sq_norms = grown(self.vectors), grown(self.sq_norms)
        self.weight = grown(self.weight)
        self.ids, self.node = grown(self.ids), grown(self.node)

    def put(
        self, ids: np.ndarray, vectors: np.ndarray, weight: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, int]:
        """Insert or replace rows (ids unique, vectors float32, weight one float32 per row or
        None for 1). Returns (rows whose descriptor changed or is new, the ANN nodes those rows
        had before or -1, how many of the rows — the first ones — were replaced rather than
        new)."""
        if weight is None:
            weight = np.ones(len(ids), dtype=np.float32)
        changed: list[int] = []
        old_nodes: list[int] = []
        appended: list[int] = []
        for i, face in enumerate(ids.tolist()):
            row = self.row_of.get(face)
            if row is None:
                appended.append(i)
            elif not np.array_equal(self.vectors[row], vectors[i]):
                self.vectors[row] = vectors[i]
                self.weight[row] = weight[i]
                changed.append(row)
                old_nodes.append(int(self.node[row]))
                self.node[row] = -1
        replaced = len(changed)
        if changed:
            rows = np.array(changed, dtype=np.int64)
            self.sq_norms[rows] = np.einsum("ij,ij->i", self.vectors[rows], self.vectors[rows])
        if appended:
            add = np.array(appended, dtype=np.int64)
            start, end = self.n, self.n + len(add)
            self._reserve(end)
            self.vectors[start:end] = vectors[add]
            self.sq_norms[start:end] = np.einsum("ij,ij->i", vectors[add], vectors[add])
            self.weight[start:end] = weight[add]
            self.ids[start:end] = ids[add]
            self.node[start:end] = -1
            self.row_of.update(zip(ids[add].tolist(), range(start, end), strict=True))
            self.n = end
            changed.extend(range(start, end))
            old_nodes.extend([-1] * len(add))
        return np.array(changed, dtype=np.int64), np.array(old_nodes, dtype=np.int64), replaced

    def delete(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Remove rows by id (unknown ids ignored), moving the last row into each hole.
        Returns (the deleted rows' ANN nodes, the rows that received a moved row)."""
        dead_nodes: list[int] = []
        moved: list[int] = []
        for face in ids.tolist():
            row = self.row_of.pop(face, None)
            if row is None:
                continue
            dead_nodes.append(int(self.node[row]))
            last = self.n - 1
            if row != last:
                self.vectors[row] = self.vectors[last]
                self.sq_norms[row] = self.sq_norms[last]
                self.weight[row] = self.weight[last]
                self.ids[row] = self.ids[last]
                self.node[row] = self.node[last]
                self.row_of[int(self.ids[row])] = row
                moved.append(row)
            self.n = last
        moved_rows = np.array(moved, dtype=np.int64)
        # A row moved twice may end up past the end: report only rows still in use.
        return np.array(dead_nodes, dtype=np.int64), moved_rows[moved_rows < self.n]

    def nearest(
        self, query: np.ndarray, k: int, max_sq: float | None, query_weight: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exact scan: (rows, squared distances) of the ≤ k nearest rows, in no order, all with
        squared distance ≤ ``max_sq`` when given (judged on the expanded form, so callers who
        need an exact cut re-check with :meth:`distances`)."""
        n = self.n
        sq = self.sq_norms[:n] - 2.0 * np.einsum("ij,j->i", self.vectors[:n], query)
        sq += float(query @ query)
        if query_weight != 1.0 or self.weighted:
            sq *= self.weight[:n] * query_weight
        if max_sq is not None:
            rows = np.flatnonzero(sq <= max_sq)
            if len(rows) > k:
                rows = rows[np.argpartition(sq[rows], k - 1)[:k]]
            return rows, sq[rows]
        if k < n:
            rows = np.argpartition(sq, k - 1)[:k]
        else:
            rows = np.arange(n)
        return rows, sq[rows]

    def distances(
        self, rows: np.ndarray, query: np.ndarray, query_weight: float = 1.0
    ) -> np.ndarray:
        """Exact (weighted) Euclidean distances from ``query`` to ``rows``, without the
        cancellation that the expanded form suffers for near-identical vectors."""
        diff = self.vectors[rows] - query
        sq = np.einsum("ij,ij->i", diff, diff)
        if query_weight != 1.0 or self.weighted:
            sq = sq * self.weight[rows] * query_weight
        dist: np.ndarray = np.sqrt(sq)
        return dist

    def memory_bytes(self) -> int:
        arrays = self.vectors.nbytes + self.sq_norms.nbytes + self.ids.nbytes + self.node.nbytes
        arrays += self.weight.nbytes
        return arrays + sys.getsizeof(self.row_of) + _DICT_ENTRY_BYTES * len(self.row_of)
