"""Crash and concurrency safety of collections: the database is the truth, indexes follow it.

A process is SIGKILLed in the middle of a large IndexFaces batch; afterwards every face it
acknowledged is listed and searchable, no face it deleted comes back, and a fresh index agrees
with the table. Several processes index, delete and search one collection at once and nothing
acknowledged is lost or resurrected. Both on SQLite and on a shared PostgreSQL database.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from candor import Client, Settings
from candor.runtime import Runtime
from candor.types import Caller

from .conftest import LFW, ROOT

WORKER = [sys.executable, "-m", "tests.collection_worker"]


def lfw_images(count: int, offset: int = 0) -> list[str]:
    people = sorted(p for p in LFW.iterdir() if p.is_dir())
    return [str(sorted(p.glob("*.jpg"))[0]) for p in people[offset : offset + count]]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The database every client of the test uses, in this process and in the ones it starts
    (they read CANDOR_DATABASE_URL)."""
    if request.param == "postgres":
        monkeypatch.setenv("CANDOR_DATABASE_URL", request.getfixturevalue("pg_url"))
    else:
        monkeypatch.delenv("CANDOR_DATABASE_URL", raising=False)
    return str(request.param)


def fresh_client(data_dir: Path) -> Client:
    """A new process's view: a new Runtime, so its index is rebuilt from the table."""
    return Client(runtime=Runtime(Settings.from_env(data_dir=data_dir)))


def all_face_ids(client: Client, coll: str) -> list[str]:
    ids, token = [], None
    while True:
        page = client.list_faces(CollectionId=coll, MaxResults=4096, **({"NextToken": token} if token else {}))
        ids += [f["FaceId"] for f in page["Faces"]]
        token = page.get("NextToken")
        if not token:
            return ids


def index_agrees_with_table(client: Client, coll: str) -> None:
    rt = client.runtime
    with rt.catalog.transaction() as tx:
        record = tx.collection("admin", coll)
        assert record is not None
        _, faces = tx.snapshot(record)
        for row, descriptor in faces:
            hits = rt.indexes.search(tx, record, rt.scoring_for(record), descriptor, 1, None)
            assert hits and hits[0][1] < 1e-5, f"face row {row} is not found by its own descriptor"
        index = rt.indexes._entries[(record.row, record.scoring)].index
        assert len(index) == len(faces)


def start(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([*WORKER, *args], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)


def test_sigkill_mid_batch_loses_nothing(tmp_path: Path, backend: str) -> None:
    setup = Client(data_dir=tmp_path)
    setup.create_collection(CollectionId="crash")
    proc = start("index", str(tmp_path), "crash", *lfw_images(400), "--delete-every", "4")
    acked: list[str] = []
    deleted: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        kind, face_id = line.split()
        (acked if kind == "indexed" else deleted).append(face_id)
        if len(acked) >= 40:
            break
    time.sleep(0.05)  # land the kill inside the next IndexFaces, most likely mid-transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    # Whatever the child printed after our last read was also acknowledged.
    for line in proc.stdout.read().splitlines():
        kind, face_id = line.split()
        (acked if kind == "indexed" else deleted).append(face_id)
    proc.stdout.close()

    after = fresh_client(tmp_path)
    present = set(all_face_ids(after, "crash"))
    assert set(acked) - set(deleted) <= present, "an acknowledged face was lost"
    assert not (set(deleted) & present), "a deleted face came back"
    index_agrees_with_table(after, "crash")
    # Every surviving acknowledged face is searchable by its own image's descriptor.
    for face_id in list(set(acked) - set(deleted))[:10]:
        r = after.search_faces(CollectionId="crash", FaceId=face_id, FaceMatchThreshold=0, MaxFaces=4096)
        assert face_id not in {m["Face"]["FaceId"] for m in r["FaceMatches"]}
        assert not ({m["Face"]["FaceId"] for m in r["FaceMatches"]} & set(deleted))


def test_concurrent_index_delete_search(tmp_path: Path, backend: str) -> None:
    setup = Client(data_dir=tmp_path)
    setup.create_collection(CollectionId="busy")
    seed = []
    for path in lfw_images(30, offset=500):
        r = setup.index_faces(CollectionId="busy", Image={"Bytes": Path(path).read_bytes()}, QualityFilter="NONE")
        seed += [f["Face"]["FaceId"] for f in r["FaceRecords"]]
    deleted_log = tmp_path / "deleted.txt"

    indexer = start("index", str(tmp_path), "busy", *lfw_images(40, offset=1000))
    deleter = start("delete", str(tmp_path), "busy", *seed[:20])
    searcher = start(
        "search", str(tmp_path), "busy", *lfw_images(5, offset=500),
        "--deleted-log", str(deleted_log), "--seconds", "12",
    )
    deleted: list[str] = []
    assert deleter.stdout is not None
    for line in deleter.stdout:
        face_id = line.split()[1]
        deleted.append(face_id)
        with deleted_log.open("a") as fh:
            fh.write(face_id + "\n")
    assert deleter.wait(timeout=120) == 0
    deleter.stdout.close()
    out, _ = indexer.communicate(timeout=300)
    assert indexer.returncode == 0
    indexed = [line.split()[1] for line in out.splitlines()]
    s_out, _ = searcher.communicate(timeout=120)
    assert searcher.returncode == 0, s_out
    assert "searched" in s_out

    final = fresh_client(tmp_path)
    present = set(all_face_ids(final, "busy"))
    assert set(indexed) <= present
    assert set(seed[20:]) <= present
    assert not (set(deleted) & present)
    assert len(deleted) == 20
    index_agrees_with_table(final, "busy")
    # The long-lived setup client's index caught up with the other processes' changes too.
    index_agrees_with_table(setup, "busy")
    r = setup.search_faces_by_image(CollectionId="busy", Image={"Bytes": Path(lfw_images(1, offset=1000)[0]).read_bytes()}, FaceMatchThreshold=99)
    assert r["FaceMatches"] and r["FaceMatches"][0]["Face"]["FaceId"] in indexed


@pytest.mark.parametrize("how", ["DeleteFaces", "DeleteCollection", "RetentionPurge"])
def test_deleted_descriptor_bytes_leave_the_file(tmp_path: Path, how: str) -> None:
    import sqlite3
    from datetime import datetime, timedelta, timezone

    from candor.services.retention import purge_expired

    client = Client(data_dir=tmp_path)
    arn = client.create_collection(CollectionId="gone")["CollectionArn"]
    path = lfw_images(1)[0]
    (face,) = client.index_faces(CollectionId="gone", Image={"Bytes": Path(path).read_bytes()})["FaceRecords"]
    face_id = face["Face"]["FaceId"]
    rt = client.runtime
    with rt.catalog.transaction() as tx:
        record = tx.collection(Caller.local().account, "gone")
        assert record is not None
        (row,) = tx.faces_by_id(record, [face_id])
    needle = row.descriptor[:32]

    def in_files() -> bool:
        return any(needle in p.read_bytes() for p in tmp_path.glob("candor.db*"))

    assert in_files()
    if how == "DeleteFaces":
        client.delete_faces(CollectionId="gone", FaceIds=[face_id])
    elif how == "DeleteCollection":
        client.delete_collection(CollectionId="gone")
    else:
        client.tag_resource(ResourceArn=arn, Tags={"candor:retention-days": "1"})
        assert purge_expired(rt, now=datetime.now(timezone.utc) + timedelta(days=2)) == {arn: 1}
    with sqlite3.connect(tmp_path / "candor.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    assert not in_files(), "descriptor bytes are still in the database files"
    assert np.frombuffer(needle, dtype="<f4").size == 8
