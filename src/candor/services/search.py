"""1:N face search: SearchFaces and SearchFacesByImage.

A search reads in a read transaction, so searches in any number of threads and processes run
their nearest-neighbour stage side by side (on SQLite too: WAL readers never wait), and then
appends its audit record in a short write transaction of its own. A search changes nothing, so
there is no effect that must commit with the record; the result is returned only after its
record is in the chain, and if the append fails the caller gets an error, not the matches.
"""

from __future__ import annotations

from dataclasses import dataclass

from candor import audit
from candor.audit import AuditEvent
from candor.calibration import fmr_for_similarity
from candor.errors import InvalidParameterException
from candor.imaging import DecodedImage, ImageInput, load_image
from candor.inference.base import Detection
from candor.inference.pipeline import AnalyzedFace
from candor.inference.scoring import scoring_version
from candor.runtime import Runtime
from candor.services.collections import require
from candor.services.face_store import check_model, stored_face
from candor.services.faces import to_face_detail
from candor.services.policy import Policy, PolicyRefusal, policy_of
from candor.services.quality import QUALITY_FILTERS, rejection_reasons
from candor.storage.catalog import CatalogTx, CollectionRecord
from candor.types import Caller, FaceSearchMatch, FaceSearchResult

DEFAULT_MAX_FACES = 100


def _check(threshold: float, max_faces: int) -> None:
    if not 0.0 <= threshold <= 100.0:
        raise InvalidParameterException(
            f"FaceMatchThreshold must be between 0 and 100, got {threshold}"
        )
    if max_faces < 1:
        raise InvalidParameterException(f"MaxFaces must be at least 1, got {max_faces}")


def matches(
    rt: Runtime,
    tx: CatalogTx,
    record: CollectionRecord,
    descriptor: bytes,
    *,
    threshold: float,
    max_faces: int,
    exclude_row: int | None = None,
    policy: Policy | None = None,
) -> list[FaceSearchMatch]:
    """Faces at or above ``threshold``, best first, read within ``tx``'s snapshot. Faces past
    the collection's retention period are never returned, even before the reaper runs."""
    scoring = rt.scoring_for(record)
    cutoff = policy.cutoff() if policy is not None else None
    k = max_faces + (1 if exclude_row is not None else 0)
    hits = rt.indexes.search(
        tx, record, scoring, descriptor, k, scoring.distance_for_similarity(threshold)
    )
    hits = [(row, d) for row, d in hits if row != exclude_row][:max_faces]
    # The table has the last word: a face deleted since the index saw it is not returned.
    rows = {
        r.row: r
        for r in tx.faces_by_row(record, [row for row, _ in hits])
        if cutoff is None or r.indexed_at >= cutoff
    }
    return [
        FaceSearchMatch(
            similarity=scoring.similarity(d),
            face=stored_face(rows[row], scoring_version(record.scoring)),
        )
        for row, d in hits
        if row in rows
    ]


def expected_false_matches(faces_searched: int, threshold: float) -> float:
    """About N × FMR(threshold): the false matches a search of N unrelated faces should give."""
    return max(faces_searched, 0) * fmr_for_similarity(threshold)


@dataclass(frozen=True)
class Probe:
    """A search image's largest face, embedded, and every face detected in it."""

    image: DecodedImage
    face: AnalyzedFace  # the largest, with its descriptor
    detections: list[Detection]  # every face, largest first

    @property
    def descriptor(self) -> bytes:
        assert self.face.embedding is not None  # probe_face always embeds
        return self.face.embedding.data


def probe_face(
    rt: Runtime, caller: Caller, collection_id: str, image: ImageInput, quality_filter: str
) -> Probe:
    """The largest face of a search image, embedded, after checking the collection exists and
    uses this server's model (before the expensive part) and the face passes the filter."""
    if quality_filter not in QUALITY_FILTERS:
        raise InvalidParameterException(
            f"QualityFilter must be one of {', '.join(QUALITY_FILTERS)}, got {quality_filter!r}"
        )
    with rt.catalog.transaction() as tx:
        check_model(rt, require(tx, caller, collection_id))
    decoded = load_image(
        image, rt.media, max_pixels=rt.settings.max_image_pixels, account=caller.account
    )
    dets = rt.faces.detect(decoded.pixels)
    if not dets:
        raise InvalidParameterException("There are no faces in the image")
    (face,) = rt.faces.analyze(decoded.pixels, embed=True, detections=dets[:1])
    reasons = rejection_reasons(face, quality_filter)
    if reasons:
        raise InvalidParameterException(
            f"The largest face does not pass QualityFilter {quality_filter} ({', '.join(reasons)})"
        )
    return Probe(decoded, face, dets)


