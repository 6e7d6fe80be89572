"""Defects found under attack, each closed with a test that failed before its fix."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from candor import Client
from candor.api import sigv4
from candor.audit import verify
from candor.cli import main
from candor.errors import InvalidS3ObjectException
from candor.media import LocalMediaSource, S3Ref

from ..api.test_auth import _signed, _verify
from ..conftest import SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"


# -- S3Object names the file system refuses -----------------------------------------------------


@pytest.fixture
def media(tmp_path: Path) -> LocalMediaSource:
    bucket = tmp_path / "media" / "photos"
    bucket.mkdir(parents=True)
    (bucket / "obama.jpg").write_bytes(OBAMA.read_bytes())
    (bucket / "loop").symlink_to(bucket / "loop")
    (bucket / "a").symlink_to(bucket / "b")
    (bucket / "b").symlink_to(bucket / "a")
    return LocalMediaSource(tmp_path / "media")


@pytest.mark.parametrize(
    "name",
    ["x\x00.jpg", "a" * 300 + ".jpg", "dir/" + "é" * 130 + "/x.jpg", "loop", "loop/x.jpg", "a/x.jpg"],
    ids=["nul", "long-component", "long-utf8-component", "self-loop", "through-loop", "a-b-loop"],
)
def test_hostile_object_names_are_invalid_s3_objects(media: LocalMediaSource, name: str) -> None:
    with pytest.raises(InvalidS3ObjectException) as exc:
        media.read(S3Ref("photos", name), max_bytes=15 << 20)
    assert str(media.root) not in str(exc.value)  # no server path in the message


@pytest.mark.parametrize("name", ["x\x00.jpg", "a" * 300 + ".jpg", "loop/x.jpg"])
def test_hostile_object_names_through_the_cli(
    media: LocalMediaSource, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    code = main(["--data-dir", str(tmp_path), "detect-faces", f"s3://photos/{name}"])
    err = capsys.readouterr().err
    assert code == 1 and "InvalidS3ObjectException" in err and "Traceback" not in err


def test_missing_object_message_names_no_server_path(media: LocalMediaSource) -> None:
    with pytest.raises(InvalidS3ObjectException) as exc:
        media.read(S3Ref("photos", "missing.jpg"), max_bytes=15 << 20)
    assert "no such object" in str(exc.value) and str(media.root) not in str(exc.value)


# -- buckets belong to accounts -----------------------------------------------------------------


def test_buckets_belong_to_accounts(tmp_path: Path) -> None:
    root = tmp_path / "media"
    for bucket_dir in (root / "ops", root / "common", root / "@accounts" / "team-b" / "mine"):
        bucket_dir.mkdir(parents=True)
        (bucket_dir / "x.jpg").write_bytes(b"jpeg")
    media = LocalMediaSource(root, shared=frozenset({"common"}))
    read = media.read
    assert read(S3Ref("ops", "x.jpg"), max_bytes=99) == b"jpeg"  # the admin's own
    assert read(S3Ref("mine", "x.jpg"), max_bytes=99, account="team-b") == b"jpeg"
    assert read(S3Ref("common", "x.jpg"), max_bytes=99, account="team-b") == b"jpeg"  # shared
    with pytest.raises(InvalidS3ObjectException) as other:
        read(S3Ref("ops", "x.jpg"), max_bytes=99, account="team-b")
    with pytest.raises(InvalidS3ObjectException) as missing:
        read(S3Ref("nosuch", "x.jpg"), max_bytes=99, account="team-b")
    # Another account's bucket looks exactly like one that does not exist.
    assert str(other.value).replace("ops", "nosuch") == str(missing.value)
    with pytest.raises(InvalidS3ObjectException):
        read(S3Ref("mine", "x.jpg"), max_bytes=99, account="team-c")
    with pytest.raises(InvalidS3ObjectException):
        read(S3Ref("mine", "x.jpg"), max_bytes=99)  # nor is team-b's the admin's


# -- SigV4 -------------------------------------------------------------------------------------


def test_non_ascii_signature_is_an_invalid_signature() -> None:
    req = _signed("http://h:1/")
    (auth,) = req.headers["authorization"]
    bad = auth.rsplit("Signature=", 1)[0] + "Signature=" + "é" * 64
    with pytest.raises(sigv4.InvalidSignatureException, match="does not match"):
        _verify(sigv4.Request(req.method, req.path, req.query,
                              {**req.headers, "authorization": [bad]}, req.body))


def test_purpose_header_must_be_signed() -> None:
    req = _signed("http://h:1/")  # signed without it, then the header is added on the way
    added = sigv4.Request(req.method, req.path, req.query,
                          {**req.headers, "x-candor-purpose": ["incident 42"]}, req.body)
    with pytest.raises(sigv4.InvalidSignatureException, match="x-candor-purpose"):
        _verify(added)
    assert _verify(_signed("http://h:1/", **{"X-Candor-Purpose": "incident 42"}))


# -- the audit log -------------------------------------------------------------------------------


def test_redating_an_audit_record_is_caught(tmp_path: Path) -> None:
    client = Client(data_dir=tmp_path)
    client.create_collection(CollectionId="a")
    client.index_faces(CollectionId="a", Image={"Bytes": OBAMA.read_bytes()})
    client.delete_collection(CollectionId="a")
    with client.runtime.catalog.transaction() as tx:
        assert verify(tx.audit_records()).ok
    conn = sqlite3.connect(tmp_path / "candor.db")
    conn.execute("UPDATE audit_log SET time = '2020-01-01T00:00:00.000000+00:00' WHERE seq = 1")
    conn.commit()
    conn.close()
    with client.runtime.catalog.transaction() as tx:
        verdict = verify(tx.audit_records())
    assert not verdict.ok and verdict.first_bad == 1 and "re-dated" in verdict.reason


# -- the data directory is private --------------------------------------------------------------


def test_database_and_data_dir_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        client = Client(data_dir=tmp_path / "data")
        client.create_collection(CollectionId="a")
    finally:
        os.umask(old)
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "data") == 0o700
    for f in (tmp_path / "data").glob("candor.db*"):
        assert mode(f) == 0o600, f


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    Client(data_dir=tmp_path).create_collection(CollectionId="a")
    (tmp_path / "candor.db").chmod(0o644)
    tmp_path.chmod(0o755)
    Client(data_dir=tmp_path).list_collections()
    assert stat.S_IMODE((tmp_path / "candor.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700


# -- an empty image -------------------------------------------------------------------------------


def test_empty_images_get_the_documented_errors(tmp_path: Path) -> None:
    client = Client(data_dir=tmp_path)
    (tmp_path / "media" / "photos").mkdir(parents=True)
    (tmp_path / "media" / "photos" / "empty.jpg").write_bytes(b"")
    with pytest.raises(client.exceptions.InvalidImageFormatException, match="empty"):
        client.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "empty.jpg"}})
    with pytest.raises(client.exceptions.InvalidParameterException, match="at least 1 bytes"):
        client.detect_faces(Image={"Bytes": b""})
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    assert "| empty `Image.Bytes` (the service model's minimum length is 1) | `InvalidParameter" in readme
