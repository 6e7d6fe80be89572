"""``candor eval verification`` and ``candor eval identification``: error rates on your data.

Identities come from folder names (one folder per person, as LFW is laid out). Groups, for the
demographic breakdown, come from a CSV of ``identity,group`` lines.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from candor.calibration import fmr_for_similarity
from candor.cli.collections import IMAGE_SUFFIXES, Progress
from candor.services import evaluation
from candor.services.evaluation import Rate


def read_pairs(path: Path, images: Path | None) -> list[tuple[Path, Path, bool]]:
    """LFW's pairs.txt (with --images) or a CSV of ``image_a,image_b,same`` (1/0)."""
    lines = path.read_text().splitlines()
    head = lines[0].split() if lines else []
    if len(head) == 2 and all(x.isdigit() for x in head):
        if images is None:
            raise SystemExit("error: an LFW pairs.txt needs --images (the folder of people)")
        out = []
        for line in lines[1:]:
            f = line.split("\t")
            if len(f) == 3:
                out.append(
                    (
                        images / f[0] / f"{f[0]}_{int(f[1]):04d}.jpg",
                        images / f[0] / f"{f[0]}_{int(f[2]):04d}.jpg",
                        True,
                    )
                )
            elif len(f) == 4:
                out.append(
                    (
                        images / f[0] / f"{f[0]}_{int(f[1]):04d}.jpg",
                        images / f[2] / f"{f[2]}_{int(f[3]):04d}.jpg",
                        False,
                    )
                )
        return out
    base = images or path.parent
    rows = [r for r in csv.reader(lines) if r and not r[0].startswith("#")]
    if rows and rows[0][-1].strip().lower() in ("same", "decision", "label"):
        rows = rows[1:]
    return [
        (base / a.strip(), base / b.strip(), s.strip().lower() in ("1", "true", "yes", "same"))
        for a, b, s in (r[:3] for r in rows)
    ]


