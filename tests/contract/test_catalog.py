"""The contract every catalog backend must pass (see tests/contract/conftest.py)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from candor.storage.catalog import Catalog, CollectionRecord, NewFace


def face(seed: int, external: str | None = "x") -> NewFace:
    vec = np.random.default_rng(seed).normal(size=128).astype("<f4")
    return NewFace(str(uuid.uuid4()), "img-1", external, 0.1, 0.2, 0.3, 0.4, 99.5, vec.tobytes(), "ab" * 32)


def make(catalog: Catalog, account: str = "acct", cid: str = "c1") -> CollectionRecord:
    with catalog.transaction(write=True) as tx:
        rec = tx.create_collection(account, cid, f"arn:aws:rekognition:r:{account}:collection/{cid}", "m1", "s1")
    assert rec is not None
    return rec


def test_collections_are_per_account(catalog: Catalog) -> None:
    a = make(catalog, "a", "same")
    b = make(catalog, "b", "same")
    assert a.row != b.row
    with catalog.transaction(write=True) as tx:
        assert tx.create_collection("a", "same", "arn", "m1", "s1") is None
        assert tx.collection("c", "same") is None
        assert [c.collection_id for c in tx.collections("a", None, 10)] == ["same"]


def test_scoring_is_kept_and_can_be_switched(catalog: Catalog) -> None:
    rec = make(catalog, "a", "scored")
    assert (rec.face_model, rec.scoring) == ("m1", "s1")
    with catalog.transaction(write=True) as tx:
        tx.insert_faces(rec, [face(1)])
        moved = tx.set_scoring(rec, "s2")
    assert (moved.scoring, moved.face_count, moved.row) == ("s2", 1, rec.row)
    with catalog.transaction() as tx:
        again = tx.collection("a", "scored")
    assert again is not None and again.scoring == "s2"


def test_collection_listing_order_and_paging(catalog: Catalog) -> None:
    for cid in ["b", "a", "c"]:
        make(catalog, "acct", cid)
    with catalog.transaction() as tx:
        assert [c.collection_id for c in tx.collections("acct", None, 2)] == ["a", "b"]
        assert [c.collection_id for c in tx.collections("acct", "b", 2)] == ["c"]


def test_faces_round_trip(catalog: Catalog) -> None:
    rec = make(catalog)
    new = [face(1), face(2, None)]
    with catalog.transaction(write=True) as tx:
        stored = tx.insert_faces(rec, new)
    assert [f.face_id for f in stored] == [f.face_id for f in new]
    assert stored[0].descriptor == new[0].descriptor
    assert stored[1].external_image_id is None
    with catalog.transaction() as tx:
        fresh = tx.collection("acct", "c1")
        assert fresh is not None and fresh.face_count == 2
        assert [f.face_id for f in tx.faces(fresh, after_row=0, limit=10)] == [f.face_id for f in new]
        assert [f.face_id for f in tx.faces(fresh, after_row=stored[0].row, limit=10)] == [new[1].face_id]
        assert tx.faces_by_id(fresh, [new[1].face_id, "nope"])[0].face_id == new[1].face_id


def test_change_log_and_snapshot(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction(write=True) as tx:
        a, b = tx.insert_faces(rec, [face(1), face(2)])
    with catalog.transaction() as tx:
        seq, faces = tx.snapshot(rec)
        assert [row for row, _ in faces] == [a.row, b.row]
    with catalog.transaction(write=True) as tx:
        assert tx.delete_faces(rec, [a.face_id, "missing"]) == [a.face_id]
        (c,) = tx.insert_faces(rec, [face(3)])
    with catalog.transaction() as tx:
        changes = tx.changes_since(rec, seq)
    assert [(ch.face_row, ch.descriptor is None) for ch in changes] == [(a.row, True), (c.row, False)]
    assert all(x.seq > seq for x in changes)


def test_read_transaction_is_a_snapshot(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction() as reader:
        before = reader.faces(rec, after_row=0, limit=10)
        with catalog.transaction(write=True) as writer:
            writer.insert_faces(rec, [face(9)])
        assert reader.faces(rec, after_row=0, limit=10) == before
    with catalog.transaction() as tx:
        assert len(tx.faces(rec, after_row=0, limit=10)) == 1


def test_failed_transaction_rolls_back(catalog: Catalog) -> None:
    rec = make(catalog)
    with pytest.raises(RuntimeError), catalog.transaction(write=True) as tx:
        tx.insert_faces(rec, [face(1)])
        raise RuntimeError("boom")
    with catalog.transaction() as tx:
        assert tx.faces(rec, after_row=0, limit=10) == []
        assert tx.changes_since(rec, 0) == []


def test_users(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction(write=True) as tx:
        f1, _f2 = tx.insert_faces(rec, [face(1), face(2)])
        assert tx.create_user(rec, "u1") and not tx.create_user(rec, "u1")
        tx.set_face_user(rec, [f1.face_id], "u1")
        user = tx.user(rec, "u1")
        assert user is not None and user.face_count == 1
        assert [f.face_id for f in tx.faces(rec, after_row=0, limit=10, user_id="u1")] == [f1.face_id]
        assert tx.delete_user(rec, "u1") and not tx.delete_user(rec, "u1")
        assert tx.faces_by_id(rec, [f1.face_id])[0].user_id is None


def test_delete_collection_removes_everything(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction(write=True) as tx:
        tx.insert_faces(rec, [face(1)])
        tx.create_user(rec, "u")
        tx.set_tags(rec.arn, {"k": "v"})
        assert tx.delete_collection(rec) == 1
    again = make(catalog)
    assert again.row != rec.row  # rows are never reused, so stale indexes can't be picked up
    with catalog.transaction() as tx:
        assert tx.tags(rec.arn) == {}
        assert tx.users(again, None, 10) == []
        assert tx.changes_since(rec, 0) == []


def test_tags_and_tokens(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction(write=True) as tx:
        tx.set_tags(rec.arn, {"a": "1", "b": "2"})
        tx.set_tags(rec.arn, {"a": "3"})
        tx.remove_tags(rec.arn, ["b", "missing"])
        assert tx.tags(rec.arn) == {"a": "3"}
        assert tx.request_token("acct", "CreateUser", "t") is None
        tx.save_request_token("acct", "CreateUser", "t", "fp", "{}")
        assert tx.request_token("acct", "CreateUser", "t") == ("fp", "{}")
        assert tx.request_token("other", "CreateUser", "t") is None


def test_expired_faces(catalog: Catalog) -> None:
    rec = make(catalog)
    with catalog.transaction(write=True) as tx:
        (f,) = tx.insert_faces(rec, [face(1)])
    with catalog.transaction() as tx:
        now = datetime.now(timezone.utc)
        assert tx.expired_faces(rec, now - timedelta(days=1), 10) == []
        assert tx.expired_faces(rec, now + timedelta(seconds=1), 10) == [f.face_id]
