"""Collections, faces, users, tags and request tokens: the records and the transaction
interface a database backend fills (SQLite embedded; PostgreSQL with the same schema).

Services do all their reads and writes for one operation inside one :class:`CatalogTx`, so the
effect and its audit record commit together or not at all. Descriptors are stored here, in the
source of truth; vector indexes are derived from them (see :mod:`candor.storage.index_cache`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from candor.audit import AuditTx
from candor.storage.jobs import JobTx


@dataclass(frozen=True)
class CollectionRecord:
    row: int  # never reused: a re-created collection gets a new row
    account: str
    collection_id: str
    arn: str
    face_model: str  # the descriptor model; descriptors of different models never mix
    scoring: str  # how its similarities are computed (candor.inference.scoring)
    created: datetime
    face_count: int
    user_count: int


@dataclass(frozen=True)
class NewFace:
    face_id: str
    image_id: str
    external_image_id: str | None
    left: float
    top: float
    width: float
    height: float
    confidence: float
    descriptor: bytes
    image_sha256: str


@dataclass(frozen=True)
class FaceRecord:
    row: int
    face_id: str
    image_id: str
    external_image_id: str | None
    left: float
    top: float
    width: float
    height: float
    confidence: float
    descriptor: bytes
    user_id: str | None
    indexed_at: datetime


@dataclass(frozen=True)
class UserRecord:
    user_id: str
    created: datetime
    face_count: int


@dataclass(frozen=True)
class IndexChange:
    """One change to a collection's faces since a sequence number, for index catch-up."""

    seq: int
    face_row: int
    descriptor: bytes | None  # None: the face was removed


class CatalogTx(AuditTx, JobTx, Protocol):
    """One database transaction. Every method reads or writes within it; the audit log's
    methods come from :class:`candor.audit.AuditTx`, the video jobs' from
    :class:`candor.storage.jobs.JobTx`."""

    # collections
    def collection(self, account: str, collection_id: str) -> CollectionRecord | None: ...
    def create_collection(
        self, account: str, collection_id: str, arn: str, face_model: str, scoring: str
    ) -> CollectionRecord | None:
        """The new collection; None when the id is already taken in this account."""
        ...

    def set_scoring(self, record: CollectionRecord, scoring: str) -> CollectionRecord:
        """Switch the collection to another scoring of the same descriptors."""
        ...

    def collections(self, account: str, after: str | None, limit: int) -> list[CollectionRecord]:
        """Collections ordered by id, those after ``after``."""
        ...

    def tagged_collections(self, key: str) -> list[CollectionRecord]:
        """Collections of every account that carry tag ``key`` (for the retention reaper)."""
        ...

    def store_counts(self) -> tuple[int, int, int]:
        """(collections, faces, users) of every account, for /metrics."""
        ...

    def delete_collection(self, record: CollectionRecord) -> int:
        """Delete the collection with its faces, users and tags; returns the faces removed."""
        ...

    # faces
    def insert_faces(
        self, record: CollectionRecord, faces: Sequence[NewFace]
    ) -> list[FaceRecord]: ...

    def faces_by_id(
        self, record: CollectionRecord, face_ids: Sequence[str]
    ) -> list[FaceRecord]: ...

    def faces_by_row(self, record: CollectionRecord, rows: Sequence[int]) -> list[FaceRecord]: ...

    def faces(
        self,
        record: CollectionRecord,
        *,
        after_row: int,
        limit: int,
        user_id: str | None = None,
        face_ids: Sequence[str] | None = None,
    ) -> list[FaceRecord]:
        """Faces ordered by row, those after ``after_row``, optionally filtered."""
        ...

    def delete_faces(self, record: CollectionRecord, face_ids: Sequence[str]) -> list[str]:
        """Delete these faces; returns the ids that existed and were deleted."""
        ...

    def expired_faces(self, record: CollectionRecord, before: datetime, limit: int) -> list[str]:
        """Ids of faces indexed before ``before`` (for retention)."""
        ...

    # derived index support
    def snapshot(self, record: CollectionRecord) -> tuple[int, list[tuple[int, bytes]]]:
        """(latest change sequence, every (face row, descriptor)) as of this transaction."""
        ...

    def changes_since(self, record: CollectionRecord, seq: int) -> list[IndexChange]: ...

    # users
    def user(self, record: CollectionRecord, user_id: str) -> UserRecord | None: ...
    def create_user(self, record: CollectionRecord, user_id: str) -> bool:
        """False when the user already exists."""
        ...

    def delete_user(self, record: CollectionRecord, user_id: str) -> bool: ...
    def users(
        self, record: CollectionRecord, after: str | None, limit: int
    ) -> list[UserRecord]: ...

    def set_face_user(
        self, record: CollectionRecord, face_ids: Sequence[str], user_id: str | None
    ) -> None: ...

    # tags
    def add_thumbnails(self, items: Sequence[tuple[int, bytes]]) -> None:
        """Store (face row, JPEG) thumbnails; they go when their face goes."""
        ...

    def thumbnails(self, record: CollectionRecord, face_ids: Sequence[str]) -> dict[str, bytes]:
        """The stored thumbnails of these faces, by face id (faces without one are absent)."""
        ...

    def tags(self, arn: str) -> dict[str, str]: ...
    def set_tags(self, arn: str, tags: dict[str, str]) -> None: ...
    def remove_tags(self, arn: str, keys: Sequence[str]) -> None: ...

    # idempotency (ClientRequestToken)
    def request_token(self, account: str, operation: str, token: str) -> tuple[str, str] | None:
        """(request fingerprint, stored response JSON) for a token seen before."""
        ...

    def save_request_token(
        self, account: str, operation: str, token: str, fingerprint: str, response: str
    ) -> None: ...


class Catalog(Protocol):
    def transaction(self, *, write: bool = False) -> AbstractContextManager[CatalogTx]:
        """A transaction: read-only (a consistent snapshot) or read-write (serialised)."""
        ...


def batched(items: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
