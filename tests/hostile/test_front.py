"""The attacks that found the hand-written front, rerun against uvicorn + starlette: bad chunk
sizes, short bodies, slow bodies and slow heads, while the service keeps answering."""

from __future__ import annotations

import json
import socket
import threading
import time
from base64 import b64encode
from collections.abc import Iterator

import pytest

from ..api.conftest import OBAMA, Server, get, post, start_server, stop_server

DEADLINE_S = 3.0  # CANDOR_REQUEST_DEADLINE for this server: the tests wait on it


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = start_server(
        tmp_path_factory.mktemp("front"), "--workers", "1",
        env={"CANDOR_REQUEST_DEADLINE": str(DEADLINE_S), "CANDOR_KEEP_ALIVE": "5"},
    )
    yield running
    code = stop_server(running)
    log = running.stderr.read_text()
    assert code == 0, log[-4000:]
    assert '"status": 500' not in log and '"traceback"' not in log, log[-4000:]


def _send(server: Server, head: bytes, body: bytes = b"", *, wait: float = 15.0) -> tuple[float, bytes]:
    """Send a raw request; return (seconds until the answer or close, what came back)."""
    sock = socket.create_connection((server.host, server.port), timeout=wait)
    started = time.monotonic()
    try:
        sock.sendall(head + body)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                h, _, rest = data.partition(b"\r\n\r\n")
                length = [ln for ln in h.split(b"\r\n") if ln.lower().startswith(b"content-length")]
                if length and len(rest) >= int(length[0].split(b":")[1]):
                    break
        return time.monotonic() - started, data
    finally:
        sock.close()


def _head(server: Server, extra: str) -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n"
            "Content-Type: application/x-amz-json-1.1\r\n"
            f"X-Amz-Target: RekognitionService.DetectFaces\r\n{extra}\r\n").encode()


def _status(data: bytes) -> int:
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


@pytest.mark.parametrize("size", [b"-1", b"-5", b"zz", b"1" * 40])
def test_bad_chunk_sizes_are_4xx(front: Server, size: bytes) -> None:
    took, data = _send(front, _head(front, "Transfer-Encoding: chunked\r\n"), size + b"\r\nxx\r\n0\r\n\r\n")
    assert 400 <= _status(data) < 500, data[:200]
    assert took < DEADLINE_S + 2


def test_short_body_is_a_4xx_within_the_deadline(front: Server) -> None:
    took, data = _send(front, _head(front, "Content-Length: 1000\r\n"), b'{"Image": {')
    assert _status(data) == 408, data[:300]
    assert json.loads(data.partition(b"\r\n\r\n")[2])["__type"] == "RequestTimeoutException"
    assert DEADLINE_S - 0.5 < took < DEADLINE_S + 3


def test_negative_content_length_is_a_4xx(front: Server) -> None:
    _, data = _send(front, _head(front, "Content-Length: -5\r\n"), b"{}")
    assert 400 <= _status(data) < 500, data[:200]


def test_a_head_that_never_ends_is_closed(front: Server) -> None:
    sock = socket.create_connection((front.host, front.port), timeout=30)
    started = time.monotonic()
    try:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        closed = False
        while time.monotonic() - started < 25:
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                time.sleep(0.5)
            except OSError:
                closed = True
                break
    finally:
        sock.close()
    assert closed and time.monotonic() - started < 15


@pytest.mark.parametrize("seconds", [8.0, pytest.param(30.0, marks=pytest.mark.slow)])
def test_slow_bodies_do_not_starve_the_service(front: Server, seconds: float) -> None:
    """20 sockets trickle bodies; /health and signed requests still answer meanwhile."""
    stop = threading.Event()
    answers: list[int] = []

    def trickle() -> None:
        try:
            sock = socket.create_connection((front.host, front.port), timeout=30)
        except OSError:
            return
        try:
            sock.sendall(_head(front, "Content-Length: 100000\r\n"))
            while not stop.is_set():
                sock.sendall(b"A")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            sock.close()

    threads = [threading.Thread(target=trickle) for _ in range(20)]
    for t in threads:
        t.start()
    try:
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            status, _, _ = get(front, "/health")
            answers.append(status)
            r = post(front, "DetectFaces", {"Image": {"Bytes": b64encode(OBAMA.read_bytes()).decode()}})
            answers.append(r.status)
            time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert answers and set(answers) == {200}, answers
