"""What the rest of Candor needs from a database, as Protocols a backend fills.

SQLite (:mod:`candor.storage.sqlite`) is the embedded default; a PostgreSQL backend implements the
same Protocols. Backends store what they are given: the API key secret arrives already encrypted
(see :mod:`candor.keys`), so no backend ever holds a usable secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    created: datetime


@dataclass(frozen=True)
class ConsoleSession:
    """A web console sign-in (``kind`` "session") or a one-time sign-in ticket ("ticket")."""

    kind: str
    access_key_id: str
    csrf: str
    created: datetime
    expires: datetime


@dataclass(frozen=True)
class StoredKey:
    """An API key row. ``sealed_secret`` is the AES-GCM ciphertext, never the secret itself."""

    access_key_id: str
    account_id: str
    account_name: str
    sealed_secret: bytes
    created: datetime
    revoked_at: datetime | None
    is_admin: bool

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class KeyStore(Protocol):
    """Accounts and their API keys."""

    def account(self, name: str, *, create: bool = False) -> Account | None:
        """The account called ``name``; created first when ``create`` and it does not exist."""
        ...

    def add_key(
        self, *, access_key_id: str, account_id: str, sealed_secret: bytes, is_admin: bool
    ) -> StoredKey:
        ...

    def key(self, access_key_id: str) -> StoredKey | None:
        """The key row, revoked or not; None when there is no such key."""
        ...

    def keys(self) -> list[StoredKey]:
        """Every key, oldest first."""
        ...

    def revoke_key(self, access_key_id: str) -> StoredKey | None:
        """Mark the key revoked (idempotent); None when there is no such key."""
        ...

    def count_keys(self) -> int:
        ...

    def add_console_session(
        self, token_hash: str, *, kind: str, access_key_id: str, csrf: str, expires: datetime
    ) -> None:
        """Store a console session or ticket (and drop the expired ones)."""
        ...

    def console_session(self, token_hash: str) -> ConsoleSession | None:
        """The unexpired session or ticket with this token hash; None otherwise."""
        ...

    def end_console_session(self, token_hash: str) -> ConsoleSession | None:
        """Delete it and return what was deleted (None if there was none): one caller wins, so
        a ticket is used at most once."""
        ...
