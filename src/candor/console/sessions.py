"""Console sign-in: sessions and one-time tickets in the key store, checked on every request.

A session is a random token in a cookie (HttpOnly, SameSite=Strict, Secure, path /console);
the store keeps only its SHA-256, with the access key it signed in as, its CSRF token and its
expiry, so any front process sharing the database knows it and sign-out ends it everywhere.
Every request looks the key up again: a revoked key's sessions stop working at once.

A ticket (``candor keys console-token``) is the same kind of row with a short life, exchanged
once for a session — for operators who would rather not paste a secret into a browser.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from candor.keys import KeyRing, Principal
from candor.storage.base import ConsoleSession

COOKIE = "candor_console"
TICKET_PREFIX = "cct_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    principal: Principal
    session: ConsoleSession
    token_hash: str

    @property
    def csrf(self) -> str:
        return self.session.csrf


class Sessions:
    def __init__(self, keyring: KeyRing, lifetime_s: float) -> None:
        self.keyring = keyring
        self.lifetime = timedelta(seconds=lifetime_s)

    def _new(self, kind: str, access_key_id: str, lifetime: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        if kind == "ticket":
            token = TICKET_PREFIX + token
        self.keyring.store.add_console_session(
            _hash(token),
            kind=kind,
            access_key_id=access_key_id,
            csrf=secrets.token_urlsafe(24),
            expires=datetime.now(timezone.utc) + lifetime,
        )
        return token

    def sign_in(self, access_key_id: str, secret: str) -> str | None:
        """A new session token for a key and its secret; None when they do not match an
        active key (which of the two was wrong is not said)."""
        principal = self.keyring.principal(access_key_id.strip())
        if principal is None:
            hmac.compare_digest(secret.encode(), secrets.token_bytes(40))  # the same work
            return None
        if not hmac.compare_digest(principal.secret.encode(), secret.strip().encode()):
            return None
        return self._new("session", principal.access_key_id, self.lifetime)

    def redeem(self, ticket: str) -> str | None:
        """A session for a one-time ticket; None when it is unknown, used or expired."""
        row = self.keyring.store.end_console_session(_hash(ticket.strip()))
        if row is None or row.kind != "ticket":
            return None
        if self.keyring.principal(row.access_key_id) is None:
            return None
        return self._new("session", row.access_key_id, self.lifetime)

    def mint_ticket(self, access_key_id: str, lifetime_s: float) -> str | None:
        if self.keyring.principal(access_key_id) is None:
            return None
        return self._new("ticket", access_key_id, timedelta(seconds=lifetime_s))

    def current(self, token: str | None) -> SignedIn | None:
        """Who holds this session cookie, if it is live and its key still active."""
        if not token or token.startswith(TICKET_PREFIX):
            return None
        token_hash = _hash(token)
        row = self.keyring.store.console_session(token_hash)
        if row is None or row.kind != "session":
            return None
        principal = self.keyring.principal(row.access_key_id)
        if principal is None:  # revoked since sign-in
            self.keyring.store.end_console_session(token_hash)
            return None
        return SignedIn(principal, row, token_hash)

    def sign_out(self, signed_in: SignedIn) -> None:
        self.keyring.store.end_console_session(signed_in.token_hash)


def csrf_ok(signed_in: SignedIn, sent: object) -> bool:
    return isinstance(sent, str) and hmac.compare_digest(sent.encode(), signed_in.csrf.encode())
