"""Face detection recall and cost per detector, to choose the default.

    python bench/detection.py [--detectors mtcnn,hog,hog+cnn] [--limit N]

Recall: the fraction of LFW-dev images (every one holds a face) where at least one face is
found. Cost: mean CPU milliseconds per image, measured inside each worker. Also the number of
faces found in the multi-face smoke images (counts by eye in tests/test_faces.py).
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

_pipe = None


def _init(detector: str) -> None:
    global _pipe
    from candor.config import Settings
    from candor.inference.pipeline import FacePipeline

    _pipe = FacePipeline(Settings.from_env(face_detector=detector, data_dir=OUT / "candor-data"))


def _detect(path: Path) -> tuple[int, float]:
    from candor.imaging import decode_image

    assert _pipe is not None
    img = decode_image(path.read_bytes(), max_bytes=15 << 20, max_pixels=36_000_000)
    t = time.process_time()
    n = len(_pipe.detect(img.pixels))
    return n, time.process_time() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detectors", default="mtcnn,hog,hog+cnn")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N LFW-dev images")
    args = ap.parse_args()
    paths = all_images()
    if args.limit:
        paths = paths[: args.limit]
    rows = []
    for det in args.detectors.split(","):
        found = 0
        cpu = 0.0
        start = time.time()
        with mp.get_context("spawn").Pool(2, _init, (det,)) as pool:
            for i, (n, t) in enumerate(pool.imap(_detect, paths, 16), 1):
                found += n > 0
                cpu += t
                if i % 100 == 0 or i == len(paths):
                    progress(i, len(paths), start, f"detecting ({det})")
            smoke = pool.map(_detect, [p for _, p, _ in SMOKE])
        rows.append((det, found / len(paths), len(paths) - found, 1000 * cpu / len(paths), smoke))
    print(f"LFW-dev: {len(paths)} images, each with at least one face")
    print()
    print("| detector | recall | images missed | CPU ms / image | " + " | ".join(f"{n} ({c} by eye)" for n, _, c in SMOKE) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(SMOKE))
    for det, recall, missed, ms, smoke in rows:
        print(f"| {det} | {recall:.2%} | {missed} | {ms:.1f} | " + " | ".join(str(n) for n, _ in smoke) + " |")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
