"""The embedded backend: one SQLite file in the data directory (WAL, synchronous=FULL).

Every call opens its own short-lived connection. That costs about 0.1 ms, keeps the store safe
to share between threads and processes without a pool, and means a revoked key is seen by the
very next request: nothing is cached across calls.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from candor.private import private_dir, private_file
from candor.storage.sql_catalog import Connection
from candor.storage.sql_store import SqlStore

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
    # Web console sign-ins (candor.console.sessions): only a hash of each token is stored.
    """
    CREATE TABLE console_sessions (
        token_hash    TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        access_key_id TEXT NOT NULL REFERENCES api_keys(access_key_id),
        csrf          TEXT NOT NULL,
        created       TEXT NOT NULL,
        expires       TEXT NOT NULL
    );
    CREATE INDEX console_sessions_expires ON console_sessions(expires);
    """,
    # Face thumbnails for the web console, kept only with CANDOR_FACE_THUMBNAILS (deleted with
    # their face).
    """
    CREATE TABLE face_thumbnails (
        face_row INTEGER PRIMARY KEY REFERENCES faces(row) ON DELETE CASCADE,
        jpeg     BLOB NOT NULL
    );
    """,
)

class SqliteStore(SqlStore):
    """The key store and catalog in ``data_dir/candor.db``."""

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

    def _begin(self, conn: Connection, *, write: bool) -> None:
        # IMMEDIATE takes the write lock at once: one writer at a time, so no transaction can
        # fail half-way on a lock upgrade, and changes commit in the order they were made.
        conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")

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
