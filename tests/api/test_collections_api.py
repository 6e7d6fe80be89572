"""Collections, users, search and tags through boto3 against ``candor serve``; every success
response is checked against botocore's output shape. Accounts never see each other's data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from candor.keys import KeyRing

from .conftest import BIDEN, OBAMA, OBAMA2, Server, server_settings
from .test_boto3 import check_output, error_code


@pytest.fixture
def coll(rek: Any) -> Iterator[str]:
    name = f"api-{uuid.uuid4().hex[:8]}"
    check_output("CreateCollection", rek.create_collection(CollectionId=name, Tags={"t": "1"}))
    yield name
    try:
        rek.delete_collection(CollectionId=name)
    except ClientError:
        pass


def test_every_collection_operation(rek: Any, coll: str) -> None:
    def ok(op: str, response: dict[str, Any]) -> dict[str, Any]:
        check_output(op, response)
        return response

    d = ok("DescribeCollection", rek.describe_collection(CollectionId=coll))
    assert d["FaceCount"] == 0 and d["CreationTimestamp"].year >= 2026
    assert coll in ok("ListCollections", rek.list_collections())["CollectionIds"]
    r = ok("IndexFaces", rek.index_faces(CollectionId=coll, Image={"Bytes": OBAMA.read_bytes()}, ExternalImageId="obama", DetectionAttributes=["ALL"]))
    (obama,) = [f["Face"]["FaceId"] for f in r["FaceRecords"]]
    r = ok("IndexFaces", rek.index_faces(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}))
    (obama2,) = [f["Face"]["FaceId"] for f in r["FaceRecords"]]
    (biden,) = [f["Face"]["FaceId"] for f in rek.index_faces(CollectionId=coll, Image={"Bytes": BIDEN.read_bytes()})["FaceRecords"]]
    faces = ok("ListFaces", rek.list_faces(CollectionId=coll, MaxResults=2))
    assert len(faces["Faces"]) == 2 and faces["NextToken"]
    r = ok("SearchFaces", rek.search_faces(CollectionId=coll, FaceId=obama))
    assert [m["Face"]["FaceId"] for m in r["FaceMatches"]] == [obama2]
    r = ok("SearchFacesByImage", rek.search_faces_by_image(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}))
    assert r["FaceMatches"][0]["Face"]["FaceId"] in {obama, obama2}
    ok("CreateUser", rek.create_user(CollectionId=coll, UserId="barack"))  # boto3 adds a token
    r = ok("AssociateFaces", rek.associate_faces(CollectionId=coll, UserId="barack", FaceIds=[obama, obama2]))
    assert r["UserStatus"] == "ACTIVE" and len(r["AssociatedFaces"]) == 2
    assert ok("ListUsers", rek.list_users(CollectionId=coll))["Users"][0]["UserId"] == "barack"
    r = ok("SearchUsers", rek.search_users(CollectionId=coll, UserId="barack"))
    assert r["UserMatches"] == []  # the only user is the one searched with
    r = ok("SearchUsersByImage", rek.search_users_by_image(CollectionId=coll, Image={"Bytes": OBAMA.read_bytes()}))
    assert r["UserMatches"][0]["User"]["UserId"] == "barack"
    r = ok("DisassociateFaces", rek.disassociate_faces(CollectionId=coll, UserId="barack", FaceIds=[obama2]))
    assert r["DisassociatedFaces"] == [{"FaceId": obama2}]
    ok("DeleteUser", rek.delete_user(CollectionId=coll, UserId="barack"))
    r = ok("DeleteFaces", rek.delete_faces(CollectionId=coll, FaceIds=[biden]))
    assert r["DeletedFaces"] == [biden]
    arn = d["CollectionARN"]
    ok("TagResource", rek.tag_resource(ResourceArn=arn, Tags={"purpose": "test"}))
    ok("UntagResource", rek.untag_resource(ResourceArn=arn, TagKeys=["t"]))
    assert ok("ListTagsForResource", rek.list_tags_for_resource(ResourceArn=arn))["Tags"] == {"purpose": "test"}
    ok("DeleteCollection", rek.delete_collection(CollectionId=coll))


def test_paginator_walks_all_faces(rek: Any, coll: str) -> None:
    for _ in range(3):
        rek.index_faces(CollectionId=coll, Image={"Bytes": OBAMA.read_bytes()})
    pages = list(rek.get_paginator("list_faces").paginate(CollectionId=coll, PaginationConfig={"PageSize": 1}))
    assert sum(len(p["Faces"]) for p in pages) == 3


@pytest.mark.parametrize(
    ("call", "code"),
    [
        (lambda r, c: r.describe_collection(CollectionId="no-such-coll"), "ResourceNotFoundException"),
        (lambda r, c: r.create_collection(CollectionId=c), "ResourceAlreadyExistsException"),
        (lambda r, c: r.list_faces(CollectionId=c, NextToken="garbage"), "InvalidPaginationTokenException"),
        (lambda r, c: r.search_faces(CollectionId=c, FaceId=str(uuid.uuid4())), "InvalidParameterException"),
        (lambda r, c: r.delete_user(CollectionId=c, UserId="nobody"), "ResourceNotFoundException"),
        (lambda r, c: r.index_faces(CollectionId=c, Image={"Bytes": b"not an image"}), "InvalidImageFormatException"),
        (lambda r, c: r.search_faces_by_image(CollectionId=c, Image={"Bytes": OBAMA.read_bytes()}, FaceMatchThreshold=101), "InvalidParameterException"),
    ],
    ids=["missing", "exists", "bad-token", "unknown-face", "unknown-user", "bad-image", "threshold"],
)
def test_collection_errors(rek: Any, coll: str, call: Any, code: str) -> None:
    with pytest.raises(ClientError) as info:
        call(rek, coll)
    assert error_code(info) == code


def test_accounts_are_isolated(rek: Any, server: Server, coll: str) -> None:
    """A key of another account sees none of this account's collections, faces or users."""
    (face,) = rek.index_faces(CollectionId=coll, Image={"Bytes": OBAMA.read_bytes()})["FaceRecords"]
    face_id = face["Face"]["FaceId"]
    rek.create_user(CollectionId=coll, UserId="someone")
    arn = rek.describe_collection(CollectionId=coll)["CollectionARN"]
    other_key = KeyRing.open(server_settings(server)).create(f"other-{uuid.uuid4().hex[:6]}")
    other = server.client(other_key.access_key_id, other_key.secret)
    try:
        assert coll not in other.list_collections()["CollectionIds"]
        attempts = [
            lambda: other.describe_collection(CollectionId=coll),
            lambda: other.list_faces(CollectionId=coll),
            lambda: other.search_faces(CollectionId=coll, FaceId=face_id),
            lambda: other.search_faces_by_image(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}),
            lambda: other.index_faces(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}),
            lambda: other.delete_faces(CollectionId=coll, FaceIds=[face_id]),
            lambda: other.delete_collection(CollectionId=coll),
            lambda: other.list_users(CollectionId=coll),
            lambda: other.create_user(CollectionId=coll, UserId="x"),
            lambda: other.delete_user(CollectionId=coll, UserId="someone"),
            lambda: other.associate_faces(CollectionId=coll, UserId="someone", FaceIds=[face_id]),
            lambda: other.disassociate_faces(CollectionId=coll, UserId="someone", FaceIds=[face_id]),
            lambda: other.search_users(CollectionId=coll, UserId="someone"),
            lambda: other.search_users_by_image(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()}),
            lambda: other.list_tags_for_resource(ResourceArn=arn),
            lambda: other.tag_resource(ResourceArn=arn, Tags={"x": "y"}),
            lambda: other.untag_resource(ResourceArn=arn, TagKeys=["t"]),
        ]
        for attempt in attempts:
            with pytest.raises(ClientError) as info:
                attempt()
            assert error_code(info) == "ResourceNotFoundException"
        # The other account may use the same collection id for its own collection.
        other.create_collection(CollectionId=coll)
        assert other.describe_collection(CollectionId=coll)["FaceCount"] == 0
        other.delete_collection(CollectionId=coll)
    finally:
        other.close()
    # Nothing of the first account changed.
    assert rek.describe_collection(CollectionId=coll)["FaceCount"] == 1
    assert rek.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"t": "1"}


