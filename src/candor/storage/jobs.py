"""Stored-video jobs: the records and the transaction methods a database backend fills.

The jobs table is the queue. ``candor worker`` processes (and the one ``candor serve`` embeds)
claim the oldest queued job, or one whose worker stopped heartbeating, inside a write transaction,
so two workers never hold the same job; a reclaimed job starts over and its partial results are
dropped. Results are stored as wire items (one JSON object per detection, in read order), so a
Get* call pages through the database, never through a worker's memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

QUEUED, IN_PROGRESS, SUCCEEDED, FAILED = "QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED"


@dataclass(frozen=True)
class NewJob:
    job_id: str
    account: str
    operation: str  # the Start* operation, e.g. "StartFaceDetection"
    request: str  # the validated Start* request, JSON
    token: str | None  # ClientRequestToken
    tag: str | None  # JobTag


@dataclass(frozen=True)
class JobRecord:
    job_id: str
    account: str
    operation: str
    request: str
    token: str | None
    tag: str | None
    status: str  # QUEUED (shown as IN_PROGRESS on the wire), IN_PROGRESS, SUCCEEDED, FAILED
    status_message: str | None
    progress: float  # 0..1
    worker: str | None
    attempts: int
    created: datetime
    finished: datetime | None
    video: str | None  # VideoMetadata as JSON, once the video was opened


class JobTx(Protocol):
    def insert_job(self, job: NewJob) -> JobRecord: ...

    def job(self, account: str, job_id: str) -> JobRecord | None:
        """The account's job; None for another account's job, as for a missing one."""
        ...

    def job_by_token(self, account: str, operation: str, token: str) -> JobRecord | None: ...

    def jobs(
        self, account: str, operation: str, after: str | None, limit: int
    ) -> list[JobRecord]:
        """The account's jobs of ``operation``, newest first, those after job ``after``."""
        ...

    def claim_job(self, worker: str, stale_before: datetime) -> JobRecord | None:
        """Take the oldest queued job, or an in-progress one whose heartbeat is older than
        ``stale_before`` (its worker died): mark it IN_PROGRESS for ``worker`` and drop any
        results it had. None when there is nothing to do."""
        ...

    def heartbeat(self, job_id: str, worker: str, progress: float, video: str | None) -> bool:
        """Record progress; False when ``worker`` no longer holds the job (it was reclaimed)."""
        ...

    def add_job_results(self, job_id: str, worker: str, first: int, items: Sequence[str]) -> bool:
        """Append result items numbered ``first``, ``first + 1``, … while ``worker`` holds the
        job; False (and nothing written) once it was reclaimed by another."""
        ...

    def job_results(self, job_id: str, after: int, limit: int) -> list[tuple[int, str]]:
        """(number, item JSON) in order, those numbered above ``after``."""
        ...

    def finish_job(
        self, job_id: str, worker: str, status: str, message: str | None, video: str | None
    ) -> bool:
        """SUCCEEDED or FAILED (which drops any results stored so far: a failed job has
        none); False when ``worker`` no longer holds the job."""
        ...

    def finished_jobs(self, before: datetime, limit: int) -> list[str]:
        """Ids of jobs finished before ``before`` (for retention)."""
        ...

    def delete_job(self, job_id: str) -> None:
        """The job and its results."""
        ...

    def job_counts(self) -> dict[tuple[str, str], int]:
        """Jobs of every account by (operation, status), for /metrics."""
        ...


class JobLost(Exception):
    """The worker no longer holds the job: another worker reclaimed it and starts it over."""


class _WriteCatalog(Protocol):
    def transaction(self, *, write: bool = False) -> AbstractContextManager[JobTx]: ...


class ResultWriter:
    """A running job's result items, appended to the database in numbered batches while its
    worker still holds the job; :class:`JobLost` as soon as it does not."""

    def __init__(self, catalog: _WriteCatalog, job_id: str, worker: str, batch: int) -> None:
        self._catalog, self._job_id, self._worker, self._size = catalog, job_id, worker, batch
        self._next = 1  # results are numbered from 1; a NextToken holds the last number read
        self._batch: list[str] = []

    def add(self, item: str) -> None:
        self._batch.append(item)
        if len(self._batch) >= self._size:
            self.flush()

    def flush(self) -> None:
        if not self._batch:
            return
        with self._catalog.transaction(write=True) as tx:
            if not tx.add_job_results(self._job_id, self._worker, self._next, self._batch):
                raise JobLost
        self._next += len(self._batch)
        self._batch = []
