"""An in-process client with boto3's method names, arguments, responses and exceptions.

    >>> import candor
    >>> rek = candor.Client()                       # embedded defaults
    >>> rek.detect_faces(Image={"Bytes": open("photo.jpg", "rb").read()})["FaceDetails"]

Code written against ``boto3.client("rekognition")`` runs unchanged: parameters are checked
with botocore's own validator first (raising ``ParamValidationError`` as boto3 does), then by the
same dispatch the HTTP server uses; errors are botocore ``ClientError`` subclasses, reachable as
``client.exceptions.InvalidParameterException`` and so on.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from candor.api.model import operation_model, service_model
from candor.api.operations import HANDLERS, dispatch
from candor.config import Settings
from candor.errors import ServiceError
from candor.runtime import Runtime
from candor.types import Caller


def _snake(name: str) -> str:
    from botocore import xform_name

    return str(xform_name(name))


class Client:
    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        settings: Settings | None = None,
        runtime: Runtime | None = None,
        purpose: str | None = None,
    ) -> None:
        from botocore.errorfactory import ClientExceptionsFactory

        if runtime is None:
            if settings is None:
                settings = Settings.from_env(data_dir=Path(data_dir) if data_dir else None)
            runtime = Runtime(settings)
        self.runtime = runtime
        # Stated on every call: recorded in audit records, required by some collections' policy.
        self.purpose = purpose
        self.exceptions = ClientExceptionsFactory().create_client_exceptions(service_model())

    def can_paginate(self, operation_name: str) -> bool:
        return False

    def _call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        from botocore.exceptions import ParamValidationError
        from botocore.validate import ParamValidator

        report = ParamValidator().validate(params, operation_model(operation).input_shape)
        if report.has_errors():
            raise ParamValidationError(report=report.generate_report())
        request_id = str(uuid.uuid4())
        try:
            outcome = dispatch(
                self.runtime, operation, _read_blobs(params), Caller.local(self.purpose)
            )
        except ServiceError as exc:
            error = {
                "Error": {"Code": exc.code, "Message": exc.message},
                "ResponseMetadata": _metadata(request_id, exc.status),
            }
            raise self.exceptions.from_code(exc.code)(error, operation) from None
        result = dict(outcome.body)
        result["ResponseMetadata"] = _metadata(request_id, 200, outcome.headers)
        return result


def _metadata(
    request_id: str, status: int, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "RequestId": request_id,
        "HTTPStatusCode": status,
        "HTTPHeaders": {"x-amzn-requestid": request_id, **(headers or {})},
        "RetryAttempts": 0,
    }


def _read_blobs(value: Any) -> Any:
    """boto3 accepts file-like objects for blobs; the services want bytes."""
    if isinstance(value, dict):
        return {k: _read_blobs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_read_blobs(v) for v in value]
    if hasattr(value, "read") and not isinstance(value, (bytes, bytearray, str)):
        return value.read()
    return value


def _make_method(operation: str) -> Any:
    def method(self: Client, **kwargs: Any) -> dict[str, Any]:
        return self._call(operation, kwargs)

    method.__name__ = _snake(operation)
    method.__doc__ = f"Rekognition {operation}, in process. Same arguments and response as boto3."
    return method


for _op in HANDLERS:
    setattr(Client, _snake(_op), _make_method(_op))
