"""The JSON 1.1 wire protocol at the byte level: targets, bodies, blobs, limits, health."""

from __future__ import annotations

import base64
import json
import socket
import time

import pytest

from candor.api import http

from .conftest import OBAMA, Server, get, post


def test_health_needs_no_auth(server: Server) -> None:
    for path in ("/health", "/healthz"):
        status, headers, body = get(server, path)
        assert status == 200 and headers["content-type"] == "application/json"
        assert json.loads(body)["status"] == "ok" and json.loads(body)["auth"] is True
    status, _, body = get(server, "/nothing-here")
    assert status == 404 and json.loads(body)["__type"] == "UnknownOperationException"


def test_unknown_operation(server: Server) -> None:
    r = post(server, "MakeCoffee")
    assert (r.status, r.code) == (400, "UnknownOperationException")
    assert r.headers["x-amzn-requestid"]
    r = post(server, None)  # no X-Amz-Target at all
    assert (r.status, r.code) == (400, "UnknownOperationException")
    r = post(server, None, headers={"X-Amz-Target": "DynamoDB_20120810.ListTables"})
    assert (r.status, r.code) == (400, "UnknownOperationException")


@pytest.mark.parametrize(
    ("body", "message"),
    [(b'{"Image": {"Bytes": ', "not valid JSON"), (b"[1, 2]", "JSON object"),
     (b"\xff\xfe{}", "not valid JSON"), (b'{"MaxResults": NaN}', "not valid JSON")],
    ids=["truncated", "not-an-object", "not-utf8", "nan"],
)
def test_malformed_json(server: Server, body: bytes, message: str) -> None:
    r = post(server, "DetectFaces", body)
    assert (r.status, r.code) == (400, "SerializationException")
    assert message in r.body["message"]


def test_bad_base64_names_the_member(server: Server) -> None:
    r = post(server, "CompareFaces", {
        "SourceImage": {"Bytes": base64.b64encode(OBAMA.read_bytes()).decode()},
        "TargetImage": {"Bytes": "this is *not* base64!"},
    })
    assert (r.status, r.code) == (400, "InvalidParameterException")
    assert "TargetImage.Bytes" in r.body["message"]


def test_wrong_types_are_invalid_parameters_not_500s(server: Server) -> None:
    for body in ({"Image": {"Bytes": 12}}, {"Image": "x"}, {"Image": {}, "Extra": 1}, {}):
        r = post(server, "DetectFaces", body)
        assert (r.status, r.code) == (400, "InvalidParameterException"), body


def test_body_limits_come_from_the_model() -> None:
    five_mib_b64 = 4 * -(-5 * 1024 * 1024 // 3)
    assert http.body_limit("DetectFaces") == five_mib_b64 + http.BODY_SLACK
    assert http.body_limit("CompareFaces") == 4 * -(-10 * 1024 * 1024 // 3) + http.BODY_SLACK
    assert http.body_limit("ListCollections") == http.BODY_SLACK
    assert http.body_limit(None) == http.BODY_SLACK


def _raw_request(server: Server, headers: dict[str, str], body_part: bytes) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=10)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    sock.sendall(f"POST / HTTP/1.1\r\nHost: {server.host}:{server.port}\r\n{head}\r\n".encode())
    sock.sendall(body_part)
    return sock


def _read_response(sock: socket.socket) -> tuple[int, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(next(
        line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    ))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(head.split(b" ")[1]), rest[:length]


def test_oversized_body_is_answered_before_it_is_sent(server: Server) -> None:
    declared = 8 * 1024 * 1024  # a 6 MiB image, base64-encoded
    headers = {"Content-Type": http.CONTENT_TYPE, "X-Amz-Target": "RekognitionService.DetectFaces",
               "Content-Length": str(declared)}
    sock = _raw_request(server, headers, b'{"Image": {"Bytes": "' + b"A" * 65536)
    try:
        started = time.monotonic()
        status, body = _read_response(sock)  # 64 KiB of 8 MiB sent: the server must not wait
        assert time.monotonic() - started < 5
        assert status == 400
        assert json.loads(body)["__type"] == "ImageTooLargeException"
    finally:
        sock.close()


def test_oversized_chunked_body_is_refused(server: Server) -> None:
    headers = {"Content-Type": http.CONTENT_TYPE, "X-Amz-Target": "RekognitionService.ListCollections",
               "Transfer-Encoding": "chunked"}
    chunk = b"x" * 100_000
    part = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(3))
    sock = _raw_request(server, headers, part)
    try:
        status, body = _read_response(sock)
        assert status == 400 and json.loads(body)["__type"] == "ValidationException"
    finally:
        sock.close()


def test_chunked_body_within_the_limit_is_read(server: Server) -> None:
    # Unsigned, so the answer is about authentication: proof the chunked body was read whole.
    headers = {"Content-Type": http.CONTENT_TYPE, "X-Amz-Target": "RekognitionService.DetectFaces",
               "Transfer-Encoding": "chunked"}
    sock = _raw_request(server, headers, b"2\r\n{}\r\n0\r\n\r\n")
    try:
        status, body = _read_response(sock)
        assert status == 400 and json.loads(body)["__type"] == "MissingAuthenticationTokenException"
    finally:
        sock.close()


def test_expect_100_continue_is_refused_before_the_body(server: Server) -> None:
    headers = {"Content-Type": http.CONTENT_TYPE, "X-Amz-Target": "RekognitionService.DetectFaces",
               "Content-Length": str(9 * 1024 * 1024), "Expect": "100-continue"}
    sock = _raw_request(server, headers, b"")
    try:
        status, body = _read_response(sock)
        assert status == 400 and json.loads(body)["__type"] == "ImageTooLargeException"
    finally:
        sock.close()


def test_an_unexpected_exception_is_a_logged_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(http, "dispatch", broken)
    with caplog.at_level("ERROR", logger="candor.server"):
        reply = http.handle(None, "DetectFaces", b"{}", "req-123")  # type: ignore[arg-type]
    assert reply.status == 500 and reply.error_code == "InternalServerError"
    assert "req-123" in json.loads(reply.body)["message"]
    assert "req-123" in caplog.text and "RuntimeError: a bug" in caplog.text
