"""AWS Signature Version 4 verification, as AWS documents it and botocore signs.

The server rebuilds the canonical request from what arrived (method, path, query, the headers the
client says it signed, the SHA-256 of the body), derives the signing key from the access key's
secret (HMAC chain: date → region → service → ``aws4_request``) and compares signatures in
constant time. Any region is accepted, but the credential scope must name ``rekognition`` and
the date of ``X-Amz-Date``; that time must be within five minutes of the server's clock.

Error codes and messages follow AWS: MissingAuthenticationTokenException,
IncompleteSignatureException, UnrecognizedClientException, InvalidSignatureException
("Signature expired: …" for clock skew).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar
from urllib.parse import quote, unquote

from candor.errors import ServiceError

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "rekognition"
TERMINATOR = "aws4_request"
MAX_SKEW = timedelta(minutes=5)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# Headers a signature must cover: without them a captured request could be re-aimed at
# another host, time or operation.
REQUIRED_SIGNED = ("host", "x-amz-date")

_REGION_RE = re.compile(r"^[a-z0-9-]{1,64}$")
_HEX64_RE = re.compile(r"^[0-9a-f]{64}$")


class MissingAuthenticationTokenException(ServiceError):
    code = "MissingAuthenticationTokenException"
    status = 400


class IncompleteSignatureException(ServiceError):
    code = "IncompleteSignatureException"
    status = 400


class InvalidSignatureException(ServiceError):
    code = "InvalidSignatureException"
    status = 400


class UnrecognizedClientException(ServiceError):
    code = "UnrecognizedClientException"
    status = 400


SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request a signature covers. ``headers`` keys are lower case."""

    method: str
    path: str  # as received, still percent-encoded, without the query
    query: str  # as received
    headers: Mapping[str, Sequence[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name)
        return ",".join(values) if values else None


@dataclass(frozen=True)
class Authorization:
    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{self.terminator}"


def parse_authorization(value: str) -> Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignatureException(
            f"Unsupported AWS 'algorithm': {algorithm[:40]!r}; only {ALGORITHM} (Signature "
            "Version 4) is accepted"
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, eq, val = item.strip().partition("=")
        if eq:
            parts[name] = val.strip()
    missing = [p for p in ("Credential", "SignedHeaders", "Signature") if not parts.get(p)]
    if missing:
        raise IncompleteSignatureException(
            " ".join(f"Authorization header requires '{p}' parameter." for p in missing)
        )
    credential = parts["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise IncompleteSignatureException(
            "Credential must have the form <AccessKeyId>/<YYYYMMDD>/<region>/rekognition/"
            f"aws4_request, got {parts['Credential'][:120]!r}"
        )
    key_id, date, region, service, terminator = credential
    return Authorization(
        access_key_id=key_id,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=tuple(parts["SignedHeaders"].split(";")),
        signature=parts["Signature"],
    )


def canonical_uri(path: str) -> str:
    """Dot segments and repeated slashes removed, then percent-encoded once more (non-S3 rule)."""
    segments = [s for s in path.split("/") if s and s != "."]
    out: list[str] = []
    for s in segments:
        if s == "..":
            if out:
                out.pop()
        else:
            out.append(s)
    normalized = "/" + "/".join(out)
    if path.endswith("/") and out:
        normalized += "/"
    return quote(normalized, safe="/~")


def canonical_query(query: str) -> str:
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        pairs.append(
            (quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~"))
        )
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def canonical_request(req: Request, signed_headers: Sequence[str], payload_hash: str) -> str:
    lines = []
    for name in signed_headers:
        values = req.headers.get(name) or []
        lines.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    return "\n".join(
        [
            req.method.upper(),
            canonical_uri(req.path),
            canonical_query(req.query),
            "\n".join(lines) + "\n",
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (date, region, service, TERMINATOR):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def signature(secret: str, auth: Authorization, amz_date: str, canonical: str) -> str:
    key = signing_key(secret, auth.date, auth.region, auth.service)
    sts = string_to_sign(amz_date, auth.scope, canonical)
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


P = TypeVar("P")


def verify(
    req: Request,
    lookup: Callable[[str], P | None],
    secret_of: Callable[[P], str],
    *,
    now: datetime | None = None,
) -> P:
    """Check ``req``'s SigV4 signature; return whatever ``lookup`` gave for its access key.

    ``lookup(access_key_id)`` returns the caller's principal or None for an unknown or revoked
    key; ``secret_of(principal)`` gives its secret. Raises a :class:`ServiceError` subclass
    with AWS's code on any failure.
    """
    header = req.header("authorization")
    if header is None:
        if "X-Amz-Signature=" in req.query or "X-Amz-Credential=" in req.query:
            raise MissingAuthenticationTokenException(
                "Missing Authentication Token: query-string (presigned) signatures are not "
                "accepted; sign with the Authorization header."
            )
        raise MissingAuthenticationTokenException(
            "Missing Authentication Token: sign requests with AWS Signature Version 4 using a "
            "Candor access key (create one with `candor keys create`)."
        )
    auth = parse_authorization(header)

    amz_date = req.header("x-amz-date")
    if amz_date is None:
        raise IncompleteSignatureException(
            "Authorization header requires existence of the 'X-Amz-Date' header."
        )
    try:
        signed_at = datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        raise IncompleteSignatureException(
            f"X-Amz-Date must be in the ISO 8601 basic format YYYYMMDD'T'HHMMSS'Z', got "
            f"{amz_date[:40]!r}"
        ) from None
    if auth.date != amz_date[:8]:
        raise InvalidSignatureException(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: {auth.date[:16]!r} != {amz_date[:8]!r}"
        )
    if auth.service != SERVICE:
        raise InvalidSignatureException(
            f"Credential should be scoped to correct service: {SERVICE!r}, got "
            f"{auth.service[:40]!r}."
        )
    if auth.terminator != TERMINATOR:
        raise InvalidSignatureException(
            f"Credential should be scoped with a valid terminator: {TERMINATOR!r}, got "
            f"{auth.terminator[:40]!r}."
        )
    if not _REGION_RE.match(auth.region):
        raise InvalidSignatureException(
            f"Credential should be scoped to a valid region, got {auth.region[:40]!r}."
        )
    signed = list(auth.signed_headers)
    if signed != sorted(set(signed)) or any(h != h.lower() or not h for h in signed):
        raise InvalidSignatureException(
            "SignedHeaders must list lower-case header names once each, sorted, separated by ';'"
        )
    # A stated purpose goes into the tamper-evident audit record and can satisfy a
    # candor:require-purpose policy, so it must be signed like the target.
    needed = [
        *REQUIRED_SIGNED,
        *(h for h in ("x-amz-target", "x-candor-purpose") if h in req.headers),
    ]
    unsigned = [h for h in needed if h not in signed]
    if unsigned:
        raise InvalidSignatureException(
            f"SignedHeaders must include {', '.join(unsigned)}; got {';'.join(signed)[:200]}"
        )
    absent = [h for h in signed if h not in req.headers]
    if absent:
        raise InvalidSignatureException(
            f"SignedHeaders lists {', '.join(absent)[:200]}, which the request does not carry "
            "(did a proxy remove it?)"
        )

    now = now or datetime.now(timezone.utc)
    skew = signed_at - now
    if abs(skew) > MAX_SKEW:
        if skew < timedelta(0):
            message = (
                f"Signature expired: {amz_date} is now earlier than "
                f"{(now - MAX_SKEW).strftime(AMZ_DATE_FORMAT)} "
                f"({now.strftime(AMZ_DATE_FORMAT)} - 5 min.)"
            )
        else:
            message = (
                f"Signature not yet current: {amz_date} is still later than "
                f"{(now + MAX_SKEW).strftime(AMZ_DATE_FORMAT)} "
                f"({now.strftime(AMZ_DATE_FORMAT)} + 5 min.)"
            )
        raise InvalidSignatureException(
            f"{message}. The time skew between client and server is "
            f"{abs(skew.total_seconds()):.0f} s; at most {MAX_SKEW.seconds} s is allowed: "
            "check the client's clock."
        )

    if req.header("x-amz-security-token") is not None:
        raise UnrecognizedClientException(
            f"{INVALID_TOKEN} Candor keys are long-term keys: unset AWS_SESSION_TOKEN."
        )
    principal = lookup(auth.access_key_id)
    if principal is None:
        raise UnrecognizedClientException(INVALID_TOKEN)

    body_hash = hashlib.sha256(req.body).hexdigest()
    claimed = req.header("x-amz-content-sha256")
    if claimed is not None and claimed != body_hash:
        if not _HEX64_RE.match(claimed):
            raise InvalidSignatureException(
                f"x-amz-content-sha256 {claimed[:40]!r} is not accepted: the payload must be "
                "signed (its hex SHA-256)"
            )
        raise InvalidSignatureException(
            "The provided 'x-amz-content-sha256' header does not match what was computed: the "
            "body was changed after it was signed."
        )
    expected = signature(
        secret_of(principal), auth, amz_date, canonical_request(req, signed, body_hash)
    )
    # compare_digest refuses non-ASCII str; compare bytes so any Signature= value is a mismatch.
    given = auth.signature.encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        raise InvalidSignatureException(SIGNATURE_MISMATCH)
    return principal
