"""What SQLite and PostgreSQL stores share: transactions over a :class:`Connection`, and the
accounts and API keys (:class:`candor.storage.base.KeyStore`) in portable SQL.

A backend says how to get a connection and how to begin a read or a write transaction; the
statements are the same on both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timezone
from typing import Any

from candor.storage.base import Account, ConsoleSession, StoredKey
from candor.storage.sql_catalog import Connection, SqlCatalogTx, now_text

_KEY_SELECT = """
    SELECT k.access_key_id, k.account_id, a.name, k.secret, k.created, k.revoked_at, k.is_admin
    FROM api_keys k JOIN accounts a ON a.id = k.account_id
"""


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _key(row: Any) -> StoredKey:
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


class SqlStore:
    """Implements :class:`candor.storage.base.KeyStore` and
    :class:`candor.storage.catalog.Catalog`; subclasses give the connections."""

    tx_class: type[SqlCatalogTx] = SqlCatalogTx

    def _connect(self) -> AbstractContextManager[Connection]:
        """A connection outside any transaction (autocommit); the caller begins one."""
        raise NotImplementedError

    def _begin(self, conn: Connection, *, write: bool) -> None:
        raise NotImplementedError

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[Connection]:
        with self._connect() as conn:
            self._begin(conn, write=write)
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def transaction(self, *, write: bool = False) -> Iterator[SqlCatalogTx]:
        """A catalog transaction; see :class:`candor.storage.catalog.Catalog`."""
        with self._tx(write=write) as conn:
            yield self._new_tx(conn)

    def _new_tx(self, conn: Connection) -> SqlCatalogTx:
        return self.tx_class(conn)

    # --- accounts and keys ---------------------------------------------------------------------

    def account(self, name: str, *, create: bool = False) -> Account | None:
        with self._tx(write=True) as conn:
            if create:
                conn.execute(
                    "INSERT INTO accounts (id, name, created) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    (str(uuid.uuid4()), name, now_text()),
                )
            row = conn.execute(
                "SELECT id, name, created FROM accounts WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        created = _time(row[2])
        assert created is not None
        return Account(id=row[0], name=row[1], created=created)

    def add_key(
        self, *, access_key_id: str, account_id: str, sealed_secret: bytes, is_admin: bool
    ) -> StoredKey:
        with self._tx(write=True) as conn:
            conn.execute(
                "INSERT INTO api_keys (access_key_id, account_id, secret, created, is_admin) "
                "VALUES (?, ?, ?, ?, ?)",
                (access_key_id, account_id, sealed_secret, now_text(), int(is_admin)),
            )
        key = self.key(access_key_id)
        assert key is not None
        return key

    def key(self, access_key_id: str) -> StoredKey | None:
        with self._tx(write=False) as conn:
            row = conn.execute(
                _KEY_SELECT + " WHERE k.access_key_id = ?", (access_key_id,)
            ).fetchone()
        return None if row is None else _key(row)

    def keys(self) -> list[StoredKey]:
        with self._tx(write=False) as conn:
            rows = conn.execute(_KEY_SELECT + " ORDER BY k.created, k.access_key_id").fetchall()
        return [_key(r) for r in rows]

    def revoke_key(self, access_key_id: str) -> StoredKey | None:
        with self._tx(write=True) as conn:
            conn.execute(
                "UPDATE api_keys SET revoked_at = ? "
                "WHERE access_key_id = ? AND revoked_at IS NULL",
                (now_text(), access_key_id),
            )
        return self.key(access_key_id)

    def count_keys(self) -> int:
        with self._tx(write=False) as conn:
            n: int = conn.execute("SELECT count(*) FROM api_keys").fetchone()[0]
        return n

    # --- console sessions ----------------------------------------------------------------------

    def add_console_session(
        self, token_hash: str, *, kind: str, access_key_id: str, csrf: str, expires: datetime
    ) -> None:
        with self._tx(write=True) as conn:
            conn.execute("DELETE FROM console_sessions WHERE expires < ?", (now_text(),))
            conn.execute(
                "INSERT INTO console_sessions "
                "(token_hash, kind, access_key_id, csrf, created, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (token_hash, kind, access_key_id, csrf, now_text(),
                 expires.astimezone(timezone.utc).isoformat(timespec="microseconds")),
            )

    def console_session(self, token_hash: str) -> ConsoleSession | None:
        with self._tx(write=False) as conn:
            row = conn.execute(
                "SELECT kind, access_key_id, csrf, created, expires FROM console_sessions "
                "WHERE token_hash = ? AND expires >= ?",
                (token_hash, now_text()),
            ).fetchone()
        return None if row is None else _session(row)

    def end_console_session(self, token_hash: str) -> ConsoleSession | None:
        with self._tx(write=True) as conn:
            row = conn.execute(
                "DELETE FROM console_sessions WHERE token_hash = ? AND expires >= ? "
                "RETURNING kind, access_key_id, csrf, created, expires",
                (token_hash, now_text()),
            ).fetchone()
        return None if row is None else _session(row)


def _session(row: Any) -> ConsoleSession:
    created, expires = _time(row[3]), _time(row[4])
    assert created is not None and expires is not None  # NOT NULL columns
    return ConsoleSession(kind=row[0], access_key_id=row[1], csrf=row[2], created=created,
                          expires=expires)
