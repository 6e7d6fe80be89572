"""``candor bulk …``: media analysis jobs (StartMediaAnalysisJob and its Get and List) —
DetectModerationLabels over every image a JSON-lines manifest names."""

from __future__ import annotations

import argparse
import json
from typing import Any

from candor.cli import wire


def _s3(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://") or not uri[5:].split("/", 1)[0]:
        raise argparse.ArgumentTypeError(
            f"expected s3://BUCKET/KEY (a bucket is a folder under DATA_DIR/media), got {uri!r}"
        )
    bucket, _, key = uri[5:].partition("/")
    return bucket, key


def cmd_moderate(args: argparse.Namespace, rt: Any) -> int:
    from candor.cli.video import _run_here

    manifest_bucket, manifest_key = args.manifest
    if not manifest_key:
        raise SystemExit("candor bulk moderate: the manifest needs a key: s3://BUCKET/KEY")
    out_bucket, prefix = args.output
    params: wire.Wire = {
        "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": args.min_confidence}},
        "Input": {"S3Object": {"Bucket": manifest_bucket, "Name": manifest_key}},
        "OutputConfig": {"S3Bucket": out_bucket, **({"S3KeyPrefix": prefix} if prefix else {})},
    }
    if args.name:
        params["JobName"] = args.name
    if args.token:
        params["ClientRequestToken"] = args.token
    job_id = wire.call(rt, "StartMediaAnalysisJob", params, purpose=args.purpose)["JobId"]
    if not args.wait:
        print(job_id)
        return 0
    _run_here(rt, job_id)
    return _print_job(args, rt, job_id)


def _print_job(args: argparse.Namespace, rt: Any, job_id: str) -> int:
    body = wire.call(rt, "GetMediaAnalysisJob", {"JobId": job_id})

    def table() -> str:
        lines = [f"job {job_id}: {body['Status']}"]
        failure = body.get("FailureDetails")
        if failure:
            lines.append(f"  {failure['Code']}: {failure['Message']}")
        for member in ("Results", "ManifestSummary"):
            if body.get(member):
                s3 = body[member]["S3Object"]
                lines.append(f"  {member}: s3://{s3['Bucket']}/{s3['Name']}")
        if body.get("ManifestSummary"):
            s3 = body["ManifestSummary"]["S3Object"]
            from candor.media import S3Ref

            summary = json.loads(rt.media.read(S3Ref(s3["Bucket"], s3["Name"]), max_bytes=1 << 26))
            stats = summary["statistics"]
            lines.append(
                f"  {stats['valid-json-lines']} of {stats['total-json-lines']} images "
                f"analysed, {stats['invalid-json-lines']} not:"
            )
            lines += [
                f"    line {e['line-number']}: {e['code']}: {e['message']}"
                for e in summary["errors"]
            ]
        return "\n".join(lines)

    wire.emit(args, body, table)
    return 0 if body["Status"] != "FAILED" else 1


def cmd_get(args: argparse.Namespace, rt: Any) -> int:
    return _print_job(args, rt, args.job_id)


def cmd_list(args: argparse.Namespace, rt: Any) -> int:
    jobs: list[wire.Wire] = []
    token = None
    while True:
        page = wire.call(
            rt,
            "ListMediaAnalysisJobs",
            {"MaxResults": 100, **({"NextToken": token} if token else {})},
        )
        jobs += page["MediaAnalysisJobs"]
        token = page.get("NextToken")
        if not token:
            break

    def table() -> str:
        return (
            "\n".join(
                f"{j['JobId']}  {j['Status']:<11} {j['CreationTimestamp']}  "
                f"{j.get('JobName') or ''}"
                for j in jobs
            )
            or "no media analysis jobs"
        )

    wire.emit(args, {"MediaAnalysisJobs": jobs}, table)
    return 0


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "bulk",
        help="moderate many images at once: a manifest in, a results file out",
        description="Media analysis jobs (StartMediaAnalysisJob): DetectModerationLabels over "
        'every image a JSON-lines manifest names, one {"source-ref": "s3://BUCKET/KEY"} per '
        "line. The results (one line per image) and a summary (counts, and every line that "
        "could not be analysed, with why) are written under s3://OUT/PREFIX/JOB_ID/. Examples:"
        "\n\n"
        "  candor bulk moderate s3://photos/manifest.jsonl --output s3://reports/moderation "
        "--wait --table\n"
        "  candor bulk list --table\n"
        "  candor bulk get JOB_ID",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    bulk = p.add_subparsers(dest="bulk_command", metavar="ACTION", required=True)
    m = bulk.add_parser(
        "moderate",
        help="start a moderation job over a manifest",
        description="Start a media analysis job (DetectModerationLabels).",
    )
    m.add_argument("manifest", type=_s3, help="s3://BUCKET/KEY of the JSON-lines manifest")
    m.add_argument(
        "--output",
        type=_s3,
        required=True,
        help="s3://BUCKET[/PREFIX] to write the results and the summary under",
    )
    m.add_argument(
        "--min-confidence", type=float, default=50.0, help="MinConfidence, 0-100 (default 50)"
    )
    m.add_argument("--name", help="JobName (letters, digits, '_', '.', '-')")
    m.add_argument("--token", help="ClientRequestToken: the same token starts one job")
    m.add_argument(
        "--wait",
        action="store_true",
        help="wait for the job (running it here if no worker has) and print it",
    )
    m.add_argument("--table", action="store_true", help="print a readable summary, not JSON")
    m.set_defaults(func=cmd_moderate, needs_runtime=True)
    g = bulk.add_parser("get", help="a job's status and where its files are")
    g.add_argument("job_id")
    g.add_argument("--table", action="store_true", help="print a readable summary, not JSON")
    g.set_defaults(func=cmd_get, needs_runtime=True)
    ls = bulk.add_parser("list", help="every media analysis job, newest first")
    ls.add_argument("--table", action="store_true", help="one line per job, not JSON")
    ls.set_defaults(func=cmd_list, needs_runtime=True)
