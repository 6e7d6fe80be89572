"""The audit log: one append-only, hash-chained record per biometric operation.

Each record's payload is canonical JSON (sorted keys, no spaces) of what happened — who, which
operation, collection, threshold, MaxFaces, SHA-256 of the input image, how many matches, the
top similarity, the face ids returned, the stated purpose, the outcome — and its hash is
``sha256(previous hash + "\\n" + payload)``. Records are appended inside the same database
transaction as the operation's effect, so an effect without its record (or the reverse) cannot
commit. Changing a byte, deleting a record or swapping two breaks the chain at that record;
:func:`verify` names the first one. Signed checkpoints (Ed25519) of the chain head can be kept
elsewhere and verified against later, which also catches a rewrite of the whole chain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from candor.errors import ConfigurationError
from candor.types import Caller

GENESIS = "0" * 64
SIGNING_KEY_NAME = "audit-signing.key"


@dataclass(frozen=True)
class AuditEvent:
    """What one operation did, in the fields DESIGN.md lists."""

    operation: str
    collection: str | None = None
    threshold: float | None = None
    max_faces: int | None = None
    image_sha256: tuple[str, ...] = ()
    match_count: int | None = None
    top_similarity: float | None = None
    face_ids: tuple[str, ...] = ()
    outcome: str = "ok"  # "ok", or "refused: <why>"
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    time: str
    payload: str  # canonical JSON
    prev_hash: str
    hash: str

    def fields(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.payload)
        return {"seq": self.seq, "time": self.time, **data, "prev_hash": self.prev_hash,
                "hash": self.hash}


class AuditTx(Protocol):
    def audit_head(self) -> tuple[int, str] | None:
        """(seq, hash) of the newest record, read under the transaction's write lock."""
        ...

    def insert_audit(self, record: AuditRecord) -> None: ...

    def audit_records(self, after_seq: int = 0, since: str | None = None) -> Iterator[AuditRecord]:
        ...


def chain_hash(prev_hash: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{payload}".encode()).hexdigest()


def canonical(event: AuditEvent, caller: Caller, when: str) -> str:
    data = asdict(event)
    data["image_sha256"] = list(event.image_sha256)
    data["face_ids"] = list(event.face_ids)
    data.update(
        time=when,
        account=caller.account,
        principal=caller.access_key_id or "local",
        purpose=caller.purpose,
    )
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def append(tx: AuditTx, caller: Caller, event: AuditEvent) -> AuditRecord:
    """Append one record inside ``tx`` (a write transaction)."""
    head = tx.audit_head()
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    when = datetime.now(timezone.utc).isoformat(timespec="microseconds")
    payload = canonical(event, caller, when)
    record = AuditRecord(seq, when, payload, prev, chain_hash(prev, payload))
    tx.insert_audit(record)
    return record


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records: int
    head: tuple[int, str] | None
    first_bad: int | None = None
    reason: str = ""


def verify(records: Iterable[AuditRecord]) -> Verdict:
    """Walk the chain from the start; stop at the first record that does not fit."""
    expected_seq, prev, count, head = 1, GENESIS, 0, None
    for r in records:
        if r.seq != expected_seq:
            return Verdict(False, count, head, expected_seq,
                           f"record {expected_seq} is missing (next present is {r.seq})")
        if r.prev_hash != prev:
            return Verdict(False, count, head, r.seq,
                           f"record {r.seq} does not follow record {r.seq - 1} (prev_hash differs)")
        if chain_hash(r.prev_hash, r.payload) != r.hash:
            return Verdict(False, count, head, r.seq,
                           f"record {r.seq} was altered (its hash does not match its content)")
        try:
            fields = json.loads(r.payload)
        except ValueError:
            return Verdict(False, count, head, r.seq, f"record {r.seq} is not valid JSON")
        # The time column is what `export --since` selects on; the hashed payload holds the
        # time too, and the two must agree, or a record could be hidden by re-dating its row.
        if not isinstance(fields, dict) or fields.get("time") != r.time:
            return Verdict(False, count, head, r.seq,
                           f"record {r.seq} was re-dated (its time column is not the hashed time)")
        expected_seq, prev, count, head = r.seq + 1, r.hash, count + 1, (r.seq, r.hash)
    return Verdict(True, count, head)


# --- signed checkpoints ---------------------------------------------------------------------


def _signing_key(data_dir: Path, *, create: bool) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = data_dir / SIGNING_KEY_NAME
    if not path.exists():
        if not create:
            raise ConfigurationError(f"no audit signing key at {path}")
        key = Ed25519PrivateKey.generate()
        raw = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
    return Ed25519PrivateKey.from_private_bytes(path.read_bytes())


def _checkpoint_message(seq: int, head_hash: str) -> bytes:
    return f"candor-audit-checkpoint\n{seq}\n{head_hash}".encode()


def make_checkpoint(data_dir: Path, head: tuple[int, str]) -> dict[str, Any]:
    """A signed statement of the chain head, to be stored somewhere the server can't write."""
    from cryptography.hazmat.primitives import serialization

    key = _signing_key(data_dir, create=True)
    seq, head_hash = head
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return {
        "seq": seq,
        "hash": head_hash,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "public_key": base64.b64encode(public).decode(),
        "signature": base64.b64encode(key.sign(_checkpoint_message(seq, head_hash))).decode(),
    }


def check_checkpoint(checkpoint: dict[str, Any], records: Sequence[AuditRecord]) -> str | None:
    """None when the checkpoint's signature is valid and the chain still has that head at that
    sequence number; otherwise what is wrong."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        seq, head_hash = int(checkpoint["seq"]), str(checkpoint["hash"])
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
        signature = base64.b64decode(checkpoint["signature"])
        public.verify(signature, _checkpoint_message(seq, head_hash))
    except (KeyError, ValueError, TypeError, InvalidSignature):
        return "the checkpoint's signature is not valid"
    at = next((r for r in records if r.seq == seq), None)
    if at is None:
        return f"record {seq}, the checkpoint's head, is no longer in the log"
    if at.hash != head_hash:
        return f"record {seq} differs from the checkpoint: the chain was rewritten"
    return None
