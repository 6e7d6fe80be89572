"""Storage backends. :func:`open_store` picks the one the settings name."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from candor.config import Settings
    from candor.storage.sql_store import SqlStore


def open_store(settings: Settings) -> SqlStore:
    """The key store and catalog: SQLite in the data directory, or the PostgreSQL database of
    ``CANDOR_DATABASE_URL`` (one connection pool per process and URL)."""
    if settings.database_url:
        return _postgres(
            settings.database_url, settings.database_pool, settings.vector_index == "pgvector"
        )
    from candor.storage.sqlite import SqliteStore

    return SqliteStore.in_data_dir(settings.data_dir)


@functools.cache
def _postgres(url: str, pool: int, vectors: bool) -> SqlStore:
    from candor.storage.postgres import PostgresStore

    return PostgresStore(url, max_connections=pool, vectors=vectors)
