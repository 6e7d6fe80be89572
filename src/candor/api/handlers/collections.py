"""Wire handlers for collections, faces in them, search, users and tags."""

from __future__ import annotations

from candor.api import serialize_collections as ser
from candor.api.handlers.common import (
    Handler,
    Outcome,
    Wire,
    image_input,
    with_expected_false_matches,
)
from candor.runtime import Runtime
from candor.services import collections, face_store, search, users
from candor.types import Caller

DEFAULT_PAGE = 1000


def _page_size(p: Wire, default: int = DEFAULT_PAGE) -> int:
    # Rekognition's model allows MaxResults=0 for some listings; it means "the default".
    return int(p.get("MaxResults") or default)


def create_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    tags = p.get("Tags") or {}
    c = collections.create_collection(rt, caller, collection_id=p["CollectionId"], tags=tags)
    return ser.create_collection(c)


def describe_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    c = collections.describe_collection(rt, caller, collection_id=p["CollectionId"])
    return ser.describe_collection(c)


def list_collections(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = collections.list_collections(
        rt, caller, next_token=p.get("NextToken"), max_results=_page_size(p)
    )
    out: Wire = {
        "CollectionIds": [c.collection_id for c in page.items],
        "FaceModelVersions": [c.face_model for c in page.items],
    }
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def delete_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.delete_collection(rt, caller, collection_id=p["CollectionId"])
    return {"StatusCode": 200}


def index_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = face_store.index_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        external_image_id=p.get("ExternalImageId"),
        attributes=p.get("DetectionAttributes") or ["DEFAULT"],
        max_faces=p.get("MaxFaces"),
        quality_filter=p.get("QualityFilter", "AUTO"),
    )
    return ser.index_faces(result)


def list_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = face_store.list_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        next_token=p.get("NextToken"),
        max_results=_page_size(p),
        user_id=p.get("UserId"),
        face_ids=p.get("FaceIds"),
    )
    out: Wire = {
        "Faces": [ser.stored_face(f) for f in page.items],
        "FaceModelVersion": page.face_model,
    }
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def delete_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = face_store.delete_faces(
        rt, caller, collection_id=p["CollectionId"], face_ids=p["FaceIds"]
    )
    return ser.delete_faces(result)


def search_faces(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = search.search_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        face_id=p["FaceId"],
        threshold=float(p.get("FaceMatchThreshold", 80.0)),
        max_faces=int(p.get("MaxFaces", search.DEFAULT_MAX_FACES)),
    )
    return with_expected_false_matches(ser.search_faces(result), result.expected_false_matches)


def search_faces_by_image(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = search.search_faces_by_image(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        threshold=float(p.get("FaceMatchThreshold", 80.0)),
        max_faces=int(p.get("MaxFaces", search.DEFAULT_MAX_FACES)),
        quality_filter=p.get("QualityFilter", "NONE"),
    )
    return with_expected_false_matches(
        ser.search_faces_by_image(result), result.expected_false_matches
    )


def create_user(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    users.create_user(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        token=p.get("ClientRequestToken"),
    )
    return {}


def delete_user(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    users.delete_user(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        token=p.get("ClientRequestToken"),
    )
    return {}


def list_users(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = users.list_users(
        rt,
        caller,
        collection_id=p["CollectionId"],
        next_token=p.get("NextToken"),
        max_results=_page_size(p, 500),
    )
    out: Wire = {"Users": [{"UserId": u.user_id, "UserStatus": u.status} for u in page.items]}
    if page.next_token:
        out["NextToken"] = page.next_token
    return out


def associate_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = users.associate_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        face_ids=p["FaceIds"],
        threshold=float(p.get("UserMatchThreshold", 75.0)),
        token=p.get("ClientRequestToken"),
    )
    return ser.association(result, associate=True)


def disassociate_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = users.disassociate_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        face_ids=p["FaceIds"],
        token=p.get("ClientRequestToken"),
    )
    return ser.association(result, associate=False)


def search_users(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = users.search_users(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p.get("UserId"),
        face_id=p.get("FaceId"),
        threshold=float(p.get("UserMatchThreshold", 80.0)),
        max_users=int(p.get("MaxUsers", 100)),
    )
    return with_expected_false_matches(ser.search_users(result), result.expected_false_matches)


def search_users_by_image(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = users.search_users_by_image(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        threshold=float(p.get("UserMatchThreshold", 80.0)),
        max_users=int(p.get("MaxUsers", 100)),
        quality_filter=p.get("QualityFilter", "NONE"),
    )
    return with_expected_false_matches(
        ser.search_users_by_image(result), result.expected_false_matches
    )


def tag_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.tag_resource(rt, caller, arn=p["ResourceArn"], tags=p["Tags"])
    return {}


def untag_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.untag_resource(rt, caller, arn=p["ResourceArn"], keys=p["TagKeys"])
    return {}


def list_tags_for_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    return {"Tags": collections.list_tags(rt, caller, arn=p["ResourceArn"])}


HANDLERS: dict[str, Handler] = {
    "CreateCollection": create_collection,
    "DescribeCollection": describe_collection,
    "ListCollections": list_collections,
    "DeleteCollection": delete_collection,
    "IndexFaces": index_faces,
    "ListFaces": list_faces,
    "DeleteFaces": delete_faces,
    "SearchFaces": search_faces,
    "SearchFacesByImage": search_faces_by_image,
    "CreateUser": create_user,
    "DeleteUser": delete_user,
    "ListUsers": list_users,
    "AssociateFaces": associate_faces,
    "DisassociateFaces": disassociate_faces,
    "SearchUsers": search_users,
    "SearchUsersByImage": search_users_by_image,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
