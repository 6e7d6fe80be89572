"""``candor eval``: verification and identification reports on small LFW subsets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image

from candor.cli import main
from candor.services.evaluation import Rate, max_min_ratio

from .conftest import LFW

PEOPLE = ["Hugo_Chavez", "Jacques_Chirac", "Tony_Blair", "Colin_Powell", "Gray_Davis", "Laura_Bush"]
OUTSIDERS = ["Andre_Agassi", "Megawati_Sukarnoputri"]


def test_wilson_interval_and_ratio() -> None:
    r = Rate(5, 100)
    lo, hi = r.interval
    assert lo < 0.05 < hi and lo == pytest.approx(0.0215, abs=1e-3) and hi == pytest.approx(0.1118, abs=1e-3)
    assert max_min_ratio([Rate(1, 10), Rate(2, 10)]) == pytest.approx(2.0)
    assert max_min_ratio([Rate(0, 10), Rate(2, 10)]) == float("inf")


def _pairs_csv(tmp_path: Path) -> Path:
    lines = ["image_a,image_b,same"]
    for p in PEOPLE:
        lines.append(f"{p}/{p}_0001.jpg,{p}/{p}_0002.jpg,1")
    for a, b in zip(PEOPLE, PEOPLE[1:] + PEOPLE[:1], strict=False):
        lines.append(f"{a}/{a}_0001.jpg,{b}/{b}_0002.jpg,0")
    out = tmp_path / "pairs.csv"
    out.write_text("\n".join(lines) + "\n")
    return out


def test_eval_verification(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = _pairs_csv(tmp_path)
    groups = tmp_path / "groups.csv"
    groups.write_text("".join(f"{p},{'a' if i % 2 else 'b'}\n" for i, p in enumerate(PEOPLE)))
    plot = tmp_path / "det.png"
    code = main(["--data-dir", str(data_dir), "eval", "verification", str(pairs), "--images", str(LFW),
                 "--groups", str(groups), "--plot", str(plot)])
    out = capsys.readouterr().out
    assert code == 0
    assert "12 pairs (6 genuine, 6 impostor)" in out
    assert "| 80 | 0.000%" in out  # no impostor pair of these reaches Similarity 80
    assert "max/min FNMR across groups" in out
    with Image.open(plot) as im:
        assert im.size == (640, 480)


def test_eval_verification_lfw_format(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("1\t2\nHugo_Chavez\t1\t2\nTony_Blair\t1\t2\nHugo_Chavez\t1\tTony_Blair\t2\nColin_Powell\t1\tGray_Davis\t1\n")
    assert main(["--data-dir", str(data_dir), "eval", "verification", str(pairs), "--images", str(LFW)]) == 0
    assert "4 pairs (2 genuine, 2 impostor)" in capsys.readouterr().out
    assert main(["--data-dir", str(data_dir), "eval", "verification", str(pairs), "--images", str(tmp_path)]) == 2


def test_eval_identification(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gallery, probes = tmp_path / "gallery", tmp_path / "probes"
    for p in PEOPLE:
        (gallery / p).mkdir(parents=True)
        shutil.copy(LFW / p / f"{p}_0001.jpg", gallery / p)
        (probes / p).mkdir(parents=True)
        shutil.copy(LFW / p / f"{p}_0003.jpg", probes / p)
    for p in OUTSIDERS:
        (probes / p).mkdir(parents=True)
        shutil.copy(LFW / p / f"{p}_0001.jpg", probes / p)
    code = main(["--data-dir", str(data_dir), "eval", "identification", str(gallery), str(probes)])
    out = capsys.readouterr().out
    assert code == 0
    assert "gallery 6 faces; 6 mated probes (person enrolled), 2 non-mated probes" in out
    rank1 = float(out.split("rank-1 identification rate: ")[1].split("%")[0])
    assert rank1 >= 66
    assert "| 99 |" in out


def test_eval_warns_when_a_group_exceeds_the_stated_rate(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A population the calibration does not cover: "different people" who look alike — here,
    # one photo filed under two names, so every such pair is a false match.
    images = tmp_path / "images"
    lines = ["image_a,image_b,same"]
    for p in PEOPLE:
        for name in (f"{p}_a", f"{p}_b"):
            (images / name).mkdir(parents=True)
            shutil.copy(LFW / p / f"{p}_0001.jpg", images / name / "x.jpg")
        lines.append(f"{p}_a/x.jpg,{p}_b/x.jpg,0")
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("\n".join(lines) + "\n")
    groups = tmp_path / "groups.csv"
    groups.write_text("".join(f"{p}_{s},lookalikes\n" for p in PEOPLE for s in "ab"))
    code = main(["--data-dir", str(data_dir), "eval", "verification", str(pairs), "--images",
                 str(images), "--groups", str(groups)])
    captured = capsys.readouterr()
    assert code == 0
    assert "warning: group lookalikes: FMR" in captured.err and "exceeds the 1.0e-04" in captured.err


def test_eval_without_excess_prints_no_warning(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs = _pairs_csv(tmp_path)
    groups = tmp_path / "groups.csv"
    groups.write_text("".join(f"{p},{'a' if i % 2 else 'b'}\n" for i, p in enumerate(PEOPLE)))
    assert main(["--data-dir", str(data_dir), "eval", "verification", str(pairs), "--images", str(LFW),
                 "--groups", str(groups)]) == 0
    assert "warning" not in capsys.readouterr().err
