"""What must hold when many writers share one database at once — trivially true on SQLite (one
writer at a time), and the reason for each lock the PostgreSQL backend takes."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from candor import audit
from candor.audit import AuditEvent
from candor.storage.catalog import Catalog
from candor.storage.jobs import NewJob
from candor.types import Caller

from .test_catalog import face, make


def _run(threads: int, target: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def guarded(i: int) -> None:
        try:
            target(i)
        except BaseException as e:  # surfaced below, with the thread's traceback
            errors.append(e)

    pool = [threading.Thread(target=guarded, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]


def test_index_catch_up_never_skips_a_change_that_commits_late(catalog: Catalog) -> None:
    """Writers that hold their transaction open after adding a face (as IndexFaces does while
    it appends the audit record) must not let a reader's catch-up move past their change."""
    rec = make(catalog)
    seen: set[int] = set()
    applied = 0
    done = threading.Event()

    def writer(i: int) -> None:
        rng = random.Random(i)
        for j in range(6):
            with catalog.transaction(write=True) as tx:
                if rng.random() < 0.3 and seen:
                    gone = tx.faces(rec, after_row=0, limit=1)
                    tx.delete_faces(rec, [f.face_id for f in gone])
                else:
                    tx.insert_faces(rec, [face(i * 100 + j)])
                time.sleep(rng.random() * 0.01)

    def reader() -> None:
        nonlocal applied
        while True:
            finished = done.is_set()
            with catalog.transaction(write=True) as tx:
                for change in tx.changes_since(rec, applied):
                    if change.descriptor is None:
                        seen.discard(change.face_row)
                    else:
                        seen.add(change.face_row)
                    applied = change.seq
            if finished:
                return

    follow = threading.Thread(target=reader)
    follow.start()
    try:
        _run(6, writer)
    finally:
        done.set()
        follow.join()
    with catalog.transaction() as tx:
        _, faces = tx.snapshot(rec)
    assert seen == {row for row, _ in faces}


def test_concurrent_audit_appends_make_one_chain(catalog: Catalog) -> None:
    caller = Caller(account="acct", access_key_id=None, purpose=None)

    def appender(i: int) -> None:
        for j in range(10):
            with catalog.transaction(write=True) as tx:
                audit.append(tx, caller, AuditEvent("SearchFacesByImage", detail={"i": i, "j": j}))

    _run(6, appender)
    with catalog.transaction() as tx:
        verdict = audit.verify(tx.audit_records())
    assert verdict.ok, verdict.reason
    assert verdict.records == 60


def test_one_collection_id_created_once_under_a_race(catalog: Catalog) -> None:
    made: list[bool] = []

    def create(i: int) -> None:
        with catalog.transaction(write=True) as tx:
            made.append(
                tx.create_collection("acct", "same", "arn:aws:rekognition:r:acct:collection/same",
                                     "m1", "s1") is not None
            )

    _run(6, create)
    assert sorted(made) == [False] * 5 + [True]


def test_one_job_per_client_request_token_under_a_race(catalog: Catalog) -> None:
    started: list[str] = []

    def start(i: int) -> None:
        with catalog.transaction(write=True) as tx:
            found = tx.job_by_token("acct", "StartFaceDetection", "tok")
            if found is None:
                time.sleep(0.01)  # a slow request between the check and the insert
                tx.insert_job(NewJob(f"j{i}", "acct", "StartFaceDetection", "{}", "tok", None))
                started.append(f"j{i}")

    _run(4, start)
    assert len(started) == 1
    now = datetime.now(timezone.utc)
    with catalog.transaction(write=True) as tx:
        assert tx.claim_job("w", now) is not None
        assert tx.claim_job("w", now) is None
