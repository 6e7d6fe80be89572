"""The video-job worker: claim a job from the database, run it, heartbeat while it runs.

Any number of workers (``candor worker`` processes on any machine that shares the database, and
the one ``candor serve`` embeds) take jobs from the same table; a claim happens inside a write
transaction, so a job has one worker at a time. A worker heartbeats every few seconds while it
runs; a job whose worker stops heartbeating for ``CANDOR_JOB_STALE_AFTER`` seconds (the process
was killed, the machine lost) is claimed again by another worker and starts over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from candor.config import Settings
from candor.runtime import Runtime
from candor.services import media_analysis, video
from candor.storage.jobs import JobRecord
from candor.video import VideoInfo

log = logging.getLogger("candor.jobs")

HEARTBEAT_S = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class _Beat:
    """Writes the latest progress every HEARTBEAT_S seconds from a thread, so a slow frame never
    makes the job look dead; tells the runner when the job was taken away."""

    def __init__(self, rt: Runtime, job: JobRecord, worker: str) -> None:
        self.rt, self.job, self.worker = rt, job, worker
        self.progress = 0.0
        self.video: str | None = None
        self.owned = True
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def report(self, progress: float, info: VideoInfo | None) -> bool:
        self.progress = progress
        if info is not None:
            import dataclasses
            import json

            self.video = json.dumps(dataclasses.asdict(info))
            self._beat()
        return self.owned

    def _beat(self) -> None:
        with self.rt.catalog.transaction(write=True) as tx:
            self.owned = tx.heartbeat(self.job.job_id, self.worker, self.progress, self.video)

    def _run(self) -> None:
        while not self.stop.wait(HEARTBEAT_S):
            try:
                self._beat()
            except Exception:  # a busy database: try again next beat
                log.warning("heartbeat for job %s failed", self.job.job_id, exc_info=True)


def run_one(
    rt: Runtime,
    worker: str,
    *,
    job: JobRecord | None = None,
    on_progress: Callable[[float], None] | None = None,
) -> JobRecord | None:
    """Claim one job (or run ``job``, already claimed) to its end; the job as claimed, or None
    when there was nothing to do."""
    job = job or video.claim(rt, worker)
    if job is None:
        return None
    beat = _Beat(rt, job, worker)

    def report(progress: float, info: VideoInfo | None) -> bool:
        if on_progress is not None:
            on_progress(progress)
        return beat.report(progress, info)

    log.info("job %s (%s) started by %s", job.job_id, job.operation, worker)
    beat.thread.start()
    runner = media_analysis.run_job if job.operation == media_analysis.OPERATION else video.run_job
    try:
        status = runner(rt, job, worker, report)
    finally:
        beat.stop.set()
        beat.thread.join()
    log.info("job %s %s", job.job_id, status)
    return job


def work(settings: Settings, stop: threading.Event | None = None, *, poll: float = 1.0) -> None:
    """Run jobs until ``stop`` is set (or forever)."""
    stop = stop or threading.Event()
    rt = Runtime(settings)
    name = worker_name()
    log.info("video worker %s ready", name)
    while not stop.is_set():
        try:
            done = run_one(rt, name)
        except Exception:
            log.exception("video worker %s: unexpected error", name)
            done = None
        if done is None:
            stop.wait(poll)


def work_in_process(settings: Settings, stop: object) -> None:
    """Entry point of the worker process ``candor serve`` embeds (``stop``: a multiprocessing
    Event)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the front process stops us through ``stop``
    from candor.api.front.logs import configure_logging

    configure_logging()
    flag = threading.Event()

    def watch() -> None:
        while not stop.wait(0.5):  # type: ignore[attr-defined]
            pass
        flag.set()

    threading.Thread(target=watch, daemon=True).start()
    work(settings, flag)


def wait_until_done(rt: Runtime, account: str, job_id: str, timeout: float) -> JobRecord | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with rt.catalog.transaction() as tx:
            job = tx.job(account, job_id)
        if job is None or job.status in ("SUCCEEDED", "FAILED"):
            return job
        time.sleep(0.5)
    return None
