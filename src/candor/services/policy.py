"""Per-collection policy, set with Rekognition's own TagResource under the ``candor:`` prefix.

- ``candor:min-match-threshold`` (0–100): searches of this collection with a lower
  FaceMatchThreshold / UserMatchThreshold are refused.
- ``candor:require-purpose`` (``true``/``false``): callers must state a purpose — the
  ``X-Candor-Purpose`` HTTP header, ``candor.Client(purpose=...)`` or ``candor --purpose``.
- ``candor:retention-days`` (a whole number ≥ 1): faces older than this are purged by the reaper
  and never returned by a search meanwhile.

A refusal is itself audited. Bad values are refused when the tag is set.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from candor.errors import AccessDeniedException, InvalidParameterException
from candor.storage.catalog import CatalogTx, CollectionRecord
from candor.types import Caller

PREFIX = "candor:"
MIN_MATCH_THRESHOLD = "candor:min-match-threshold"
REQUIRE_PURPOSE = "candor:require-purpose"
RETENTION_DAYS = "candor:retention-days"
KEYS = (MIN_MATCH_THRESHOLD, REQUIRE_PURPOSE, RETENTION_DAYS)


class PolicyRefusal(AccessDeniedException):
    """A request the collection's policy does not allow."""


@dataclass(frozen=True)
class Policy:
    min_match_threshold: float | None = None
    require_purpose: bool = False
    retention_days: int | None = None

    def search_refusal(self, caller: Caller, threshold: float, collection_id: str) -> str | None:
        """Why this search may not run, or None."""
        if self.min_match_threshold is not None and threshold < self.min_match_threshold:
            return (
                f"collection {collection_id} requires a match threshold of at least "
                f"{self.min_match_threshold:g} ({MIN_MATCH_THRESHOLD}); this request used "
                f"{threshold:g}"
            )
        return self.purpose_refusal(caller, collection_id)

    def purpose_refusal(self, caller: Caller, collection_id: str) -> str | None:
        if self.require_purpose and not (caller.purpose or "").strip():
            return (
                f"collection {collection_id} requires a stated purpose ({REQUIRE_PURPOSE}): send "
                "the X-Candor-Purpose header, or use Client(purpose=...) / candor --purpose"
            )
        return None

    def cutoff(self, now: datetime | None = None) -> datetime | None:
        """Faces indexed before this instant have expired."""
        if self.retention_days is None:
            return None
        return (now or datetime.now(timezone.utc)) - timedelta(days=self.retention_days)


def parse(tags: Mapping[str, str]) -> Policy:
    """The policy that a collection's tags state (tags were checked when set)."""
    return Policy(
        min_match_threshold=float(tags[MIN_MATCH_THRESHOLD]) if MIN_MATCH_THRESHOLD in tags
        else None,
        require_purpose=tags.get(REQUIRE_PURPOSE, "false").lower() == "true",
        retention_days=int(tags[RETENTION_DAYS]) if RETENTION_DAYS in tags else None,
    )


def check_tags(tags: Mapping[str, str]) -> None:
    """Refuse unknown ``candor:`` keys and values that don't parse."""
    for key, value in tags.items():
        if not key.startswith(PREFIX):
            continue
        if key not in KEYS:
            raise InvalidParameterException(
                f"Unknown policy tag {key!r}; Candor's policy tags are {', '.join(KEYS)}"
            )
        try:
            if key == MIN_MATCH_THRESHOLD:
                ok = 0.0 <= float(value) <= 100.0
            elif key == RETENTION_DAYS:
                ok = value.isdigit() and int(value) >= 1
            else:
                ok = value.lower() in ("true", "false")
        except ValueError:
            ok = False
        if not ok:
            expected = {
                MIN_MATCH_THRESHOLD: "a number from 0 to 100",
                RETENTION_DAYS: "a whole number of days, at least 1",
                REQUIRE_PURPOSE: "true or false",
            }[key]
            raise InvalidParameterException(f"Tag {key} must be {expected}, got {value!r}")


def policy_of(tx: CatalogTx, record: CollectionRecord) -> Policy:
    return parse(tx.tags(record.arn))
