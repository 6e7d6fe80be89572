"""Face search inside PostgreSQL with pgvector (``CANDOR_VECTOR_INDEX=pgvector``): for galleries
that do not fit in one process's memory, or many processes that should not each hold a copy.

The database's HNSW index gives the nearest faces in plain L2, over-fetched (4·k, at least 64);
they are re-ranked here with the collection's own scoring (exact, normalised distances from the
stored descriptors), so every returned distance is exact and only the candidate set is
approximate, as with the in-memory index's IVF stage. Nothing is cached in the process: a face
committed by any process is searchable by the next transaction, a deleted one never returned.
"""

from __future__ import annotations

import numpy as np

from candor.errors import ConfigurationError
from candor.inference.scoring import Scoring, normalized_distances
from candor.storage.catalog import CatalogTx, CollectionRecord

OVERFETCH = 4
MIN_CANDIDATES = 64
EF_SEARCH = 200  # HNSW candidate list; recall@1 and latency by value: bench/scale.py --backends


class PgVectorSearch:
    """The :class:`candor.storage.index_cache.IndexCache` interface, answered by the database."""

    def __init__(self, ef_search: int = EF_SEARCH) -> None:
        self.ef_search = ef_search

    def search(
        self,
        tx: CatalogTx,
        record: CollectionRecord,
        scoring: Scoring,
        query: bytes,
        k: int,
        max_distance: float | None,
    ) -> list[tuple[int, float]]:
        nearest = getattr(tx, "nearest_faces", None)
        if nearest is None:
            raise ConfigurationError("CANDOR_VECTOR_INDEX=pgvector needs the PostgreSQL backend")
        want = max(MIN_CANDIDATES, OVERFETCH * k)
        candidates: list[tuple[int, bytes]] = nearest(record, query, want, self.ef_search)
        if not candidates:
            return []
        q = np.frombuffer(query, dtype="<f4")
        m = np.stack([np.frombuffer(d, dtype="<f4") for _, d in candidates])
        dist = normalized_distances(scoring.normalizer, q, m)
        order = np.argsort(dist, kind="stable")
        out = [(candidates[i][0], float(dist[i])) for i in order[:k]]
        if max_distance is not None:
            out = [(row, d) for row, d in out if d <= max_distance]
        return out

    def forget(self, record: CollectionRecord) -> None:
        """Nothing is held per collection."""
