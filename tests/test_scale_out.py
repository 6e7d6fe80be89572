"""Candor past one machine: two ``candor serve`` processes (each with its own data directory, as
on two machines, sharing only the master key) and two ``candor worker`` processes on one
PostgreSQL database, driven by concurrent boto3 clients. Then one API process is SIGKILLed, with
its worker processes, in the middle of IndexFaces.

Must hold: no acknowledged face lost, no deleted face returned by a search that began after the
delete was acknowledged, no job result missing or twice, one audit chain that verifies.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from .api.conftest import Server, server_env, start_server, stop_server
from .conftest import LFW
from .test_video import HAMILTON

pytestmark = pytest.mark.multiprocess

COLLECTION = "crowd"


def _images(count: int, offset: int) -> list[Path]:
    people = sorted(p for p in LFW.iterdir() if p.is_dir())
    return [sorted(p.glob("*.jpg"))[0] for p in people[offset : offset + count]]


def _all_faces(client: Any) -> set[str]:
    ids: set[str] = set()
    token = None
    while True:
        page = client.list_faces(CollectionId=COLLECTION, MaxResults=1000,
                                 **({"NextToken": token} if token else {}))
        ids |= {f["FaceId"] for f in page["Faces"]}
        token = page.get("NextToken")
        if not token:
            return ids


def _job_faces(client: Any, job_id: str, timeout: float = 300) -> list[tuple[int, int, str]]:
    deadline = time.monotonic() + timeout
    while client.get_face_detection(JobId=job_id)["JobStatus"] == "IN_PROGRESS":
        assert time.monotonic() < deadline, f"job {job_id} did not finish in {timeout} s"
        time.sleep(0.5)
    out: list[tuple[int, int, str]] = []
    token = None
    while True:
        page = client.get_face_detection(JobId=job_id, MaxResults=7,
                                         **({"NextToken": token} if token else {}))
        assert page["JobStatus"] == "SUCCEEDED", page.get("StatusMessage")
        out += [(f["Timestamp"], f["Face"].get("Index", -1), repr(f["Face"]["BoundingBox"]))
                for f in page["Faces"]]
        token = page.get("NextToken")
        if not token:
            return out


def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process and its children at once, as when its machine dies."""
    parent = psutil.Process(proc.pid)
    family = [*parent.children(recursive=True), parent]
    for p in family:
        p.send_signal(signal.SIGKILL)
    psutil.wait_procs(family, timeout=30)
    proc.wait(timeout=30)


def _check_log(server: Server) -> None:
    log = server.stderr.read_text()
    assert '"traceback"' not in log and '"status": 500' not in log, log[-4000:]


