"""``candor serve``: the HTTP server AWS SDKs and the AWS CLI talk to through ``endpoint_url``.

Why this shape: one front process serves HTTP with uvicorn and starlette (an established server
does the framing; :mod:`candor.api.front.app` adds limits, SigV4 and the access log) and hands
each operation, as the raw body bytes, to a pool of worker processes (one per CPU by default,
:mod:`candor.api.front.workers`) that parse, run the models and serialize. The front process is
not the bottleneck for CPU-bound inference that takes tens to hundreds of milliseconds per call.

Limits: at most ``CANDOR_MAX_CONNECTIONS`` connections or requests at once (then 503), request
heads of at most 64 KiB that must arrive within 10 s, bodies refused from their headers past the
operation's largest legitimate request and read within ``CANDOR_REQUEST_DEADLINE`` seconds,
keep-alive connections closed after ``CANDOR_KEEP_ALIVE`` idle seconds.

Shutdown on SIGTERM or SIGINT: stop accepting, close idle keep-alive connections, let in-flight
requests finish and answer (a second Ctrl-C exits at once), then stop the workers.
"""

from __future__ import annotations

import ipaddress
import multiprocessing
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import Any, TextIO

import uvicorn

from candor import __version__
from candor.api import http
from candor.api.front.app import FrontLimits, build_app
from candor.api.front.logs import configure_logging, log
from candor.api.front.protocol import DeadlineH11Protocol
from candor.api.front.workers import WorkerPool
from candor.api.model import service_model
from candor.config import Settings
from candor.errors import ConfigurationError
from candor.keys import ADMIN_ACCOUNT, KeyRing, usage

MAX_HEAD_BYTES = 64 * 1024
GRACEFUL_SHUTDOWN_S = 60


def _reap_periodically(settings: Settings, stop: threading.Event) -> None:
    """Retention: delete expired faces and old video jobs now and every ``reaper_interval``
    seconds."""
    from candor.runtime import Runtime
    from candor.services.retention import purge_expired
    from candor.services.video import reap_jobs

    rt = Runtime(settings)  # the catalog only: no model is loaded in this process
    while not stop.is_set():
        try:
            removed = purge_expired(rt)
            if removed:
                log.info("retention: deleted %d expired face(s)", sum(removed.values()))
            jobs = reap_jobs(rt)
            if jobs:
                log.info("retention: deleted %d finished video job(s)", jobs)
        except Exception:
            log.exception("retention reaper failed; retrying at the next interval")
        stop.wait(settings.reaper_interval)


# --- start-up ---------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    """True when every address ``host`` resolves to is a loopback address."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(
        ipaddress.ip_address(str(a).split("%", 1)[0]).is_loopback for a in addresses
    )


def worker_count(settings: Settings) -> int:
    if settings.workers > 0:
        return settings.workers
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _endpoint(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, *, no_auth: bool = False, out: TextIO | None = None) -> int:
    """Run the server until SIGTERM or SIGINT; return the process exit code."""
    out = out or sys.stdout
    host, port = settings.host, settings.port
    if no_auth and not is_loopback(host):
        raise ConfigurationError(
            f"--no-auth is refused when binding {host!r}: without authentication anyone who "
            "can reach the port can use the service. Bind a loopback address (127.0.0.1, ::1) "
            "or drop --no-auth."
        )
    configure_logging()
    keyring = None if no_auth else KeyRing.open(settings)
    sock = _listen(host, port)
    for operation in service_model().operation_names:  # load the model now, not per request
        http.body_limit(operation)
    endpoint = _endpoint(host, sock.getsockname()[1])

    if keyring is not None and keyring.is_empty():
        first = keyring.create(ADMIN_ACCOUNT, is_admin=True)
        print("No API keys yet: created the first admin key.\n", file=out)
        print(usage(first, endpoint), file=out)
    elif no_auth:
        print(
            "Authentication is OFF (--no-auth, loopback only): any request is accepted. "
            "Clients still need some credentials to sign with, e.g. AWS_ACCESS_KEY_ID=x "
            "AWS_SECRET_ACCESS_KEY=x.",
            file=out,
        )

    pool = WorkerPool(settings, worker_count(settings))
    try:
        pool.start()
    except BaseException:
        sock.close()
        pool.shutdown()
        raise

    metrics = None
    if settings.metrics != "off":
        from candor.api.front.metrics import Metrics
        from candor.storage import open_store

        store = open_store(settings)
        metrics = Metrics(lambda: store, pool.size)
    console = None
    if settings.console:
        from candor.console.app import build_console
        from candor.console.sessions import Sessions

        sessions = None if keyring is None else Sessions(keyring, settings.console_session_hours
                                                         * 3600)
        console = build_console(pool.run, pool.call, sessions, settings.request_deadline,
                                thumbnails=settings.face_thumbnails)
    app = build_app(
        pool.run,
        keyring,
        pool.size,
        FrontLimits(settings.request_deadline),
        metrics=metrics,
        metrics_mode=settings.metrics,
        console=console,
    )
    config = uvicorn.Config(
        app,
        http=DeadlineH11Protocol,
        loop="asyncio",
        lifespan="off",
        log_config=None,
        access_log=False,
        server_header=False,
        limit_concurrency=settings.max_connections,
        timeout_keep_alive=settings.keep_alive,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        backlog=128,
    )
    server = _Server(config)

    job_stop = multiprocessing.get_context("spawn").Event()
    job_workers = _start_job_workers(settings, job_stop)
    reaper_stop = threading.Event()
    if settings.reaper_interval > 0:
        threading.Thread(
            target=_reap_periodically, args=(settings, reaper_stop), daemon=True
        ).start()
    if console is not None and keyring is not None:
        print(f"Web console: {endpoint}/console (sign in with an access key and its secret, "
              "or a token from `candor keys console-token`)", file=out)
    print(
        f"Candor {__version__} listening on {endpoint} ({pool.size} worker processes, "
        f"{len(job_workers)} video-job worker(s), "
        f"authentication {'off' if no_auth else 'on'}, data in {settings.data_dir})",
        file=out,
        flush=True,
    )
    # uvicorn re-raises the signal that stopped it once it has shut down; by then everything
    # has finished, so the handlers in place (these) only let the exit code stay 0.
    previous = {s: signal.signal(s, lambda *_: None) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.run(sockets=[sock])
    finally:
        reaper_stop.set()
        sock.close()
        pool.shutdown()
        job_stop.set()
        for process in job_workers:
            # A job in progress is left to its heartbeat: another worker restarts it later.
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
        for s, handler in previous.items():
            signal.signal(s, handler)
    log.info("stopped")
    return 0


def _start_job_workers(settings: Settings, stop: Any) -> list[Any]:
    """The video-job workers ``candor serve`` embeds, each its own process (models loaded once
    there); ``CANDOR_JOB_WORKERS=0`` leaves jobs to separate ``candor worker`` processes."""
    from candor.jobs import work_in_process

    context = multiprocessing.get_context("spawn")
    processes = []
    for _ in range(settings.job_workers):
        process = context.Process(
            target=work_in_process, args=(settings, stop), name="candor-video", daemon=True
        )
        process.start()
        processes.append(process)
    return processes


class _Server(uvicorn.Server):
    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if not self.should_exit:
            log.info("received %s: finishing in-flight requests", signal.Signals(sig).name)
        super().handle_exit(sig, frame)
