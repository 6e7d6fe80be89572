"""The catalog (collections, faces, users, tags, request tokens, audit, jobs) in SQL that
SQLite and PostgreSQL both run.

Implements :class:`candor.storage.catalog.CatalogTx` over one connection inside one transaction;
:meth:`candor.storage.sqlite.SqliteStore.transaction` and
:meth:`candor.storage.postgres.PostgresStore.transaction` open it. Statements use ``?``
placeholders (the PostgreSQL connection adapter rewrites them) and only SQL both engines share:
``ON CONFLICT``, ``RETURNING``, row-value comparisons.

Every change to a collection's faces also appends a row to ``face_changes`` in the same
transaction, which is how each process's in-memory index catches up with faces added or removed
by any other process. That only works if a collection's changes commit in the order of their
sequence numbers; SQLite gets this for free (one writer at a time), PostgreSQL by taking the
collection's lock (:meth:`SqlCatalogTx._lock_faces`) before the first change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol

from candor.audit import AuditRecord
from candor.storage.catalog import (
    CollectionRecord,
    FaceRecord,
    IndexChange,
    NewFace,
    UserRecord,
    batched,
)
from candor.storage.jobs import FAILED, IN_PROGRESS, QUEUED, JobRecord, NewJob

_FACE_COLUMNS = (
    "row, face_id, image_id, external_image_id, box_left, box_top, box_width, box_height, "
    "confidence, descriptor, user_id, indexed_at"
)


def now_text() -> str:
    """Times are stored as ISO 8601 text in UTC with microseconds: fixed width, so they sort."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


_JOB_COLUMNS = (
    "job_id, account, operation, request, token, tag, status, status_message, progress, worker, "
    "attempts, created, finished, video"
)


def _job(r: Sequence[object]) -> JobRecord:
    return JobRecord(
        job_id=str(r[0]),
        account=str(r[1]),
        operation=str(r[2]),
        request=str(r[3]),
        token=None if r[4] is None else str(r[4]),
        tag=None if r[5] is None else str(r[5]),
        status=str(r[6]),
        status_message=None if r[7] is None else str(r[7]),
        progress=float(str(r[8])),
        worker=None if r[9] is None else str(r[9]),
        attempts=int(str(r[10])),
        created=datetime.fromisoformat(str(r[11])),
        finished=None if r[12] is None else datetime.fromisoformat(str(r[12])),
        video=None if r[13] is None else str(r[13]),
    )


def _face(row: Sequence[object]) -> FaceRecord:
    return FaceRecord(
        row=int(str(row[0])),
        face_id=str(row[1]),
        image_id=str(row[2]),
        external_image_id=None if row[3] is None else str(row[3]),
        left=float(str(row[4])),
        top=float(str(row[5])),
        width=float(str(row[6])),
        height=float(str(row[7])),
        confidence=float(str(row[8])),
        descriptor=bytes(row[9]),  # type: ignore[call-overload]
        user_id=None if row[10] is None else str(row[10]),
        indexed_at=datetime.fromisoformat(str(row[11])),
    )


