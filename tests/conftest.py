from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from candor import Client, Settings
from candor.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES = DATA / "faces"
SMOKE = FACES / "smoke-face_recognition"
DEEPFACE = FACES / "smoke-deepface"
LFW = FACES / "lfw-dev" / "images"


def pytest_configure(config: pytest.Config) -> None:
    if not FACES.is_dir():
        raise pytest.UsageError(
            f"test data not found at {DATA}; set CANDOR_SHARED_DATA to the shared data folder"
        )


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A PostgreSQL server for this test session (see tests/pg.py)."""
    from tests.pg import start_server

    server = start_server(tmp_path_factory.mktemp("pg"))
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server: Any) -> str:
    """A fresh database of its own for one test."""
    from tests.pg import new_database

    return new_database(pg_server)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("candor-data")


#: CANDOR_TEST_DATABASE=postgres runs the session's shared runtime and `candor serve` (the API
#: tests) on a PostgreSQL database instead of SQLite; CI runs the API tests both ways.
ON_POSTGRES = os.environ.get("CANDOR_TEST_DATABASE") == "postgres"


@pytest.fixture(scope="session")
def session_database(request: pytest.FixtureRequest) -> str | None:
    """The session's PostgreSQL database URL under CANDOR_TEST_DATABASE=postgres, else None."""
    if not ON_POSTGRES:
        return None
    from tests.pg import new_database

    return new_database(request.getfixturevalue("pg_server"))


@pytest.fixture(scope="session")
def settings(data_dir: Path, session_database: str | None) -> Settings:
    return Settings(data_dir=data_dir, database_url=session_database)


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Runtime:
    return Runtime(settings)


@pytest.fixture(scope="session")
def client(runtime: Runtime) -> Client:
    return Client(runtime=runtime)


def read(path: Path) -> bytes:
    return path.read_bytes()