def test_two_api_processes_and_two_workers_share_one_postgres(tmp_path: Path, pg_url: str) -> None:
    media = tmp_path / "media"
    (media / "clips").mkdir(parents=True)
    shutil.copy(HAMILTON, media / "clips" / "hamilton.mp4")
    env = {"CANDOR_DATABASE_URL": pg_url, "CANDOR_MEDIA_ROOT": str(media),
           "CANDOR_JOB_WORKERS": "0"}
    a = start_server(tmp_path / "a", "--workers", "1", env=env)
    assert a.key_id, "the first server on an empty database creates the first admin key"
    (tmp_path / "b").mkdir()
    shutil.copy(a.data_dir / "master.key", tmp_path / "b" / "master.key")
    b = start_server(tmp_path / "b", "--workers", "1", env=env)
    assert not b.key_id, "the second server finds the keys the first one made"
    workers = [
        subprocess.Popen([sys.executable, "-m", "candor.cli", "--data-dir", str(d), "worker"],
                         env={**server_env(), **env}, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        for d in (a.data_dir, b.data_dir)
    ]
    servers = [a, b]
    clients = [s.client(a.key_id, a.secret) for s in servers]
    try:
        clients[0].create_collection(CollectionId=COLLECTION)
        lock = threading.Lock()
        acked: set[str] = set()
        deleted: set[str] = set()
        searches = [0]
        errors: list[BaseException] = []

        def drive(i: int) -> None:
            client = servers[i % 2].client(a.key_id, a.secret)
            mine: list[str] = []
            try:
                for k, path in enumerate(_images(8, offset=200 + 8 * i)):
                    image = {"Bytes": path.read_bytes()}
                    r = client.index_faces(CollectionId=COLLECTION, Image=image, MaxFaces=1,
                                           QualityFilter="NONE")
                    ids = [f["Face"]["FaceId"] for f in r["FaceRecords"]]
                    mine += ids
                    with lock:
                        acked.update(ids)
                    if k % 3 == 2 and mine:
                        victim = mine.pop(0)
                        client.delete_faces(CollectionId=COLLECTION, FaceIds=[victim])
                        with lock:
                            deleted.add(victim)
                    with lock:
                        gone_before = set(deleted)
                    found = client.search_faces_by_image(
                        CollectionId=COLLECTION, Image=image, FaceMatchThreshold=0, MaxFaces=4096
                    )
                    returned = {m["Face"]["FaceId"] for m in found["FaceMatches"]}
                    assert not returned & gone_before, "a search returned a deleted face"
                    with lock:
                        searches[0] += 1
            except BaseException as e:
                errors.append(e)
            finally:
                client.close()

        video = {"S3Object": {"Bucket": "clips", "Name": "hamilton.mp4"}}
        first = clients[0].start_face_detection(Video=video, ClientRequestToken="same")["JobId"]
        again = clients[1].start_face_detection(Video=video, ClientRequestToken="same")["JobId"]
        assert again == first, "one ClientRequestToken, one job, whichever server is asked"
        second = clients[1].start_face_detection(Video=video)["JobId"]

        threads = [threading.Thread(target=drive, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

        for client in clients:  # each server sees what both did
            assert _all_faces(client) == acked - deleted
        assert len(deleted) >= 8 and searches[0] == 32

        one, two = _job_faces(clients[1], first), _job_faces(clients[0], second)
        assert one, "the clip's faces were found"
        assert len(set(one)) == len(one), "a job result was stored twice"
        assert one == two, "two runs of one job differ: a result is missing or doubled"

        # SIGKILL server a (and its worker processes) while it is indexing.
        done: list[str] = []
        stop = threading.Event()

        def index_until_killed() -> None:
            client = a.client()
            try:
                for path in _images(60, offset=400):
                    if stop.is_set():
                        return
                    r = client.index_faces(CollectionId=COLLECTION,
                                           Image={"Bytes": path.read_bytes()}, MaxFaces=1,
                                           QualityFilter="NONE")
                    done.extend(f["Face"]["FaceId"] for f in r["FaceRecords"])
            except Exception:
                return  # the connection died with the server: what was acknowledged is in done
            finally:
                client.close()

        indexer = threading.Thread(target=index_until_killed)
        indexer.start()
        deadline = time.monotonic() + 120
        while len(done) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        _kill_tree(a.proc)
        stop.set()
        indexer.join(timeout=120)
        assert len(done) >= 5
        present = _all_faces(clients[1])
        assert set(done) <= present, "an acknowledged face was lost with the killed server"
        # At most one face nobody heard of: the IndexFaces whose transaction committed just
        # before the kill took its response.
        assert len(present - acked - set(done)) <= 1

        verify = subprocess.run(
            [sys.executable, "-m", "candor.cli", "--data-dir", str(b.data_dir), "audit", "verify"],
            env={**server_env(), **env}, capture_output=True, text=True, timeout=120, check=False,
        )
        assert verify.returncode == 0, verify.stdout + verify.stderr
        # every index, delete and search above left its record in the one chain
        assert verify.stdout.startswith("ok: "), verify.stdout
        assert int(verify.stdout.split()[1]) >= (
            len(acked) + len(deleted) + searches[0] + len(done)
        ), verify.stdout
    finally:
        for client in clients:
            client.close()
        for w in workers:
            w.send_signal(signal.SIGTERM)
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
        if a.proc.poll() is None:
            stop_server(a)
        assert stop_server(b) == 0
    _check_log(b)

