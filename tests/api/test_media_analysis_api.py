"""Bulk image analysis (StartMediaAnalysisJob, GetMediaAnalysisJob, ListMediaAnalysisJobs)
through boto3 and the AWS CLI against ``candor serve`` and its embedded worker."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from candor.api.model import operation_model
from candor.api.validate import validate

from ..conftest import DATA, SMOKE
from .conftest import Server
from .test_aws_cli import aws

IMAGES = {
    "obama.jpg": SMOKE / "examples" / "obama.jpg",
    "cap.jpg": DATA / "labels" / "imagenet-dev" / "n02807133_bathing_cap.JPEG",
    "viper.jpg": DATA / "labels" / "imagenet-dev" / "n01753488_horned_viper.JPEG",
}


@pytest.fixture(scope="module")
def bulk(server: Server) -> Path:
    media = server.data_dir / "media"
    bucket = media / "bulk"
    (bucket / "photos").mkdir(parents=True, exist_ok=True)
    (media / "out").mkdir(exist_ok=True)
    for name, path in IMAGES.items():
        shutil.copy(path, bucket / "photos" / name)
    (bucket / "photos" / "notes.jpg").write_text("not an image")
    lines = [
        json.dumps({"source-ref": "s3://bulk/photos/obama.jpg"}),
        json.dumps({"source-ref": "s3://bulk/photos/cap.jpg"}),
        "",
        json.dumps({"source-ref": "s3://bulk/photos/notes.jpg"}),
        "this line is not JSON",
        json.dumps({"source-ref": "s3://bulk/photos/missing.jpg"}),
        json.dumps({"source-ref": "s3://bulk/photos/viper.jpg"}),
    ]
    (bucket / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return media


def _request(**extra: Any) -> dict[str, Any]:
    return {
        "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 1}},
        "Input": {"S3Object": {"Bucket": "bulk", "Name": "manifest.jsonl"}},
        "OutputConfig": {"S3Bucket": "out", "S3KeyPrefix": "moderation"},
        **extra,
    }


def _wait(rek: Any, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = rek.get_media_analysis_job(JobId=job_id)
        if body["Status"] in ("SUCCEEDED", "FAILED"):
            return body
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished after {timeout} s")


def test_a_manifest_is_analysed_image_by_image_with_a_summary_of_what_failed(
    rek: Any, bulk: Path
) -> None:
    job_id = rek.start_media_analysis_job(**_request(JobName="nightly-1"))["JobId"]
    body = _wait(rek, job_id)
    assert body["Status"] == "SUCCEEDED", body.get("FailureDetails")
    assert body["JobName"] == "nightly-1" and body["CompletionTimestamp"] >= body["CreationTimestamp"]
    results = body["Results"]["S3Object"]
    summary = body["ManifestSummary"]["S3Object"]
    assert results == {"Bucket": "out", "Name": f"moderation/{job_id}/results.jsonl"}
    lines = [json.loads(x) for x in (bulk / "out" / results["Name"]).read_text().splitlines()]
    # Every analysed image, in manifest order, with what DetectModerationLabels says of it.
    assert [x["source-ref"] for x in lines] == [
        "s3://bulk/photos/obama.jpg", "s3://bulk/photos/cap.jpg", "s3://bulk/photos/viper.jpg"
    ]
    for line in lines:
        key = line["source-ref"].removeprefix("s3://bulk/")
        alone = rek.detect_moderation_labels(
            Image={"S3Object": {"Bucket": "bulk", "Name": key}}, MinConfidence=1
        )
        got = line["detect-moderation-labels"]
        assert got["ModerationModelVersion"] == alone["ModerationModelVersion"]
        assert got["ModerationLabels"] == alone["ModerationLabels"]
    report = json.loads((bulk / "out" / summary["Name"]).read_text())
    assert report["statistics"] == {
        "total-json-lines": 6, "valid-json-lines": 3, "invalid-json-lines": 3
    }
    errors = {e["line-number"]: e for e in report["errors"]}
    assert sorted(errors) == [4, 5, 6]
    assert errors[4]["code"] == "InvalidImageFormatException"
    assert errors[5]["code"] == "INVALID_MANIFEST_LINE" and "line 5" in errors[5]["message"]
    assert errors[6]["code"] == "InvalidS3ObjectException"
    assert errors[6]["source-ref"] == "s3://bulk/photos/missing.jpg"
    assert str(bulk) not in json.dumps(report)


def test_jobs_are_listed_newest_first_and_paged(rek: Any, bulk: Path) -> None:
    made = [rek.start_media_analysis_job(**_request(JobName=f"list-{i}"))["JobId"] for i in range(3)]
    listed, token = [], None
    while True:
        page = rek.list_media_analysis_jobs(MaxResults=1, **({"NextToken": token} if token else {}))
        assert len(page["MediaAnalysisJobs"]) <= 1
        listed += [j["JobId"] for j in page["MediaAnalysisJobs"]]
        token = page.get("NextToken")
        if not token:
            break
    assert listed[:3] == made[::-1]
    for job_id in made:
        assert _wait(rek, job_id)["Status"] == "SUCCEEDED"
    with pytest.raises(rek.exceptions.InvalidParameterException, match="MaxResults"):
        rek.list_media_analysis_jobs(MaxResults=101)


def test_a_job_fails_with_the_reason_and_bad_requests_are_refused(rek: Any, bulk: Path) -> None:
    missing = rek.start_media_analysis_job(
        **{**_request(), "Input": {"S3Object": {"Bucket": "bulk", "Name": "nope.jsonl"}}}
    )["JobId"]
    nowhere = rek.start_media_analysis_job(
        **{**_request(), "OutputConfig": {"S3Bucket": "no-such-bucket"}}
    )["JobId"]
    body = _wait(rek, missing)
    assert body["Status"] == "FAILED" and body["FailureDetails"]["Code"] == "INVALID_S3_OBJECT"
    assert "s3://bulk/nope.jsonl" in body["FailureDetails"]["Message"]
    body = _wait(rek, nowhere)
    assert body["Status"] == "FAILED" and body["FailureDetails"]["Code"] == "INVALID_OUTPUT_CONFIG"
    assert "Results" not in body
    with pytest.raises(rek.exceptions.InvalidParameterException, match="KmsKeyId"):
        rek.start_media_analysis_job(**_request(KmsKeyId="alias/mine"))
    with pytest.raises(rek.exceptions.InvalidParameterException, match="ProjectVersion"):
        rek.start_media_analysis_job(
            **{**_request(), "OperationsConfig": {"DetectModerationLabels": {
                "ProjectVersion": "arn:aws:rekognition:us-east-1:1:project/p/version/v/1"}}}
        )
    with pytest.raises(rek.exceptions.InvalidParameterException, match="MinConfidence"):
        rek.start_media_analysis_job(
            **{**_request(), "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 101}}}
        )
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.get_media_analysis_job(JobId="f" * 32)
    one = rek.start_media_analysis_job(**_request(ClientRequestToken="tok-1"))["JobId"]
    assert rek.start_media_analysis_job(**_request(ClientRequestToken="tok-1"))["JobId"] == one
    with pytest.raises(rek.exceptions.IdempotentParameterMismatchException):
        rek.start_media_analysis_job(**_request(ClientRequestToken="tok-1", JobName="other"))
    _wait(rek, one)


def test_aws_cli_starts_and_reads_a_media_analysis_job(server: Server, bulk: Path) -> None:
    started = aws(
        server, "start-media-analysis-job",
        "--operations-config", "DetectModerationLabels={MinConfidence=50}",
        "--input", "S3Object={Bucket=bulk,Name=manifest.jsonl}",
        "--output-config", "S3Bucket=out,S3KeyPrefix=cli",
    )
    assert started.returncode == 0, started.stderr
    job_id = json.loads(started.stdout)["JobId"]
    deadline = time.monotonic() + 120
    while True:
        got = aws(server, "get-media-analysis-job", "--job-id", job_id)
        assert got.returncode == 0, got.stderr
        body = json.loads(got.stdout)
        if body["Status"] in ("SUCCEEDED", "FAILED") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    validate(operation_model("GetMediaAnalysisJob").output_shape, body)
    assert body["Status"] == "SUCCEEDED"
    assert (bulk / "out" / "cli" / job_id / "results.jsonl").is_file()
    listed = aws(server, "list-media-analysis-jobs")
    assert listed.returncode == 0, listed.stderr
    assert job_id in [j["JobId"] for j in json.loads(listed.stdout)["MediaAnalysisJobs"]]
