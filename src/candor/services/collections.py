"""Collections and their tags: CreateCollection, DescribeCollection, ListCollections,
DeleteCollection, TagResource, UntagResource, ListTagsForResource."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from candor import audit
from candor.audit import AuditEvent
from candor.errors import (
    InvalidParameterException,
    ResourceAlreadyExistsException,
    ResourceNotFoundException,
)
from candor.inference.scoring import load_scoring, scoring_version
from candor.runtime import Runtime
from candor.services import policy
from candor.services.pagination import decode_token, encode_token
from candor.storage.catalog import CatalogTx, CollectionRecord
from candor.types import Caller, Collection, Page

MAX_TAGS = 200
_ARN_RE = re.compile(r"^arn:aws:rekognition:([^:]*):([^:]+):collection/(.+)$")


def collection_arn(rt: Runtime, caller: Caller, collection_id: str) -> str:
    return f"arn:aws:rekognition:{rt.settings.region}:{caller.account}:collection/{collection_id}"


def to_collection(r: CollectionRecord) -> Collection:
    return Collection(
        collection_id=r.collection_id,
        arn=r.arn,
        face_model=scoring_version(r.scoring),
        created=r.created,
        face_count=r.face_count,
        user_count=r.user_count,
    )


def require(tx: CatalogTx, caller: Caller, collection_id: str) -> CollectionRecord:
    """The caller's collection, or ResourceNotFoundException. Another account's collection of
    the same name is, for this caller, simply not there."""
    record = tx.collection(caller.account, collection_id)
    if record is None:
        raise ResourceNotFoundException(f"The collection id: {collection_id} does not exist")
    return record


def create_collection(
    rt: Runtime, caller: Caller, *, collection_id: str, tags: Mapping[str, str] | None = None
) -> Collection:
    _check_tags(tags or {})
    arn = collection_arn(rt, caller, collection_id)
    with rt.catalog.transaction(write=True) as tx:
        record = tx.create_collection(
            caller.account, collection_id, arn, rt.faces.embedding_model, rt.scoring.name
        )
        if record is None:
            raise ResourceAlreadyExistsException(
                f"The collection id: {collection_id} already exists"
            )
        if tags:
            tx.set_tags(arn, dict(tags))
        return to_collection(record)


def describe_collection(rt: Runtime, caller: Caller, *, collection_id: str) -> Collection:
    with rt.catalog.transaction() as tx:
        return to_collection(require(tx, caller, collection_id))


def list_collections(
    rt: Runtime, caller: Caller, *, next_token: str | None = None, max_results: int = 1000
) -> Page[Collection]:
    after = decode_token("collections", next_token)
    with rt.catalog.transaction() as tx:
        found = tx.collections(caller.account, str(after) if after else None, max_results + 1)
    page = found[:max_results]
    token = (
        encode_token("collections", page[-1].collection_id) if len(found) > max_results else None
    )
    return Page(items=tuple(to_collection(r) for r in page), next_token=token)


def delete_collection(rt: Runtime, caller: Caller, *, collection_id: str) -> int:
    """Delete the collection and everything in it; returns the number of faces removed."""
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        removed = tx.delete_collection(record)
        audit.append(
            tx,
            caller,
            AuditEvent("DeleteCollection", collection=collection_id, detail={"faces": removed}),
        )
    rt.indexes.forget(record)
    return removed


def migrate_scoring(
    rt: Runtime, caller: Caller, *, collection_id: str, scoring: str | None = None
) -> Collection:
    """Switch a collection to another scoring of the same descriptors (by default this
    server's current one): its faces stay, its Similarity values and FaceModelVersion change.

    A collection keeps the scoring it was created with until this is run, so thresholds an
    operator chose keep meaning what they meant; the switch is audited. No image is needed:
    the normalisation is computed from the stored descriptors."""
    target = load_scoring(scoring or rt.scoring.name)
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        if target.descriptor_model != record.face_model:
            raise InvalidParameterException(
                f"Scoring {target.name} is for {target.descriptor_model} descriptors; collection "
                f"{collection_id} holds {record.face_model} descriptors"
            )
        if record.scoring == target.name:
            return to_collection(record)
        before = record.scoring
        record = tx.set_scoring(record, target.name)
        audit.append(
            tx,
            caller,
            AuditEvent(
                "MigrateScoring",
                collection=collection_id,
                detail={
                    "from": before,
                    "to": target.name,
                    "from_version": scoring_version(before),
                    "to_version": target.version,
                },
            ),
        )
    rt.indexes.forget(record)
    return to_collection(record)


# --- tags ----------------------------------------------------------------------------------


def _collection_for_arn(tx: CatalogTx, caller: Caller, arn: str) -> CollectionRecord:
    m = _ARN_RE.match(arn)
    if m is None:
        raise InvalidParameterException(
            f"ResourceArn {arn!r} is not a collection ARN "
            "(arn:aws:rekognition:REGION:ACCOUNT:collection/ID)"
        )
    record = tx.collection(caller.account, m.group(3)) if m.group(2) == caller.account else None
    if record is None or record.arn != arn:
        raise ResourceNotFoundException(f"No collection with ARN {arn}")
    return record


def _check_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidParameterException(f"At most {MAX_TAGS} tags per resource, got {len(tags)}")
    for key in tags:
        if key.lower().startswith("aws:"):
            raise InvalidParameterException(f"Tag keys may not start with 'aws:' ({key!r})")


def tag_resource(rt: Runtime, caller: Caller, *, arn: str, tags: Mapping[str, str]) -> None:
    """Set tags; ``candor:`` tags are the collection's policy, and changing one is audited."""
    _check_tags(tags)
    policy.check_tags(tags)
    with rt.catalog.transaction(write=True) as tx:
        record = _collection_for_arn(tx, caller, arn)
        if len(tx.tags(record.arn).keys() | tags.keys()) > MAX_TAGS:
            raise InvalidParameterException(f"A resource may carry at most {MAX_TAGS} tags")
        tx.set_tags(record.arn, dict(tags))
        changed = {k: v for k, v in tags.items() if k.startswith(policy.PREFIX)}
        if changed:
            event = AuditEvent("PolicyChange", record.collection_id, detail={"set": changed})
            audit.append(tx, caller, event)


def untag_resource(rt: Runtime, caller: Caller, *, arn: str, keys: Sequence[str]) -> None:
    with rt.catalog.transaction(write=True) as tx:
        record = _collection_for_arn(tx, caller, arn)
        present = tx.tags(record.arn)
        tx.remove_tags(record.arn, keys)
        removed = sorted(k for k in keys if k.startswith(policy.PREFIX) and k in present)
        if removed:
            event = AuditEvent("PolicyChange", record.collection_id, detail={"removed": removed})
            audit.append(tx, caller, event)


def list_tags(rt: Runtime, caller: Caller, *, arn: str) -> dict[str, str]:
    with rt.catalog.transaction() as tx:
        return tx.tags(_collection_for_arn(tx, caller, arn).arn)
