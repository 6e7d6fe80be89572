"""Users (groups of one person's faces): CreateUser, DeleteUser, ListUsers, AssociateFaces,
DisassociateFaces, SearchUsers, SearchUsersByImage."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from candor import audit
from candor.audit import AuditEvent
from candor.errors import (
    ConflictException,
    IdempotentParameterMismatchException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceQuotaExceededException,
)
from candor.imaging import ImageInput
from candor.inference.base import Embedding
from candor.inference.scoring import scoring_version
from candor.runtime import Runtime
from candor.services.collections import require
from candor.services.faces import to_face_detail
from candor.services.pagination import decode_token, encode_token
from candor.services.policy import Policy, PolicyRefusal, policy_of
from candor.services.search import expected_false_matches, probe_face
from candor.storage.catalog import CatalogTx, CollectionRecord, UserRecord
from candor.types import (
    Caller,
    FaceAssociationResult,
    Page,
    UnsearchedFace,
    UnsuccessfulFace,
    User,
    UserMatch,
    UserSearchResult,
)

MAX_FACES_PER_USER = 100


def user_status(record: UserRecord) -> str:
    return "ACTIVE" if record.face_count else "CREATED"


def _require_user(tx: CatalogTx, record: CollectionRecord, user_id: str) -> UserRecord:
    user = tx.user(record, user_id)
    if user is None:
        raise ResourceNotFoundException(
            f"User {user_id} does not exist in collection {record.collection_id}"
        )
    return user


def _replay(
    tx: CatalogTx, caller: Caller, operation: str, token: str | None, request: dict[str, Any]
) -> tuple[str, Any] | None:
    """For a ClientRequestToken seen before: its stored response (same request) or an error.
    Returns (fingerprint, stored response or None)."""
    if token is None:
        return None
    fingerprint = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    seen = tx.request_token(caller.account, operation, token)
    if seen is None:
        return fingerprint, None
    if seen[0] != fingerprint:
        raise IdempotentParameterMismatchException(
            f"ClientRequestToken {token!r} was used with different parameters for {operation}"
        )
    return fingerprint, json.loads(seen[1])


def _remember(
    tx: CatalogTx,
    caller: Caller,
    operation: str,
    token: str | None,
    replay: tuple[str, Any] | None,
    response: Any,
) -> None:
    if token is not None and replay is not None:
        tx.save_request_token(caller.account, operation, token, replay[0], json.dumps(response))


def create_user(
    rt: Runtime, caller: Caller, *, collection_id: str, user_id: str, token: str | None = None
) -> None:
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        replay = _replay(tx, caller, "CreateUser", token, {"c": collection_id, "u": user_id})
        if replay is not None and replay[1] is not None:
            return
        if not tx.create_user(record, user_id):
            raise ConflictException(f"User {user_id} already exists in collection {collection_id}")
        _remember(tx, caller, "CreateUser", token, replay, {})


def delete_user(
    rt: Runtime, caller: Caller, *, collection_id: str, user_id: str, token: str | None = None
) -> None:
    """Delete the user; its faces stay in the collection, unassociated."""
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        replay = _replay(tx, caller, "DeleteUser", token, {"c": collection_id, "u": user_id})
        if replay is not None and replay[1] is not None:
            return
        if not tx.delete_user(record, user_id):
            raise ResourceNotFoundException(
                f"User {user_id} does not exist in collection {collection_id}"
            )
        _remember(tx, caller, "DeleteUser", token, replay, {})
        audit.append(tx, caller, AuditEvent("DeleteUser", collection_id, detail={"user": user_id}))


def list_users(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    next_token: str | None = None,
    max_results: int = 500,
) -> Page[User]:
    after = decode_token("users", next_token)
    with rt.catalog.transaction() as tx:
        record = require(tx, caller, collection_id)
        found = tx.users(record, str(after) if after else None, max_results + 1)
    page = found[:max_results]
    token = encode_token("users", page[-1].user_id) if len(found) > max_results else None
    return Page(items=tuple(User(u.user_id, user_status(u)) for u in page), next_token=token)


def _association_from_json(data: dict[str, Any]) -> FaceAssociationResult:
    return FaceAssociationResult(
        changed=tuple(data["changed"]),
        unsuccessful=tuple(
            # Replays stored before UnsuccessfulFace were [face_id, user_id, confidence, reasons].
            UnsuccessfulFace(u[0], tuple(u[3]), u[1], u[2]) if isinstance(u, list)
            else UnsuccessfulFace(u["face_id"], tuple(u["reasons"]), u["user_id"], u["confidence"])
            for u in data["unsuccessful"]
        ),
        user_status=data["user_status"],
    )


def associate_faces(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    user_id: str,
    face_ids: Sequence[str],
    threshold: float = 75.0,
    token: str | None = None,
) -> FaceAssociationResult:
    """Attach faces to a user. A face joins only if it matches the user's faces (those it has
    already, and those accepted earlier in this call) at ``threshold`` or above."""
    if not 0.0 <= threshold <= 100.0:
        raise InvalidParameterException(
            f"UserMatchThreshold must be between 0 and 100, got {threshold}"
        )
    wanted = list(dict.fromkeys(face_ids))
    request = {"c": collection_id, "u": user_id, "f": wanted, "t": threshold}
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        replay = _replay(tx, caller, "AssociateFaces", token, request)
        if replay is not None and replay[1] is not None:
            return _association_from_json(replay[1])
        _require_user(tx, record, user_id)
        members = [
            Embedding(record.face_model, f.descriptor)
            for f in tx.faces(record, after_row=0, limit=MAX_FACES_PER_USER + 1, user_id=user_id)
        ]
        found = {f.face_id: f for f in tx.faces_by_id(record, wanted)}
        new = [fid for fid in wanted if fid in found and found[fid].user_id != user_id]
        if len(members) + len(new) > MAX_FACES_PER_USER:
            raise ServiceQuotaExceededException(
                f"User {user_id} has {len(members)} faces; adding {len(new)} would pass the "
                f"limit of {MAX_FACES_PER_USER} faces per user"
            )
        changed: list[str] = []
        unsuccessful: list[UnsuccessfulFace] = []
        for fid in wanted:
            face = found.get(fid)
            if face is None:
                unsuccessful.append(UnsuccessfulFace(fid, ("FACE_NOT_FOUND",)))
                continue
            if face.user_id == user_id:
                changed.append(fid)
                continue
            if face.user_id is not None:
                unsuccessful.append(
                    UnsuccessfulFace(fid, ("ASSOCIATED_TO_A_DIFFERENT_USER",), face.user_id)
                )
                continue
            emb = Embedding(record.face_model, face.descriptor)
            if members:
                scoring = rt.scoring_for(record)
                distances = scoring.distances(emb.data, [m.data for m in members])
                best = scoring.similarity(min(distances))
                if best < threshold:
                    unsuccessful.append(
                        UnsuccessfulFace(fid, ("LOW_MATCH_CONFIDENCE",), confidence=best)
                    )
                    continue
            members.append(emb)
            changed.append(fid)
        tx.set_face_user(record, changed, user_id)
        status = user_status(_require_user(tx, record, user_id))
        result = FaceAssociationResult(tuple(changed), tuple(unsuccessful), status)
        _remember(tx, caller, "AssociateFaces", token, replay, asdict(result))
        audit.append(
            tx,
            caller,
            AuditEvent(
                "AssociateFaces",
                collection_id,
                threshold=threshold,
                face_ids=tuple(changed),
                detail={"user": user_id, "refused": [u.face_id for u in unsuccessful]},
            ),
        )
    return result


def disassociate_faces(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    user_id: str,
    face_ids: Sequence[str],
    token: str | None = None,
) -> FaceAssociationResult:
    wanted = list(dict.fromkeys(face_ids))
    request = {"c": collection_id, "u": user_id, "f": wanted}
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        replay = _replay(tx, caller, "DisassociateFaces", token, request)
        if replay is not None and replay[1] is not None:
            return _association_from_json(replay[1])
        _require_user(tx, record, user_id)
        found = {f.face_id: f for f in tx.faces_by_id(record, wanted)}
        changed: list[str] = []
        unsuccessful: list[UnsuccessfulFace] = []
        for fid in wanted:
            face = found.get(fid)
            if face is None:
                unsuccessful.append(UnsuccessfulFace(fid, ("FACE_NOT_FOUND",)))
            elif face.user_id != user_id:
                unsuccessful.append(
                    UnsuccessfulFace(fid, ("ASSOCIATED_TO_A_DIFFERENT_USER",), face.user_id)
                )
            else:
                changed.append(fid)
        tx.set_face_user(record, changed, None)
        status = user_status(_require_user(tx, record, user_id))
        result = FaceAssociationResult(tuple(changed), tuple(unsuccessful), status)
        _remember(tx, caller, "DisassociateFaces", token, replay, asdict(result))
        audit.append(
            tx,
            caller,
            AuditEvent(
                "DisassociateFaces",
                collection_id,
                face_ids=tuple(changed),
                detail={"user": user_id},
            ),
        )
    return result


def _user_matches(
    rt: Runtime,
    tx: CatalogTx,
    record: CollectionRecord,
    probes: Sequence[bytes],
    *,
    threshold: float,
    max_users: int,
    exclude_user: str | None = None,
    exclude_rows: frozenset[int] = frozenset(),
    policy: Policy | None = None,
) -> list[UserMatch]:
    """Users ranked by their best face's similarity to any probe (expired faces excluded)."""
    cal = rt.scoring_for(record)
    cutoff = policy.cutoff() if policy is not None else None
    k = min(4096, max(100, 20 * max_users))
    best: dict[int, float] = {}
    for probe in probes:
        for row, d in rt.indexes.search(
            tx, record, cal, probe, k, cal.distance_for_similarity(threshold)
        ):
            if row not in exclude_rows:
                best[row] = min(d, best.get(row, d))
    per_user: dict[str, float] = {}
    for face in tx.faces_by_row(record, list(best)):
        if face.user_id is None or face.user_id == exclude_user:
            continue
        if cutoff is not None and face.indexed_at < cutoff:
            continue
        per_user[face.user_id] = min(best[face.row], per_user.get(face.user_id, best[face.row]))
    ranked = sorted(per_user.items(), key=lambda kv: kv[1])[:max_users]
    out = []
    for uid, d in ranked:
        user = tx.user(record, uid)
        if user is not None:
            out.append(UserMatch(cal.similarity(d), User(uid, user_status(user))))
    return out


