"""Request validation from the service model: required members, types, lengths, ranges,
patterns and enums. Errors name the member, e.g. ``SourceImage.S3Object.Bucket``.

Values arrive decoded: blobs are ``bytes`` (the HTTP layer base64-decodes them first).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

from candor.errors import ImageTooLargeException, InvalidParameterException

_MAX_DEPTH = 32


def validate(shape: Any, value: Any, path: str = "") -> None:
    _check(shape, value, path, 0)


def _fail(path: str, what: str) -> None:
    where = path or "request"
    raise InvalidParameterException(f"Invalid value for {where}: {what}")


def _check(shape: Any, value: Any, path: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        _fail(path, "nested too deeply")
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            _fail(path, f"expected an object, got {type(value).__name__}")
        for req in shape.required_members:
            if value.get(req) is None:
                _fail(_join(path, req), "this member is required")
        for key, item in value.items():
            member = shape.members.get(key)
            if member is None:
                _fail(_join(path, key), f"unknown member; expected one of {list(shape.members)}")
            if item is not None:
                _check(member, item, _join(path, key), depth + 1)
    elif kind == "list":
        if not isinstance(value, list):
            _fail(path, f"expected a list, got {type(value).__name__}")
        _bounds(path, len(value), meta, "items")
        for i, item in enumerate(value):
            _check(shape.member, item, f"{path}[{i}]", depth + 1)
    elif kind == "map":
        if not isinstance(value, dict):
            _fail(path, f"expected an object, got {type(value).__name__}")
        _bounds(path, len(value), meta, "entries")
        for k, v in value.items():
            _check(shape.key, k, f"{path}.<key>", depth + 1)
            _check(shape.value, v, f"{path}.{k}", depth + 1)
    elif kind == "string":
        if not isinstance(value, str):
            _fail(path, f"expected a string, got {type(value).__name__}")
        _bounds(path, len(value), meta, "characters")
        if shape.enum and value not in shape.enum:
            _fail(path, f"{value!r} is not one of {list(shape.enum)}")
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).fullmatch(value):
            _fail(path, f"{value[:80]!r} does not match the pattern {pattern}")
    elif kind == "blob":
        if not isinstance(value, (bytes, bytearray)):
            _fail(path, f"expected binary data, got {type(value).__name__}")
        if "max" in meta and len(value) > meta["max"]:
            raise ImageTooLargeException(
                f"{path} is {len(value):,} bytes; the limit is {meta['max']:,} bytes. "
                "Resize or recompress the image, or pass it as an S3Object (up to 15 MiB)."
            )
        _bounds(path, len(value), meta, "bytes")
    elif kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            _fail(path, f"expected an integer, got {type(value).__name__}")
        _bounds(path, value, meta, "")
    elif kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(path, f"expected a number, got {type(value).__name__}")
        _bounds(path, value, meta, "")
    elif kind == "boolean":
        if not isinstance(value, bool):
            _fail(path, f"expected true or false, got {type(value).__name__}")
    elif kind == "timestamp":
        if not isinstance(value, (int, float, str, datetime)) or isinstance(value, bool):
            _fail(path, f"expected a timestamp, got {type(value).__name__}")


# The model's patterns are Java regular expressions; Python's ``re`` lacks Unicode property
# classes. They appear only inside character classes that also allow "_", so letters and
# numbers become \w; separators become the space characters.
_UNICODE_CLASSES = {
    r"\p{L}": r"\w",
    r"\p{Z}": r" \u00a0\u2000-\u200a\u2028\u2029\u3000",
    r"\p{N}": r"\w",
}


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    for java, python in _UNICODE_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern)


def _bounds(path: str, n: float, meta: dict[str, Any], unit: str) -> None:
    suffix = f" {unit}" if unit else ""
    if "min" in meta and n < meta["min"]:
        _fail(path, f"must be at least {meta['min']}{suffix}, got {n}{suffix}")
    if "max" in meta and n > meta["max"]:
        _fail(path, f"must be at most {meta['max']}{suffix}, got {n}{suffix}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
