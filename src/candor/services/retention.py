"""The retention reaper: deletes faces older than their collection's ``candor:retention-days``.

Runs from ``candor reap`` and periodically inside ``candor serve``. Each purge is one audit
record, in the same transaction as the deletion. Searches skip expired faces on their own
(see services.search), so a face past its retention is never returned even before this runs.
"""

from __future__ import annotations

from datetime import datetime, timezone

from candor import audit
from candor.audit import AuditEvent
from candor.runtime import Runtime
from candor.services.policy import RETENTION_DAYS, policy_of
from candor.types import Caller

BATCH = 1000


def purge_expired(rt: Runtime, now: datetime | None = None) -> dict[str, int]:
    """Delete every expired face; returns faces removed per collection ARN."""
    now = now or datetime.now(timezone.utc)
    removed: dict[str, int] = {}
    with rt.catalog.transaction() as tx:
        tagged = tx.tagged_collections(RETENTION_DAYS)
    for stale in tagged:
        while True:
            with rt.catalog.transaction(write=True) as tx:
                record = tx.collection(stale.account, stale.collection_id)
                if record is None or record.row != stale.row:
                    break
                cutoff = policy_of(tx, record).cutoff(now)
                if cutoff is None:
                    break
                expired = tx.expired_faces(record, cutoff, BATCH)
                if not expired:
                    break
                tx.set_face_user(record, expired, None)
                deleted = tx.delete_faces(record, expired)
                audit.append(
                    tx,
                    Caller(account=record.account, access_key_id="retention-reaper"),
                    AuditEvent(
                        operation="RetentionPurge",
                        collection=record.collection_id,
                        face_ids=tuple(deleted),
                        detail={"cutoff": cutoff.isoformat()},
                    ),
                )
            removed[record.arn] = removed.get(record.arn, 0) + len(deleted)
    return removed