class Connection(Protocol):
    """What the catalog needs of a DB-API connection (``sqlite3.Connection`` is one)."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Any: ...
    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any: ...


class SqlCatalogTx:
    """The catalog in one transaction. A backend whose writers do not queue behind one lock
    (PostgreSQL) overrides the ``_lock_*`` hooks and the row-locking clauses."""

    #: Appended to the claim query: PostgreSQL's ``FOR UPDATE SKIP LOCKED`` lets workers on
    #: several machines claim different jobs at once; SQLite already has one writer.
    claim_clause = ""
    #: Appended to the "does this worker still hold the job" check before results are written,
    #: so a reclaim cannot slip between the check and the insert.
    hold_clause = ""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _lock_faces(self, record: CollectionRecord) -> None:
        """Serialise changes to one collection's faces until this transaction ends."""

    def _lock_audit(self) -> None:
        """Serialise appends to the audit chain until this transaction ends."""

    def _lock_token(self, *parts: str) -> None:
        """Serialise the check-then-insert of one idempotency token."""

    def _face_extras(self) -> tuple[str, str]:
        """More columns a backend stores with each face: (", col", ", ?") text to add."""
        return "", ""

    def _face_extra_values(self, face: NewFace) -> tuple[object, ...]:
        return ()

    # --- collections ---------------------------------------------------------------------------

    def _collection(self, where: str, args: tuple[object, ...]) -> list[CollectionRecord]:
        rows = self.conn.execute(
            "SELECT c.row, c.account, c.collection_id, c.arn, c.face_model, c.scoring, c.created, "
            "(SELECT COUNT(*) FROM faces f WHERE f.collection_row = c.row), "
            "(SELECT COUNT(*) FROM users u WHERE u.collection_row = c.row) "
            f"FROM collections c WHERE {where}",
            args,
        ).fetchall()
        return [
            CollectionRecord(
                row=r[0],
                account=r[1],
                collection_id=r[2],
                arn=r[3],
                face_model=r[4],
                scoring=r[5],
                created=datetime.fromisoformat(r[6]),
                face_count=r[7],
                user_count=r[8],
            )
            for r in rows
        ]

    def collection(self, account: str, collection_id: str) -> CollectionRecord | None:
        found = self._collection("c.account = ? AND c.collection_id = ?", (account, collection_id))
        return found[0] if found else None

    def create_collection(
        self, account: str, collection_id: str, arn: str, face_model: str, scoring: str
    ) -> CollectionRecord | None:
        cur = self.conn.execute(
            "INSERT INTO collections (account, collection_id, arn, face_model, scoring, "
            "created) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, collection_id) DO NOTHING",
            (account, collection_id, arn, face_model, scoring, now_text()),
        )
        if cur.rowcount != 1:
            return None
        return self.collection(account, collection_id)

    def set_scoring(self, record: CollectionRecord, scoring: str) -> CollectionRecord:
        self.conn.execute("UPDATE collections SET scoring = ? WHERE row = ?", (scoring, record.row))
        (updated,) = self._collection("c.row = ?", (record.row,))
        return updated

    def tagged_collections(self, key: str) -> list[CollectionRecord]:
        return self._collection(
            "c.arn IN (SELECT arn FROM tags WHERE key = ?) ORDER BY c.row", (key,)
        )

    def collections(self, account: str, after: str | None, limit: int) -> list[CollectionRecord]:
        return self._collection(
            "c.account = ? AND c.collection_id > ? ORDER BY c.collection_id LIMIT ?",
            (account, after or "", limit),
        )

    def store_counts(self) -> tuple[int, int, int]:
        row = self.conn.execute(
            "SELECT (SELECT count(*) FROM collections), (SELECT count(*) FROM faces), "
            "(SELECT count(*) FROM users)"
        ).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def delete_collection(self, record: CollectionRecord) -> int:
        self._lock_faces(record)
        removed = self.conn.execute(
            "DELETE FROM faces WHERE collection_row = ?", (record.row,)
        ).rowcount
        self.conn.execute("DELETE FROM users WHERE collection_row = ?", (record.row,))
        self.conn.execute("DELETE FROM face_changes WHERE collection_row = ?", (record.row,))
        self.conn.execute("DELETE FROM tags WHERE arn = ?", (record.arn,))
        self.conn.execute("DELETE FROM collections WHERE row = ?", (record.row,))
        return int(removed)

    # --- faces ---------------------------------------------------------------------------------

    def insert_faces(self, record: CollectionRecord, faces: Sequence[NewFace]) -> list[FaceRecord]:
        self._lock_faces(record)
        now = now_text()
        extra_columns, extra_marks = self._face_extras()
        marks = f"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?{extra_marks})"
        rows: dict[str, int] = {}
        # One statement per 200 faces, in both engines (13 parameters a face stays well under
        # SQLite's 32,766 and PostgreSQL's 65,535).
        for start in range(0, len(faces), 200):
            chunk = faces[start : start + 200]
            values: list[object] = []
            for f in chunk:
                values += [record.row, f.face_id, f.image_id, f.external_image_id, f.left, f.top,
                           f.width, f.height, f.confidence, f.descriptor, f.image_sha256, now,
                           *self._face_extra_values(f)]
            made = self.conn.execute(
                "INSERT INTO faces (collection_row, face_id, image_id, external_image_id, "
                "box_left, box_top, box_width, box_height, confidence, descriptor, "
                f"image_sha256, indexed_at{extra_columns}) "
                f"VALUES {', '.join([marks] * len(chunk))} RETURNING row, face_id",
                values,
            ).fetchall()
            new_rows = sorted(int(r[0]) for r in made)
            rows.update({str(r[1]): int(r[0]) for r in made})
            self.conn.execute(
                "INSERT INTO face_changes (collection_row, face_row, removed) VALUES "
                + ", ".join(["(?, ?, 0)"] * len(new_rows)),
                [x for row in new_rows for x in (record.row, row)],
            )
        by_row = {f.row: f for f in self.faces_by_row(record, list(rows.values()))}
        return [by_row[rows[f.face_id]] for f in faces]

    def faces_by_id(self, record: CollectionRecord, face_ids: Sequence[str]) -> list[FaceRecord]:
        out: list[FaceRecord] = []
        for chunk in batched(list(face_ids)):
            marks = ",".join("?" * len(chunk))
            out += [
                _face(r)
                for r in self.conn.execute(
                    f"SELECT {_FACE_COLUMNS} FROM faces "
                    f"WHERE collection_row = ? AND face_id IN ({marks}) ORDER BY row",
                    (record.row, *chunk),
                )
            ]
        return out

    def faces_by_row(self, record: CollectionRecord, rows: Sequence[int]) -> list[FaceRecord]:
        out: list[FaceRecord] = []
        for chunk in batched([str(r) for r in rows]):
            marks = ",".join("?" * len(chunk))
            out += [
                _face(r)
                for r in self.conn.execute(
                    f"SELECT {_FACE_COLUMNS} FROM faces "
                    f"WHERE collection_row = ? AND row IN ({marks})",
                    (record.row, *[int(x) for x in chunk]),
                )
            ]
        return out

    def faces(
        self,
        record: CollectionRecord,
        *,
        after_row: int,
        limit: int,
        user_id: str | None = None,
        face_ids: Sequence[str] | None = None,
    ) -> list[FaceRecord]:
        where = "collection_row = ? AND row > ?"
        args: list[object] = [record.row, after_row]
        if user_id is not None:
            where += " AND user_id = ?"
            args.append(user_id)
        if face_ids is not None:
            where += f" AND face_id IN ({','.join('?' * len(face_ids))})"
            args += list(face_ids)
        args.append(limit)
        return [
            _face(r)
            for r in self.conn.execute(
                f"SELECT {_FACE_COLUMNS} FROM faces WHERE {where} ORDER BY row LIMIT ?", args
            )
        ]

    def delete_faces(self, record: CollectionRecord, face_ids: Sequence[str]) -> list[str]:
        self._lock_faces(record)
        found = self.faces_by_id(record, face_ids)
        for f in found:
            self.conn.execute("DELETE FROM faces WHERE row = ?", (f.row,))
            self.conn.execute(
                "INSERT INTO face_changes (collection_row, face_row, removed) VALUES (?, ?, 1)",
                (record.row, f.row),
            )
        return [f.face_id for f in found]

    def expired_faces(self, record: CollectionRecord, before: datetime, limit: int) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT face_id FROM faces WHERE collection_row = ? AND indexed_at < ? "
                "ORDER BY indexed_at LIMIT ?",
                (record.row, before.astimezone(timezone.utc).isoformat(), limit),
            )
        ]

    # --- index support -------------------------------------------------------------------------

    def snapshot(self, record: CollectionRecord) -> tuple[int, list[tuple[int, bytes]]]:
        # Both reads must see the same state of the collection, whatever the isolation level.
        self._lock_faces(record)
        seq = self.conn.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM face_changes WHERE collection_row = ?",
            (record.row,),
        ).fetchone()[0]
        faces = [
            (int(r[0]), bytes(r[1]))
            for r in self.conn.execute(
                "SELECT row, descriptor FROM faces WHERE collection_row = ? ORDER BY row",
                (record.row,),
            )
        ]
        return int(seq), faces

    def changes_since(self, record: CollectionRecord, seq: int) -> list[IndexChange]:
        return [
            IndexChange(
                seq=int(r[0]),
                face_row=int(r[1]),
                descriptor=None if (r[2] or r[3] is None) else bytes(r[3]),
            )
            for r in self.conn.execute(
                "SELECT c.seq, c.face_row, c.removed, f.descriptor FROM face_changes c "
                "LEFT JOIN faces f ON f.row = c.face_row "
                "WHERE c.collection_row = ? AND c.seq > ? ORDER BY c.seq",
                (record.row, seq),
            )
        ]

    # --- users ---------------------------------------------------------------------------------

    def user(self, record: CollectionRecord, user_id: str) -> UserRecord | None:
        r = self.conn.execute(
            "SELECT u.user_id, u.created, (SELECT COUNT(*) FROM faces f "
            "WHERE f.collection_row = u.collection_row AND f.user_id = u.user_id) "
            "FROM users u WHERE u.collection_row = ? AND u.user_id = ?",
            (record.row, user_id),
        ).fetchone()
        if r is None:
            return None
        return UserRecord(user_id=r[0], created=datetime.fromisoformat(r[1]), face_count=r[2])

    def create_user(self, record: CollectionRecord, user_id: str) -> bool:
        cur = self.conn.execute(
            "INSERT INTO users (collection_row, user_id, created) VALUES (?, ?, ?) "
            "ON CONFLICT (collection_row, user_id) DO NOTHING",
            (record.row, user_id, now_text()),
        )
        return bool(cur.rowcount == 1)

    def delete_user(self, record: CollectionRecord, user_id: str) -> bool:
        self.conn.execute(
            "UPDATE faces SET user_id = NULL WHERE collection_row = ? AND user_id = ?",
            (record.row, user_id),
        )
        cur = self.conn.execute(
            "DELETE FROM users WHERE collection_row = ? AND user_id = ?", (record.row, user_id)
        )
        return bool(cur.rowcount > 0)

    def users(self, record: CollectionRecord, after: str | None, limit: int) -> list[UserRecord]:
        rows = self.conn.execute(
            "SELECT u.user_id, u.created, (SELECT COUNT(*) FROM faces f "
            "WHERE f.collection_row = u.collection_row AND f.user_id = u.user_id) "
            "FROM users u WHERE u.collection_row = ? AND u.user_id > ? "
            "ORDER BY u.user_id LIMIT ?",
            (record.row, after or "", limit),
        ).fetchall()
        return [
            UserRecord(user_id=r[0], created=datetime.fromisoformat(r[1]), face_count=r[2])
            for r in rows
        ]

    def set_face_user(
        self, record: CollectionRecord, face_ids: Sequence[str], user_id: str | None
    ) -> None:
        for chunk in batched(list(face_ids)):
            marks = ",".join("?" * len(chunk))
            self.conn.execute(
                f"UPDATE faces SET user_id = ? WHERE collection_row = ? AND face_id IN ({marks})",
                (user_id, record.row, *chunk),
            )

    # --- tags ----------------------------------------------------------------------------------

    def add_thumbnails(self, items: Sequence[tuple[int, bytes]]) -> None:
        for row, jpeg in items:
            self.conn.execute(
                "INSERT INTO face_thumbnails (face_row, jpeg) VALUES (?, ?)", (row, jpeg)
            )

    def thumbnails(self, record: CollectionRecord, face_ids: Sequence[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for chunk in batched(list(face_ids)):
            marks = ",".join("?" * len(chunk))
            for face_id, jpeg in self.conn.execute(
                "SELECT f.face_id, t.jpeg FROM faces f "
                "JOIN face_thumbnails t ON t.face_row = f.row "
                f"WHERE f.collection_row = ? AND f.face_id IN ({marks})",
                [record.row, *chunk],
            ).fetchall():
                out[str(face_id)] = bytes(jpeg)
        return out

    def tags(self, arn: str) -> dict[str, str]:
        return {
            k: v
            for k, v in self.conn.execute(
                "SELECT key, value FROM tags WHERE arn = ? ORDER BY key", (arn,)
            )
        }

    def set_tags(self, arn: str, tags: dict[str, str]) -> None:
        self.conn.executemany(
            "INSERT INTO tags (arn, key, value) VALUES (?, ?, ?) "
            "ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value",
            [(arn, k, v) for k, v in tags.items()],
        )

    def remove_tags(self, arn: str, keys: Sequence[str]) -> None:
        self.conn.executemany(
            "DELETE FROM tags WHERE arn = ? AND key = ?", [(arn, k) for k in keys]
        )

    # --- audit log ------------------------------------------------------------------------------

    def audit_head(self) -> tuple[int, str] | None:
        self._lock_audit()
        r = self.conn.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        return None if r is None else (int(r[0]), str(r[1]))

    def insert_audit(self, record: AuditRecord) -> None:
        self.conn.execute(
            "INSERT INTO audit_log (seq, time, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?)",
            (record.seq, record.time, record.payload, record.prev_hash, record.hash),
        )

    def audit_records(self, after_seq: int = 0, since: str | None = None) -> Iterator[AuditRecord]:
        query = "SELECT seq, time, payload, prev_hash, hash FROM audit_log WHERE seq > ?"
        args: list[object] = [after_seq]
        if since is not None:
            query += " AND time >= ?"
            args.append(since)
        for r in self.conn.execute(query + " ORDER BY seq", args):
            yield AuditRecord(int(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]))

    # --- request tokens ------------------------------------------------------------------------

    def request_token(self, account: str, operation: str, token: str) -> tuple[str, str] | None:
        self._lock_token("request", account, operation, token)
        r = self.conn.execute(
            "SELECT fingerprint, response FROM request_tokens "
            "WHERE account = ? AND operation = ? AND token = ?",
            (account, operation, token),
        ).fetchone()
        return None if r is None else (str(r[0]), str(r[1]))

    def save_request_token(
        self, account: str, operation: str, token: str, fingerprint: str, response: str
    ) -> None:
        self.conn.execute(
            "INSERT INTO request_tokens "
            "(account, operation, token, fingerprint, response, created) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account, operation, token) DO UPDATE SET "
            "fingerprint = excluded.fingerprint, response = excluded.response, "
            "created = excluded.created",
            (account, operation, token, fingerprint, response, now_text()),
        )

    # --- stored-video jobs (candor.storage.jobs.JobTx) ------------------------------------------

    def insert_job(self, job: NewJob) -> JobRecord:
        self.conn.execute(
            "INSERT INTO jobs (job_id, account, operation, request, token, tag, status, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (job.job_id, job.account, job.operation, job.request, job.token, job.tag, QUEUED,
             now_text()),
        )
        found = self.job(job.account, job.job_id)
        assert found is not None
        return found

    def _jobs(self, where: str, args: tuple[object, ...]) -> list[JobRecord]:
        rows = self.conn.execute(f"SELECT {_JOB_COLUMNS} FROM jobs WHERE {where}", args)
        return [_job(r) for r in rows.fetchall()]

    def job(self, account: str, job_id: str) -> JobRecord | None:
        found = self._jobs("job_id = ? AND account = ?", (job_id, account))
        return found[0] if found else None

    def job_by_token(self, account: str, operation: str, token: str) -> JobRecord | None:
        self._lock_token("job", account, operation, token)
        found = self._jobs(
            "account = ? AND operation = ? AND token = ?", (account, operation, token)
        )
        return found[0] if found else None

    def jobs(
        self, account: str, operation: str, after: str | None, limit: int
    ) -> list[JobRecord]:
        if after is None:
            return self._jobs(
                "account = ? AND operation = ? ORDER BY created DESC, job_id DESC LIMIT ?",
                (account, operation, limit),
            )
        return self._jobs(
            "account = ? AND operation = ? AND (created, job_id) < "
            "(SELECT created, job_id FROM jobs WHERE job_id = ?) "
            "ORDER BY created DESC, job_id DESC LIMIT ?",
            (account, operation, after, limit),
        )

    def claim_job(self, worker: str, stale_before: datetime) -> JobRecord | None:
        found = self._jobs(
            "status = ? OR (status = ? AND heartbeat < ?) ORDER BY created, job_id LIMIT 1"
            + self.claim_clause,
            (QUEUED, IN_PROGRESS, stale_before.isoformat(timespec="microseconds")),
        )
        if not found:
            return None
        job = found[0]
        self.conn.execute("DELETE FROM job_results WHERE job_id = ?", (job.job_id,))
        self.conn.execute(
            "UPDATE jobs SET status = ?, worker = ?, heartbeat = ?, progress = 0, "
            "attempts = attempts + 1 WHERE job_id = ?",
            (IN_PROGRESS, worker, now_text(), job.job_id),
        )
        claimed = self.job(job.account, job.job_id)
        assert claimed is not None
        return claimed

    def heartbeat(self, job_id: str, worker: str, progress: float, video: str | None) -> bool:
        cur = self.conn.execute(
            "UPDATE jobs SET heartbeat = ?, progress = ?, video = coalesce(?, video) "
            "WHERE job_id = ? AND worker = ? AND status = ?",
            (now_text(), progress, video, job_id, worker, IN_PROGRESS),
        )
        return bool(cur.rowcount == 1)

    def add_job_results(self, job_id: str, worker: str, first: int, items: Sequence[str]) -> bool:
        held = self.conn.execute(
            "SELECT 1 FROM jobs WHERE job_id = ? AND worker = ? AND status = ?" + self.hold_clause,
            (job_id, worker, IN_PROGRESS),
        ).fetchone()
        if held is None:
            return False
        self.conn.executemany(
            "INSERT INTO job_results (job_id, n, payload) VALUES (?, ?, ?)",
            [(job_id, first + i, item) for i, item in enumerate(items)],
        )
        return True

    def job_results(self, job_id: str, after: int, limit: int) -> list[tuple[int, str]]:
        rows = self.conn.execute(
            "SELECT n, payload FROM job_results WHERE job_id = ? AND n > ? ORDER BY n LIMIT ?",
            (job_id, after, limit),
        ).fetchall()
        return [(int(r[0]), str(r[1])) for r in rows]

    def finish_job(
        self, job_id: str, worker: str, status: str, message: str | None, video: str | None
    ) -> bool:
        cur = self.conn.execute(
            "UPDATE jobs SET status = ?, status_message = ?, finished = ?, progress = 1, "
            "video = coalesce(?, video) WHERE job_id = ? AND worker = ? AND status = ?",
            (status, message, now_text(), video, job_id, worker, IN_PROGRESS),
        )
        finished = bool(cur.rowcount == 1)
        if finished and status == FAILED:  # a failed job has no results to read
            self.conn.execute("DELETE FROM job_results WHERE job_id = ?", (job_id,))
        return finished

    def finished_jobs(self, before: datetime, limit: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT job_id FROM jobs WHERE finished IS NOT NULL AND finished < ? LIMIT ?",
            (before.isoformat(timespec="microseconds"), limit),
        ).fetchall()
        return [str(r[0]) for r in rows]

    def job_counts(self) -> dict[tuple[str, str], int]:
        rows = self.conn.execute(
            "SELECT operation, status, count(*) FROM jobs GROUP BY operation, status"
        ).fetchall()
        return {(str(r[0]), str(r[1])): int(r[2]) for r in rows}

    def delete_job(self, job_id: str) -> None:
        self.conn.execute("DELETE FROM jobs WHERE job_id = ?", (job_id,))
