"""The video-job queue contract (candor.storage.jobs.JobTx), on every backend."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

from candor.storage.catalog import Catalog
from candor.storage.jobs import FAILED, IN_PROGRESS, QUEUED, SUCCEEDED, NewJob


def _job(job_id: str, account: str = "a", token: str | None = None) -> NewJob:
    return NewJob(job_id=job_id, account=account, operation="StartFaceDetection",
                  request="{}", token=token, tag="t")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def test_jobs_are_claimed_oldest_first_and_belong_to_their_account(catalog: Catalog) -> None:
    with catalog.transaction(write=True) as tx:
        first = tx.insert_job(_job("j1", token="tok"))
        tx.insert_job(_job("j2", account="b"))
        assert first.status == QUEUED and first.attempts == 0
        assert tx.job("b", "j1") is None  # another account's job is not there
        assert tx.job_by_token("a", "StartFaceDetection", "tok") is not None
        assert [j.job_id for j in tx.jobs("a", "StartFaceDetection", None, 10)] == ["j1"]
    with catalog.transaction(write=True) as tx:
        claimed = tx.claim_job("w1", _now() - timedelta(seconds=60))
        assert claimed is not None and claimed.job_id == "j1"
        assert claimed.status == IN_PROGRESS and claimed.worker == "w1" and claimed.attempts == 1
    with catalog.transaction(write=True) as tx:
        second = tx.claim_job("w2", _now() - timedelta(seconds=60))
        assert second is not None and second.job_id == "j2"
        assert tx.claim_job("w3", _now() - timedelta(seconds=60)) is None


def test_results_page_in_order_and_go_with_the_job(catalog: Catalog) -> None:
    with catalog.transaction(write=True) as tx:
        tx.insert_job(_job("j"))
        assert tx.claim_job("w", _now()) is not None
        assert tx.add_job_results("j", "w", 1, ["a", "b", "c"])
        assert tx.add_job_results("j", "w", 4, ["d"])
        assert tx.job_results("j", 0, 2) == [(1, "a"), (2, "b")]
        assert tx.job_results("j", 2, 10) == [(3, "c"), (4, "d")]
        assert tx.heartbeat("j", "w", 0.5, '{"codec": "h264"}')
        assert tx.finish_job("j", "w", SUCCEEDED, None, None)
        done = tx.job("a", "j")
        assert done is not None and done.status == SUCCEEDED and done.video == '{"codec": "h264"}'
        assert not tx.finish_job("j", "w", FAILED, "twice", None)  # finished once
        assert tx.finished_jobs(_now() + timedelta(seconds=1), 10) == ["j"]
        tx.delete_job("j")
        assert tx.job("a", "j") is None and tx.job_results("j", 0, 10) == []


def test_a_stale_job_is_reclaimed_with_its_partial_results_dropped(catalog: Catalog) -> None:
    with catalog.transaction(write=True) as tx:
        tx.insert_job(_job("j"))
        assert tx.claim_job("dead", _now()) is not None
        assert tx.add_job_results("j", "dead", 1, ["partial"])
    with catalog.transaction(write=True) as tx:
        assert tx.claim_job("live", _now() - timedelta(seconds=60)) is None  # still fresh
        again = tx.claim_job("live", _now() + timedelta(seconds=1))
        assert again is not None and again.worker == "live" and again.attempts == 2
        assert tx.job_results("j", 0, 10) == []
        assert not tx.heartbeat("j", "dead", 0.9, None)
        assert not tx.add_job_results("j", "dead", 2, ["late"])  # the dead worker writes nothing
        assert tx.job_results("j", 0, 10) == []


def test_concurrent_workers_never_claim_the_same_job(catalog: Catalog) -> None:
    with catalog.transaction(write=True) as tx:
        for i in range(20):
            tx.insert_job(_job(f"j{i:02d}"))
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while True:
            with catalog.transaction(write=True) as tx:
                job = tx.claim_job(name, _now() - timedelta(seconds=60))
            if job is None:
                return
            with lock:
                claimed.append(job.job_id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(claimed) == [f"j{i:02d}" for i in range(20)]


def test_a_failed_job_keeps_no_partial_results(catalog: Catalog) -> None:
    with catalog.transaction(write=True) as tx:
        tx.insert_job(_job("j"))
        assert tx.claim_job("w", _now()) is not None
        assert tx.add_job_results("j", "w", 1, ["half", "way"])
        assert tx.finish_job("j", "w", FAILED, "the file looks truncated", None)
        failed = tx.job("a", "j")
        assert failed is not None and failed.status == FAILED
        assert tx.job_results("j", 0, 10) == []
