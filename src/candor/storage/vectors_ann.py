"""The approximate half of :mod:`candor.storage.vectors`: a FAISS HNSW graph that proposes
candidates, never answers.

The graph stores 8-bit scalar-quantised copies of the descriptors (128 B each instead of 512 B),
which is enough to find the neighbourhood; every candidate is re-ranked with exact float32
distances from the dense matrix by the caller, and candidates whose node is dead (the face was
deleted or its descriptor replaced) are filtered inside the graph search with a bitmap, so a
tombstone can neither be returned nor crowd a live face out of the candidate list.

FAISS is imported inside the constructor, so importing Candor never loads it.

Nodes are numbered 0, 1, 2 … in insertion order; a node never changes its number, which is why
the caller keeps its own node → row map rather than handing face ids to FAISS.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# HNSW parameters, chosen with bench/scale.py on LFW-fitted descriptors at 100k and 1M faces:
# M=32 with efSearch=256 keeps recall@1 after re-ranking at or above 0.99 at 1M where M=16 and
# IVF-Flat (nprobe ≤ 256) fell short; efConstruction=64 halves the build time of the default 40
# … 200 range's upper end at no measurable recall cost.
GRAPH_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 256
# Rows used to fit the 8-bit quantiser's per-dimension ranges.
TRAIN_ROWS = 50_000


class HnswGraph:
    """An HNSW graph over quantised descriptors, addressed by node number.

    >>> g = HnswGraph(128, sample)            # sample: (m, 128) float32 to fit the quantiser
    >>> first = g.add(vectors)                # node numbers first, first+1, …
    >>> g.kill(np.array([first]))             # tombstone: never proposed again
    >>> nodes = g.candidates(query, 256)      # live node numbers, nearest first (approximately)
    """

    def __init__(self, dim: int, sample: np.ndarray) -> None:
        import faiss

        self._faiss: Any = faiss
        self._index: Any = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, GRAPH_M)
        self._index.hnsw.efConstruction = EF_CONSTRUCTION
        self._index.train(np.ascontiguousarray(sample, dtype=np.float32))
        # Bit i set ⇔ node i is live; FAISS reads it through IDSelectorBitmap.
        self._alive = np.zeros(1024, dtype=np.uint8)
        self._dead = 0

    @property
    def nodes(self) -> int:
        """Nodes ever added, live or dead."""
        return int(self._index.ntotal)

    @property
    def dead(self) -> int:
        return self._dead

    def add(self, vectors: np.ndarray) -> int:
        """Add rows as new live nodes; returns the first one's number (the rest follow on)."""
        first = self.nodes
        if len(vectors) == 0:
            return first
        self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        end = first + len(vectors)
        need = (end + 7) // 8
        if need > len(self._alive):
            grown = np.zeros(max(need, 2 * len(self._alive)), dtype=np.uint8)
            grown[: len(self._alive)] = self._alive
            self._alive = grown
        nodes = np.arange(first, end)
        np.bitwise_or.at(self._alive, nodes >> 3, (1 << (nodes & 7)).astype(np.uint8))
        return first

    def kill(self, nodes: np.ndarray) -> None:
        """Tombstone nodes (already dead ones are ignored)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        if len(nodes) == 0:
            return
        byte, bit = nodes >> 3, (1 << (nodes & 7)).astype(np.uint8)
        live = (self._alive[byte] & bit) != 0
        nodes = np.unique(nodes[live])
        self._dead += len(nodes)
        np.bitwise_and.at(self._alive, nodes >> 3, ~(1 << (nodes & 7)).astype(np.uint8))

    def candidates(self, query: np.ndarray, count: int, ef: int = EF_SEARCH) -> np.ndarray:
        """Up to ``count`` live node numbers near ``query`` (a (dim,) float32 array)."""
        faiss = self._faiss
        params = faiss.SearchParametersHNSW()
        params.efSearch = max(ef, count)
        selector = None
        if self._dead:
            selector = faiss.IDSelectorBitmap(self.nodes, faiss.swig_ptr(self._alive))
            params.sel = selector
        _, labels = self._index.search(query.reshape(1, -1), count, params=params)
        # `selector` must outlive the search: params holds only a raw pointer to it.
        del selector
        found: np.ndarray = labels[0]
        return found[found >= 0]

    def memory_bytes(self) -> int:
        index = self._index
        hnsw = index.hnsw
        codes = self._faiss.downcast_index(index.storage).codes.size()
        links = hnsw.neighbors.size() * 4 + hnsw.levels.size() * 4 + hnsw.offsets.size() * 8
        return int(codes + links + self._alive.nbytes)