def _event(
    operation: str,
    record: CollectionRecord,
    threshold: float,
    max_faces: int,
    found: list[FaceSearchMatch] | None,
    *,
    image_sha256: tuple[str, ...] = (),
    refusal: str | None = None,
    detail: dict[str, object] | None = None,
) -> AuditEvent:
    return AuditEvent(
        operation=operation,
        collection=record.collection_id,
        threshold=threshold,
        max_faces=max_faces,
        image_sha256=image_sha256,
        match_count=None if found is None else len(found),
        top_similarity=found[0].similarity if found else None,
        face_ids=tuple(m.face.face_id for m in found or ()),
        outcome="ok" if refusal is None else f"refused: {refusal}",
        detail=detail or {},
    )


def search_faces(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    face_id: str,
    threshold: float = 80.0,
    max_faces: int = DEFAULT_MAX_FACES,
) -> FaceSearchResult:
    _check(threshold, max_faces)
    with rt.catalog.transaction() as tx:
        record = require(tx, caller, collection_id)
        policy = policy_of(tx, record)
        refusal = policy.search_refusal(caller, threshold, collection_id)
        result: list[FaceSearchMatch] | None = None
        if refusal is None:
            found = tx.faces_by_id(record, [face_id])
            if not found:
                raise InvalidParameterException(
                    f"FaceId {face_id} is not in collection {collection_id}"
                )
            (face,) = found
            result = matches(
                rt,
                tx,
                record,
                face.descriptor,
                threshold=threshold,
                max_faces=max_faces,
                exclude_row=face.row,
                policy=policy,
            )
    with rt.catalog.transaction(write=True) as tx:
        audit.append(
            tx,
            caller,
            _event(
                "SearchFaces",
                record,
                threshold,
                max_faces,
                result,
                refusal=refusal,
                detail={"searched_face_id": face_id},
            ),
        )
    if refusal is not None or result is None:
        raise PolicyRefusal(str(refusal))
    return FaceSearchResult(
        matches=tuple(result),
        face_model=scoring_version(record.scoring),
        searched_face_id=face_id,
        expected_false_matches=expected_false_matches(record.face_count - 1, threshold),
    )


def search_faces_by_image(
    rt: Runtime,
    caller: Caller,
    *,
    collection_id: str,
    image: ImageInput,
    threshold: float = 80.0,
    max_faces: int = DEFAULT_MAX_FACES,
    quality_filter: str = "NONE",
) -> FaceSearchResult:
    """Search with the largest face in the image."""
    _check(threshold, max_faces)
    probe = probe_face(rt, caller, collection_id, image, quality_filter)
    decoded, face = probe.image, probe.face
    with rt.catalog.transaction() as tx:
        record = require(tx, caller, collection_id)
        policy = policy_of(tx, record)
        refusal = policy.search_refusal(caller, threshold, collection_id)
        result = None
        if refusal is None:
            result = matches(
                rt,
                tx,
                record,
                probe.descriptor,
                threshold=threshold,
                max_faces=max_faces,
                policy=policy,
            )
    with rt.catalog.transaction(write=True) as tx:
        audit.append(
            tx,
            caller,
            _event(
                "SearchFacesByImage",
                record,
                threshold,
                max_faces,
                result,
                image_sha256=(decoded.sha256,),
                refusal=refusal,
            ),
        )
    if refusal is not None or result is None:
        raise PolicyRefusal(str(refusal))
    return FaceSearchResult(
        matches=tuple(result),
        face_model=scoring_version(record.scoring),
        searched_face=to_face_detail(face, decoded),
        expected_false_matches=expected_false_matches(record.face_count, threshold),
    )
