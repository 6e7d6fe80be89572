"""LFW-dev verification: Candor's face pipeline vs the face_recognition library, same pairs,
same dlib ResNet, in one run.

    python bench/verification.py [--speed-images 300]

Prints accuracy (5-fold cross-validated threshold over the 10 folds' worth of pairs in LFW-dev:
train on 4 folds, test on the 5th), TAR at FMR 1e-3 and the detect+embed speed of both on the
same images, one process each, one after the other. A pair where either image has no face
counts as "different". face_recognition is run with its defaults (HOG upsample 1, 5-point
landmarks, 1 jitter), taking the largest face.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import random
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from lfw import OUT, ROOT, Pair, embed_images, progress, read_pairs


def _fr_one(path: str) -> tuple[str, np.ndarray | None]:
    import face_recognition

    img = face_recognition.load_image_file(path)
    locs = face_recognition.face_locations(img)
    if not locs:
        return path, None
    largest = max(locs, key=lambda b: (b[2] - b[0]) * (b[1] - b[3]))
    return path, face_recognition.face_encodings(img, [largest])[0].astype(np.float32)


def fr_embed(paths: list[Path]) -> dict[str, np.ndarray | None]:
    cache = OUT / "embeddings-face_recognition.npz"
    have: dict[str, np.ndarray | None] = {}
    if cache.exists():
        z = np.load(cache)
        have = {str(n): (None if np.isnan(v).any() else v) for n, v in zip(z["paths"], z["vectors"], strict=True)}
    todo = [str(p) for p in paths if str(p) not in have]
    if todo:
        start = time.time()
        with mp.get_context("spawn").Pool(2) as pool:
            for i, (name, vec) in enumerate(pool.imap_unordered(_fr_one, todo, 8), 1):
                have[name] = vec
                if i % 50 == 0 or i == len(todo):
                    progress(i, len(todo), start, "embedding (face_recognition)")
        names = sorted(have)
        vecs = np.stack([have[n] if have[n] is not None else np.full(128, np.nan, np.float32) for n in names])
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(cache, paths=np.array(names), vectors=vecs)
    return {str(p): have[str(p)] for p in paths}


def distances(pairs: list[Pair], emb: dict[str, np.ndarray | None], weight: Any = None) -> np.ndarray:
    """Pair distances; with ``weight`` (a scoring normaliser's), the normalised distance that
    Candor's Similarity is computed from."""
    out = np.full(len(pairs), np.inf)
    for i, p in enumerate(pairs):
        a, b = emb[str(p.a)], emb[str(p.b)]
        if a is not None and b is not None:
            scale = 1.0 if weight is None else float(np.sqrt(np.prod(weight(np.stack([a, b])))))
            out[i] = float(np.linalg.norm(a - b)) * scale
    return out


def cv_accuracy(d: np.ndarray, same: np.ndarray, folds: np.ndarray) -> tuple[float, float]:
    """Mean and std of accuracy, threshold chosen on the other folds."""
    finite = d[np.isfinite(d)]
    candidates = np.unique(np.concatenate([finite, finite + 1e-6]))
    accs = []
    for f in np.unique(folds):
        train, test = folds != f, folds == f
        best = max(candidates, key=lambda t: ((d[train] <= t) == same[train]).mean())
        accs.append(((d[test] <= best) == same[test]).mean())
    return float(np.mean(accs)), float(np.std(accs))


def tar_at_fmr(d: np.ndarray, same: np.ndarray, fmr: float) -> float:
    impostor = np.sort(d[~same])
    allowed = int(np.floor(fmr * len(impostor)))
    threshold = impostor[allowed] - 1e-9 if allowed < len(impostor) else np.inf
    return float((d[same] <= threshold).mean())


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def speed(paths: list[Path], detector: str) -> tuple[float, float, float, float]:
    """Images per second for Candor and face_recognition, one process, same images; and
    Candor's model load (seconds and resident MiB added by its first call)."""
    import face_recognition

    from candor.config import Settings
    from candor.imaging import decode_image
    from candor.inference.pipeline import FacePipeline

    pipe = FacePipeline(Settings.from_env(data_dir=OUT / "candor-data", face_detector=detector))
    warm = paths[0].read_bytes()
    rss, t = _rss_mib(), time.perf_counter()

    def candor_one(data: bytes) -> None:
        img = decode_image(data, max_bytes=15 << 20, max_pixels=36_000_000)
        dets = pipe.detect(img.pixels)
        if dets:
            pipe.analyze(img.pixels, embed=True, detections=dets[:1])

    def fr_one(path: Path) -> None:
        img = face_recognition.load_image_file(str(path))
        locs = face_recognition.face_locations(img)
        if locs:
            face_recognition.face_encodings(img, locs[:1])

    candor_one(warm)
    load_s, load_mib = time.perf_counter() - t, _rss_mib() - rss
    fr_one(paths[0])
    blobs = [p.read_bytes() for p in paths]
    t = time.perf_counter()
    for b in blobs:
        candor_one(b)
    candor_rate = len(paths) / (time.perf_counter() - t)
    t = time.perf_counter()
    for p in paths:
        fr_one(p)
    fr_rate = len(paths) / (time.perf_counter() - t)
    return candor_rate, fr_rate, load_s, load_mib


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speed-images", type=int, default=300, help="images timed for speed")
    ap.add_argument("--detector", default="mtcnn", help="Candor's face detector (default mtcnn)")
    args = ap.parse_args()
    pairs = read_pairs()
    paths = sorted({p.a for p in pairs} | {p.b for p in pairs})
    same = np.array([p.same for p in pairs])
    folds = np.array([p.fold for p in pairs])
    from candor.inference.dlib_faces import EMBEDDING_MODEL
    from candor.inference.scoring import default_scoring

    scoring = default_scoring(EMBEDDING_MODEL)
    cal = scoring.calibration
    weight = scoring.normalizer.weight if scoring.normalizer is not None else None
    rows = []
    for name, emb, w in (
        (f"Candor (FaceModelVersion {scoring.version})", embed_images(paths, detector=args.detector), weight),
        ("face_recognition", fr_embed(paths), None),
    ):
        d = distances(pairs, emb, w)
        acc, sd = cv_accuracy(d, same, folds)
        missing = sum(emb[str(p)] is None for p in paths)
        # Candor's Similarity 80 (stated FMR 1e-4 for every group measured); for the peer, the
        # same distance on its plain scale, for reference only.
        at80 = float(((d <= cal.distance_for_similarity(80)) == same).mean())
        rows.append((name, acc, sd, tar_at_fmr(d, same, 1e-3), at80, missing))
    random.seed(0)
    sample = random.sample(paths, min(args.speed_images, len(paths)))
    if sample:
        candor_rate, fr_rate, load_s, load_mib = speed(sample, args.detector)

    print(f"LFW-dev, {len(pairs)} pairs ({same.sum()} same, {(~same).sum()} different), "
          f"{len(paths)} images; {platform.processor() or platform.machine()}, "
          f"{mp.cpu_count()} cores")
    print()
    print("| pipeline | accuracy (5-fold CV) | TAR @ FMR 1e-3 | accuracy at Similarity 80 | images without a face |")
    print("|---|---:|---:|---:|---:|")
    for name, acc, sd, tar, at80, missing in rows:
        print(f"| {name} | {acc:.2%} ± {sd:.2%} | {tar:.2%} | {at80:.2%} | {missing} |")
    if not sample:
        return 0
    print()
    print(f"| detect + embed, {len(sample)} images, 1 process | images/s |")
    print("|---|---:|")
    print(f"| Candor | {candor_rate:.2f} |")
    print(f"| face_recognition | {fr_rate:.2f} |")
    print(f"| ratio Candor / face_recognition | {candor_rate / fr_rate:.2f}× |")
    print()
    print(f"Candor's face models, loaded by the first image of a process: {load_s:.2f} s, "
          f"{load_mib:.0f} MiB resident")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    sys.exit(main())
