"""The embedded backend: one SQLite file in the data directory (WAL, synchronous=FULL).

Every call opens its own short-lived connection. That costs about 0.1 ms, keeps the store safe
to share between threads and processes without a pool, and means a revoked key is seen by the
very next request: nothing is cached across calls.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from candor.private import private_dir, private_file
from candor.storage.base import Account, StoredKey
from candor.storage.sqlite_catalog import SqliteCatalogTx

DB_NAME = "candor.db"

# Schema versions, applied in order and recorded in PRAGMA user_version.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        id      TEXT PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE,
        created TEXT NOT NULL
    );
    CREATE TABLE api_keys (
        access_key_id TEXT PRIMARY KEY,
        account_id    TEXT NOT NULL REFERENCES accounts(id),
        secret        BLOB NOT NULL,
        created       TEXT NOT NULL,
        revoked_at    TEXT,
        is_admin      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX api_keys_account ON api_keys(account_id);
    """,
    """
    CREATE TABLE collections (
        row           INTEGER PRIMARY KEY AUTOINCREMENT,
        account       TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        arn           TEXT NOT NULL,
        face_model    TEXT NOT NULL,
        created       TEXT NOT NULL,
        UNIQUE (account, collection_id)
    );
    CREATE TABLE faces (
        row               INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_row    INTEGER NOT NULL REFERENCES collections(row) ON DELETE CASCADE,
        face_id           TEXT NOT NULL UNIQUE,
        image_id          TEXT NOT NULL,
        external_image_id TEXT,
        box_left          REAL NOT NULL,
        box_top           REAL NOT NULL,
        box_width         REAL NOT NULL,
        box_height        REAL NOT NULL,
        confidence        REAL NOT NULL,
        descriptor        BLOB NOT NULL,
        image_sha256      TEXT NOT NULL,
        user_id           TEXT,
        indexed_at        TEXT NOT NULL
    );
    CREATE INDEX faces_collection ON faces(collection_row, row);
    CREATE INDEX faces_user ON faces(collection_row, user_id);
    CREATE INDEX faces_age ON faces(collection_row, indexed_at);
    CREATE TABLE users (
        collection_row INTEGER NOT NULL REFERENCES collections(row) ON DELETE CASCADE,
        user_id        TEXT NOT NULL,
        created        TEXT NOT NULL,
        PRIMARY KEY (collection_row, user_id)
    );
    CREATE TABLE face_changes (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        collection_row INTEGER NOT NULL,
        face_row       INTEGER NOT NULL,
        removed        INTEGER NOT NULL
    );
    CREATE INDEX face_changes_collection ON face_changes(collection_row, seq);
    CREATE TABLE tags (
        arn   TEXT NOT NULL,
        key   TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (arn, key)
    );
    CREATE TABLE request_tokens (
        account     TEXT NOT NULL,
        operation   TEXT NOT NULL,
        token       TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        response    TEXT NOT NULL,
        created     TEXT NOT NULL,
        PRIMARY KEY (account, operation, token)
    );
    """,
    """
    CREATE TABLE audit_log (
        seq       INTEGER PRIMARY KEY,
        time      TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE INDEX audit_time ON audit_log(time);
    """,
    # The scoring a collection's similarities are computed with (candor.inference.scoring).
    # Collections made before scorings existed keep the one they were made with.
    """
    ALTER TABLE collections ADD COLUMN scoring TEXT NOT NULL DEFAULT 'dlib-resnet-v1';
    """,
    # Stored-video jobs (the queue) and their results (candor.storage.jobs).
    """
    CREATE TABLE jobs (
        job_id         TEXT PRIMARY KEY,
        account        TEXT NOT NULL,
        operation      TEXT NOT NULL,
        request        TEXT NOT NULL,
        token          TEXT,
        tag            TEXT,
        status         TEXT NOT NULL,
        status_message TEXT,
        progress       REAL NOT NULL DEFAULT 0,
        worker         TEXT,
        heartbeat      TEXT,
        attempts       INTEGER NOT NULL DEFAULT 0,
        created        TEXT NOT NULL,
        finished       TEXT,
        video          TEXT
    );
    CREATE UNIQUE INDEX jobs_token ON jobs(account, operation, token) WHERE token IS NOT NULL;
    CREATE INDEX jobs_queue ON jobs(status, created);
    CREATE INDEX jobs_listing ON jobs(account, operation, created);
    CREATE TABLE job_results (
        job_id  TEXT NOT NULL REFERENCES jobs(job_id) ON DELETE CASCADE,
        n       INTEGER NOT NULL,
        payload TEXT NOT NULL,
        PRIMARY KEY (job_id, n)
    ) WITHOUT ROWID;
    """,
)