def test_purpose_header_and_expected_false_matches(rek: Any, server: Server, coll: str) -> None:
    """Any SDK can state a purpose with one header; searches report expected false matches."""
    arn = rek.describe_collection(CollectionId=coll)["CollectionARN"]
    rek.index_faces(CollectionId=coll, Image={"Bytes": OBAMA.read_bytes()})
    rek.tag_resource(ResourceArn=arn, Tags={"candor:require-purpose": "true"})
    with pytest.raises(ClientError) as info:
        rek.search_faces_by_image(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()})
    assert error_code(info) == "AccessDeniedException"

    def add_purpose(request: Any, **_: Any) -> None:
        request.headers["X-Candor-Purpose"] = "incident 42"

    rek.meta.events.register("before-sign.rekognition.*", add_purpose)
    r = rek.search_faces_by_image(CollectionId=coll, Image={"Bytes": OBAMA2.read_bytes()})
    assert r["FaceMatches"]
    assert float(r["ResponseMetadata"]["HTTPHeaders"]["x-candor-expected-false-matches"]) == pytest.approx(1e-4)
    from candor import Client

    local = Client(settings=server_settings(server))
    with local.runtime.catalog.transaction() as tx:
        last = list(tx.audit_records())[-1].fields()
    assert last["purpose"] == "incident 42" and last["principal"] == server.key_id
    assert last["operation"] == "SearchFacesByImage"
