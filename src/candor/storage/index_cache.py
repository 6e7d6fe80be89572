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

from candor.storage.catalog import CatalogTx, CollectionRecord
from candor.storage.vectors import FaceVectorIndex, VectorIndex


def _new_index() -> VectorIndex:
    return FaceVectorIndex()


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
    """Collection row → (index, last change applied). One per process (held by Runtime)."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.Lock()

    def search(
        self,
        tx: CatalogTx,
        record: CollectionRecord,
        query: bytes,
        k: int,
        max_distance: float | None,
    ) -> list[tuple[int, float]]:
        """The k nearest face rows within ``max_distance``, as of ``tx``'s snapshot."""
        entry = self._current(tx, record)
        q = np.frombuffer(query, dtype="<f4").astype(np.float32)
        # The index takes concurrent readers itself; the entry lock only orders catch-ups.
        return entry.index.search(q, k, max_distance)

    def _current(self, tx: CatalogTx, record: CollectionRecord) -> _Entry:
        with self._lock:
            entry = self._entries.get(record.row)
        if entry is None:
            seq, faces = tx.snapshot(record)
            index = _new_index()
            if faces:
                index.add([row for row, _ in faces], vectors_of([d for _, d in faces]))
            entry = _Entry(index, seq)
            with self._lock:
                # Another thread may have built one meanwhile; either is correct, keep the newest.
                current = self._entries.get(record.row)
                if current is None or current.seq < seq:
                    self._entries[record.row] = entry
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
            self._entries.pop(record.row, None)
