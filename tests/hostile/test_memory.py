"""Images within every limit that once made a worker allocate tens of GiB: a 100000×80 PNG
(8 KB) and its 80×100000 twin. Every image-taking operation must answer — a result or a
Rekognition error — under a 3 GiB address-space limit, with the process's peak RSS under 1 GiB."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _strip(size: tuple[int, int], path: Path) -> Path:
    buf = io.BytesIO()
    Image.new("RGB", size, (120, 120, 120)).save(buf, "PNG", optimize=True)
    assert len(buf.getvalue()) < 128 * 1024  # tiny on the wire, far under the 5 MiB limit
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("size", [(100_000, 80), (80, 100_000)], ids=["wide", "tall"])
def test_long_strips_stay_under_a_gib(tmp_path: Path, size: tuple[int, int]) -> None:
    image = _strip(size, tmp_path / "strip.png")
    proc = subprocess.run(
        [sys.executable, "-m", "tests.hostile.memory_probe", str(tmp_path / "data"), str(image), "3072"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "MemoryError" not in report["outcome"].values(), report
    assert set(report["outcome"].values()) <= {"ok", "InvalidParameterException"}, report
    assert report["peak_rss_mib"] < 1024, report