def people(folder: Path) -> list[tuple[str, Path]]:
    return [
        (p.parent.name, p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    ]


def read_groups(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    return {
        r[0].strip(): r[1].strip()
        for r in csv.reader(path.read_text().splitlines())
        if len(r) >= 2 and not r[0].startswith("#")
    }


def _pct(r: Rate) -> str:
    lo, hi = r.interval
    return f"{r.value:.3%} [{lo:.3%}, {hi:.3%}] ({r.errors}/{r.trials})"


def _group_table(
    title: str,
    names: tuple[str, str],
    groups: dict[str, tuple[Rate, Rate]],
    stated: tuple[int, float] | None = None,
) -> None:
    """``stated``: (which column, the rate the calibration states for it) — a group whose
    whole 95% interval lies above it gets a warning on stderr."""
    if not groups:
        return
    print(f"\n{title}")
    print(f"| group | {names[0]} (95% CI) | {names[1]} (95% CI) |")
    print("|---|---|---|")
    for g, (a, b) in groups.items():
        print(f"| {g} | {_pct(a)} | {_pct(b)} |")
    for i, name in enumerate(names):
        ratio = evaluation.max_min_ratio(v[i] for v in groups.values())
        print(f"max/min {name} across groups: {ratio:.2f}")
    if stated is None:
        return
    col, rate = stated
    for g, pair in groups.items():
        low = pair[col].interval[0]
        if pair[col].trials and low > rate:
            print(
                f"warning: group {g}: {names[col]} {pair[col].value:.2e} (95% CI from {low:.2e}) "
                f"exceeds the {rate:.1e} the calibration states; on this population a threshold "
                "means more false matches than it says. Raise the threshold (or the collection's "
                "candor:min-match-threshold) until it does not.",
                file=sys.stderr,
            )


def draw_det(curve: Sequence[tuple[float, float, float]], out: Path) -> None:
    """A DET plot (FNMR against FMR, log FMR axis) as PNG, with the thresholds marked."""
    from PIL import Image, ImageDraw

    w, h, m = 640, 480, 60
    im = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(im)
    d.rectangle([m, 20, w - 20, h - m], outline="black")

    def xy(fmr: float, fnmr: float) -> tuple[float, float]:
        lx = (math.log10(max(fmr, 1e-6)) + 6) / 6
        return m + lx * (w - 20 - m), (h - m) - fnmr * (h - m - 20)

    for e in range(-6, 1):
        x, _ = xy(10.0**e, 0)
        d.line([x, h - m, x, h - m + 5], fill="black")
        d.text((x - 12, h - m + 8), f"1e{e}", fill="black")
    for k in range(0, 11, 2):
        _, y = xy(1e-6, k / 10)
        d.line([m - 5, y, m, y], fill="black")
        d.text((m - 35, y - 5), f"{k / 10:.1f}", fill="black")
    d.text((w / 2 - 60, h - 25), "false match rate (FMR)", fill="black")
    d.text((5, 5), "false non-match rate (FNMR)", fill="black")
    points = [xy(fmr, fnmr) for _, fmr, fnmr in curve if fmr > 0 or fnmr < 1]
    if len(points) > 1:
        d.line(points, fill=(20, 80, 200), width=2)
    for t, fmr, fnmr in curve:
        if t in evaluation.THRESHOLDS:
            x, y = xy(fmr, fnmr)
            d.ellipse([x - 4, y - 4, x + 4, y + 4], outline="red", width=2)
            d.text((x + 6, y - 12), f"{t:g}", fill="red")
    im.save(out)


def cmd_eval(args: argparse.Namespace, rt: Any) -> int:
    groups = read_groups(Path(args.groups) if args.groups else None)
    if args.eval_command == "verification":
        pairs = read_pairs(Path(args.pairs), Path(args.images) if args.images else None)
        files = {p for a, b, _ in pairs for p in (a, b)}
        missing = sorted(str(p) for p in files if not p.is_file())
        if missing:
            print(f"error: {len(missing)} image(s) not found, e.g. {missing[0]}", file=sys.stderr)
            return 2
        bar = Progress(len(files), "embedding", enabled=args.progress)
        emb = evaluation.embed_files(rt, files, bar.update)
        by_image = {p: groups[p.parent.name] for p in files if p.parent.name in groups}
        v = evaluation.verification(rt, pairs, emb, by_image, args.threshold)
        print(
            f"{v.pairs} pairs ({v.genuine} genuine, {v.impostor} impostor); "
            f"{len(v.failed_images)} image(s) without a face count as non-matches"
        )
        print(f"best accuracy over all thresholds: {v.best_accuracy:.2%}\n")
        print("| Similarity threshold | FMR (95% CI) | FNMR (95% CI) |")
        print("|---:|---|---|")
        for t in evaluation.THRESHOLDS:
            print(f"| {t:g} | {_pct(v.fmr[t])} | {_pct(v.fnmr[t])} |")
        _group_table(
            f"By group at Similarity {args.threshold:g} (impostor pairs within a group)",
            ("FMR", "FNMR"),
            v.groups,
            (0, fmr_for_similarity(args.threshold)),
        )
        if args.plot:
            draw_det(v.curve, Path(args.plot))
            print(f"\nDET plot written to {args.plot}")
        return 0
    gallery, probes = people(Path(args.gallery)), people(Path(args.probes))
    if not gallery or not probes:
        print(
            "error: GALLERY and PROBES must be folders of images in one folder per person",
            file=sys.stderr,
        )
        return 2
    images = {p for _, p in gallery} | {p for _, p in probes}
    bar = Progress(len(images), "embedding", enabled=args.progress)
    emb = evaluation.embed_files(rt, images, bar.update)
    r = evaluation.identification(rt, gallery, probes, emb, groups, args.threshold)
    print(
        f"gallery {r.gallery} faces; {r.mated} mated probes (person enrolled), {r.non_mated} "
        f"non-mated probes; {len(r.failed_images)} image(s) without a face"
    )
    print(f"rank-1 identification rate: {r.rank1:.2%}\n")
    print("| Similarity threshold | FNIR (95% CI) | FPIR (95% CI) |")
    print("|---:|---|---|")
    for t in evaluation.THRESHOLDS:
        print(f"| {t:g} | {_pct(r.fnir[t])} | {_pct(r.fpir[t])} |")
    # A non-mated search of a gallery of N faces is expected to return a false match with
    # probability about N × FMR.
    expected = min(1.0, r.gallery * fmr_for_similarity(args.threshold))
    _group_table(
        f"By group at Similarity {args.threshold:g}", ("FNIR", "FPIR"), r.groups, (1, expected)
    )
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="measure verification or identification error rates on your own data",
        description="Run your labelled images through Candor's pipeline and report error rates "
        "at Similarity 80, 90, 95 and 99 with 95% confidence intervals; with --groups, the same "
        "per demographic group and the max/min ratio across groups.",
    )
    kinds = p.add_subparsers(dest="eval_command", metavar="KIND", required=True)
    v = kinds.add_parser("verification", help="1:1: FMR and FNMR on labelled pairs, DET plot")
    v.add_argument("pairs", help="LFW pairs.txt (with --images) or CSV image_a,image_b,same")
    v.add_argument("--images", help="folder the pair paths are relative to")
    v.add_argument("--plot", help="write a DET plot (PNG) here")
    i = kinds.add_parser("identification", help="1:N: rank-1, FNIR and FPIR")
    i.add_argument("gallery", help="folder with one sub-folder of images per enrolled person")
    i.add_argument(
        "probes",
        help="folder with one sub-folder per person; people not in the "
        "gallery are non-mated probes",
    )
    for k in (v, i):
        k.add_argument("--groups", help="CSV of identity,group for the demographic breakdown")
        k.add_argument(
            "--threshold",
            type=float,
            default=80.0,
            help="Similarity at which groups are compared (default 80)",
        )
        k.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="show a progress bar (default: when stderr is a terminal)",
        )
    p.set_defaults(func=cmd_eval, needs_runtime=True)
