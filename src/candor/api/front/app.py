"""The ASGI app of ``candor serve``: POST / (Rekognition's JSON protocol), GET/HEAD /health.

uvicorn (h11) does the HTTP framing — request lines, headers, chunked bodies, keep-alive — so
a malformed chunk size or a short body is its business and ends as a 4xx, never a 500. This
app adds what is Candor's own: a body limit per operation read from the headers before any
body byte is read (and enforced again while a chunked body streams in), a deadline for reading
one whole request, SigV4, one JSON access-log line per request, and the hand-off of the raw
body to the worker pool.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from candor import __version__
from candor.api import http, sigv4
from candor.api.front.logs import access_log, log
from candor.api.front.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from candor.api.front.metrics import Metrics, allowed
from candor.api.model import service_model
from candor.errors import ServiceError
from candor.keys import KeyRing, Principal
from candor.types import Caller

HEALTH_PATHS = ("/health", "/healthz")
# The purpose a caller states, recorded in audit records and required by collections whose
# policy says candor:require-purpose. Any SDK can add a header; it must be signed (sigv4.py).
PURPOSE_HEADER = "x-candor-purpose"
# After refusing a body unread, what the client still sends is read and dropped for this long
# (or this much), so that closing does not reset the connection before it has read the error.
DRAIN_LIMIT_S = 10.0
DRAIN_LIMIT_BYTES = 64 * 1024 * 1024


class RequestTimeoutException(ServiceError):
    code = "RequestTimeoutException"
    status = 408


class IncompleteBody(Exception):
    """The client went away before its body was complete."""


@dataclass(frozen=True)
class FrontLimits:
    read_deadline_s: float  # the longest one request's body may take to arrive


Runner = Callable[[str, bytes, str, Caller], Awaitable[http.Reply]]


def build_app(
    run: Runner,
    keyring: KeyRing | None,
    workers: int,
    limits: FrontLimits,
    metrics: Metrics | None = None,
    metrics_mode: str = "off",
    console: list[BaseRoute] | None = None,
) -> Starlette:
    """The app; ``run`` hands an operation's raw body to the worker pool. With ``metrics``,
    every request is counted and timed and ``GET /metrics`` serves them to the clients
    ``metrics_mode`` allows (CANDOR_METRICS). ``console`` is the web console's routes
    (:func:`candor.console.app.build_console`)."""
    known = set(service_model().operation_names)

    async def metrics_page(request: Request) -> Response:
        client = request.client
        if metrics is None or not allowed(metrics_mode, client.host if client else None):
            return await not_found(request)
        # The database read is blocking: keep it off the event loop.
        body = await asyncio.get_running_loop().run_in_executor(None, metrics.render)
        return Response(body, status_code=200, media_type=METRICS_CONTENT_TYPE)

    async def health(request: Request) -> Response:
        body = {
            "status": "ok",
            "service": "candor",
            "version": __version__,
            "workers": workers,
            "auth": keyring is not None,
        }
        encoded = json.dumps(body).encode()
        return _json(200, encoded, str(uuid.uuid4()), content_type="application/json")

    async def not_found(request: Request) -> Response:
        body = {
            "__type": "UnknownOperationException",
            "message": "Rekognition operations are POST / with X-Amz-Target; "
            "GET serves only /health, /healthz, /metrics and the web console at /console",
        }
        return _json(404, json.dumps(body).encode(), str(uuid.uuid4()))

    async def operation(request: Request) -> Response:
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        client = request.client
        entry: dict[str, Any] = {
            "request_id": request_id,
            "remote": client.host if client else None,
            "operation": None,
            "access_key_id": None,
            "bytes_in": 0,
        }
        if metrics is not None:
            metrics.in_flight.inc()
        try:
            response = await _operation(request, request_id, entry)
        except Exception:
            log.exception("request %s failed unexpectedly in the front process", request_id)
            reply = http.internal_error(request_id)
            entry.update(status=reply.status, error=reply.error_code)
            response = _reply(reply, request_id)
        finally:  # a cancelled request (the client went away) leaves the gauge too
            if metrics is not None:
                metrics.in_flight.dec()
        elapsed = time.perf_counter() - started
        entry.update(duration_ms=round(elapsed * 1000, 2), bytes_out=len(response.body))
        if metrics is not None:
            name = entry["operation"]
            metrics.observe(name if name in known else None, response.status_code, elapsed)
        access_log.info("", extra={"fields": entry})
        return response

    async def _operation(request: Request, request_id: str, entry: dict[str, Any]) -> Response:
        target = request.headers.get("x-amz-target")
        name: str | None = None
        unknown: http.UnknownOperationException | None = None
        try:
            name = http.operation_for(target)
        except http.UnknownOperationException as exc:
            unknown = exc
        entry["operation"] = name or (target or "")[:100] or None
        try:
            body = await asyncio.wait_for(_read_body(request, name), limits.read_deadline_s)
        except (ServiceError, TimeoutError) as exc:
            error = exc if isinstance(exc, ServiceError) else RequestTimeoutException(
                f"The request body did not arrive within {limits.read_deadline_s:g} s"
            )
            reply = http.error_reply(error)
            entry.update(status=reply.status, error=reply.error_code)
            return _AnswerThenDrain(reply, request_id, request)
        except IncompleteBody:
            entry.update(status=400, error="IncompleteBody")
            return _json(400, b"", request_id, close=True)
        entry["bytes_in"] = len(body)
        try:
            principal = _authenticate(request, body)
            if principal is not None:
                entry["access_key_id"] = principal.access_key_id
            if unknown is not None:
                raise unknown
        except ServiceError as exc:
            reply = http.error_reply(exc)
        else:
            purpose = (request.headers.get(PURPOSE_HEADER) or "").strip()[:512] or None
            caller = Caller.local(purpose)
            if principal is not None:
                caller = Caller(
                    account=principal.account_name,
                    access_key_id=principal.access_key_id,
                    purpose=purpose,
                )
            reply = await run(str(name), body, request_id, caller)
        entry.update(status=reply.status, error=reply.error_code)
        return _reply(reply, request_id)

    def _authenticate(request: Request, body: bytes) -> Principal | None:
        if keyring is None:
            return None
        headers: dict[str, list[str]] = {}
        for key, value in request.headers.raw:
            headers.setdefault(key.decode("latin-1").lower(), []).append(value.decode("latin-1"))
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        signed = sigv4.Request(
            method=request.method,
            path=raw_path.decode("latin-1").partition("?")[0],
            query=request.scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=body,
        )
        return sigv4.verify(signed, keyring.principal, lambda p: p.secret)

    return Starlette(
        middleware=[Middleware(_ConsoleAccessLog)],
        routes=[
            Route("/", operation, methods=["POST"]),
            Route("/health", health, methods=["GET", "HEAD"]),
            Route("/healthz", health, methods=["GET", "HEAD"]),
            Route("/metrics", metrics_page, methods=["GET"]),
            *(console or []),
            Route("/{path:path}", not_found, methods=["GET", "HEAD", "POST", "PUT", "DELETE"]),
        ]
    )


class _ConsoleAccessLog:
    """One access-log line for each web console request, as for operations: method, path
    (without the query), status, duration and bytes out."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/console"):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status, sent = 500, 0

        async def sending(message: Any) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            access_log.info("", extra={"fields": {
                "request_id": str(uuid.uuid4()),
                "remote": client[0] if client else None,
                "method": scope["method"],
                "path": scope["path"][:200],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "bytes_out": sent,
            }})


