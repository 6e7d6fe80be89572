"""Console sessions and one-time tokens in the key store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from candor.config import Settings
from candor.console.sessions import Sessions, csrf_ok
from candor.keys import KeyRing


@pytest.fixture(params=["sqlite", "postgres"])
def ring(request: pytest.FixtureRequest, tmp_path: Path) -> KeyRing:
    url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    return KeyRing.open(Settings(data_dir=tmp_path, database_url=url))


def test_a_session_needs_the_right_secret_and_ends_on_sign_out(ring: KeyRing) -> None:
    key = ring.create("team")
    sessions = Sessions(ring, 3600)
    assert sessions.sign_in(key.access_key_id, "wrong") is None
    assert sessions.sign_in("CNDRNOSUCHKEY0000000", key.secret) is None
    assert sessions.sign_in(key.access_key_id, "sécret") is None  # not ASCII: still just wrong
    assert sessions.sign_in("CNDRNOSUCHKEY000000é", "sécret") is None
    token = sessions.sign_in(key.access_key_id, key.secret)
    assert token is not None
    who = sessions.current(token)
    assert who is not None and who.principal.account_name == "team"
    assert csrf_ok(who, who.csrf) and not csrf_ok(who, "forged") and not csrf_ok(who, None)
    assert sessions.current(token + "x") is None
    sessions.sign_out(who)
    assert sessions.current(token) is None


def test_revoking_the_key_ends_its_sessions_at_once(ring: KeyRing) -> None:
    key = ring.create("team")
    sessions = Sessions(ring, 3600)
    token = sessions.sign_in(key.access_key_id, key.secret)
    ticket = sessions.mint_ticket(key.access_key_id, 600)
    ring.revoke(key.access_key_id)
    assert sessions.current(token) is None
    assert ticket is not None and sessions.redeem(ticket) is None
    assert sessions.mint_ticket(key.access_key_id, 600) is None


def test_a_ticket_signs_in_once_and_is_no_session_itself(ring: KeyRing) -> None:
    key = ring.create("team")
    sessions = Sessions(ring, 3600)
    ticket = sessions.mint_ticket(key.access_key_id, 600)
    assert ticket is not None
    assert sessions.current(ticket) is None  # a ticket is not a session cookie
    token = sessions.redeem(ticket)
    assert token is not None and sessions.current(token) is not None
    assert sessions.redeem(ticket) is None


def test_expired_sessions_and_tickets_do_not_work_and_are_dropped(ring: KeyRing) -> None:
    key = ring.create("team")
    store = ring.store
    past = datetime.now(timezone.utc) - timedelta(seconds=1)
    store.add_console_session("h1", kind="session", access_key_id=key.access_key_id,
                              csrf="c", expires=past)
    assert store.console_session("h1") is None
    assert store.end_console_session("h1") is None
    Sessions(ring, 3600).sign_in(key.access_key_id, key.secret)  # adding drops expired rows
    with ring.store.transaction() as tx:  # type: ignore[attr-defined]
        rows = tx.conn.execute("SELECT token_hash FROM console_sessions").fetchall()
    assert [r[0] for r in rows if r[0] == "h1"] == []
