"""The approximate half of :mod:`candor.storage.vectors`: a FAISS inverted-file index that
proposes candidates and never answers.

IVF with 8-bit scalar quantisation (IndexIVFScalarQuantizer, QT_8bit, residual encoding, flat
coarse quantiser): each face costs 128 B of codes + 8 B of label instead of a second 512 B
float32 copy. Every candidate is re-ranked by the caller with exact float32 distances from the
dense matrix, and candidates whose node is dead (the face was deleted or its descriptor
replaced) are filtered inside the IVF scan through a bitmap, so a tombstone can neither be
returned nor crowd a live face out of the candidate list.

Why IVF and not HNSW, measured with bench/scale.py --compare-ann (LFW-fitted descriptors, 1M
faces, 2 shared cores, every candidate list re-ranked exactly): IVF-SQ8 with nlist = 4·√n and
nprobe = nlist/8 gave recall@1 0.999–1.000 at 2.4–2.8 ms p50 (thread CPU p99 ~3 ms) and built
at 10–18k faces/s (nprobe nlist/16: 0.988); IVF-Flat, same lists, the same recall at ~1.7× the
CPU time and 4× the memory; FAISS HNSW-SQ8 (M=32, efConstruction 64) only 0.943 at efSearch
256 and 0.969 at 512 (1.3 ms), built at ~5k faces/s. Face descriptors fill all 128 dimensions,
where graph search loses its edge.

FAISS is imported inside the constructor, so importing Candor never loads it. Nodes are numbered
0, 1, 2 … in insertion order and never renumbered; the caller keeps the node → row map.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# Lists per √n at build time; 4·√n keeps each list near √n/4 entries.
LISTS_PER_SQRT_N = 4
# Fraction of the lists scanned per query: 1/8 gave recall@1 0.999 at 1M (1/16: 0.988).
PROBE_FRACTION = 1 / 8
MIN_PROBES = 32
# Training rows per list: FAISS's k-means asks for at least 39 and warns below that.
TRAIN_PER_LIST = 40


def lists_for(n: int) -> int:
    """The number of inverted lists for an index built over ``n`` faces (fewer when ``n`` is
    too small to train that many)."""
    return max(1, min(round(LISTS_PER_SQRT_N * math.sqrt(n)), n // TRAIN_PER_LIST))


class IvfCandidates:
    """An IVF-SQ8 index over descriptors, addressed by node number.

    >>> ann = IvfCandidates(128, lists_for(n), sample)  # sample: ≥ 40 rows per list, float32
    >>> first = ann.add(vectors)                        # nodes first, first+1, …
    >>> ann.kill(np.array([first]))                     # tombstone: never proposed again
    >>> nodes = ann.candidates(query, 64)               # live nodes, roughly nearest first
    """

    def __init__(self, dim: int, nlist: int, sample: np.ndarray) -> None:
        import faiss

        self._faiss: Any = faiss
        self._quantizer: Any = faiss.IndexFlatL2(dim)
        self._index: Any = faiss.IndexIVFScalarQuantizer(
            self._quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit
        )
        self._index.train(np.ascontiguousarray(sample, dtype=np.float32))
        self.nprobe = max(MIN_PROBES, math.ceil(nlist * PROBE_FRACTION))
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
        """Tombstone nodes; negative and already dead ones are ignored."""
        nodes = np.unique(np.asarray(nodes, dtype=np.int64))
        nodes = nodes[(nodes >= 0) & (nodes < self.nodes)]
        bits = (1 << (nodes & 7)).astype(np.uint8)
        nodes = nodes[(self._alive[nodes >> 3] & bits) != 0]
        if len(nodes) == 0:
            return
        self._dead += len(nodes)
        np.bitwise_and.at(self._alive, nodes >> 3, ~(1 << (nodes & 7)).astype(np.uint8))

    def candidates(self, query: np.ndarray, count: int) -> np.ndarray:
        """Up to ``count`` live node numbers near ``query`` (a (dim,) float32 array)."""
        faiss = self._faiss
        params = faiss.SearchParametersIVF()
        params.nprobe = self.nprobe
        selector = None
        if self._dead:
            selector = faiss.IDSelectorBitmap(self.nodes, faiss.swig_ptr(self._alive))
            params.sel = selector
        _, labels = self._index.search(query.reshape(1, -1), count, params=params)
        # `params` holds a bare pointer to `selector`, so it must live until here.
        del selector
        found: np.ndarray = labels[0]
        return found[found >= 0]

    def memory_bytes(self) -> int:
        index = self._index
        # Codes plus an int64 label per face, the centroids, and the live bitmap.
        per_face = index.code_size + 8
        centroids = index.nlist * index.d * 4
        return int(self.nodes * per_face + centroids + self._alive.nbytes)