_KEY_SELECT = """
    SELECT k.access_key_id, k.account_id, a.name, k.secret, k.created, k.revoked_at, k.is_admin
    FROM api_keys k JOIN accounts a ON a.id = k.account_id
"""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _key(row: sqlite3.Row) -> StoredKey:
    created = _time(row[4])
    assert created is not None  # NOT NULL column
    return StoredKey(
        access_key_id=row[0],
        account_id=row[1],
        account_name=row[2],
        sealed_secret=bytes(row[3]),
        created=created,
        revoked_at=_time(row[5]),
        is_admin=bool(row[6]),
    )


class SqliteStore:
    """Implements :class:`candor.storage.base.KeyStore` on ``data_dir/candor.db``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        private_dir(path.parent)
        # SQLite gives the -wal and -shm files the database file's mode: create it 0600 first.
        private_file(path)
        for sidecar in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            if sidecar.exists():
                private_file(sidecar)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            self._migrate(conn)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> SqliteStore:
        return cls(data_dir / DB_NAME)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            # Deleted rows are overwritten, so a removed face's descriptor leaves the file.
            conn.execute("PRAGMA secure_delete=ON")
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[SqliteCatalogTx]:
        """A catalog transaction; see :class:`candor.storage.catalog.Catalog`."""
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SqliteCatalogTx(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS, start=1):
                if number > version:
                    for statement in script.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def account(self, name: str, *, create: bool = False) -> Account | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT id, name, created FROM accounts WHERE name = ?", (name,)
            ).fetchone()
            if row is None and create:
                row = (str(uuid.uuid4()), name, _now())
                conn.execute("INSERT INTO accounts (id, name, created) VALUES (?, ?, ?)", row)
        if row is None:
            return None
        created = _time(row[2])
        assert created is not None
        return Account(id=row[0], name=row[1], created=created)

    def add_key(
        self, *, access_key_id: str, account_id: str, sealed_secret: bytes, is_admin: bool
    ) -> StoredKey:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_keys (access_key_id, account_id, secret, created, is_admin) "
                "VALUES (?, ?, ?, ?, ?)",
                (access_key_id, account_id, sealed_secret, _now(), int(is_admin)),
            )
        key = self.key(access_key_id)
        assert key is not None
        return key

    def key(self, access_key_id: str) -> StoredKey | None:
        with self._connect() as conn:
            row = conn.execute(
                _KEY_SELECT + " WHERE k.access_key_id = ?", (access_key_id,)
            ).fetchone()
        return None if row is None else _key(row)

    def keys(self) -> list[StoredKey]:
        with self._connect() as conn:
            rows = conn.execute(_KEY_SELECT + " ORDER BY k.created, k.access_key_id").fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, access_key_id: str) -> StoredKey | None:
        with self._write() as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE access_key_id = ? AND revoked_at IS NULL",
                (_now(), access_key_id),
            )
        return self.key(access_key_id)

    def count_keys(self) -> int:
        with self._connect() as conn:
            n: int = conn.execute("SELECT count(*) FROM api_keys").fetchone()[0]
        return n
