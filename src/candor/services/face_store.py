"""Faces in collections: IndexFaces, ListFaces, DeleteFaces."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from candor import audit
from candor.audit import AuditEvent
from candor.errors import InvalidParameterException
from candor.imaging import ImageInput, load_image
from candor.inference.base import RGBArray
from candor.inference.scoring import scoring_version
from candor.runtime import Runtime
from candor.services.collections import require
from candor.services.faces import to_face_detail, wants_extra_attributes
from candor.services.pagination import decode_token, encode_token
from candor.services.policy import PolicyRefusal, policy_of
from candor.services.quality import QUALITY_FILTERS, rejection_reasons
from candor.storage.catalog import CollectionRecord, FaceRecord, NewFace
from candor.types import (
    BoundingBox,
    Caller,
    DeleteFacesResult,
    FaceDetail,
    IndexedFace,
    IndexFacesResult,
    Page,
    StoredFace,
    UnindexedFace,
    UnsuccessfulFace,
)


def stored_face(r: FaceRecord, face_model: str) -> StoredFace:
    return StoredFace(
        face_id=r.face_id,
        bounding_box=BoundingBox(left=r.left, top=r.top, width=r.width, height=r.height),
        image_id=r.image_id,
        external_image_id=r.external_image_id,
        confidence=r.confidence,
        face_model=face_model,
        user_id=r.user_id,
    )


THUMBNAIL_PX = 96


def thumbnail(pixels: RGBArray, face: FaceRecord) -> bytes:
    """A JPEG of the face's box with a fifth of its size around it, at most 96 px a side."""
    import io

    from PIL import Image

    h, w = pixels.shape[:2]
    mx, my = face.width * 0.2, face.height * 0.2
    x0, y0 = max(0, int((face.left - mx) * w)), max(0, int((face.top - my) * h))
    x1 = min(w, int((face.left + face.width + mx) * w) + 1)
    y1 = min(h, int((face.top + face.height + my) * h) + 1)
    crop = Image.fromarray(pixels[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)])
    crop.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    crop.save(out, "JPEG", quality=80)
    return out.getvalue()


def check_model(rt: Runtime, record: CollectionRecord) -> None:
    if record.face_model != rt.faces.embedding_model:
        raise InvalidParameterException(
            f"Collection {record.collection_id} holds {record.face_model} descriptors but this "
            f"server computes {rt.faces.embedding_model}; descriptors of different models never "
            "mix. Create a new collection and index the images again."
        )


