"""``candor serve``: the HTTP server AWS SDKs and the AWS CLI talk to through ``endpoint_url``.

Why this shape: one front process runs a threaded stdlib HTTP server that only does I/O —
reading bounded bodies, SigV4 checks, the access log — and hands each operation, as the raw
body bytes, to a pool of worker processes (one per CPU by default) that parse, run the models and
serialize. A queue in front of the pool gives each request to whichever worker is free, which a
pre-fork server (each process accepting its own, possibly keep-alive, connections) does not: with
boto3's connection reuse, one busy process could hold requests while another core sat idle.
Workers are spawned, not forked, so they inherit no threads or locks, and each loads the models
once. The stdlib keeps the dependency count at zero; the front process is not the bottleneck
for CPU-bound inference that takes tens to hundreds of milliseconds per call.

Shutdown on SIGTERM or SIGINT: stop accepting, close idle keep-alive connections, let in-flight
requests finish and answer, then stop the workers.
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import json
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TextIO

from candor import __version__
from candor.api import http, sigv4
from candor.api.model import service_model
from candor.config import Settings
from candor.errors import ConfigurationError, ServiceError
from candor.keys import ADMIN_ACCOUNT, KeyRing, Principal, usage
from candor.types import Caller

HEALTH_PATHS = ("/health", "/healthz")
# The purpose a caller states, recorded in audit records and required by collections whose
# policy says candor:require-purpose. Any SDK can add a header (see the README).
PURPOSE_HEADER = "X-Candor-Purpose"
IDLE_TIMEOUT_S = 60.0  # keep-alive idle time and the longest pause inside one request
DRAIN_LIMIT_S = 10.0  # how long a refused body is read and thrown away so the reply gets through
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024

access_log = logging.getLogger("candor.access")
log = logging.getLogger("candor.server")


class JsonLines(logging.Formatter):
    """One JSON object per line; ``extra={"fields": {...}}`` adds members."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        else:
            out["message"] = record.getMessage()
        if record.exc_info:
            out["traceback"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(out, default=str)


def configure_logging(stream: TextIO | None = None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    for name in ("candor.access", "candor.server"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(logging.INFO)
        logger.propagate = False


# --- worker processes -------------------------------------------------------------------------

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

    def run(self, operation: str, body: bytes, request_id: str, caller: Caller) -> http.Reply:
        pool = self._pool
        try:
            return pool.submit(_run, operation, body, request_id, caller).result()
        except BrokenProcessPool:
            log.error("a worker process died during request %s; restarting the pool", request_id)
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            return http.internal_error(request_id)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True)


# --- HTTP -------------------------------------------------------------------------------------


class Server(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() waits for in-flight requests
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        *,
        pool: WorkerPool | None,
        keyring: KeyRing | None,
        family: socket.AddressFamily = socket.AF_INET,
    ) -> None:
        self.address_family = family
        super().__init__(address, Handler)
        self.pool = pool
        self.keyring = keyring
        self.stopping = False
        self._idle: set[socket.socket] = set()
        self._idle_lock = threading.Lock()

    @contextmanager
    def waiting(self, conn: socket.socket) -> Iterator[bool]:
        """Mark ``conn`` idle while it waits for a request line; yields False when stopping."""
        with self._idle_lock:
            if self.stopping:
                yield False
                return
            self._idle.add(conn)
        try:
            yield True
        finally:
            with self._idle_lock:
                self._idle.discard(conn)

    def begin_stop(self) -> None:
        """Refuse new requests; wake connections idling in keep-alive so their threads end."""
        with self._idle_lock:
            self.stopping = True
            idle = list(self._idle)
        for conn in idle:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"
    server_version = f"Candor/{__version__}"
    sys_version = ""
    timeout = IDLE_TIMEOUT_S

    def handle_one_request(self) -> None:
        # The stdlib loop, plus idle tracking for graceful shutdown.
        try:
            with self.server.waiting(self.connection) as open_:
                if not open_:
                    self.close_connection = True
                    return
                self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(414)
                return
            if not self.raw_requestline:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            method = getattr(self, "do_" + self.command, None)
            if method is None:
                self.send_error(501, f"Unsupported method ({self.command!r})")
                return
            method()
            self.wfile.flush()
            if self.server.stopping:
                self.close_connection = True
        except (TimeoutError, ConnectionError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the access log below replaces the stdlib's free-text lines

    # health ------------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in HEALTH_PATHS:
            body = json.dumps(
                {
                    "status": "ok",
                    "service": "candor",
                    "version": __version__,
                    "workers": self.server.pool.size if self.server.pool else 0,
                    "auth": self.server.keyring is not None,
                }
            ).encode()
            self._send(200, body, "application/json", str(uuid.uuid4()))
        else:
            self._send(
                404,
                json.dumps(
                    {"__type": "UnknownOperationException",
                     "message": "Rekognition operations are POST / with X-Amz-Target; "
                                "GET serves only /health and /healthz"}
                ).encode(),
                "application/json",
                str(uuid.uuid4()),
            )

    def do_HEAD(self) -> None:
        self.do_GET()

    # operations --------------------------------------------------------------------------------

    def do_POST(self) -> None:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        entry: dict[str, Any] = {
            "request_id": request_id,
            "remote": self.client_address[0],
            "operation": None,
            "access_key_id": None,
            "bytes_in": 0,
        }
        status, error_code, sent = 500, None, 0
        try:
            status, error_code, sent = self._post(request_id, entry)
        except Exception:
            log.exception("request %s failed unexpectedly in the front process", request_id)
            reply = http.internal_error(request_id)
            status, error_code = reply.status, reply.error_code
            try:
                sent = self._reply(reply, request_id)
            except OSError:
                self.close_connection = True
        entry.update(
            status=status,
            error=error_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            bytes_out=sent,
        )
        access_log.info("", extra={"fields": entry})

    def _post(self, request_id: str, entry: dict[str, Any]) -> tuple[int, str | None, int]:
        target = self.headers.get("X-Amz-Target")
        operation: str | None = None
        unknown: http.UnknownOperationException | None = None
        try:
            operation = http.operation_for(target)
        except http.UnknownOperationException as exc:
            unknown = exc
        entry["operation"] = operation or (target or "")[:100] or None

        try:
            body = self._read_body(operation)
        except ServiceError as exc:
            # The body was not (fully) read: answer, then close so the stream can't be misread.
            reply = http.error_reply(exc)
            sent = self._reply(reply, request_id, close=True)
            self._drain()
            return reply.status, reply.error_code, sent
        if body is None:  # the client went away mid-body
            self.close_connection = True
            return 400, "IncompleteBody", 0
        entry["bytes_in"] = len(body)

        try:
            principal = self._authenticate(body)
            if principal is not None:
                entry["access_key_id"] = principal.access_key_id
            if unknown is not None:
                raise unknown
        except ServiceError as exc:
            reply = http.error_reply(exc)
        else:
            purpose = (self.headers.get(PURPOSE_HEADER) or "").strip()[:512] or None
            caller = Caller.local(purpose)
            if principal is not None:
                caller = Caller(
                    account=principal.account_name,
                    access_key_id=principal.access_key_id,
                    purpose=purpose,
                )
            reply = self._pool().run(str(operation), body, request_id, caller)
        return reply.status, reply.error_code, self._reply(reply, request_id)

    def _pool(self) -> WorkerPool:
        if self.server.pool is None:
            raise RuntimeError("the server handles requests only after its workers started")
        return self.server.pool

    def handle_expect_100(self) -> bool:
        # Refuse an oversized body before the client sends it, instead of inviting it.
        length = self.headers.get("Content-Length", "")
        target = self.headers.get("X-Amz-Target")
        try:
            operation: str | None = http.operation_for(target)
        except http.UnknownOperationException:
            operation = None
        if length.isdigit() and int(length) > http.body_limit(operation):
            request_id = str(uuid.uuid4())
            reply = http.error_reply(http.too_large(operation, int(length)))
            sent = self._reply(reply, request_id, close=True)
            access_log.info("", extra={"fields": {
                "request_id": request_id, "remote": self.client_address[0],
                "operation": operation, "access_key_id": None, "bytes_in": 0,
                "status": reply.status, "error": reply.error_code, "duration_ms": 0.0,
                "bytes_out": sent}})
            return False
        return super().handle_expect_100()

    def _read_body(self, operation: str | None) -> bytes | None:
        limit = http.body_limit(operation)
        length_header = self.headers.get("Content-Length")
        chunked = "chunked" in (self.headers.get("Transfer-Encoding") or "").lower()
        if length_header is not None and chunked:
            raise http.SerializationException(
                "A request must not carry both Content-Length and Transfer-Encoding"
            )
        if chunked:
            return self._read_chunked(operation, limit)
        if length_header is None:
            return b""  # HTTP/1.1: no length, no chunks, no body
        try:
            length = int(length_header)
            if length < 0:
                raise ValueError
        except ValueError:
            raise http.SerializationException(
                f"Content-Length must be a non-negative integer, got {length_header[:40]!r}"
            ) from None
        if length > limit:
            raise http.too_large(operation, length)
        body = self.rfile.read(length)
        return body if len(body) == length else None

    def _read_chunked(self, operation: str | None, limit: int) -> bytes | None:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line.endswith(b"\n"):
                return None
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise http.SerializationException("Malformed chunked request body") from None
            if size == 0:
                while self.rfile.readline(8192).strip():  # trailers
                    pass
                return b"".join(parts)
            total += size
            if total > limit:
                raise http.too_large(operation, None)
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                return None
            parts.append(chunk)
            self.rfile.readline(8)  # CRLF after each chunk

    def _drain(self) -> None:
        """Read and discard what the client still sends, for a bounded time, so that closing
        does not reset the connection before the client has read the error."""
        self.close_connection = True
        conn = self.connection
        try:
            self.wfile.flush()
            conn.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + DRAIN_LIMIT_S
            drained = 0
            while drained < DRAIN_LIMIT_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                conn.settimeout(min(remaining, 1.0))
                try:
                    chunk = conn.recv(256 * 1024)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                drained += len(chunk)
        except OSError:
            pass

    def _authenticate(self, body: bytes) -> Principal | None:
        keyring = self.server.keyring
        if keyring is None:
            return None
        path, _, query = self.path.partition("?")
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        request = sigv4.Request(
            method=self.command, path=path, query=query, headers=headers, body=body
        )
        return sigv4.verify(request, keyring.principal, lambda p: p.secret)

    def _reply(self, reply: http.Reply, request_id: str, *, close: bool = False) -> int:
        return self._send(
            reply.status, reply.body, http.CONTENT_TYPE, request_id, close=close,
            extra=reply.headers,
        )

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        request_id: str,
        *,
        close: bool = False,
        extra: tuple[tuple[str, str], ...] = (),
    ) -> int:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", request_id)
        if close or self.server.stopping:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return len(body)


def _reap_periodically(settings: Settings, stop: threading.Event) -> None:
    """Retention: delete expired faces now and every ``reaper_interval`` seconds."""
    from candor.runtime import Runtime
    from candor.services.retention import purge_expired

    rt = Runtime(settings)  # the catalog only: no model is loaded in this process
    while not stop.is_set():
        try:
            removed = purge_expired(rt)
            if removed:
                log.info("retention: deleted %d expired face(s)", sum(removed.values()))
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
    keyring = None if no_auth else KeyRing.open(settings.data_dir)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        server = Server((host, port), pool=None, keyring=keyring, family=family)
    except OSError as exc:
        raise ConfigurationError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    for operation in service_model().operation_names:  # load the model now, not per request
        http.body_limit(operation)
    endpoint = _endpoint(host, server.server_address[1])

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
        server.server_close()
        pool.shutdown()
        raise
    server.pool = pool

    stop_signals = 0
    reaper_stop = threading.Event()
    if settings.reaper_interval > 0:
        threading.Thread(
            target=_reap_periodically, args=(settings, reaper_stop), daemon=True
        ).start()

    def on_signal(signum: int, frame: Any) -> None:
        nonlocal stop_signals
        if signum == signal.SIGINT:
            stop_signals += 1
            if stop_signals > 1:
                os._exit(1)  # a second Ctrl-C: the operator does not want to wait
        log.info("received %s: finishing in-flight requests", signal.Signals(signum).name)
        server.begin_stop()
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    print(
        f"Candor {__version__} listening on {endpoint} ({pool.size} worker processes, "
        f"authentication {'off' if no_auth else 'on'}, data in {settings.data_dir})",
        file=out,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        reaper_stop.set()
        server.begin_stop()
        server.server_close()  # joins the request threads: in-flight requests finish
        pool.shutdown()
        for s, handler in previous.items():
            signal.signal(s, handler)
    log.info("stopped")
    return 0