async def _read_body(request: Request, operation: str | None) -> bytes:
    """The whole body, refused from its headers (or while it streams) past the limit."""
    limit = http.body_limit(operation)
    length_header = request.headers.get("content-length")
    if length_header is not None:
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
    parts: list[bytes] = []
    total = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise IncompleteBody
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            raise http.too_large(operation, None)
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


class _AnswerThenDrain(Response):
    """An error for a body that was not (fully) read. The whole answer goes out at once (its
    Content-Length lets the client read it while still sending); the response is completed —
    and the connection closed — only after what the client still sends has been read and
    dropped, for a bounded time. Closing a socket with unread input resets the connection,
    and the client would lose the answer."""

    def __init__(self, reply: http.Reply, request_id: str, request: Request) -> None:
        headers = {"x-amzn-RequestId": request_id, "Connection": "close", **dict(reply.headers)}
        super().__init__(reply.body, reply.status, headers, http.CONTENT_TYPE)
        self._request = request

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": True})
        deadline = time.monotonic() + DRAIN_LIMIT_S
        drained = 0
        try:
            while drained < DRAIN_LIMIT_BYTES:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                message = await asyncio.wait_for(receive(), remaining)
                if message["type"] != "http.request":
                    break
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except (TimeoutError, OSError, RuntimeError):
            pass
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _json(
    status: int,
    body: bytes,
    request_id: str,
    *,
    close: bool = False,
    content_type: str = http.CONTENT_TYPE,
    extra: tuple[tuple[str, str], ...] = (),
) -> Response:
    headers = {"x-amzn-RequestId": request_id, **dict(extra)}
    if close:
        headers["Connection"] = "close"
    return Response(body, status_code=status, media_type=content_type, headers=headers)


def _reply(reply: http.Reply, request_id: str, *, close: bool = False) -> Response:
    return _json(reply.status, reply.body, request_id, close=close, extra=reply.headers)
