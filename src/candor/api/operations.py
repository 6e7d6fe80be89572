"""Each served operation: wire params in (validated), a service call, a wire dict out.

Both the HTTP server and the in-process :class:`candor.Client` call :func:`dispatch`, so the two
behave the same by construction.
"""

from __future__ import annotations

from candor.api.handlers import collections, faces, images, video
from candor.api.handlers.common import Handler, Outcome, Wire
from candor.api.model import operation_model, service_model
from candor.api.validate import validate
from candor.errors import InvalidParameterException, ServiceError
from candor.runtime import Runtime
from candor.types import Caller

# Every served operation. Each handler module contributes its own table.
HANDLERS: dict[str, Handler] = {
    **faces.HANDLERS,
    **collections.HANDLERS,
    **images.HANDLERS,
    **video.HANDLERS,
}

# Operations Candor refuses by design, and why.
REFUSED: dict[str, str] = {
    "RecognizeCelebrities": "Candor does not identify celebrities or any person it was not given: "
    "recognition is only ever against collections you build, under your own policy.",
    "GetCelebrityInfo": "Candor keeps no celebrity database; it does not identify people it was "
    "not given.",
    "StartCelebrityRecognition": "Candor does not identify celebrities in video.",
    "GetCelebrityRecognition": "Candor does not identify celebrities in video.",
}


# Operations Candor refuses because it has no model that does them honestly, and why.
NO_HONEST_MODEL: dict[str, str] = {
    op: "Candor has no person (body) detector it can vouch for: its models find faces (MTCNN), "
    "ImageNet classes with no boxes (MobileNetV2) and exposed body parts (NudeNet), and none "
    "of them follows a person whose face is turned away. For faces tracked through a video "
    "use StartFaceSearch (each Person carries a track Index) or StartFaceDetection."
    for op in ("StartPersonTracking", "GetPersonTracking")
}


class UnsupportedOperationError(ServiceError):
    """An operation in Rekognition's API that this Candor does not serve (yet, or by design)."""

    code = "AccessDeniedException"
    status = 400


def dispatch(
    rt: Runtime, operation: str, params: Wire, caller: Caller | None = None
) -> Outcome:
    """Validate ``params`` against the operation's input shape and run it for ``caller``
    (the local account when None: the in-process client and the CLI)."""
    handler = HANDLERS.get(operation)
    if handler is None:
        if operation in REFUSED:
            raise UnsupportedOperationError(
                f"{operation} is refused by design. {REFUSED[operation]}"
            )
        if operation in NO_HONEST_MODEL:
            raise UnsupportedOperationError(
                f"{operation} is not served. {NO_HONEST_MODEL[operation]}"
            )
        if operation in service_model().operation_names:
            raise UnsupportedOperationError(
                f"{operation} is part of Rekognition's API but this Candor does not serve it; "
                "see COVERAGE.md for the operations it does"
            )
        raise InvalidParameterException(f"Unknown operation {operation!r}")
    validate(operation_model(operation).input_shape, params)
    result = handler(rt, params, caller if caller is not None else Caller.local())
    return result if isinstance(result, Outcome) else Outcome(result)
