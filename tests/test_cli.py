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
