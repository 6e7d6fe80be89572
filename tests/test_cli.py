"""The ``candor`` command: JSON and table output, s3:// paths, errors and help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from candor.cli import main

from .conftest import SMOKE

OBAMA = SMOKE / "examples" / "obama.jpg"
OBAMA2 = SMOKE / "examples" / "obama2.jpg"


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_faces_json(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "detect-faces", str(OBAMA))
    assert code == 0
    assert len(json.loads(out)["FaceDetails"]) == 1


def test_detect_faces_table(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "detect-faces", "--table", str(OBAMA))
    assert code == 0
    assert out.startswith("1 face(s)") and "confidence" in out


def test_compare_faces_table(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "compare-faces", "--table", str(OBAMA), str(OBAMA2))
    assert code == 0
    assert "1 match(es)" in out and "false match rate about 1e-04" in out


def test_s3_path(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    bucket = data_dir / "media" / "cli-bucket"
    bucket.mkdir(parents=True, exist_ok=True)
    (bucket / "o.jpg").write_bytes(OBAMA.read_bytes())
    code, out, _ = run(capsys, data_dir, "detect-faces", "s3://cli-bucket/o.jpg")
    assert code == 0 and len(json.loads(out)["FaceDetails"]) == 1
    code, _, err = run(capsys, data_dir, "detect-faces", "s3://cli-bucket/none.jpg")
    assert code == 1 and "InvalidS3ObjectException" in err


def test_service_error_exit_code(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    code, out, err = run(capsys, data_dir, "detect-faces", str(bad))
    assert code == 1 and out == ""
    assert "InvalidImageFormatException" in err


def test_missing_file_is_a_usage_error(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["detect-faces", "/no/such/file.jpg"])
    assert info.value.code == 2
    assert "no such file" in capsys.readouterr().err


def test_models_verify(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "models")
    assert code == 0 and "BAD" not in out
    code, out, _ = run(capsys, data_dir, "models", "--verify")
    assert code == 0 and out.count("ok ") >= 5


def test_help_teaches() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "candor.cli", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for word in ("detect-faces", "compare-faces", "models", "s3://"):
        assert word in out
    out = subprocess.run(
        [sys.executable, "-m", "candor.cli", "compare-faces", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--threshold" in out and "false" in out


def test_collection_migrate_scores(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from candor import Client
    from candor.inference.scoring import LEGACY_SCORING

    client = Client(data_dir=tmp_path)
    client.create_collection(CollectionId="old")
    client.index_faces(CollectionId="old", Image={"Bytes": OBAMA.read_bytes()})
    with client.runtime.catalog.transaction(write=True) as tx:  # as made before 2.0 existed
        record = tx.collection("admin", "old")
        assert record is not None
        tx.set_scoring(record, LEGACY_SCORING)
    code, out, _ = run(capsys, tmp_path, "collection", "describe", "old")
    assert code == 0 and json.loads(out)["FaceModelVersion"] == "1.0"
    code, out, _ = run(capsys, tmp_path, "collection", "migrate-scores", "old")
    assert code == 0 and "FaceModelVersion 1.0 -> 2.0 (1 face(s) kept" in out
    code, out, _ = run(capsys, tmp_path, "collection", "migrate-scores", "old")
    assert code == 0 and "already uses FaceModelVersion 2.0" in out
    code, _, err = run(capsys, tmp_path, "collection", "migrate-scores", "missing")
    assert code == 1 and "ResourceNotFoundException" in err
    code, _, err = run(capsys, tmp_path, "collection", "migrate-scores", "old", "--to", "nope")
    assert code != 0 and "unknown scoring 'nope'" in err


def test_bulk_moderation_from_the_cli(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    media = tmp_path / "media"
    (media / "photos").mkdir(parents=True)
    (media / "reports").mkdir()
    (media / "photos" / "obama.jpg").write_bytes(OBAMA.read_bytes())
    (media / "photos" / "manifest.jsonl").write_text(
        '{"source-ref": "s3://photos/obama.jpg"}\n{"source-ref": "s3://photos/gone.jpg"}\n'
    )
    code, out, _ = run(capsys, tmp_path, "bulk", "moderate", "s3://photos/manifest.jsonl",
                       "--output", "s3://reports/mod", "--name", "cli-run", "--wait", "--table")
    assert code == 0, out
    job_id = out.split()[1].rstrip(":")
    assert f"s3://reports/mod/{job_id}/results.jsonl" in out
    assert "1 of 2 images analysed" in out and "line 2: InvalidS3ObjectException" in out
    lines = (media / "reports" / "mod" / job_id / "results.jsonl").read_text().splitlines()
    assert [json.loads(x)["source-ref"] for x in lines] == ["s3://photos/obama.jpg"]
    code, out, _ = run(capsys, tmp_path, "bulk", "list", "--table")
    assert code == 0 and job_id in out and "cli-run" in out
    code, out, _ = run(capsys, tmp_path, "bulk", "moderate", "s3://photos/none.jsonl",
                       "--output", "s3://reports", "--wait")
    assert code == 1 and json.loads(out)["FailureDetails"]["Code"] == "INVALID_S3_OBJECT"
