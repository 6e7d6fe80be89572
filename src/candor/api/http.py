"""Rekognition's JSON 1.1 wire protocol, without sockets: target → operation, body limits,
JSON + base64 blobs in, JSON out, and the one place errors become ``{"__type", "message"}``.

Blob members are found by walking the operation's input shape from botocore's model, so a
base64 string elsewhere in a request is never decoded by accident.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from candor.api.model import TARGET_PREFIX, operation_model, service_model
from candor.api.operations import dispatch
from candor.errors import InvalidParameterException, ServiceError
from candor.runtime import Runtime
from candor.types import Caller

CONTENT_TYPE = "application/x-amz-json-1.1"
# Room for everything in a request besides its blobs. 256 KiB, not less: DeleteFaces and
# ListFaces take up to 4,096 FaceIds, about 160 KiB of JSON.
BODY_SLACK = 256 * 1024

log = logging.getLogger("candor.server")

Wire = dict[str, Any]


class UnknownOperationException(ServiceError):
    code = "UnknownOperationException"
    status = 400


class SerializationException(ServiceError):
    code = "SerializationException"
    status = 400


class RequestTooLargeError(ServiceError):
    """A body longer than any legitimate request for the operation; refused unread."""

    status = 400

    def __init__(self, message: str, *, has_images: bool) -> None:
        super().__init__(message)
        # Rekognition's own code when the images are what is too big.
        self.code = "ImageTooLargeException" if has_images else "ValidationException"


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    error_code: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


def operation_for(target: str | None) -> str:
    """``RekognitionService.DetectFaces`` → ``DetectFaces``; UnknownOperationException else."""
    if not target:
        raise UnknownOperationException(
            "The request has no X-Amz-Target header; expected RekognitionService.<Operation>"
        )
    prefix, _, name = target.partition(".")
    if prefix + "." != TARGET_PREFIX or name not in service_model().operation_names:
        raise UnknownOperationException(
            f"Unknown operation {target[:100]!r}: expected RekognitionService.<Operation> with "
            "an operation of Amazon Rekognition's API (2016-06-27)"
        )
    return name


def _blob_paths(shape: Any, path: tuple[str, ...] = (), depth: int = 0) -> list[tuple[str, ...]]:
    if depth > 16:
        return []
    if shape.type_name == "blob":
        return [path]
    if shape.type_name == "structure":
        return [
            p
            for name, member in shape.members.items()
            for p in _blob_paths(member, (*path, name), depth + 1)
        ]
    if shape.type_name == "list":
        return _blob_paths(shape.member, (*path, "[]"), depth + 1)
    if shape.type_name == "map":
        return _blob_paths(shape.value, (*path, "{}"), depth + 1)
    return []


@functools.cache
def blob_paths(operation: str) -> tuple[tuple[str, ...], ...]:
    shape = operation_model(operation).input_shape
    return tuple(_blob_paths(shape)) if shape is not None else ()


@functools.cache
def body_limit(operation: str | None) -> int:
    """Largest legitimate body for ``operation``: its blobs' maximum sizes in base64 (4/3)
    plus :data:`BODY_SLACK`. Blobs inside lists count once per allowed item."""
    if operation is None:
        return BODY_SLACK
    shape = operation_model(operation).input_shape
    total = 0
    for path in blob_paths(operation):
        node, count = shape, 1
        for part in path:
            if part in ("[]", "{}"):
                count *= int(node.metadata.get("max", 1))
                node = node.member if part == "[]" else node.value
            else:
                node = node.members[part]
        total += count * int(node.metadata.get("max", 0))
    return 4 * math.ceil(total / 3) + BODY_SLACK


def too_large(operation: str | None, length: int | None) -> RequestTooLargeError:
    limit = body_limit(operation)
    size = f"{length:,} bytes" if length is not None else f"over {limit:,} bytes"
    if operation and blob_paths(operation):
        return RequestTooLargeError(
            f"The request body is {size}; {operation} accepts at most {limit:,} (each image "
            "up to 5 MiB, base64-encoded). Resize or recompress the image, or pass it as an "
            "S3Object (up to 15 MiB).",
            has_images=True,
        )
    return RequestTooLargeError(
        f"The request body is {size}; {operation or 'this request'} accepts at most "
        f"{limit:,} bytes.",
        has_images=False,
    )


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_body(operation: str, body: bytes) -> Wire:
    """JSON object with base64 blob members decoded to bytes."""
    if not body.strip():
        return {}
    try:
        params = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as exc:
        raise SerializationException(f"The request body is not valid JSON: {exc}") from None
    if not isinstance(params, dict):
        raise SerializationException(
            f"The request body must be a JSON object, got {type(params).__name__}"
        )
    for path in blob_paths(operation):
        _decode_at(params, path, ())
    return params


def _decode_at(node: Any, path: tuple[str, ...], where: tuple[str, ...]) -> None:
    head, rest = path[0], path[1:]
    if head in ("[]", "{}"):
        items = (
            enumerate(node) if head == "[]" and isinstance(node, list)
            else node.items() if head == "{}" and isinstance(node, dict)
            else ()
        )
        for key, _ in list(items):
            _step(node, key, rest, (*where, f"[{key}]" if head == "[]" else f".{key}"))
    elif isinstance(node, dict) and head in node:
        _step(node, head, rest, (*where, f".{head}" if where else head))


def _step(node: Any, key: Any, rest: tuple[str, ...], where: tuple[str, ...]) -> None:
    if rest:
        _decode_at(node[key], rest, where)
        return
    value = node[key]
    if isinstance(value, str):  # other types are left for validation to name
        node[key] = decode_blob(value, "".join(where))


def decode_blob(value: str, member: str) -> bytes:
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise InvalidParameterException(
            f"Invalid value for {member}: it must be base64-encoded binary data ({exc})"
        ) from None


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.timestamp()  # JSON 1.1 timestamps are epoch seconds
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(result: Wire) -> bytes:
    return json.dumps(result, default=_json_default, separators=(",", ":")).encode()


def error_reply(exc: ServiceError) -> Reply:
    body = json.dumps({"__type": exc.code, "message": exc.message}).encode()
    return Reply(status=exc.status, body=body, error_code=exc.code)


def internal_error(request_id: str) -> Reply:
    return Reply(
        status=500,
        body=json.dumps(
            {
                "__type": "InternalServerError",
                "message": f"Candor hit an unexpected error handling request {request_id}; "
                "the server log has its traceback.",
            }
        ).encode(),
        error_code="InternalServerError",
    )


def handle(
    rt: Runtime, operation: str, body: bytes, request_id: str, caller: Caller | None = None
) -> Reply:
    """Run one request's operation: parse, dispatch, serialize; every failure becomes a Reply."""
    try:
        result = dispatch(rt, operation, parse_body(operation, body), caller)
        return Reply(status=200, body=encode(result.body), headers=tuple(result.headers.items()))
    except ServiceError as exc:
        return error_reply(exc)
    except Exception:
        log.exception("request %s (%s) failed unexpectedly", request_id, operation)
        return internal_error(request_id)
