"""Opaque NextToken values: where the next page starts, and for which listing."""

from __future__ import annotations

import base64
import binascii
import json

from candor.errors import InvalidPaginationTokenException


def encode_token(listing: str, after: str | int) -> str:
    raw = json.dumps({"l": listing, "a": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(listing: str, token: str | None) -> str | int | None:
    """The position a token points after; None for no token."""
    if token is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = json.loads(raw)
        after = data["a"]
        if data["l"] != listing or not isinstance(after, (str, int)):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidPaginationTokenException(
            f"NextToken is not one this {listing} listing returned; start again without it"
        ) from None
    return after