def _audit_search(
    tx: CatalogTx,
    caller: Caller,
    operation: str,
    record: CollectionRecord,
    threshold: float,
    max_users: int,
    found: list[UserMatch] | None,
    refusal: str | None,
    *,
    image_sha256: tuple[str, ...] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    audit.append(
        tx,
        caller,
        AuditEvent(
            operation=operation,
            collection=record.collection_id,
            threshold=threshold,
            max_faces=max_users,
            image_sha256=image_sha256,
            match_count=None if found is None else len(found),
            top_similarity=found[0].similarity if found else None,
            outcome="ok" if refusal is None else f"refused: {refusal}",
            detail={**(detail or {}), "user_ids": [m.user.user_id for m in found or ()]},
        ),
    )


def _check_search(threshold: float, max_users: int) -> None:
    if not 0.0 <= threshold <= 100.0:
        raise InvalidParameterException(
            f"UserMatchThreshold must be between 0 and 100, got {threshold}"
        )
    if max_users < 1:
        raise InvalidParameterException(f"MaxUsers must be at least 1, got {max_users}")


def search_users(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    user_id: str | None = None,
    face_id: str | None = None,
    threshold: float = 80.0,
    max_users: int = 100,
) -> UserSearchResult:
    """Users matching a user's faces or one stored face."""
    _check_search(threshold, max_users)
    if (user_id is None) == (face_id is None):
        raise InvalidParameterException("SearchUsers needs exactly one of UserId or FaceId")
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        policy = policy_of(tx, record)
        refusal = policy.search_refusal(caller, threshold, collection_id)
        found: list[UserMatch] | None = None
        if refusal is None:
            if face_id is not None:
                faces = tx.faces_by_id(record, [face_id])
                if not faces:
                    raise InvalidParameterException(
                        f"FaceId {face_id} is not in collection {collection_id}"
                    )
            else:
                assert user_id is not None
                _require_user(tx, record, user_id)
                faces = tx.faces(record, after_row=0, limit=MAX_FACES_PER_USER, user_id=user_id)
            found = _user_matches(
                rt,
                tx,
                record,
                [f.descriptor for f in faces],
                threshold=threshold,
                max_users=max_users,
                exclude_user=user_id,
                exclude_rows=frozenset(f.row for f in faces),
                policy=policy,
            )
        _audit_search(
            tx,
            caller,
            "SearchUsers",
            record,
            threshold,
            max_users,
            found,
            refusal,
            detail={"searched_face_id": face_id, "searched_user_id": user_id},
        )
    if found is None:
        raise PolicyRefusal(str(refusal))
    return UserSearchResult(
        matches=tuple(found),
        face_model=scoring_version(record.scoring),
        searched_face_id=face_id,
        searched_user_id=user_id,
        expected_false_matches=expected_false_matches(record.face_count, threshold),
    )


def search_users_by_image(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    image: ImageInput,
    threshold: float = 80.0,
    max_users: int = 100,
    quality_filter: str = "NONE",
) -> UserSearchResult:
    """Users matching the largest face in the image; the other faces are listed unsearched."""
    _check_search(threshold, max_users)
    probe = probe_face(rt, caller, collection_id, image, quality_filter)
    decoded, face, dets = probe.image, probe.face, probe.detections
    others = tuple(
        UnsearchedFace(("FACE_NOT_LARGEST",), to_face_detail(f, decoded))
        for f in rt.faces.analyze(decoded.pixels, detections=dets[1:])
    )
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        policy = policy_of(tx, record)
        refusal = policy.search_refusal(caller, threshold, collection_id)
        found = None
        if refusal is None:
            found = _user_matches(
                rt,
                tx,
                record,
                [probe.descriptor],
                threshold=threshold,
                max_users=max_users,
                policy=policy,
            )
        _audit_search(
            tx,
            caller,
            "SearchUsersByImage",
            record,
            threshold,
            max_users,
            found,
            refusal,
            image_sha256=(decoded.sha256,),
        )
    if found is None:
        raise PolicyRefusal(str(refusal))
    return UserSearchResult(
        matches=tuple(found),
        face_model=scoring_version(record.scoring),
        searched_face=to_face_detail(face, decoded),
        unsearched=others,
        expected_false_matches=expected_false_matches(record.face_count, threshold),
    )
