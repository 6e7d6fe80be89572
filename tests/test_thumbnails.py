"""Face thumbnails: kept only when the operator opts in, deleted with their face."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from candor.client import Client
from candor.config import Settings
from candor.runtime import Runtime

from .conftest import SMOKE


def _client(runtime: Runtime, tmp_path: Path, url: str | None, on: bool) -> tuple[Client, Runtime]:
    rt = Runtime(Settings(data_dir=tmp_path, database_url=url, face_thumbnails=on))
    rt.faces = runtime.faces  # the session's loaded models
    return Client(runtime=rt), rt


def _stored(rt: Runtime, collection: str, face_ids: list[str]) -> dict[str, bytes]:
    with rt.catalog.transaction() as tx:
        record = tx.collection("admin", collection)
        assert record is not None
        return tx.thumbnails(record, face_ids)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_thumbnails_are_kept_on_request_and_go_with_their_faces(
    backend: str, runtime: Runtime, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    client, rt = _client(runtime, tmp_path, url, on=True)
    client.create_collection(CollectionId="c")
    group = (SMOKE / "examples" / "obama.jpg").read_bytes()
    made = client.index_faces(CollectionId="c", Image={"Bytes": group})["FaceRecords"]
    ids = [f["Face"]["FaceId"] for f in made]
    stored = _stored(rt, "c", ids)
    assert set(stored) == set(ids)
    with Image.open(io.BytesIO(stored[ids[0]])) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 96
    with rt.catalog.transaction() as tx:
        last = [r.fields() for r in tx.audit_records()][-1]
    assert last["operation"] == "IndexFaces" and last["detail"]["thumbnails"] is True
    client.delete_faces(CollectionId="c", FaceIds=ids[:1])
    assert set(_stored(rt, "c", ids)) == set(ids[1:])
    client.delete_collection(CollectionId="c")
    with rt.catalog.transaction() as tx:
        rows = tx.conn.execute("SELECT count(*) FROM face_thumbnails").fetchone()  # type: ignore[attr-defined]
    assert rows[0] == 0


def test_no_thumbnails_by_default(runtime: Runtime, tmp_path: Path) -> None:
    client, rt = _client(runtime, tmp_path, None, on=False)
    client.create_collection(CollectionId="c")
    made = client.index_faces(
        CollectionId="c", Image={"Bytes": (SMOKE / "examples" / "obama.jpg").read_bytes()}
    )["FaceRecords"]
    assert made and _stored(rt, "c", [f["Face"]["FaceId"] for f in made]) == {}
