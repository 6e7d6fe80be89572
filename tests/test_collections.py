"""Collections, faces, search, users and tags through the in-process client."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from candor import Client

from .conftest import LFW, SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"
OBAMA2 = SMOKE / "examples" / "obama2.jpg"
BIDEN = SMOKE / "examples" / "biden.jpg"
GROUP = SMOKE / "examples" / "knn_examples" / "test" / "obama_and_biden.jpg"


def img(path: Path) -> dict[str, dict[str, bytes]]:
    return {"Bytes": path.read_bytes()}  # type: ignore[dict-item]


@pytest.fixture
def coll(client: Client) -> str:
    name = f"c-{uuid.uuid4().hex[:8]}"
    client.create_collection(CollectionId=name)
    return name


def index(client: Client, coll: str, path: Path, ext: str) -> list[str]:
    r = client.index_faces(CollectionId=coll, Image=img(path), ExternalImageId=ext)
    return [f["Face"]["FaceId"] for f in r["FaceRecords"]]


def test_collection_lifecycle(client: Client) -> None:
    name = f"life-{uuid.uuid4().hex[:6]}"
    r = client.create_collection(CollectionId=name, Tags={"team": "a"})
    assert r["StatusCode"] == 200 and r["CollectionArn"].endswith(f":collection/{name}")
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_collection(CollectionId=name)
    d = client.describe_collection(CollectionId=name)
    assert d["FaceCount"] == 0 and d["UserCount"] == 0 and d["FaceModelVersion"]
    assert name in client.list_collections()["CollectionIds"]
    assert client.list_tags_for_resource(ResourceArn=r["CollectionArn"])["Tags"] == {"team": "a"}
    assert client.delete_collection(CollectionId=name)["StatusCode"] == 200
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.describe_collection(CollectionId=name)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_collection(CollectionId=name)


def test_list_collections_pages(client: Client) -> None:
    prefix = f"p{uuid.uuid4().hex[:6]}"
    for i in range(5):
        client.create_collection(CollectionId=f"{prefix}-{i}")
    seen: list[str] = []
    token = None
    while True:
        kw = {"MaxResults": 2, **({"NextToken": token} if token else {})}
        page = client.list_collections(**kw)
        assert len(page["CollectionIds"]) <= 2
        seen += page["CollectionIds"]
        token = page.get("NextToken")
        if not token:
            break
    assert [c for c in seen if c.startswith(prefix)] == [f"{prefix}-{i}" for i in range(5)]
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):
        client.list_collections(NextToken="not-a-token")


def test_index_search_and_delete(client: Client, coll: str) -> None:
    (obama,) = index(client, coll, OBAMA, "obama")
    group = index(client, coll, GROUP, "group")
    assert len(group) == 3
    (biden,) = index(client, coll, BIDEN, "biden")
    assert client.describe_collection(CollectionId=coll)["FaceCount"] == 5

    # 60 (FMR 1e-3): the group photo's small, off-angle Obama is under the default of 80.
    r = client.search_faces_by_image(CollectionId=coll, Image=img(OBAMA2), FaceMatchThreshold=60)
    assert r["SearchedFaceConfidence"] > 90
    top = r["FaceMatches"]
    assert [m["Face"]["ExternalImageId"] for m in top] == ["obama", "group"]
    assert all(m["Similarity"] >= 60 for m in top)

    r = client.search_faces(CollectionId=coll, FaceId=obama, FaceMatchThreshold=60)
    assert r["SearchedFaceId"] == obama
    assert obama not in [m["Face"]["FaceId"] for m in r["FaceMatches"]]
    assert [m["Face"]["ExternalImageId"] for m in r["FaceMatches"]] == ["group"]

    r = client.delete_faces(CollectionId=coll, FaceIds=[obama, "00000000-0000-0000-0000-000000000000"])
    assert r["DeletedFaces"] == [obama]
    assert r["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["FACE_NOT_FOUND"]
    r = client.search_faces_by_image(CollectionId=coll, Image=img(OBAMA2))
    assert obama not in [m["Face"]["FaceId"] for m in r["FaceMatches"]]
    with pytest.raises(client.exceptions.InvalidParameterException, match="not in collection"):
        client.search_faces(CollectionId=coll, FaceId=obama)
    assert biden in [f["FaceId"] for f in client.list_faces(CollectionId=coll)["Faces"]]


def test_index_faces_max_faces_and_quality(client: Client, coll: str) -> None:
    r = client.index_faces(CollectionId=coll, Image=img(GROUP), MaxFaces=1)
    assert len(r["FaceRecords"]) == 1
    assert [u["Reasons"] for u in r["UnindexedFaces"]] == [["EXCEEDS_MAX_FACES"]] * 2
    # The largest face is the one kept.
    kept = r["FaceRecords"][0]["Face"]["BoundingBox"]
    assert all(
        kept["Width"] * kept["Height"] >= u["FaceDetail"]["BoundingBox"]["Width"] * u["FaceDetail"]["BoundingBox"]["Height"]
        for u in r["UnindexedFaces"]
    )
    from PIL import Image as PILImage
    from PIL import ImageFilter

    from .test_imaging import encode

    blurred = encode(PILImage.open(OBAMA2).convert("RGB").filter(ImageFilter.GaussianBlur(6)), "JPEG")
    r = client.index_faces(CollectionId=coll, Image={"Bytes": blurred}, QualityFilter="HIGH")
    assert r["FaceRecords"] == [] and "LOW_SHARPNESS" in r["UnindexedFaces"][0]["Reasons"]
    r = client.index_faces(CollectionId=coll, Image={"Bytes": blurred}, QualityFilter="NONE")
    assert len(r["FaceRecords"]) == 1


def test_list_faces_pages_and_filters(client: Client, coll: str) -> None:
    ids = index(client, coll, GROUP, "g") + index(client, coll, OBAMA, "o")
    got: list[str] = []
    token = None
    while True:
        page = client.list_faces(CollectionId=coll, MaxResults=3, **({"NextToken": token} if token else {}))
        got += [f["FaceId"] for f in page["Faces"]]
        token = page.get("NextToken")
        if not token:
            break
    assert got == ids
    only = client.list_faces(CollectionId=coll, FaceIds=[ids[1]])["Faces"]
    assert [f["FaceId"] for f in only] == [ids[1]]


def test_users(client: Client, coll: str) -> None:
    (o1,) = index(client, coll, OBAMA, "o1")
    (o2,) = index(client, coll, OBAMA2, "o2")
    (b,) = index(client, coll, BIDEN, "b")
    client.create_user(CollectionId=coll, UserId="barack")
    with pytest.raises(client.exceptions.ConflictException):
        client.create_user(CollectionId=coll, UserId="barack")
    assert client.list_users(CollectionId=coll)["Users"] == [{"UserId": "barack", "UserStatus": "CREATED"}]

    r = client.associate_faces(CollectionId=coll, UserId="barack", FaceIds=[o1, o2, b])
    assert [f["FaceId"] for f in r["AssociatedFaces"]] == [o1, o2]
    (bad,) = r["UnsuccessfulFaceAssociations"]
    assert bad["FaceId"] == b and bad["Reasons"] == ["LOW_MATCH_CONFIDENCE"] and bad["Confidence"] < 75
    assert r["UserStatus"] == "ACTIVE"

    client.create_user(CollectionId=coll, UserId="joe")
    client.associate_faces(CollectionId=coll, UserId="joe", FaceIds=[b])
    r = client.associate_faces(CollectionId=coll, UserId="joe", FaceIds=[o1])
    assert r["UnsuccessfulFaceAssociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]

    r = client.search_users_by_image(CollectionId=coll, Image=img(GROUP))
    assert r["UserMatches"][0]["User"]["UserId"] in {"barack", "joe"}
    assert len(r["UnsearchedFaces"]) == 2
    assert all(u["Reasons"] == ["FACE_NOT_LARGEST"] for u in r["UnsearchedFaces"])
    r = client.search_users(CollectionId=coll, FaceId=o2)
    assert [m["User"]["UserId"] for m in r["UserMatches"]] == ["barack"]
    assert r["SearchedFace"] == {"FaceId": o2}

    # A face that belongs to a user can't be deleted until it is disassociated.
    r = client.delete_faces(CollectionId=coll, FaceIds=[o1])
    assert r["UnsuccessfulFaceDeletions"][0]["Reasons"] == ["ASSOCIATED_TO_AN_EXISTING_USER"]
    r = client.disassociate_faces(CollectionId=coll, UserId="barack", FaceIds=[o1, b])
    assert [f["FaceId"] for f in r["DisassociatedFaces"]] == [o1]
    assert r["UnsuccessfulFaceDisassociations"][0]["Reasons"] == ["ASSOCIATED_TO_A_DIFFERENT_USER"]
    assert client.delete_faces(CollectionId=coll, FaceIds=[o1])["DeletedFaces"] == [o1]

    client.delete_user(CollectionId=coll, UserId="barack")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.delete_user(CollectionId=coll, UserId="barack")
    faces = client.list_faces(CollectionId=coll)["Faces"]
    assert all(f.get("UserId") != "barack" for f in faces)


def test_client_request_token_replays(client: Client, coll: str) -> None:
    client.create_user(CollectionId=coll, UserId="u1", ClientRequestToken="tok-1")
    client.create_user(CollectionId=coll, UserId="u1", ClientRequestToken="tok-1")  # replay: ok
    with pytest.raises(client.exceptions.IdempotentParameterMismatchException):
        client.create_user(CollectionId=coll, UserId="u2", ClientRequestToken="tok-1")


def test_user_face_cap(client: Client, coll: str) -> None:
    from candor.storage.catalog import NewFace

    (first,) = index(client, coll, OBAMA, "o")
    rt = client.runtime
    with rt.catalog.transaction() as tx:
        record = tx.collection("admin", coll)
        assert record is not None
        (face,) = tx.faces_by_id(record, [first])
    copies = [
        NewFace(str(uuid.uuid4()), "img", "copy", 0.1, 0.1, 0.5, 0.5, 99.0, face.descriptor, "0" * 64)
        for _ in range(100)
    ]
    with rt.catalog.transaction(write=True) as tx:
        tx.insert_faces(record, copies)
    client.create_user(CollectionId=coll, UserId="u")
    r = client.associate_faces(CollectionId=coll, UserId="u", FaceIds=[c.face_id for c in copies])
    assert len(r["AssociatedFaces"]) == 100
    with pytest.raises(client.exceptions.ServiceQuotaExceededException, match="100 faces per user"):
        client.associate_faces(CollectionId=coll, UserId="u", FaceIds=[first])
    with pytest.raises(client.exceptions.InvalidParameterException, match="at most 100"):
        client.associate_faces(CollectionId=coll, UserId="u", FaceIds=[str(uuid.uuid4()) for _ in range(101)])


def test_tags(client: Client, coll: str) -> None:
    arn = client.describe_collection(CollectionId=coll)["CollectionARN"]
    client.tag_resource(ResourceArn=arn, Tags={"a": "1", "b": "2"})
    client.untag_resource(ResourceArn=arn, TagKeys=["a"])
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"b": "2"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.list_tags_for_resource(ResourceArn=arn.replace(coll, "nope-" + coll))
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.tag_resource(ResourceArn=arn, Tags={"aws:x": "1"})


@pytest.mark.parametrize(
    ("op", "kwargs", "error"),
    [
        ("describe_collection", {"CollectionId": "missing-one"}, "ResourceNotFoundException"),
        ("index_faces", {"CollectionId": "missing-one", "Image": {"Bytes": b"\xff\xd8\xff"}}, "ResourceNotFoundException"),
        ("create_collection", {"CollectionId": "bad id!"}, "InvalidParameterException"),
        ("search_faces", {"CollectionId": "missing-one", "FaceId": "00000000-0000-0000-0000-000000000000"}, "ResourceNotFoundException"),
        ("list_faces", {"CollectionId": "missing-one"}, "ResourceNotFoundException"),
        ("search_faces", {"CollectionId": "x", "FaceId": "not-a-uuid"}, "InvalidParameterException"),
        ("search_faces_by_image", {"CollectionId": "x", "Image": {"Bytes": b"\xff\xd8\xff"}, "MaxFaces": 5000}, "InvalidParameterException"),
    ],
)
def test_collection_errors(client: Client, op: str, kwargs: dict, error: str) -> None:
    with pytest.raises(client.exceptions.ClientError) as info:
        getattr(client, op)(**kwargs)
    assert info.value.response["Error"]["Code"] == error


def test_no_face_to_search_with(client: Client, coll: str) -> None:
    from .test_imaging import encode, gradient

    with pytest.raises(client.exceptions.InvalidParameterException, match="no faces"):
        client.search_faces_by_image(CollectionId=coll, Image={"Bytes": encode(gradient(200, 200), "PNG")})


def test_lfw_identity_search(client: Client, coll: str) -> None:
    """Enrol one image each of a few LFW people; probe with their other images."""
    people = ["Hugo_Chavez", "Jacques_Chirac", "Tony_Blair", "Colin_Powell"]
    for p in people:
        index(client, coll, LFW / p / f"{p}_0001.jpg", p)
    hits = 0
    for p in people:
        r = client.search_faces_by_image(CollectionId=coll, Image=img(LFW / p / f"{p}_0002.jpg"), FaceMatchThreshold=40)
        hits += bool(r["FaceMatches"]) and r["FaceMatches"][0]["Face"]["ExternalImageId"] == p
    assert hits >= 3
