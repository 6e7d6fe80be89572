"""LFW-dev helpers shared by the face benchmarks: pairs, identities and a cached embedding run.

The data lives in ../shared/data (beside the checkout) or wherever CANDOR_SHARED_DATA points.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
LFW = DATA / "faces" / "lfw-dev"
OUT = ROOT / "bench" / "out"


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    same: bool
    fold: int


def image_path(name: str, index: int) -> Path:
    return LFW / "images" / name / f"{name}_{index:04d}.jpg"


def read_pairs() -> list[Pair]:
    lines = (LFW / "pairs.txt").read_text().split("\n")
    folds, per = (int(x) for x in lines[0].split())
    pairs = []
    for i, line in enumerate(x for x in lines[1:] if x.strip()):
        f = line.split("\t")
        fold = i // (2 * per)
        if len(f) == 3:
            pairs.append(Pair(image_path(f[0], int(f[1])), image_path(f[0], int(f[2])), True, fold))
        else:
            pairs.append(Pair(image_path(f[0], int(f[1])), image_path(f[2], int(f[3])), False, fold))
    assert len(pairs) == folds * 2 * per, f"expected {folds * 2 * per} pairs, got {len(pairs)}"
    return pairs


def all_images() -> list[Path]:
    return sorted((LFW / "images").glob("*/*.jpg"))


def identity(path: Path) -> str:
    return path.parent.name


def progress(done: int, total: int, start: float, label: str) -> None:
    rate = done / max(time.time() - start, 1e-9)
    eta = (total - done) / max(rate, 1e-9)
    sys.stderr.write(f"\r{label}: {done}/{total}  {rate:5.1f}/s  eta {eta:5.0f}s ")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


_pipeline = None


def _init_worker(detector: str) -> None:
    global _pipeline
    from candor.config import Settings
    from candor.inference.pipeline import FacePipeline

    settings = Settings.from_env(face_detector=detector, data_dir=OUT / "candor-data")
    _pipeline = FacePipeline(settings)


def _embed_one(path: Path) -> tuple[str, bytes | None, str]:
    from candor.imaging import decode_image

    assert _pipeline is not None
    img = decode_image(path.read_bytes(), max_bytes=15 << 20, max_pixels=36_000_000)
    dets = _pipeline.detect(img.pixels)
    if not dets:
        return str(path), None, ""
    (face,) = _pipeline.analyze(img.pixels, embed=True, detections=dets[:1])
    assert face.embedding is not None
    return str(path), face.embedding.data, face.detector


# The code an embedding depends on: a change to any of these makes a new cache file.
_PIPELINE_SOURCES = ("mtcnn.py", "onet.py", "pipeline.py", "dlib_faces.py", "dlib_resnet.py")


def embeddings_cache(detector: str) -> Path:
    """bench/out/embeddings-DETECTOR-DIGEST.npz, DIGEST from the face pipeline's source."""
    import hashlib

    h = hashlib.sha256()
    for name in _PIPELINE_SOURCES:
        h.update((ROOT / "src/candor/inference" / name).read_bytes())
    return OUT / f"embeddings-{detector}-{h.hexdigest()[:10]}.npz"


def embed_images(
    paths: Iterable[Path], detector: str = "mtcnn", processes: int = 2
) -> dict[str, np.ndarray | None]:
    """Descriptor of the largest face in each image (None where none was found), cached in
    bench/out so the calibration and verification benches share one run."""
    paths = sorted(set(paths))
    cache = embeddings_cache(detector)
    have: dict[str, np.ndarray | None] = {}
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        for name, vec in zip(z["paths"], z["vectors"], strict=True):
            have[str(name)] = None if np.isnan(vec).any() else vec
    todo = [p for p in paths if str(p) not in have]
    if todo:
        start = time.time()
        with mp.get_context("spawn").Pool(processes, _init_worker, (detector,)) as pool:
            for i, (name, data, _) in enumerate(pool.imap_unordered(_embed_one, todo, 8), 1):
                have[name] = None if data is None else np.frombuffer(data, dtype="<f4").copy()
                if i % 50 == 0 or i == len(todo):
                    progress(i, len(todo), start, f"embedding ({detector})")
        OUT.mkdir(parents=True, exist_ok=True)
        names = sorted(have)
        vectors = np.stack(
            [have[n] if have[n] is not None else np.full(128, np.nan, np.float32) for n in names]
        )
        np.savez(cache, paths=np.array(names), vectors=vectors)
    return {str(p): have[str(p)] for p in paths}


def chunks(seq: list[Path], n: int) -> Iterator[list[Path]]:
    for i in range(0, len(seq), n):
        yield seq[i : i + n]
