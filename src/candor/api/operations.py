"""Each served operation: wire params in (validated), a service call, a wire dict out.

Both the HTTP server and the in-process :class:`candor.Client` call :func:`dispatch`, so the two
behave the same by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from candor.api import serialize
from candor.api.model import operation_model, service_model
from candor.api.validate import validate
from candor.errors import InvalidParameterException, ServiceError
from candor.imaging import ImageInput
from candor.media import S3Ref
from candor.runtime import Runtime
from candor.services import faces

Wire = dict[str, Any]
Handler = Callable[[Runtime, Wire], Wire]

# Operations Candor refuses by design, and why.
REFUSED: dict[str, str] = {
    "RecognizeCelebrities": "Candor does not identify celebrities or any person it was not given: "
    "recognition is only ever against collections you build, under your own policy.",
    "GetCelebrityInfo": "Candor keeps no celebrity database; it does not identify people it was "
    "not given.",
    "StartCelebrityRecognition": "Candor does not identify celebrities in video.",
    "GetCelebrityRecognition": "Candor does not identify celebrities in video.",
}


class UnsupportedOperationError(ServiceError):
    """An operation in Rekognition's API that this Candor does not serve (yet, or by design)."""

    code = "AccessDeniedException"
    status = 400


def image_input(wire: Wire, member: str) -> ImageInput:
    has_bytes = wire.get("Bytes") is not None
    s3: Wire | None = wire.get("S3Object")
    if has_bytes == (s3 is not None):
        raise InvalidParameterException(
            f"{member} needs exactly one of Bytes or S3Object, got "
            f"{'both' if has_bytes else 'neither'}"
        )
    if has_bytes or s3 is None:
        return bytes(wire["Bytes"])
    if not s3.get("Bucket") or not s3.get("Name"):
        raise InvalidParameterException(f"{member}.S3Object needs both Bucket and Name")
    return S3Ref(bucket=s3["Bucket"], name=s3["Name"], version=s3.get("Version"))


def _detect_faces(rt: Runtime, p: Wire) -> Wire:
    result = faces.detect_faces(
        rt, image=image_input(p["Image"], "Image"), attributes=p.get("Attributes") or ["DEFAULT"]
    )
    return serialize.detect_faces(result)


def _compare_faces(rt: Runtime, p: Wire) -> Wire:
    result = faces.compare_faces(
        rt,
        source_image=image_input(p["SourceImage"], "SourceImage"),
        target_image=image_input(p["TargetImage"], "TargetImage"),
        similarity_threshold=float(p.get("SimilarityThreshold", 80.0)),
        quality_filter=p.get("QualityFilter", "NONE"),
    )
    return serialize.compare_faces(result)


HANDLERS: dict[str, Handler] = {
    "DetectFaces": _detect_faces,
    "CompareFaces": _compare_faces,
}


def dispatch(rt: Runtime, operation: str, params: Wire) -> Wire:
    """Validate ``params`` against the operation's input shape and run it."""
    handler = HANDLERS.get(operation)
    if handler is None:
        if operation in REFUSED:
            raise UnsupportedOperationError(
                f"{operation} is refused by design. {REFUSED[operation]}"
            )
        if operation in service_model().operation_names:
            raise UnsupportedOperationError(
                f"{operation} is part of Rekognition's API but this Candor does not serve it; "
                "see COVERAGE.md for the operations it does"
            )
        raise InvalidParameterException(f"Unknown operation {operation!r}")
    validate(operation_model(operation).input_shape, params)
    return handler(rt, params)
