"""Bulk image analysis: StartMediaAnalysisJob, GetMediaAnalysisJob, ListMediaAnalysisJobs.

A job reads a JSON-lines manifest (``{"source-ref": "s3://bucket/key.jpg"}`` per line) from a
bucket, runs DetectModerationLabels on every image it names (the one operation Rekognition
offers in bulk) and writes two objects to ``OutputConfig``: the output manifest, one line per
analysed image with its ``detect-moderation-labels`` result, and the manifest summary (line
counts and every line that could not be analysed, with its line number, code and reason).

It shares the jobs table and workers with stored video: the per-image results are stored in
the database as they are made, so a job whose worker dies is restarted by another and the
files are written once, at the end, from the database.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from candor.errors import ImageTooLargeException, InvalidParameterException, ServiceError
from candor.imaging import load_image
from candor.media import S3Ref
from candor.runtime import Runtime
from candor.services import moderation
from candor.storage.jobs import (
    FAILED,
    IN_PROGRESS,
    SUCCEEDED,
    JobLost,
    JobRecord,
    ResultWriter,
)
from candor.types import Caller

OPERATION = "StartMediaAnalysisJob"
MAX_MANIFEST_BYTES = 64 << 20
MAX_MANIFEST_LINES = 10_000
log = logging.getLogger("candor.jobs")

Wire = dict[str, Any]


class JobFailed(Exception):
    """The job as a whole cannot run: FailureDetails.Code and Message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_request(request: Wire) -> None:
    """What a valid StartMediaAnalysisJob asks for beyond its wire shape."""
    config = (request.get("OperationsConfig") or {}).get("DetectModerationLabels")
    if config is None:
        raise InvalidParameterException(
            "OperationsConfig.DetectModerationLabels is required: it is the one operation a "
            "media analysis job runs"
        )
    confidence = float(config.get("MinConfidence", moderation.DEFAULT_MIN_CONFIDENCE))
    if not 0.0 <= confidence <= 100.0:
        raise InvalidParameterException(
            f"OperationsConfig.DetectModerationLabels.MinConfidence must be between 0 and 100, "
            f"got {confidence}"
        )
    if config.get("ProjectVersion") is not None:
        raise InvalidParameterException(
            "ProjectVersion (a custom moderation adapter) is not supported by Candor; omit it"
        )
    if request.get("KmsKeyId") is not None:
        raise InvalidParameterException(
            "KmsKeyId is not supported: this service has no KMS; the output files are written "
            "as they are to the output bucket. Omit it."
        )
    manifest = (request.get("Input") or {}).get("S3Object") or {}
    if not manifest.get("Bucket") or not manifest.get("Name"):
        raise InvalidParameterException("Input.S3Object needs both Bucket and Name")
    if not (request.get("OutputConfig") or {}).get("S3Bucket"):
        raise InvalidParameterException("OutputConfig.S3Bucket is required")


def output_refs(job_id: str, request: Wire) -> tuple[S3Ref, S3Ref]:
    """Where the job writes its output manifest and its manifest summary."""
    config = request["OutputConfig"]
    prefix = (config.get("S3KeyPrefix") or "").strip("/")
    base = f"{prefix}/{job_id}" if prefix else job_id
    bucket = config["S3Bucket"]
    return (
        S3Ref(bucket=bucket, name=f"{base}/results.jsonl"),
        S3Ref(bucket=bucket, name=f"{base}/manifest-summary.json"),
    )


def describe(job: JobRecord) -> Wire:
    """A job as Rekognition's MediaAnalysisJobDescription (wire names)."""
    request = json.loads(job.request)
    out: Wire = {
        "JobId": job.job_id,
        "JobName": request.get("JobName"),
        "OperationsConfig": request["OperationsConfig"],
        "Status": job.status,
        "CreationTimestamp": job.created,
        "CompletionTimestamp": job.finished,
        "Input": request["Input"],
        "OutputConfig": request["OutputConfig"],
    }
    if job.status == FAILED:
        code, _, message = (job.status_message or "INTERNAL_ERROR: failed").partition(": ")
        out["FailureDetails"] = {"Code": code, "Message": message}
    if job.status == SUCCEEDED:
        results, summary = output_refs(job.job_id, request)
        out["Results"] = {"S3Object": {"Bucket": results.bucket, "Name": results.name}}
        out["ManifestSummary"] = {"S3Object": {"Bucket": summary.bucket, "Name": summary.name}}
    return out


