"""Wire handlers for collections, faces in them, search, users and tags."""

from __future__ import annotations

from typing import Any

from candor.api.handlers.common import (
    Handler,
    Outcome,
    Wire,
    given,
    image_input,
    with_expected_false_matches,
)
from candor.api.shapes import output
from candor.runtime import Runtime
from candor.services import collections, face_store, search, users
from candor.types import Caller


def _listing(p: Wire) -> dict[str, Any]:
    return given(p, next_token="NextToken", max_results="MaxResults")


def create_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    c = collections.create_collection(
        rt, caller, collection_id=p["CollectionId"], tags=p.get("Tags") or {}
    )
    return output("CreateCollection", c, StatusCode=200)


def describe_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    c = collections.describe_collection(rt, caller, collection_id=p["CollectionId"])
    return output("DescribeCollection", c)


def list_collections(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = collections.list_collections(rt, caller, **_listing(p))
    return output(
        "ListCollections",
        page,
        CollectionIds=[c.collection_id for c in page.items],
        FaceModelVersions=[c.face_model for c in page.items],
    )


def delete_collection(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.delete_collection(rt, caller, collection_id=p["CollectionId"])
    return output("DeleteCollection", StatusCode=200)


def index_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = face_store.index_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        **given(
            p,
            external_image_id="ExternalImageId",
            attributes="DetectionAttributes",
            max_faces="MaxFaces",
            quality_filter="QualityFilter",
        ),
    )
    return output("IndexFaces", result)


def list_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = face_store.list_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        **_listing(p),
        **given(p, user_id="UserId", face_ids="FaceIds"),
    )
    return output("ListFaces", page, Faces=page.items)


def delete_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = face_store.delete_faces(
        rt, caller, collection_id=p["CollectionId"], face_ids=p["FaceIds"]
    )
    return output("DeleteFaces", result)


def search_faces(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = search.search_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        face_id=p["FaceId"],
        **given(p, threshold="FaceMatchThreshold", max_faces="MaxFaces"),
    )
    return with_expected_false_matches(
        output("SearchFaces", result), result.expected_false_matches
    )


def search_faces_by_image(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = search.search_faces_by_image(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        **given(
            p, threshold="FaceMatchThreshold", max_faces="MaxFaces", quality_filter="QualityFilter"
        ),
    )
    return with_expected_false_matches(
        output("SearchFacesByImage", result), result.expected_false_matches
    )


def create_user(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    users.create_user(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        **given(p, token="ClientRequestToken"),
    )
    return output("CreateUser")


def delete_user(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    users.delete_user(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        **given(p, token="ClientRequestToken"),
    )
    return output("DeleteUser")


def list_users(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    page = users.list_users(rt, caller, collection_id=p["CollectionId"], **_listing(p))
    return output("ListUsers", page, Users=page.items)


def associate_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = users.associate_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        face_ids=p["FaceIds"],
        **given(p, threshold="UserMatchThreshold", token="ClientRequestToken"),
    )
    return output("AssociateFaces", result)


def disassociate_faces(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    result = users.disassociate_faces(
        rt,
        caller,
        collection_id=p["CollectionId"],
        user_id=p["UserId"],
        face_ids=p["FaceIds"],
        **given(p, token="ClientRequestToken"),
    )
    return output("DisassociateFaces", result)


def search_users(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = users.search_users(
        rt,
        caller,
        collection_id=p["CollectionId"],
        **given(
            p,
            user_id="UserId",
            face_id="FaceId",
            threshold="UserMatchThreshold",
            max_users="MaxUsers",
        ),
    )
    body = output(
        "SearchUsers",
        result,
        SearchedFace=result.searched_face_id,
        SearchedUser=result.searched_user_id,
    )
    return with_expected_false_matches(body, result.expected_false_matches)


def search_users_by_image(rt: Runtime, p: Wire, caller: Caller) -> Outcome:
    result = users.search_users_by_image(
        rt,
        caller,
        collection_id=p["CollectionId"],
        image=image_input(p["Image"], "Image"),
        **given(
            p, threshold="UserMatchThreshold", max_users="MaxUsers", quality_filter="QualityFilter"
        ),
    )
    body = output("SearchUsersByImage", result, SearchedFace={"FaceDetail": result.searched_face})
    return with_expected_false_matches(body, result.expected_false_matches)


def tag_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.tag_resource(rt, caller, arn=p["ResourceArn"], tags=p["Tags"])
    return output("TagResource")


def untag_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    collections.untag_resource(rt, caller, arn=p["ResourceArn"], keys=p["TagKeys"])
    return output("UntagResource")


def list_tags_for_resource(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    tags = collections.list_tags(rt, caller, arn=p["ResourceArn"])
    return output("ListTagsForResource", Tags=tags)


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
