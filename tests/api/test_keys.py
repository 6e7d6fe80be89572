"""API keys: sealed at rest, revocable, and the store's SQLite settings."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from candor.config import Settings
from candor.errors import ConfigurationError
from candor.keys import MASTER_KEY_NAME, KeyRing, load_master_key
from candor.storage.sqlite import DB_NAME, SqliteStore


def test_create_list_revoke(tmp_path: Path) -> None:
    ring = KeyRing.open(Settings(data_dir=tmp_path))
    assert ring.is_empty()
    admin = ring.create("admin", is_admin=True)
    user = ring.create("team-a")
    assert len(admin.access_key_id) == 20 and admin.access_key_id.isalnum()
    assert admin.access_key_id != user.access_key_id and len(user.secret) == 40

    principal = ring.principal(user.access_key_id)
    assert principal is not None and principal.secret == user.secret
    assert principal.account_name == "team-a" and not principal.is_admin
    assert [k.access_key_id for k in ring.list()] == [admin.access_key_id, user.access_key_id]

    revoked = ring.revoke(user.access_key_id)
    assert revoked is not None and revoked.revoked_at is not None
    assert ring.principal(user.access_key_id) is None
    assert ring.principal("CNDRNOSUCHKEY0000000") is None
    assert ring.revoke("CNDRNOSUCHKEY0000000") is None
    # a second ring on the same directory (another process) sees the same keys
    again = KeyRing.open(Settings(data_dir=tmp_path))
    assert again.principal(admin.access_key_id) is not None


def test_secrets_are_sealed_at_rest(tmp_path: Path) -> None:
    ring = KeyRing.open(Settings(data_dir=tmp_path))
    key = ring.create("a")
    assert key.secret.encode() not in (tmp_path / DB_NAME).read_bytes()
    assert os.stat(tmp_path / MASTER_KEY_NAME).st_mode & 0o777 == 0o600

    # A sealed secret moved onto another key's row does not open (the key id is bound in).
    other = ring.create("b")
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        sealed = conn.execute(
            "SELECT secret FROM api_keys WHERE access_key_id = ?", (key.access_key_id,)
        ).fetchone()[0]
        conn.execute("UPDATE api_keys SET secret = ? WHERE access_key_id = ?",
                     (sealed, other.access_key_id))
    conn.close()
    with pytest.raises(ConfigurationError, match="does not open"):
        ring.principal(other.access_key_id)


def test_master_key_must_be_private(tmp_path: Path) -> None:
    load_master_key(tmp_path)
    os.chmod(tmp_path / MASTER_KEY_NAME, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_master_key(tmp_path)
    os.chmod(tmp_path / MASTER_KEY_NAME, 0o600)
    (tmp_path / MASTER_KEY_NAME).write_bytes(b"short")
    with pytest.raises(ConfigurationError, match="32 bytes"):
        load_master_key(tmp_path)


def test_sqlite_is_wal_with_full_sync(tmp_path: Path) -> None:
    store = SqliteStore.in_data_dir(tmp_path)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
    conn.close()
    with store._connect() as conn:
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
