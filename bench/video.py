"""Stored-video throughput and shot accuracy, on ``../shared/data/video``.

    python bench/video.py                 # every job type on every clip, then the shot table
    python bench/video.py --rate 5        # another sampling rate (frames per second analysed)

Throughput: each job is run to the end by the same code a worker runs (decode, sample, models,
results written to SQLite), timed from claim to SUCCEEDED, and reported as a multiple of real
time (video seconds per wall-clock second). Shots: cut frames against PySceneDetect's reference
cut lists for each clip, a cut counted as found within ±1 frame; precision and recall per clip.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("CANDOR_SHARED_DATA", ROOT.parent / "shared" / "data")) / "video"
CLIPS = {
    "short_hamilton_clip.mp4": DATA / "faces" / "short_hamilton_clip.mp4",
    **{p.name: p for p in sorted((DATA / "scenes").glob("*.mp4"))},
}
JOBS = {
    "faces": ("StartFaceDetection", {}),
    "labels": ("StartLabelDetection", {}),
    "segments": ("StartSegmentDetection", {"SegmentTypes": ["SHOT"]}),
    "text": ("StartTextDetection", {}),
    "moderation": ("StartContentModeration", {}),
}


def throughput(rate: float) -> list[tuple[str, str, float, float]]:
    from candor import jobs
    from candor.config import Settings
    from candor.runtime import Runtime
    from candor.services import video
    from candor.types import Caller

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(data_dir=Path(tmp), video_sample_rate=rate)
        bucket = settings.media_dir / "clips"
        bucket.mkdir(parents=True)
        for name, path in CLIPS.items():
            shutil.copy(path, bucket / name)
        rt = Runtime(settings)
        rt.faces.detect(__import__("numpy").zeros((64, 64, 3), "uint8"))  # load models first
        rt.classifier.probabilities(__import__("numpy").zeros((64, 64, 3), "uint8"))
        rt.ocr.read(__import__("numpy").zeros((64, 64, 3), "uint8"))
        rt.nudity.detect(__import__("numpy").zeros((64, 64, 3), "uint8"))
        for kind, (operation, extra) in JOBS.items():
            for name in CLIPS:
                request = {"Video": {"S3Object": {"Bucket": "clips", "Name": name}}, **extra}
                job_id = video.start_job(rt, Caller.local(), operation, request)
                started = time.perf_counter()
                job = video.claim(rt, "bench")
                assert job is not None and job.job_id == job_id
                jobs.run_one(rt, "bench", job=job)
                wall = time.perf_counter() - started
                with rt.catalog.transaction() as tx:
                    done = tx.job(Caller.local().account, job_id)
                assert done is not None and done.status == "SUCCEEDED", done
                seconds = json.loads(done.video or "{}")["duration_millis"] / 1000
                rows.append((kind, name, seconds, wall))
                print(f"  {kind:8} {name:28} {seconds:6.1f} s video in {wall:6.2f} s",
                      file=sys.stderr)
    return rows


def shots() -> list[tuple[str, int, int, int, int]]:
    from candor.inference.shots import detect_shots

    rows = []
    for golden in sorted((DATA / "scenes" / "goldens").glob("*.ContentDetector.default.json")):
        clip = golden.name.split(".mp4")[0] + ".mp4"
        truth = json.loads(golden.read_text())["cuts"]
        found = [s.start_frame_number for s in detect_shots(DATA / "scenes" / clip)][1:]
        hits = sum(any(abs(f - t) <= 1 for f in found) for t in truth)
        true_found = sum(any(abs(f - t) <= 1 for t in truth) for f in found)
        rows.append((clip, len(truth), len(found), hits, true_found))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", type=float, default=2.0,
                        help="frames per second analysed by face and label detection (default 2)")
    args = parser.parse_args(argv)
    rows = throughput(args.rate)
    print(f"\nThroughput at {args.rate:g} frames/s sampled, {os.cpu_count()} CPUs "
          "(× real time = video seconds per wall second):\n")
    print("| job | clips | video s | wall s | × real time |")
    print("|---|---:|---:|---:|---:|")
    for kind in JOBS:
        mine = [r for r in rows if r[0] == kind]
        video_s = sum(r[2] for r in mine)
        wall_s = sum(r[3] for r in mine)
        print(f"| {kind} | {len(mine)} | {video_s:.1f} | {wall_s:.2f} | {video_s / wall_s:.1f}× |")
    print("\nShot boundaries against PySceneDetect's reference cuts (±1 frame):\n")
    print("| clip | reference cuts | cuts found | precision | recall |")
    print("|---|---:|---:|---:|---:|")
    for clip, truth, found, hits, true_found in shots():
        precision = true_found / found if found else 1.0
        recall = hits / truth if truth else 1.0
        print(f"| {clip} | {truth} | {found} | {precision:.2f} | {recall:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
