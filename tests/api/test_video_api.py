"""Stored-video jobs through boto3 and the AWS CLI against ``candor serve`` and its embedded
video worker."""

from __future__ import annotations

import json
import shutil
import time
from typing import Any

import pytest

from candor.api.model import operation_model
from candor.api.validate import validate

from ..test_video import HAMILTON, SCENES
from .conftest import Server
from .test_aws_cli import aws


@pytest.fixture(scope="module")
def clips(server: Server) -> dict[str, Any]:
    bucket = server.data_dir / "media" / "clips"
    bucket.mkdir(parents=True, exist_ok=True)
    shutil.copy(HAMILTON, bucket / "hamilton.mp4")
    shutil.copy(SCENES / "testvideo.mp4", bucket / "testvideo.mp4")
    (bucket / "broken.mov").write_bytes(HAMILTON.read_bytes()[:5000])
    return {"S3Object": {"Bucket": "clips", "Name": "hamilton.mp4"}}


def _wait(get: Any, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = get(JobId=job_id)
        if body["JobStatus"] != "IN_PROGRESS":
            return body
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still IN_PROGRESS after {timeout} s")


def _pages(get: Any, member: str, job_id: str, size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = get(JobId=job_id, MaxResults=size, **({"NextToken": token} if token else {}))
        assert len(page[member]) <= size
        out += page[member]
        token = page.get("NextToken")
        if not token:
            return out


def test_boto3_starts_each_job_type_and_pages_through_results(rek: Any, clips: Any) -> None:
    faces = rek.start_face_detection(Video=clips, JobTag="boto3")["JobId"]
    labels = rek.start_label_detection(Video=clips, MinConfidence=70)["JobId"]
    shots = rek.start_segment_detection(
        Video={"S3Object": {"Bucket": "clips", "Name": "testvideo.mp4"}}, SegmentTypes=["SHOT"]
    )["JobId"]
    done = _wait(rek.get_face_detection, faces)
    assert done["JobStatus"] == "SUCCEEDED", done.get("StatusMessage")
    assert done["JobTag"] == "boto3" and done["VideoMetadata"]["FrameHeight"] == 360
    assert _pages(rek.get_face_detection, "Faces", faces, 5) == done["Faces"]
    assert len(done["Faces"]) >= 15
    assert _wait(rek.get_label_detection, labels)["JobStatus"] == "SUCCEEDED"
    assert any(x["Label"]["Name"] == "Person" for x in _pages(rek.get_label_detection, "Labels", labels, 50))
    runs = rek.get_label_detection(JobId=labels, AggregateBy="SEGMENTS")["Labels"]
    assert runs and all(r["EndTimestampMillis"] - r["StartTimestampMillis"] == r["DurationMillis"] for r in runs)
    seg = _wait(rek.get_segment_detection, shots)
    assert [s["StartFrameNumber"] for s in _pages(rek.get_segment_detection, "Segments", shots, 2)] == [0, 30, 180, 394]
    assert seg["SelectedSegmentTypes"][0]["Type"] == "SHOT"


def test_boto3_text_and_moderation_jobs(server: Server, rek: Any, clips: Any) -> None:
    shutil.copy(SCENES / "counter.mp4", server.data_dir / "media" / "clips" / "counter.mp4")
    counter = {"S3Object": {"Bucket": "clips", "Name": "counter.mp4"}}
    words = rek.start_text_detection(Video=counter, JobTag="text")["JobId"]
    moderation = rek.start_content_moderation(Video=clips, MinConfidence=1)["JobId"]
    done = _wait(rek.get_text_detection, words)
    assert done["JobStatus"] == "SUCCEEDED", done.get("StatusMessage")
    found = _pages(rek.get_text_detection, "TextDetections", words, 7)
    assert found == done["TextDetections"] and len(found) > 7  # paged over several pages
    lines = " ".join(x["TextDetection"]["DetectedText"] for x in found
                     if x["TextDetection"]["Type"] == "LINE")
    assert any(str(n) in lines for n in (6, 11, 16, 21, 26)), lines  # the frame numbers shown
    assert done["TextModelVersion"]
    done = _wait(rek.get_content_moderation, moderation)
    assert done["JobStatus"] == "SUCCEEDED", done.get("StatusMessage")
    assert _pages(rek.get_content_moderation, "ModerationLabels", moderation, 3) == done["ModerationLabels"]
    assert done["ModerationModelVersion"]
    assert done["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "TIMESTAMPS"}


def test_boto3_face_search_against_a_collection(rek: Any, clips: Any) -> None:
    from ..test_video import _enroll_from_the_clip

    face_id = _enroll_from_the_clip(rek, "video-cast", 3000)
    job_id = rek.start_face_search(Video=clips, CollectionId="video-cast", FaceMatchThreshold=50)["JobId"]
    body = _wait(rek.get_face_search, job_id)
    assert body["JobStatus"] == "SUCCEEDED", body.get("StatusMessage")
    persons = _pages(rek.get_face_search, "Persons", job_id, 3)
    found = [p for p in persons if p["FaceMatches"]]
    assert found and all(m["Face"]["FaceId"] == face_id for p in found for m in p["FaceMatches"])
    assert all(m["Similarity"] >= 50 for p in found for m in p["FaceMatches"])


def test_boto3_sees_failures_and_refusals(server: Server, rek: Any, clips: Any) -> None:
    broken = rek.start_face_detection(Video={"S3Object": {"Bucket": "clips", "Name": "broken.mov"}})
    body = _wait(rek.get_face_detection, broken["JobId"])
    assert body["JobStatus"] == "FAILED" and "s3://clips/broken.mov" in body["StatusMessage"]
    assert str(server.data_dir) not in body["StatusMessage"]
    with pytest.raises(rek.exceptions.InvalidParameterException, match="NotificationChannel"):
        rek.start_label_detection(
            Video=clips,
            NotificationChannel={"SNSTopicArn": "arn:aws:sns:us-east-1:1:t", "RoleArn": "arn:aws:iam::1:role/r"},
        )
    with pytest.raises(rek.exceptions.ResourceNotFoundException):
        rek.get_segment_detection(JobId="f" * 32)
    with pytest.raises(rek.exceptions.AccessDeniedException, match="refused by design"):
        rek.start_celebrity_recognition(Video=clips)
    with pytest.raises(rek.exceptions.AccessDeniedException, match=r"no person \(body\) detector"):
        rek.start_person_tracking(Video=clips)


def test_aws_cli_starts_and_reads_a_job(server: Server, clips: Any) -> None:
    started = aws(server, "start-segment-detection", "--video",
                  "S3Object={Bucket=clips,Name=testvideo.mp4}", "--segment-types", "SHOT")
    assert started.returncode == 0, started.stderr
    job_id = json.loads(started.stdout)["JobId"]
    deadline = time.monotonic() + 120
    while True:
        got = aws(server, "get-segment-detection", "--job-id", job_id)
        assert got.returncode == 0, got.stderr
        body = json.loads(got.stdout)
        if body["JobStatus"] != "IN_PROGRESS" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    validate(operation_model("GetSegmentDetection").output_shape, body)
    assert body["JobStatus"] == "SUCCEEDED" and len(body["Segments"]) == 4
    # Page by hand with --max-results / --next-token, one shot per page.
    shots, token = [], None
    while True:
        args = ["get-segment-detection", "--job-id", job_id, "--max-results", "1"]
        page = aws(server, *args, *(["--next-token", token] if token else []))
        assert page.returncode == 0, page.stderr
        body = json.loads(page.stdout)
        assert len(body["Segments"]) <= 1
        shots += body["Segments"]
        token = body.get("NextToken")
        if not token:
            break
    assert [s["ShotSegment"]["Index"] for s in shots] == [0, 1, 2, 3]