def index_faces(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    image: ImageInput,
    external_image_id: str | None = None,
    attributes: Sequence[str] = ("DEFAULT",),
    max_faces: int | None = None,
    quality_filter: str = "AUTO",
) -> IndexFacesResult:
    """Detect faces and add the ones that pass ``quality_filter`` (the ``max_faces`` largest)."""
    if quality_filter not in QUALITY_FILTERS:
        raise InvalidParameterException(
            f"QualityFilter must be one of {', '.join(QUALITY_FILTERS)}, got {quality_filter!r}"
        )
    extra = wants_extra_attributes(attributes)
    with rt.catalog.transaction() as tx:  # fail fast, before the expensive part
        check_model(rt, require(tx, caller, collection_id))
    decoded = load_image(
        image, rt.media, max_pixels=rt.settings.max_image_pixels, account=caller.account
    )
    faces = rt.faces.analyze(decoded.pixels, embed=True, all_attributes=extra)  # largest first
    image_id = str(uuid.uuid4())
    keep: list[tuple[NewFace, FaceDetail]] = []
    unindexed: list[UnindexedFace] = []
    for face in faces:
        detail = to_face_detail(face, decoded)
        reasons = rejection_reasons(face, quality_filter)
        if not reasons and max_faces is not None and len(keep) >= max_faces:
            reasons = ["EXCEEDS_MAX_FACES"]
        if reasons or face.embedding is None:
            unindexed.append(UnindexedFace(tuple(reasons), detail))
            continue
        box = detail.bounding_box
        keep.append(
            (
                NewFace(
                    face_id=str(uuid.uuid4()),
                    image_id=image_id,
                    external_image_id=external_image_id,
                    left=box.left,
                    top=box.top,
                    width=box.width,
                    height=box.height,
                    confidence=detail.confidence,
                    descriptor=face.embedding.data,
                    image_sha256=decoded.sha256,
                ),
                detail,
            )
        )
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        check_model(rt, record)
        refusal = policy_of(tx, record).purpose_refusal(caller, collection_id)
        rows = tx.insert_faces(record, [f for f, _ in keep]) if keep and not refusal else []
        if rows and rt.settings.face_thumbnails:
            tx.add_thumbnails([(r.row, thumbnail(decoded.pixels, r)) for r in rows])
        audit.append(
            tx,
            caller,
            AuditEvent(
                operation="IndexFaces",
                collection=collection_id,
                max_faces=max_faces,
                image_sha256=(decoded.sha256,),
                face_ids=tuple(r.face_id for r in rows),
                outcome="ok" if refusal is None else f"refused: {refusal}",
                detail={"external_image_id": external_image_id, "not_indexed": len(unindexed),
                        "thumbnails": bool(rows) and rt.settings.face_thumbnails},
            ),
        )
    if refusal is not None:
        raise PolicyRefusal(refusal)
    by_id = {r.face_id: r for r in rows}
    indexed = tuple(
        IndexedFace(stored_face(by_id[f.face_id], scoring_version(record.scoring)), detail)
        for f, detail in keep
    )
    return IndexFacesResult(
        indexed=indexed, unindexed=tuple(unindexed), face_model=scoring_version(record.scoring)
    )


def list_faces(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    next_token: str | None = None,
    max_results: int = 1000,
    user_id: str | None = None,
    face_ids: Sequence[str] | None = None,
) -> Page[StoredFace]:
    """A page of faces in indexing order, with the collection's FaceModelVersion."""
    after = decode_token("faces", next_token)
    with rt.catalog.transaction() as tx:
        record = require(tx, caller, collection_id)
        found = tx.faces(
            record,
            after_row=int(after or 0),
            limit=max_results + 1,
            user_id=user_id,
            face_ids=face_ids,
        )
    page = found[:max_results]
    token = encode_token("faces", page[-1].row) if len(found) > max_results else None
    version = scoring_version(record.scoring)
    items = tuple(stored_face(r, version) for r in page)
    return Page(items=items, next_token=token, face_model=version)


def delete_faces(
    rt: Runtime, caller: Caller, *, collection_id: str, face_ids: Sequence[str]
) -> DeleteFacesResult:
    """Delete faces. A face that belongs to a user is kept (disassociate it first)."""
    wanted = list(dict.fromkeys(face_ids))
    with rt.catalog.transaction(write=True) as tx:
        record = require(tx, caller, collection_id)
        found = {f.face_id: f for f in tx.faces_by_id(record, wanted)}
        unsuccessful: list[UnsuccessfulFace] = []
        deletable = []
        for face_id in wanted:
            face = found.get(face_id)
            if face is None:
                unsuccessful.append(UnsuccessfulFace(face_id, ("FACE_NOT_FOUND",)))
            elif face.user_id is not None:
                unsuccessful.append(
                    UnsuccessfulFace(face_id, ("ASSOCIATED_TO_AN_EXISTING_USER",), face.user_id)
                )
            else:
                deletable.append(face_id)
        deleted = tx.delete_faces(record, deletable) if deletable else []
        audit.append(
            tx,
            caller,
            AuditEvent(
                operation="DeleteFaces",
                collection=collection_id,
                face_ids=tuple(deleted),
                detail={"not_deleted": [u.face_id for u in unsuccessful]},
            ),
        )
    return DeleteFacesResult(deleted=tuple(deleted), unsuccessful=tuple(unsuccessful))
