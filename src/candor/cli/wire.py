"""How the CLI runs an operation of Rekognition's API: the same validation against botocore's
service model, the same dispatch and the same response dict as ``candor serve`` and
``candor.Client``, so a value the API refuses is refused here with the same error."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from candor.media import S3Ref
from candor.runtime import Runtime
from candor.types import Caller

Wire = dict[str, Any]


def call(rt: Runtime, operation: str, params: Wire, purpose: str | None = None) -> Wire:
    """Run ``operation`` with wire ``params`` for the local admin account; its response dict
    (with ``ExpectedFalseMatches`` added where the server sends that header)."""
    from candor.api.handlers.common import EXPECTED_FALSE_MATCHES
    from candor.api.operations import dispatch

    outcome = dispatch(rt, operation, params, Caller.local(purpose))
    body = dict(outcome.body)
    if EXPECTED_FALSE_MATCHES in outcome.headers:
        body["ExpectedFalseMatches"] = float(outcome.headers[EXPECTED_FALSE_MATCHES])
    return body


def check(operation: str, params: Wire) -> None:
    """Validate ``params`` as the API would, without running anything (for a command that makes
    many calls and should refuse a bad argument once, up front)."""
    from candor.api.model import operation_model
    from candor.api.validate import validate

    validate(operation_model(operation).input_shape, params)


def image(value: bytes | S3Ref) -> Wire:
    """A CLI image argument (file bytes or an s3:// reference) as the wire's Image member."""
    if isinstance(value, S3Ref):
        return {"S3Object": {"Bucket": value.bucket, "Name": value.name}}
    return {"Bytes": value}


def emit(args: argparse.Namespace, body: Wire, table: Callable[[], str]) -> None:
    """Print the response as JSON, or ``table()`` with ``--table``."""
    if args.table:
        print(table())
    else:
        print(json.dumps({k: v for k, v in body.items() if k != "ExpectedFalseMatches"},
                         indent=2, default=str))


def box(b: Wire) -> str:
    return (f"left={b['Left']:.3f} top={b['Top']:.3f} w={b['Width']:.3f} "
            f"h={b['Height']:.3f}")