def _line_result(rt: Runtime, caller: Caller, number: int, line: str, config: Wire) -> Wire:
    """One manifest line's output line, or its entry in the summary's errors ("error" key)."""
    from candor.api.shapes import output

    try:
        entry = json.loads(line)
        source = entry["source-ref"] if isinstance(entry, dict) else None
        if not isinstance(source, str):
            raise ValueError('no "source-ref" string')
        ref = S3Ref.parse_uri(source)
    except (ValueError, KeyError) as exc:
        why = exc if isinstance(exc, ValueError) else 'no "source-ref"'
        return {
            "error": {
                "line-number": number,
                "code": "INVALID_MANIFEST_LINE",
                "message": f"line {number} is not a manifest entry: {why}",
            }
        }
    try:
        image = load_image(
            ref, rt.media, max_pixels=rt.settings.max_image_pixels, account=caller.account
        )
        result = moderation.detect_moderation_labels(
            rt,
            image=image,
            min_confidence=float(config.get("MinConfidence", moderation.DEFAULT_MIN_CONFIDENCE)),
            caller=caller,
        )
    except ServiceError as exc:
        return {
            "error": {
                "line-number": number,
                "source-ref": source,
                "code": exc.code,
                "message": str(exc),
            }
        }
    return {
        "source-ref": source,
        "detect-moderation-labels": output("DetectModerationLabels", result),
    }


def run_job(rt: Runtime, job: JobRecord, worker: str, report: Any) -> str:
    """Run a claimed media analysis job to SUCCEEDED or FAILED (the status returned)."""
    request = json.loads(job.request)
    caller = Caller(account=job.account, purpose=request.get("CandorPurpose"))
    config = request["OperationsConfig"]["DetectModerationLabels"]
    s3 = request["Input"]["S3Object"]
    manifest_ref = S3Ref(bucket=s3["Bucket"], name=s3["Name"], version=s3.get("Version"))
    try:
        try:
            data = rt.media.read(manifest_ref, max_bytes=MAX_MANIFEST_BYTES, account=job.account)
        except ImageTooLargeException:
            raise JobFailed(
                "INVALID_MANIFEST",
                f"the manifest is over {MAX_MANIFEST_BYTES:,} bytes: split it into several jobs",
            ) from None
        except ServiceError as exc:
            raise JobFailed("INVALID_S3_OBJECT", str(exc)) from None
        if len(data) > MAX_MANIFEST_BYTES:
            raise JobFailed(
                "INVALID_MANIFEST",
                f"the manifest is over {MAX_MANIFEST_BYTES:,} bytes: split it into several jobs",
            )
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise JobFailed("INVALID_MANIFEST", "the manifest is not UTF-8 text") from None
        lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not lines:
            raise JobFailed("INVALID_MANIFEST", "the manifest has no lines")
        if len(lines) > MAX_MANIFEST_LINES:
            raise JobFailed(
                "INVALID_MANIFEST",
                f"the manifest has {len(lines):,} lines; a job takes at most "
                f"{MAX_MANIFEST_LINES:,}: split it into several jobs",
            )
        results, summary = output_refs(job.job_id, request)
        written = ResultWriter(rt.catalog, job.job_id, worker, batch=20)
        for done, (number, line) in enumerate(lines):
            if not report(done / len(lines), None):
                raise JobLost
            written.add(json.dumps(_line_result(rt, caller, number, line, config)))
        written.flush()
        with rt.catalog.transaction() as tx:
            made = [json.loads(item) for _, item in tx.job_results(job.job_id, 0, 10**9)]
        errors = [m["error"] for m in made if "error" in m]
        analysed = [m for m in made if "error" not in m]
        body = "".join(json.dumps(m, separators=(",", ":")) + "\n" for m in analysed)
        stats = {
            "total-json-lines": len(lines),
            "valid-json-lines": len(analysed),
            "invalid-json-lines": len(errors),
        }
        report_doc = {"version": "1.0", "statistics": stats, "errors": errors}
        try:
            rt.media.write(results, body.encode(), account=job.account)
            rt.media.write(summary, json.dumps(report_doc, indent=2).encode(), account=job.account)
        except ServiceError as exc:
            raise JobFailed("INVALID_OUTPUT_CONFIG", str(exc)) from None
        status, message = SUCCEEDED, None
    except JobLost:
        log.warning("job %s was reclaimed from %s; its new worker has it", job.job_id, worker)
        return IN_PROGRESS
    except JobFailed as exc:
        status, message = FAILED, f"{exc.code}: {exc}"
    except Exception as exc:  # the job must end, whatever happened; the log has the traceback
        log.exception("media analysis job %s failed", job.job_id)
        status, message = FAILED, f"INTERNAL_ERROR: {type(exc).__name__}"
    with rt.catalog.transaction(write=True) as tx:
        tx.finish_job(job.job_id, worker, status, message, None)
    return status
