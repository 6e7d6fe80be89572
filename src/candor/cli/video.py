"""``candor video …`` (start stored-video jobs, read their results) and ``candor worker``.

Start and Get go through the API's validation and dispatch (:mod:`candor.cli.wire`). With
``--wait`` the CLI process runs its own job when no worker has taken it (so one command does
everything on a machine with no ``candor serve``), with a progress bar on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from candor.cli import wire

KINDS = {
    "detect-faces": ("StartFaceDetection", "GetFaceDetection"),
    "detect-labels": ("StartLabelDetection", "GetLabelDetection"),
    "detect-segments": ("StartSegmentDetection", "GetSegmentDetection"),
    "detect-text": ("StartTextDetection", "GetTextDetection"),
    "detect-moderation-labels": ("StartContentModeration", "GetContentModeration"),
    "search-faces": ("StartFaceSearch", "GetFaceSearch"),
}
GET_OF_START = {start: get for start, get in KINDS.values()}


def _video(uri: str) -> wire.Wire:
    from candor.media import S3Ref

    try:
        ref = S3Ref.parse_uri(uri)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{exc}; videos are read from buckets: s3://BUCKET/KEY (a bucket is a folder under "
            "DATA_DIR/media)"
        ) from None
    return {"S3Object": {"Bucket": ref.bucket, "Name": ref.name}}


def cmd_start(args: argparse.Namespace, rt: Any) -> int:
    start, get = KINDS[args.video_command]
    params: wire.Wire = {"Video": args.video}
    if args.job_tag:
        params["JobTag"] = args.job_tag
    if args.token:
        params["ClientRequestToken"] = args.token
    if start == "StartSegmentDetection":
        params["SegmentTypes"] = ["SHOT"]
    if start == "StartFaceDetection" and args.all:
        params["FaceAttributes"] = "ALL"
    if start == "StartFaceSearch":
        params["CollectionId"] = args.collection
        params["FaceMatchThreshold"] = args.threshold
    job_id = wire.call(rt, start, params, purpose=args.purpose)["JobId"]
    if not args.wait:
        print(job_id)
        return 0
    _run_here(rt, job_id)
    return _print_results(args, rt, get, job_id)


def _run_here(rt: Any, job_id: str) -> None:
    """Run the job in this process if it is still queued; otherwise wait for its worker."""
    from tqdm import tqdm

    from candor import jobs
    from candor.types import LOCAL_ACCOUNT

    with tqdm(total=100, unit="%", desc=f"job {job_id[:8]}", file=sys.stderr,
              disable=not sys.stderr.isatty()) as bar:
        def progress(fraction: float) -> None:
            bar.update(round(fraction * 100) - bar.n)

        with rt.catalog.transaction() as tx:
            job = tx.job(LOCAL_ACCOUNT, job_id)
        if job is not None and job.status == "QUEUED":
            name = jobs.worker_name()
            claimed = _claim_this(rt, name, job_id)
            if claimed is not None:
                jobs.run_one(rt, name, job=claimed, on_progress=progress)
        jobs.wait_until_done(rt, LOCAL_ACCOUNT, job_id, timeout=24 * 3600)
        bar.update(100 - bar.n)


def _claim_this(rt: Any, worker: str, job_id: str) -> Any:
    """Claim exactly this job when it is the next one queued; None if a worker got there first
    (or other jobs are ahead of it: the workers will take them in order)."""
    from candor.services import video

    claimed = video.claim(rt, worker)
    if claimed is None:
        return None
    if claimed.job_id != job_id:  # another queued job: run it too, it was next anyway
        from candor import jobs

        jobs.run_one(rt, worker, job=claimed)
        return _claim_this(rt, worker, job_id)
    return claimed


def cmd_get(args: argparse.Namespace, rt: Any) -> int:
    from candor.types import LOCAL_ACCOUNT

    with rt.catalog.transaction() as tx:
        job = tx.job(LOCAL_ACCOUNT, args.job_id)
    get = GET_OF_START.get(job.operation, "GetFaceDetection") if job else "GetFaceDetection"
    return _print_results(args, rt, get, args.job_id)


def _print_results(args: argparse.Namespace, rt: Any, get: str, job_id: str) -> int:
    body: wire.Wire = {}
    items: list[wire.Wire] = []
    member = {"GetFaceDetection": "Faces", "GetLabelDetection": "Labels",
              "GetSegmentDetection": "Segments", "GetFaceSearch": "Persons",
              "GetTextDetection": "TextDetections",
              "GetContentModeration": "ModerationLabels"}[get]
    token = None
    while True:
        params: wire.Wire = {"JobId": job_id, "MaxResults": 1000}
        if token:
            params["NextToken"] = token
        body = wire.call(rt, get, params)
        items.extend(body.get(member) or [])
        token = body.get("NextToken")
        if not token:
            break
    body[member] = items

    def table() -> str:
        meta = body.get("VideoMetadata")
        meta = meta[0] if isinstance(meta, list) and meta else meta
        lines = [f"job {job_id}: {body['JobStatus']}"
                 + (f" — {body['StatusMessage']}" if body.get("StatusMessage") else "")]
        if meta:
            lines.append(f"{meta['Codec']} {meta['FrameWidth']}×{meta['FrameHeight']} "
                         f"{meta['FrameRate']:.2f} fps, {meta['DurationMillis'] / 1000:.1f} s")
        for x in items:
            if member == "Faces":
                f = x["Face"]
                lines.append(f"{x['Timestamp']:>8} ms  face {f['Confidence']:6.2f}  "
                             f"{wire.box(f['BoundingBox'])}")
            elif member in ("Labels", "ModerationLabels"):
                label = x["Label" if member == "Labels" else "ModerationLabel"]
                lines.append(f"{x['Timestamp']:>8} ms  {label['Confidence']:6.2f}  "
                             f"{label['Name']}")
            elif member == "TextDetections":
                t = x["TextDetection"]
                if t["Type"] == "LINE":
                    lines.append(f"{x['Timestamp']:>8} ms  {t['Confidence']:6.2f}  "
                                 f"{t['DetectedText']}")
            elif member == "Persons":
                p, matches = x["Person"], x.get("FaceMatches") or []
                best = max((m["Similarity"] for m in matches), default=None)
                lines.append(f"{x['Timestamp']:>8} ms  person {p['Index']:>3}  "
                             f"{wire.box(p['BoundingBox'])}  "
                             + (f"match {best:.1f}" if best is not None else "no match"))
            else:
                lines.append(f"shot {x['ShotSegment']['Index']:>3}  {x['StartTimecodeSMPTE']} → "
                             f"{x['EndTimecodeSMPTE']}  frames {x['StartFrameNumber']}–"
                             f"{x['EndFrameNumber']}  confidence {x['ShotSegment']['Confidence']}")
        return "\n".join(lines)

    wire.emit(args, body, table)
    return 0 if body["JobStatus"] != "FAILED" else 1


def cmd_worker(args: argparse.Namespace) -> int:
    from candor import jobs
    from candor.api.front.logs import configure_logging
    from candor.config import Settings

    configure_logging()
    from pathlib import Path

    settings = (
        Settings.from_env(data_dir=Path(args.data_dir)) if args.data_dir else Settings.from_env()
    )
    try:
        jobs.work(settings)
    except KeyboardInterrupt:
        pass
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "video",
        help="analyse stored video: start a job, wait for it, read its results",
        description="Stored-video jobs, as Rekognition's Start*/Get* operations. Videos are "
        "read from buckets (s3://BUCKET/KEY; a bucket is a folder under DATA_DIR/media): MP4, "
        "MOV, MKV or AVI. Examples:\n\n"
        "  candor video detect-faces s3://clips/party.mp4 --wait --table\n"
        "  candor video detect-segments s3://clips/film.mp4      # prints the JobId\n"
        "  candor video get JOB_ID --table",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    video = p.add_subparsers(dest="video_command", metavar="ACTION", required=True)
    helps = {
        "detect-faces": "faces in sampled frames (StartFaceDetection)",
        "detect-labels": "labels in sampled frames (StartLabelDetection)",
        "detect-segments": "shots, with SMPTE timecodes (StartSegmentDetection)",
        "detect-text": "lines and words of text in sampled frames (StartTextDetection)",
        "detect-moderation-labels": "moderation labels in sampled frames "
        "(StartContentModeration)",
        "search-faces": "faces of sampled frames, tracked and searched in a collection "
        "(StartFaceSearch)",
    }
    for name, text in helps.items():
        v = video.add_parser(name, help=text, description=text)
        v.add_argument("video", type=_video, help="s3://BUCKET/KEY")
        v.add_argument("--wait", action="store_true",
                       help="wait for the job (running it here if no worker has) and print "
                       "its results")
        v.add_argument("--job-tag", help="JobTag, echoed by Get")
        v.add_argument("--token", help="ClientRequestToken: the same token starts one job")
        if name == "detect-faces":
            v.add_argument("--all", action="store_true", help="FaceAttributes=ALL")
        if name == "search-faces":
            v.add_argument("--collection", required=True, help="CollectionId to search")
            v.add_argument("--threshold", type=float, default=80.0,
                           help="FaceMatchThreshold, 0-100 (default 80; calibrated, see README)")
        v.add_argument("--table", action="store_true", help="with --wait: a readable table")
        v.set_defaults(func=cmd_start, needs_runtime=True)
    v = video.add_parser("get", help="a job's status and all its results",
                         description="Print a job's Get* response, every page joined.")
    v.add_argument("job_id", help="the JobId Start printed")
    v.add_argument("--table", action="store_true", help="print a readable table instead of JSON")
    v.set_defaults(func=cmd_get, needs_runtime=True)

    p = sub.add_parser(
        "worker",
        help="run stored-video jobs from the database until stopped",
        description="A video-job worker: claims queued jobs from the data directory's database "
        "(several workers and `candor serve` may share it), heartbeats while it runs one, and "
        "restarts jobs whose worker died. `candor serve` already runs one "
        "(CANDOR_JOB_WORKERS).",
    )
    p.set_defaults(func=cmd_worker)
