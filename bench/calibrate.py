"""Measure plain distance → FMR / FNMR on LFW-dev: the calibration of FaceModelVersion 1.0.

    python bench/calibrate.py            # prints the table
    python bench/calibrate.py --write    # also rewrites src/candor/data/calibration-dlib-resnet-v1.json

FaceModelVersion 1.0 is kept for collections made before 2.0, and its file is frozen so their
thresholds keep meaning what they meant: --write is for a new descriptor model only. The
default scoring (2.0) comes from bench/fairness.py.

Genuine pairs: every pair of images of the same person. Impostor pairs: every pair of images of
different people (about 14 million). Largest face per image; images with no face are left out.
"""

from __future__ import annotations

import json
import sys

import numpy as np

from candor.calibration import Calibration, Knot, similarity_for_fmr
from candor.inference.dlib_faces import EMBEDDING_MODEL
from lfw import LFW, ROOT, all_images, embed_images, identity

DECADE_STEPS = 10


def pair_distances(vectors: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    genuine: list[np.ndarray] = []
    impostor: list[np.ndarray] = []
    sq = (vectors.astype(np.float64) ** 2).sum(axis=1)
    for i in range(0, len(vectors), 512):
        block = vectors[i : i + 512].astype(np.float64)
        d2 = sq[i : i + 512, None] + sq[None, :] - 2.0 * block @ vectors.T.astype(np.float64)
        d = np.sqrt(np.clip(d2, 0.0, None))
        rows = np.arange(i, i + len(block))[:, None]
        upper = np.arange(len(vectors))[None, :] > rows
        same = labels[i : i + 512, None] == labels[None, :]
        genuine.append(d[upper & same])
        impostor.append(d[upper & ~same])
    return np.concatenate(genuine), np.sort(np.concatenate(impostor))


def build(genuine: np.ndarray, impostor: np.ndarray) -> Calibration:
    n = len(impostor)
    genuine = np.sort(genuine)
    levels = [10 ** (-k / DECADE_STEPS) for k in range(0, 6 * DECADE_STEPS + 1)]
    knots = [Knot(0.0, 0.0, 0.0, 100.0)]
    for fmr in sorted(levels):
        m = max(1, round(fmr * n))
        if m >= n:
            d = float(impostor[-1])
        else:
            d = float((impostor[m - 1] + impostor[m]) / 2)
        fnmr = float(1.0 - np.searchsorted(genuine, d, side="right") / len(genuine))
        if d <= knots[-1].distance:
            continue
        knots.append(Knot(d, m / n, fnmr, similarity_for_fmr(fmr)))
    return Calibration(
        model=EMBEDDING_MODEL,
        dataset=f"LFW-dev ({LFW.name}): all same-person and different-person image pairs",
        genuine_pairs=len(genuine),
        impostor_pairs=n,
        knots=tuple(knots),
    )


def main() -> int:
    paths = all_images()
    emb = embed_images(paths)
    found = [p for p in paths if emb[str(p)] is not None]
    print(f"images: {len(paths)}, with a face: {len(found)} ({len(found) / len(paths):.2%})")
    vectors = np.stack([emb[str(p)] for p in found]).astype(np.float32)
    labels = np.array([identity(p) for p in found])
    genuine, impostor = pair_distances(vectors, labels)
    cal = build(genuine, impostor)
    target = ROOT / "src" / "candor" / "data" / f"calibration-{cal.model}.json"
    if "--write" in sys.argv[1:]:
        target.write_text(json.dumps(cal.to_json(), indent=1) + "\n")
        print(f"wrote {target.name}")
    print(f"genuine pairs {len(genuine):,}, impostor pairs {len(impostor):,}")
    print()
    print("| Similarity | distance ≤ | FMR (measured) | impostor pairs accepted | FNMR |")
    print("|---:|---:|---:|---:|---:|")
    for s in (20, 40, 60, 70, 80, 85, 90, 95, 99):
        d = cal.distance_for_similarity(s)
        accepted = int(np.searchsorted(impostor, d, side="right"))
        fnmr = float((genuine > d).mean())
        print(f"| {s} | {d:.4f} | {accepted / len(impostor):.2e} | {accepted:,} | {fnmr:.2%} |")
    print(f"\nclassic dlib threshold 0.6 → similarity {cal.similarity(0.6):.1f}, "
          f"FMR {np.searchsorted(impostor, 0.6, side='right') / len(impostor):.2e}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
