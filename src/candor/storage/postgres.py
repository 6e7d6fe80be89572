"""The PostgreSQL backend (``CANDOR_DATABASE_URL=postgresql://…``): the same tables and the
same statements as SQLite (:mod:`candor.storage.sql_catalog`), through psycopg 3 and a
connection pool, for several API and worker processes on several machines.

SQLite lets one writer in at a time, which keeps every check-then-write correct by itself.
PostgreSQL runs writers side by side (READ COMMITTED), so where order matters the transaction
takes a lock that lasts until it commits, and holds it no longer than the part that needs it:

- **a collection's faces** (advisory lock per collection): its ``face_changes`` sequence numbers
  commit in order, so no process's index catch-up can skip a change that commits late;
- **the audit chain** (one advisory lock): taken when the record is appended, which services do
  last, so concurrent searches run their nearest-neighbour search in parallel and queue only
  for the append and the commit;
- **idempotency tokens** (advisory lock per token): two requests with one ClientRequestToken
  cannot both act;
- **jobs**: claimed with ``FOR UPDATE SKIP LOCKED``, so workers never wait on each other's jobs,
  and a worker writing results holds its job row (``FOR SHARE``) so a reclaim cannot interleave.

With ``CANDOR_VECTOR_INDEX=pgvector`` every face also carries its descriptor as a pgvector
``vector(128)`` under an HNSW index, and searches ask the database for candidates
(:class:`candor.storage.vectors_pg.PgVectorSearch`) instead of holding an index in memory.

Read transactions are ``REPEATABLE READ READ ONLY``: one consistent snapshot, as in SQLite.
Migrations are numbered scripts recorded in ``candor_schema``, applied under an advisory lock
so processes starting together do not race.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from candor.errors import ConfigurationError
from candor.storage.catalog import CollectionRecord, NewFace
from candor.storage.sql_catalog import Connection, SqlCatalogTx
from candor.storage.sql_store import SqlStore

# Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)).
_LOCK_MIGRATE, _LOCK_AUDIT, _LOCK_FACES, _LOCK_TOKEN = 0x43A0, 0x43A1, 0x43A2, 0x43A3

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
        secret        BYTEA NOT NULL,
        created       TEXT NOT NULL,
        revoked_at    TEXT,
        is_admin      INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX api_keys_account ON api_keys(account_id);
    CREATE TABLE collections (
        row           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account       TEXT NOT NULL,
        collection_id TEXT NOT NULL,
        arn           TEXT NOT NULL,
        face_model    TEXT NOT NULL,
        created       TEXT NOT NULL,
        scoring       TEXT NOT NULL DEFAULT 'dlib-resnet-v1',
        UNIQUE (account, collection_id)
    );
    CREATE TABLE faces (
        row               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        collection_row    BIGINT NOT NULL REFERENCES collections(row) ON DELETE CASCADE,
        face_id           TEXT NOT NULL UNIQUE,
        image_id          TEXT NOT NULL,
        external_image_id TEXT,
        box_left          DOUBLE PRECISION NOT NULL,
        box_top           DOUBLE PRECISION NOT NULL,
        box_width         DOUBLE PRECISION NOT NULL,
        box_height        DOUBLE PRECISION NOT NULL,
        confidence        DOUBLE PRECISION NOT NULL,
        descriptor        BYTEA NOT NULL,
        image_sha256      TEXT NOT NULL,
        user_id           TEXT,
        indexed_at        TEXT NOT NULL
    );
    CREATE INDEX faces_collection ON faces(collection_row, row);
    CREATE INDEX faces_user ON faces(collection_row, user_id);
    CREATE INDEX faces_age ON faces(collection_row, indexed_at);
    CREATE TABLE users (
        collection_row BIGINT NOT NULL REFERENCES collections(row) ON DELETE CASCADE,
        user_id        TEXT NOT NULL,
        created        TEXT NOT NULL,
        PRIMARY KEY (collection_row, user_id)
    );
    CREATE TABLE face_changes (
        seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        collection_row BIGINT NOT NULL,
        face_row       BIGINT NOT NULL,
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
    CREATE TABLE audit_log (
        seq       BIGINT PRIMARY KEY,
        time      TEXT NOT NULL,
        payload   TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash      TEXT NOT NULL
    );
    CREATE INDEX audit_time ON audit_log(time);
    CREATE TABLE jobs (
        job_id         TEXT PRIMARY KEY,
        account        TEXT NOT NULL,
        operation      TEXT NOT NULL,
        request        TEXT NOT NULL,
        token          TEXT,
        tag            TEXT,
        status         TEXT NOT NULL,
        status_message TEXT,
        progress       DOUBLE PRECISION NOT NULL DEFAULT 0,
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
    );
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
        face_row BIGINT PRIMARY KEY REFERENCES faces(row) ON DELETE CASCADE,
        jpeg     BYTEA NOT NULL
    );
    """,
)


def _placeholders(sql: str) -> str:
    """``?`` → ``%s`` (psycopg's), ``%`` → ``%%``. The catalog's statements carry no ``?`` or
    ``%`` inside string literals; values always travel as parameters."""
    return sql.replace("%", "%%").replace("?", "%s")


