"""Audit log, collection policy and retention, through the in-process client and the CLI."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from candor import Client, audit
from candor.cli import main

from .conftest import SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"
OBAMA2 = SMOKE / "examples" / "obama2.jpg"
BIDEN = SMOKE / "examples" / "biden.jpg"


def img(path: Path) -> dict[str, bytes]:
    return {"Bytes": path.read_bytes()}


def records(client: Client) -> list[dict]:
    with client.runtime.catalog.transaction() as tx:
        return [r.fields() for r in tx.audit_records()]


@pytest.fixture
def fresh(tmp_path: Path) -> Client:
    return Client(data_dir=tmp_path)


def test_every_biometric_operation_is_audited(fresh: Client) -> None:
    c = fresh
    c.create_collection(CollectionId="a")
    (o1,) = [f["Face"]["FaceId"] for f in c.index_faces(CollectionId="a", Image=img(OBAMA))["FaceRecords"]]
    (o2,) = [f["Face"]["FaceId"] for f in c.index_faces(CollectionId="a", Image=img(OBAMA2))["FaceRecords"]]
    c.search_faces(CollectionId="a", FaceId=o1)
    c.search_faces_by_image(CollectionId="a", Image=img(OBAMA2), FaceMatchThreshold=80, MaxFaces=5)
    c.compare_faces(SourceImage=img(OBAMA), TargetImage=img(BIDEN))
    c.create_user(CollectionId="a", UserId="u")
    c.associate_faces(CollectionId="a", UserId="u", FaceIds=[o1, o2])
    c.search_users(CollectionId="a", FaceId=o1)
    c.search_users_by_image(CollectionId="a", Image=img(OBAMA))
    c.disassociate_faces(CollectionId="a", UserId="u", FaceIds=[o2])
    c.delete_user(CollectionId="a", UserId="u")
    arn = c.describe_collection(CollectionId="a")["CollectionARN"]
    c.tag_resource(ResourceArn=arn, Tags={"candor:min-match-threshold": "90", "other": "x"})
    c.delete_faces(CollectionId="a", FaceIds=[o2])
    c.delete_collection(CollectionId="a")
    ops = [r["operation"] for r in records(c)]
    assert ops == [
        "IndexFaces", "IndexFaces", "SearchFaces", "SearchFacesByImage", "CompareFaces",
        "AssociateFaces", "SearchUsers", "SearchUsersByImage", "DisassociateFaces", "DeleteUser",
        "PolicyChange", "DeleteFaces", "DeleteCollection",
    ]
    rs = records(c)
    sbi = rs[3]
    assert sbi["threshold"] == 80 and sbi["max_faces"] == 5 and sbi["collection"] == "a"
    import hashlib

    assert sbi["image_sha256"] == [hashlib.sha256(OBAMA2.read_bytes()).hexdigest()]
    assert sbi["match_count"] == 2 and sbi["top_similarity"] >= 80 and set(sbi["face_ids"]) == {o1, o2}
    assert sbi["principal"] == "local" and sbi["account"] == "admin" and sbi["outcome"] == "ok"
    assert rs[0]["face_ids"] == [o1]
    assert rs[10]["detail"] == {"set": {"candor:min-match-threshold": "90"}}
    assert audit.verify(_raw(c)).ok


def _raw(client: Client) -> list[audit.AuditRecord]:
    with client.runtime.catalog.transaction() as tx:
        return list(tx.audit_records())


def _db(client: Client) -> sqlite3.Connection:
    return sqlite3.connect(client.runtime.settings.data_dir / "candor.db")


def _populate(c: Client) -> None:
    c.create_collection(CollectionId="t")
    for _ in range(3):
        c.index_faces(CollectionId="t", Image=img(OBAMA))
    c.compare_faces(SourceImage=img(OBAMA), TargetImage=img(OBAMA2))


def _verify_cli(data_dir: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["--data-dir", str(data_dir), "audit", "verify", *extra])
    return code, capsys.readouterr().out


def test_altered_byte_is_caught(fresh: Client, capsys: pytest.CaptureFixture[str]) -> None:
    _populate(fresh)
    data_dir = fresh.runtime.settings.data_dir
    assert _verify_cli(data_dir, capsys)[0] == 0
    with _db(fresh) as db:
        payload = db.execute("SELECT payload FROM audit_log WHERE seq = 2").fetchone()[0]
        db.execute("UPDATE audit_log SET payload = ? WHERE seq = 2", (payload.replace('"IndexFaces"', '"IndexFaceZ"'),))
    db.close()
    code, out = _verify_cli(data_dir, capsys)
    assert code == 1 and "BROKEN at record 2" in out and "altered" in out


def test_deleted_record_is_caught(fresh: Client, capsys: pytest.CaptureFixture[str]) -> None:
    _populate(fresh)
    with _db(fresh) as db:
        db.execute("DELETE FROM audit_log WHERE seq = 2")
    db.close()
    code, out = _verify_cli(fresh.runtime.settings.data_dir, capsys)
    assert code == 1 and "BROKEN at record 2" in out and "missing" in out


def test_swapped_records_are_caught(fresh: Client, capsys: pytest.CaptureFixture[str]) -> None:
    _populate(fresh)
    with _db(fresh) as db:
        rows = {s: r for s, *r in db.execute("SELECT seq, time, payload, prev_hash, hash FROM audit_log")}
        for seq, other in ((2, 3), (3, 2)):
            db.execute(
                "UPDATE audit_log SET time = ?, payload = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                (*rows[other], seq),
            )
    db.close()
    code, out = _verify_cli(fresh.runtime.settings.data_dir, capsys)
    assert code == 1 and "BROKEN at record 2" in out


def test_signed_checkpoint_catches_a_rewritten_chain(
    fresh: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    _populate(fresh)
    data_dir = fresh.runtime.settings.data_dir
    cp = tmp_path / "cp.json"
    assert main(["--data-dir", str(data_dir), "audit", "checkpoint", "--out", str(cp)]) == 0
    assert _verify_cli(data_dir, capsys, "--checkpoint", str(cp))[0] == 0
    # Rewrite record 2 and re-chain everything after it: the chain alone verifies again...
    with _db(fresh) as db:
        rows = db.execute("SELECT seq, payload, prev_hash FROM audit_log ORDER BY seq").fetchall()
        prev = rows[0][2]
        for seq, payload, _ in rows:
            if seq == 2:
                payload = payload.replace('"IndexFaces"', '"Nothing"')
            h = audit.chain_hash(prev, payload)
            db.execute("UPDATE audit_log SET payload = ?, prev_hash = ?, hash = ? WHERE seq = ?", (payload, prev, h, seq))
            prev = h
    db.close()
    assert _verify_cli(data_dir, capsys)[0] == 0
    # ...but not against the checkpoint kept elsewhere.
    code, out = _verify_cli(data_dir, capsys, "--checkpoint", str(cp))
    assert code == 1 and "rewritten" in out
    forged = json.loads(cp.read_text())
    forged["hash"] = "0" * 64
    cp.write_text(json.dumps(forged))
    code, out = _verify_cli(data_dir, capsys, "--checkpoint", str(cp))
    assert code == 1 and "signature" in out


def test_audit_export(fresh: Client, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _populate(fresh)
    out = tmp_path / "audit.jsonl"
    since = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    assert main(["--data-dir", str(fresh.runtime.settings.data_dir), "audit", "export", "--since", since, "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["seq"] for x in lines] == [1, 2, 3, 4] and lines[-1]["operation"] == "CompareFaces"
    assert all(x["hash"] and x["prev_hash"] for x in lines)
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    assert main(["--data-dir", str(fresh.runtime.settings.data_dir), "audit", "export", "--since", future, "--out", str(out)]) == 0
    assert out.read_text() == ""


# --- policy ----------------------------------------------------------------------------------


def _tagged(c: Client, tags: dict[str, str]) -> str:
    name = f"p-{uuid.uuid4().hex[:6]}"
    arn = c.create_collection(CollectionId=name)["CollectionArn"]
    c.index_faces(CollectionId=name, Image=img(OBAMA))
    c.tag_resource(ResourceArn=arn, Tags=tags)
    return name


def test_min_match_threshold_refuses_and_audits(fresh: Client) -> None:
    name = _tagged(fresh, {"candor:min-match-threshold": "85"})
    with pytest.raises(fresh.exceptions.AccessDeniedException, match="at least 85"):
        fresh.search_faces_by_image(CollectionId=name, Image=img(OBAMA2))
    with pytest.raises(fresh.exceptions.AccessDeniedException):
        fresh.search_users_by_image(CollectionId=name, Image=img(OBAMA2), UserMatchThreshold=84)
    # The enrolled image itself: its match clears any threshold, so this checks the policy only.
    ok = fresh.search_faces_by_image(CollectionId=name, Image=img(OBAMA), FaceMatchThreshold=86)
    assert ok["FaceMatches"]
    last = records(fresh)[-3:]
    assert last[0]["outcome"].startswith("refused: ") and last[0]["match_count"] is None
    assert last[1]["operation"] == "SearchUsersByImage" and last[1]["outcome"].startswith("refused")
    assert last[2]["outcome"] == "ok"


def test_require_purpose(fresh: Client, tmp_path: Path) -> None:
    name = _tagged(fresh, {"candor:require-purpose": "true"})
    with pytest.raises(fresh.exceptions.AccessDeniedException, match="X-Candor-Purpose"):
        fresh.search_faces_by_image(CollectionId=name, Image=img(OBAMA2))
    with pytest.raises(fresh.exceptions.AccessDeniedException):
        fresh.index_faces(CollectionId=name, Image=img(OBAMA2))
    stated = Client(runtime=fresh.runtime, purpose="case 2026-114: door camera review")
    assert stated.search_faces_by_image(CollectionId=name, Image=img(OBAMA2))["FaceMatches"]
    rs = records(fresh)
    assert rs[-1]["purpose"] == "case 2026-114: door camera review" and rs[-1]["outcome"] == "ok"
    assert rs[-2]["outcome"].startswith("refused") and rs[-2]["operation"] == "IndexFaces"
    assert fresh.describe_collection(CollectionId=name)["FaceCount"] == 1  # refused index added nothing


@pytest.mark.parametrize(
    "tags",
    [
        {"candor:min-match-threshold": "high"},
        {"candor:min-match-threshold": "120"},
        {"candor:retention-days": "0"},
        {"candor:retention-days": "1.5"},
        {"candor:require-purpose": "maybe"},
        {"candor:unknown": "1"},
    ],
)
def test_bad_policy_values_are_refused(fresh: Client, tags: dict[str, str]) -> None:
    arn = fresh.create_collection(CollectionId=f"b-{uuid.uuid4().hex[:6]}")["CollectionArn"]
    with pytest.raises(fresh.exceptions.InvalidParameterException, match="candor:"):
        fresh.tag_resource(ResourceArn=arn, Tags=tags)


def test_retention_hides_then_purges_expired_faces(fresh: Client, capsys: pytest.CaptureFixture[str]) -> None:
    name = _tagged(fresh, {"candor:retention-days": "30"})
    (young,) = [f["Face"]["FaceId"] for f in fresh.index_faces(CollectionId=name, Image=img(OBAMA2))["FaceRecords"]]
    old = [f["FaceId"] for f in fresh.list_faces(CollectionId=name)["Faces"] if f["FaceId"] != young]
    long_ago = (datetime.now(timezone.utc) - timedelta(days=31)).isoformat()
    with _db(fresh) as db:
        db.execute("UPDATE faces SET indexed_at = ? WHERE face_id = ?", (long_ago, old[0]))
    db.close()
    r = fresh.search_faces_by_image(CollectionId=name, Image=img(OBAMA), FaceMatchThreshold=0)
    assert [m["Face"]["FaceId"] for m in r["FaceMatches"]] == [young]
    assert main(["--data-dir", str(fresh.runtime.settings.data_dir), "reap"]) == 0
    assert "1 face(s) past their collection's retention deleted" in capsys.readouterr().out
    assert [f["FaceId"] for f in fresh.list_faces(CollectionId=name)["Faces"]] == [young]
    purge = records(fresh)[-1]
    assert purge["operation"] == "RetentionPurge" and purge["face_ids"] == old
    assert purge["principal"] == "retention-reaper"


def test_expected_false_matches_header(fresh: Client) -> None:
    name = _tagged(fresh, {})
    r = fresh.search_faces_by_image(CollectionId=name, Image=img(OBAMA2))
    # 1 face × FMR(80) = 1e-4
    assert float(r["ResponseMetadata"]["HTTPHeaders"]["x-candor-expected-false-matches"]) == pytest.approx(1e-4)
