"""What every wire handler shares: the handler type and image input parsing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from candor.errors import InvalidParameterException
from candor.imaging import ImageInput
from candor.media import S3Ref
from candor.runtime import Runtime
from candor.types import Caller

Wire = dict[str, Any]

# Response header for SDK users: about how many false matches this search should be expected to
# hold (faces searched × the false match rate of its threshold, from the calibration table).
EXPECTED_FALSE_MATCHES = "x-candor-expected-false-matches"


@dataclass(frozen=True)
class Outcome:
    """A response body with extra HTTP headers (handlers may return a plain Wire instead)."""

    body: Wire
    headers: dict[str, str] = field(default_factory=dict)


def with_expected_false_matches(body: Wire, expected: float) -> Outcome:
    return Outcome(body, {EXPECTED_FALSE_MATCHES: f"{expected:.4g}"})


Handler = Callable[[Runtime, Wire, Caller], "Wire | Outcome"]


def given(p: Wire, **members: str) -> dict[str, Any]:
    """Keyword arguments for the request members that were sent: ``given(p,
    threshold="FaceMatchThreshold")`` is ``{"threshold": p["FaceMatchThreshold"]}`` when the
    request holds it and ``{}`` when not, so a default lives only in the service's signature.
    An empty list counts as not sent (``Attributes: []`` is the default set, as in Rekognition),
    and so does ``MaxResults: 0``, which Rekognition's model allows to mean "the default"."""
    return {
        kw: p[m]
        for kw, m in members.items()
        if p.get(m) not in (None, [], ()) and not (m == "MaxResults" and p[m] == 0)
    }


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
