"""``candor detect-labels``, ``detect-text`` and ``detect-moderation-labels``: JSON and tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from candor.cli import main

from .conftest import DATA, SMOKE

ZEBRA = DATA / "labels" / "imagenet-dev" / "n02391049_zebra.JPEG"
PAGE = DATA / "text" / "tesseract-docs" / "phototest-rotated-R.png"
OBAMA = SMOKE / "examples" / "obama.jpg"


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_detect_labels(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "detect-labels", str(ZEBRA), "--max-labels", "3")
    assert code == 0
    body = json.loads(out)
    assert len(body["Labels"]) == 3 and body["LabelModelVersion"]
    code, out, _ = run(capsys, data_dir, "detect-labels", "--table", "--properties",
                       "--exclude", "Animal", str(ZEBRA))
    assert code == 0
    assert "Zebra" in out and "Mammal" in out and "brightness" in out
    assert "  Animal " not in out


def test_detect_text_table(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "detect-text", "--table", str(PAGE))
    assert code == 0
    assert out.startswith("8 line(s), 60 word(s)")
    assert "This is a lot of 12 point text to test the" in out


def test_detect_moderation_labels(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "detect-moderation-labels", str(OBAMA))
    assert code == 0
    assert json.loads(out)["ModerationLabels"] == []
    code, out, _ = run(capsys, data_dir, "detect-moderation-labels", "--table", str(OBAMA))
    assert code == 0 and out.startswith("0 moderation label(s)")


def test_bad_image(capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    code, _, err = run(capsys, data_dir, "detect-labels", str(bad))
    assert code == 1 and "InvalidImageFormatException" in err
