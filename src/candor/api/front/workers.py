"""Worker processes that parse, run the models and serialize, behind one queue.

A queue in front of the pool gives each request to whichever worker is free, which a pre-fork
server (each process accepting its own, possibly keep-alive, connections) does not: with
boto3's connection reuse, one busy process could hold requests while another core sat idle.
Workers are spawned, not forked, so they inherit no threads or locks, and each loads the models
once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from candor.api import http
from candor.api.front.logs import configure_logging, log
from candor.config import Settings
from candor.errors import ConfigurationError
from candor.types import Caller

_worker_runtime: Any = None  # one Runtime per worker process, set by _init_worker


def _init_worker(settings: Settings, parent_pid: int) -> None:
    # The front process decides when workers stop: a terminal's Ctrl-C or systemd's SIGTERM to
    # the whole group must not kill a request half-way.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    configure_logging()
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    from candor.runtime import Runtime

    global _worker_runtime
    _worker_runtime = Runtime(settings)


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


def _warm(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _run(operation: str, body: bytes, request_id: str, caller: Caller) -> http.Reply:
    return http.handle(_worker_runtime, operation, body, request_id, caller)


def _console(name: str, args: tuple[Any, ...]) -> Any:
    from candor.console import work

    return getattr(work, name)(_worker_runtime, *args)


class WorkerPool:
    """Worker processes behind a queue; a pool broken by a crashed worker is replaced."""

    def __init__(self, settings: Settings, size: int) -> None:
        self.settings = settings
        self.size = size
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        return concurrent.futures.ProcessPoolExecutor(
            max_workers=self.size,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self.settings, os.getpid()),
        )

    def start(self) -> None:
        """Start every worker now (imports, settings, runtime), not on the first requests."""
        # Tasks that overlap force the pool to spawn all its workers, not reuse the first.
        futures = [self._pool.submit(_warm, 0.5) for _ in range(self.size)]
        try:
            for f in futures:
                f.result()
        except BrokenProcessPool as exc:
            raise ConfigurationError(f"worker processes failed to start: {exc}") from exc

    async def run(
        self, operation: str, body: bytes, request_id: str, caller: Caller
    ) -> http.Reply:
        pool = self._pool
        try:
            future = pool.submit(_run, operation, body, request_id, caller)
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            log.error("a worker process died during request %s; restarting the pool", request_id)
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return http.internal_error(request_id)

    async def call(self, name: str, *args: Any) -> Any:
        """Run ``candor.console.work.<name>(runtime, *args)`` in a worker (what console pages
        read beyond the operations); its exceptions are raised here."""
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(_console, name, args))
        except BrokenProcessPool:
            log.error("a worker process died during console task %s; restarting the pool", name)
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            raise

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)