class _Adapter:
    """A psycopg connection seen through :class:`candor.storage.sql_catalog.Connection`."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> Any:
        return self._conn.execute(_placeholders(sql), tuple(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Any:
        cur = self._conn.cursor()
        rows = [tuple(p) for p in parameters]
        if rows:
            cur.executemany(_placeholders(sql), rows)
        return cur


def vector_text(descriptor: bytes) -> str:
    """A little-endian float32 descriptor in pgvector's text form (9 digits: exact)."""
    import numpy as np

    return "[" + ",".join(f"{x:.9g}" for x in np.frombuffer(descriptor, dtype="<f4")) + "]"


class PostgresCatalogTx(SqlCatalogTx):
    claim_clause = " FOR UPDATE SKIP LOCKED"
    hold_clause = " FOR SHARE"

    def __init__(self, conn: Connection, *, vectors: bool = False) -> None:
        super().__init__(conn)
        self.vectors = vectors

    def _face_extras(self) -> tuple[str, str]:
        return (", embedding", ", ?::vector") if self.vectors else ("", "")

    def _face_extra_values(self, face: NewFace) -> tuple[object, ...]:
        return (vector_text(face.descriptor),) if self.vectors else ()

    def nearest_faces(
        self, record: CollectionRecord, query: bytes, k: int, ef_search: int
    ) -> list[tuple[int, bytes]]:
        """About the ``k`` faces of the collection nearest ``query`` in plain L2, from the HNSW
        index (iterative scan, so a collection among many still gets ``k``), with their
        descriptors for exact re-ranking."""
        self.conn.execute(
            "SELECT set_config('hnsw.ef_search', ?, true), "
            "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
            (str(max(ef_search, k)),),
        )
        rows = self.conn.execute(
            "SELECT row, descriptor FROM faces WHERE collection_row = ? "
            "ORDER BY embedding <-> ?::vector LIMIT ?",
            (record.row, vector_text(query), k),
        ).fetchall()
        return [(int(r[0]), bytes(r[1])) for r in rows]

    def _lock_faces(self, record: CollectionRecord) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(?, ?)", (_LOCK_FACES, record.row))

    def _lock_audit(self) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (_LOCK_AUDIT,))

    def _lock_token(self, *parts: str) -> None:
        self.conn.execute(
            "SELECT pg_advisory_xact_lock(?, hashtext(?))", (_LOCK_TOKEN, "\x1f".join(parts))
        )


class PostgresStore(SqlStore):
    """The key store and catalog in one PostgreSQL database, shared by every process."""

    tx_class = PostgresCatalogTx

    def __init__(
        self,
        url: str,
        *,
        max_connections: int = 8,
        vectors: bool = False,
        connect_timeout: float = 10.0,
    ) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ConfigurationError(
                "CANDOR_DATABASE_URL names PostgreSQL, but psycopg is not installed: "
                "pip install 'candor[postgres]'"
            ) from e
        self.url = url
        self.vectors = vectors
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=max_connections,
            kwargs={"autocommit": True},
            open=False,
            name="candor",
        )
        try:
            self._pool.open(wait=True, timeout=connect_timeout)
        except Exception as e:
            self._pool.close()
            where = url.split("@")[-1]  # never the password
            raise ConfigurationError(
                f"cannot connect to the PostgreSQL database at {where} (CANDOR_DATABASE_URL) "
                f"within {connect_timeout:g} s: is the server running and the URL right? ({e})"
            ) from e
        self._migrate()
        if vectors:
            self._enable_pgvector()

    def _new_tx(self, conn: Connection) -> SqlCatalogTx:
        return PostgresCatalogTx(conn, vectors=self.vectors)

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._pool.connection() as conn:
            yield _Adapter(conn)

    def _begin(self, conn: Connection, *, write: bool) -> None:
        conn.execute("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _migrate(self) -> None:
        with self._tx(write=True) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (_LOCK_MIGRATE,))
            conn.execute("CREATE TABLE IF NOT EXISTS candor_schema (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM candor_schema").fetchone()
            version = int(row[0] or 0)
            for number, script in enumerate(MIGRATIONS, start=1):
                if number > version:
                    for statement in script.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("INSERT INTO candor_schema (version) VALUES (?)", (number,))

    def _enable_pgvector(self) -> None:
        """The embedding column and its HNSW index, added once; faces stored before pgvector
        was switched on get their embedding here, in batches."""
        with self._tx(write=True) as conn:
            conn.execute("SELECT pg_advisory_xact_lock(?, 0)", (_LOCK_MIGRATE,))
            available = conn.execute(
                "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"
            ).fetchone()
            if available is None:
                raise ConfigurationError(
                    "CANDOR_VECTOR_INDEX=pgvector, but this PostgreSQL server has no pgvector "
                    "extension (install it, e.g. the postgresql-NN-pgvector package, or use "
                    "CANDOR_VECTOR_INDEX=memory)"
                )
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute("ALTER TABLE faces ADD COLUMN IF NOT EXISTS embedding vector(128)")
            conn.execute(
                "CREATE INDEX IF NOT EXISTS faces_embedding ON faces "
                "USING hnsw (embedding vector_l2_ops)"
            )
        while True:
            with self._tx(write=True) as conn:
                rows = conn.execute(
                    "SELECT row, descriptor FROM faces WHERE embedding IS NULL LIMIT 1000"
                ).fetchall()
                conn.executemany(
                    "UPDATE faces SET embedding = ?::vector WHERE row = ?",
                    [(vector_text(bytes(r[1])), int(r[0])) for r in rows],
                )
            if len(rows) < 1000:
                return

    def close(self) -> None:
        self._pool.close()
