"""Each process's vector indexes, derived from the catalog and caught up before every search.

The database is the source of truth. An index is built from a collection's faces on first use
and then follows the ``face_changes`` log inside the same transaction as the search that needs
it, so a search sees exactly the faces committed before it began — whichever process added or
removed them — and a crash can never lose a face or bring a deleted one back: there is nothing
to lose, the index is rebuilt from the table.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from candor.inference.scoring import Scoring
from candor.storage.catalog import CatalogTx, CollectionRecord
from candor.storage.vectors import FaceVectorIndex, VectorIndex, Weight


def _new_index(weight: Weight | None) -> VectorIndex:
    return FaceVectorIndex(weight=weight)


def vectors_of(descriptors: Sequence[bytes]) -> np.ndarray:
    if not descriptors:
        return np.empty((0, 128), dtype=np.float32)
    return np.stack([np.frombuffer(d, dtype="<f4") for d in descriptors]).astype(np.float32)


class _Entry:
    def __init__(self, index: VectorIndex, seq: int) -> None:
        self.index = index
        self.seq = seq
        self.lock = threading.Lock()


class IndexCache:
    """(collection row, scoring) → (index, last change applied). One per process (held by
    Runtime). The scoring is part of the key because a normalising scoring's index ranks by
    normalised distance: a collection migrated to another scoring gets a fresh index in every
    process, not one built for the old scoring."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], _Entry] = {}
        self._lock = threading.Lock()

    def search(
        self,
        tx: CatalogTx,
        record: CollectionRecord,
        scoring: Scoring,
        query: bytes,
        k: int,
        max_distance: float | None,
    ) -> list[tuple[int, float]]:
        """The k nearest face rows within ``max_distance`` (``scoring``'s normalised distance),
        as of ``tx``'s snapshot."""
        entry = self._current(tx, record, scoring)
        q = np.frombuffer(query, dtype="<f4").astype(np.float32)
        # The index takes concurrent readers itself; the entry lock only orders catch-ups.
        return entry.index.search(q, k, max_distance)

    def _current(self, tx: CatalogTx, record: CollectionRecord, scoring: Scoring) -> _Entry:
        key = (record.row, scoring.name)
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            seq, faces = tx.snapshot(record)
            norm = scoring.normalizer
            index = _new_index(norm.weight if norm is not None else None)
            if faces:
                index.add([row for row, _ in faces], vectors_of([d for _, d in faces]))
            entry = _Entry(index, seq)
            with self._lock:
                # Another thread may have built one meanwhile; either is correct, keep the newest.
                current = self._entries.get(key)
                if current is None or current.seq < seq:
                    self._entries[key] = entry
                else:
                    entry = current
        with entry.lock:
            changes = tx.changes_since(record, entry.seq)
            if changes:
                removed = [c.face_row for c in changes if c.descriptor is None]
                added = [c for c in changes if c.descriptor is not None]
                if removed:
                    entry.index.remove(removed)
                if added:
                    entry.index.add(
                        [c.face_row for c in added],
                        vectors_of([c.descriptor for c in added if c.descriptor is not None]),
                    )
                entry.seq = max(entry.seq, changes[-1].seq)
        return entry

    def forget(self, record: CollectionRecord) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == record.row]:
                del self._entries[key]
