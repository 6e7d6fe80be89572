"""Face detection recall, false faces and cost per detector, to choose the default.

    python bench/detection.py [--detectors mtcnn,mtcnn-nomirror,hog,hog+cnn] [--limit N]

Recall: the fraction of LFW-dev images (every one holds a face) where at least one face is
found. False faces: ImageNet-dev images that show no person (bench/imagenet-people.tsv, labelled
by eye) where a face is reported, at any Confidence and at Confidence >= 90. Cost: mean CPU
milliseconds per image, measured inside each worker. Also the number of faces found in the
multi-face smoke images (counts by eye in tests/test_faces.py). ``mtcnn-nomirror`` is the
default detector with its mirror check off (CANDOR_FACE_MIRROR_CHECK=0).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path

from lfw import DATA, OUT, ROOT, all_images, progress

SMOKE = [
    ("two_people.jpg", DATA / "faces/smoke-face_recognition/examples/two_people.jpg", 2),
    ("obama_and_biden.jpg", DATA / "faces/smoke-face_recognition/examples/knn_examples/test/obama_and_biden.jpg", 3),
    ("kit_with_rose.jpg", DATA / "faces/smoke-face_recognition/examples/knn_examples/test/kit_with_rose.jpg", 2),
    ("couple.jpg", DATA / "faces/smoke-deepface/couple.jpg", 2),
    ("selfie-many-people.jpg", DATA / "faces/smoke-deepface/selfie-many-people.jpg", 7),
]

IMAGENET = DATA / "labels/imagenet-dev"

_pipe = None


def people_free() -> list[Path]:
    shown = {}
    for line in (ROOT / "bench/imagenet-people.tsv").read_text().splitlines()[1:]:
        if line and not line.startswith("#") and not line.startswith("file\t"):
            name, what = line.split("\t")
            shown[name] = what
    return [p for p in sorted(IMAGENET.glob("*.JPEG")) if p.name not in shown]


def _init(detector: str) -> None:
    global _pipe
    from candor.config import Settings
    from candor.inference.pipeline import FacePipeline

    mirror = {"face_mirror_check": 0.0} if detector == "mtcnn-nomirror" else {}
    name = "mtcnn" if detector == "mtcnn-nomirror" else detector
    settings = Settings.from_env(face_detector=name, data_dir=OUT / "candor-data", **mirror)
    _pipe = FacePipeline(settings)


def _detect(path: Path) -> tuple[int, float, float]:
    """(faces found, the highest Confidence among them, CPU seconds)."""
    from candor.imaging import decode_image

    assert _pipe is not None
    img = decode_image(path.read_bytes(), max_bytes=15 << 20, max_pixels=36_000_000)
    t = time.process_time()
    faces = _pipe.analyze(img.pixels)
    cpu = time.process_time() - t
    return len(faces), max((f.confidence for f in faces), default=0.0), cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detectors", default="mtcnn,hog,hog+cnn")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N LFW-dev images")
    args = ap.parse_args()
    paths = all_images()
    if args.limit:
        paths = paths[: args.limit]
    free = people_free()
    rows = []
    for det in args.detectors.split(","):
        found = 0
        cpu = 0.0
        start = time.time()
        with mp.get_context("spawn").Pool(2, _init, (det,)) as pool:
            for i, (n, _, t) in enumerate(pool.imap(_detect, paths, 16), 1):
                found += n > 0
                cpu += t
                if i % 100 == 0 or i == len(paths):
                    progress(i, len(paths), start, f"detecting ({det})")
            smoke = pool.map(_detect, [p for _, p, _ in SMOKE])
            false = [(p.name, best) for p, (n, best, _) in zip(free, pool.map(_detect, free), strict=True) if n]
        rows.append((det, found / len(paths), len(paths) - found, 1000 * cpu / len(paths), smoke, false))
    print(f"LFW-dev: {len(paths)} images, each with at least one face. ImageNet-dev: {len(free)} images with no person in them.")
    print()
    print("| detector | recall | images missed | false faces (any) | false faces (Confidence >= 90) | CPU ms / image | " + " | ".join(f"{n} ({c} by eye)" for n, _, c in SMOKE) + " |")
    print("|---|---:|---:|---:|---:|---:|" + "---:|" * len(SMOKE))
    for det, recall, missed, ms, smoke, false in rows:
        strong = sum(best >= 90 for _, best in false)
        print(
            f"| {det} | {recall:.2%} | {missed} | {len(false)} ({len(false) / len(free):.1%}) | {strong} ({strong / len(free):.1%}) | {ms:.1f} | "
            + " | ".join(str(n) for n, _, _ in smoke) + " |"
        )
    print()
    for det, *_, false in rows:
        if false:
            print(f"{det}: false faces on " + ", ".join(f"{name.split('_', 1)[1].rsplit('.', 1)[0]} ({best:.0f})" for name, best in false))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
