"""Backends every storage contract test runs against: SQLite in a temporary directory, and a
fresh database on a real PostgreSQL server (tests/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from candor.storage.catalog import Catalog


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    if request.param == "sqlite":
        from candor.storage.sqlite import SqliteStore

        yield SqliteStore(tmp_path / "candor.db")
    else:
        from candor.storage.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("pg_url"), max_connections=8)
        try:
            yield store
        finally:
            store.close()
