"""Collection, face-store, search and user results → Rekognition's response dicts."""

from __future__ import annotations

from typing import Any

from candor.api.serialize import bounding_box, face_detail
from candor.types import (
    Collection,
    DeleteFacesResult,
    FaceAssociationResult,
    FaceSearchResult,
    IndexFacesResult,
    StoredFace,
    UserMatch,
    UserSearchResult,
)

Wire = dict[str, Any]


def stored_face(f: StoredFace) -> Wire:
    out: Wire = {
        "FaceId": f.face_id,
        "BoundingBox": bounding_box(f.bounding_box),
        "ImageId": f.image_id,
        "Confidence": f.confidence,
        "IndexFacesModelVersion": f.face_model,
    }
    if f.external_image_id is not None:
        out["ExternalImageId"] = f.external_image_id
    if f.user_id is not None:
        out["UserId"] = f.user_id
    return out


def create_collection(c: Collection) -> Wire:
    return {"StatusCode": 200, "CollectionArn": c.arn, "FaceModelVersion": c.face_model}


def describe_collection(c: Collection) -> Wire:
    return {
        "FaceCount": c.face_count,
        "UserCount": c.user_count,
        "FaceModelVersion": c.face_model,
        "CollectionARN": c.arn,
        "CreationTimestamp": c.created,
    }


def index_faces(r: IndexFacesResult) -> Wire:
    return {
        "FaceRecords": [
            {"Face": stored_face(face), "FaceDetail": face_detail(detail)}
            for face, detail in r.indexed
        ],
        "FaceModelVersion": r.face_model,
        "UnindexedFaces": [
            {"Reasons": list(reasons), "FaceDetail": face_detail(detail)}
            for reasons, detail in r.unindexed
        ],
    }


def delete_faces(r: DeleteFacesResult) -> Wire:
    unsuccessful = []
    for u in r.unsuccessful:
        item: Wire = {"FaceId": u.face_id, "Reasons": list(u.reasons)}
        if u.user_id is not None:
            item["UserId"] = u.user_id
        unsuccessful.append(item)
    return {"DeletedFaces": list(r.deleted), "UnsuccessfulFaceDeletions": unsuccessful}


def face_matches(r: FaceSearchResult) -> list[Wire]:
    return [{"Similarity": m.similarity, "Face": stored_face(m.face)} for m in r.matches]


def search_faces(r: FaceSearchResult) -> Wire:
    return {
        "SearchedFaceId": r.searched_face_id,
        "FaceMatches": face_matches(r),
        "FaceModelVersion": r.face_model,
    }


def search_faces_by_image(r: FaceSearchResult) -> Wire:
    assert r.searched_face is not None
    return {
        "SearchedFaceBoundingBox": bounding_box(r.searched_face.bounding_box),
        "SearchedFaceConfidence": r.searched_face.confidence,
        "FaceMatches": face_matches(r),
        "FaceModelVersion": r.face_model,
    }


def association(r: FaceAssociationResult, *, associate: bool) -> Wire:
    unsuccessful = []
    for u in r.unsuccessful:
        item: Wire = {"FaceId": u.face_id, "Reasons": list(u.reasons)}
        if u.user_id is not None:
            item["UserId"] = u.user_id
        if u.confidence is not None and associate:
            item["Confidence"] = u.confidence
        unsuccessful.append(item)
    if associate:
        return {
            "AssociatedFaces": [{"FaceId": f} for f in r.changed],
            "UnsuccessfulFaceAssociations": unsuccessful,
            "UserStatus": r.user_status,
        }
    return {
        "DisassociatedFaces": [{"FaceId": f} for f in r.changed],
        "UnsuccessfulFaceDisassociations": unsuccessful,
        "UserStatus": r.user_status,
    }


def user_match(m: UserMatch) -> Wire:
    return {
        "Similarity": m.similarity,
        "User": {"UserId": m.user.user_id, "UserStatus": m.user.status},
    }


def search_users(r: UserSearchResult) -> Wire:
    out: Wire = {
        "UserMatches": [user_match(m) for m in r.matches],
        "FaceModelVersion": r.face_model,
    }
    if r.searched_face_id is not None:
        out["SearchedFace"] = {"FaceId": r.searched_face_id}
    if r.searched_user_id is not None:
        out["SearchedUser"] = {"UserId": r.searched_user_id}
    return out


def search_users_by_image(r: UserSearchResult) -> Wire:
    assert r.searched_face is not None
    return {
        "UserMatches": [user_match(m) for m in r.matches],
        "FaceModelVersion": r.face_model,
        "SearchedFace": {"FaceDetail": face_detail(r.searched_face)},
        "UnsearchedFaces": [
            {"FaceDetails": face_detail(detail), "Reasons": list(reasons)}
            for reasons, detail in r.unsearched
        ],
    }
