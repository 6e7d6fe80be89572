"""Backends every storage contract test runs against. A PostgreSQL backend joins the params."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from candor.storage.catalog import Catalog


@pytest.fixture(params=["sqlite"])
def catalog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalog]:
    if request.param == "sqlite":
        from candor.storage.sqlite import SqliteStore

        yield SqliteStore(tmp_path / "candor.db")
