"""Media from an S3-protocol server (moto's, run in this process on a free port) through
CANDOR_S3_ENDPOINT_URL: images, a stored video and a media analysis job's output, and the
errors — missing objects and buckets, objects over the limits, credentials the endpoint refuses,
an endpoint that is down."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto import server as moto_server

from candor import Client, Settings, jobs
from candor.runtime import Runtime

from .conftest import DATA, SMOKE
from .test_video import HAMILTON

OBAMA = SMOKE / "examples" / "obama.jpg"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                              "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def s3(endpoint: str) -> Any:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    client.create_bucket(Bucket="photos")
    client.create_bucket(Bucket="reports")
    client.put_object(Bucket="photos", Key="people/obama.jpg", Body=OBAMA.read_bytes())
    client.put_object(Bucket="photos", Key="clips/hamilton.mp4", Body=HAMILTON.read_bytes())
    cap = DATA / "labels" / "imagenet-dev" / "n02807133_bathing_cap.JPEG"
    client.put_object(Bucket="photos", Key="people/cap.jpg", Body=cap.read_bytes())
    client.put_object(Bucket="photos", Key="big.jpg", Body=b"\xff\xd8\xff" + bytes(16 << 20))
    manifest = "\n".join(json.dumps({"source-ref": f"s3://photos/{k}"})
                         for k in ("people/obama.jpg", "people/cap.jpg", "people/gone.jpg"))
    client.put_object(Bucket="photos", Key="manifest.jsonl", Body=manifest.encode())
    return client


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, endpoint: str, s3: Any,
           runtime: Runtime) -> tuple[Client, Runtime]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("s3-data"), s3_endpoint_url=endpoint)
    rt = Runtime(settings)
    rt.faces = runtime.faces  # the session's loaded models; only media and database differ
    return Client(runtime=rt), rt


def test_images_are_read_from_the_s3_endpoint(client: Any) -> None:
    c, _ = client
    faces = c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "people/obama.jpg"}})
    assert len(faces["FaceDetails"]) == 1
    local = c.detect_faces(Image={"Bytes": OBAMA.read_bytes()})
    assert faces["FaceDetails"] == local["FaceDetails"]


def test_missing_objects_and_buckets_and_objects_over_the_limit(client: Any) -> None:
    c, _ = client
    with pytest.raises(c.exceptions.InvalidS3ObjectException, match=re.escape("s3://photos/nope.jpg")):
        c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "nope.jpg"}})
    with pytest.raises(c.exceptions.InvalidS3ObjectException, match=re.escape("s3://no-bucket/x.jpg")):
        c.detect_faces(Image={"S3Object": {"Bucket": "no-bucket", "Name": "x.jpg"}})
    with pytest.raises(c.exceptions.ImageTooLargeException, match="limit"):
        c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "big.jpg"}})


def test_credentials_the_endpoint_refuses(client: Any) -> None:
    """moto checks signatures against its IAM users once auth is switched on (no actions left
    unauthenticated; the server runs in this process, so its settings are ours to set): the
    server's key is then unknown to it, as a wrong key would be."""
    from moto import settings as moto_settings
    from moto.core.responses import ActionAuthenticatorMixin

    c, rt = client

    def auth(free: float) -> None:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = free
        ActionAuthenticatorMixin.request_count = 0

    auth(0)
    try:
        with pytest.raises(c.exceptions.InvalidS3ObjectException,
                           match="refused the server's credentials") as image:
            c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "people/obama.jpg"}})
        assert "s3://photos/people/obama.jpg" in str(image.value)
        job = c.start_face_detection(
            Video={"S3Object": {"Bucket": "photos", "Name": "clips/hamilton.mp4"}})["JobId"]
        jobs.run_one(rt, "s3-refused")
        got = c.get_face_detection(JobId=job)
        assert got["JobStatus"] == "FAILED"
        assert "refused the server's credentials" in got["StatusMessage"]
    finally:
        auth(float("inf"))
    assert c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "people/obama.jpg"}})


def test_a_stored_video_job_reads_its_video_from_s3(client: Any) -> None:
    c, rt = client
    job_id = c.start_face_detection(
        Video={"S3Object": {"Bucket": "photos", "Name": "clips/hamilton.mp4"}}
    )["JobId"]
    missing = c.start_face_detection(
        Video={"S3Object": {"Bucket": "photos", "Name": "clips/none.mp4"}}
    )["JobId"]
    while jobs.run_one(rt, "s3-worker") is not None:
        pass
    body = c.get_face_detection(JobId=job_id)
    assert body["JobStatus"] == "SUCCEEDED", body.get("StatusMessage")
    assert len(body["Faces"]) >= 15
    failed = c.get_face_detection(JobId=missing)
    assert failed["JobStatus"] == "FAILED" and "s3://photos/clips/none.mp4" in failed["StatusMessage"]
    rt.settings = Settings(data_dir=rt.settings.data_dir, s3_endpoint_url=rt.settings.s3_endpoint_url,
                           max_video_bytes=1000)
    too_big = c.start_face_detection(
        Video={"S3Object": {"Bucket": "photos", "Name": "clips/hamilton.mp4"}}
    )["JobId"]
    jobs.run_one(rt, "s3-worker")
    body = c.get_face_detection(JobId=too_big)
    assert body["JobStatus"] == "FAILED" and "limit for stored videos" in body["StatusMessage"]


def test_a_media_analysis_job_writes_its_output_to_s3(client: Any, s3: Any) -> None:
    c, rt = client
    job_id = c.start_media_analysis_job(
        OperationsConfig={"DetectModerationLabels": {"MinConfidence": 1}},
        Input={"S3Object": {"Bucket": "photos", "Name": "manifest.jsonl"}},
        OutputConfig={"S3Bucket": "reports", "S3KeyPrefix": "nightly"},
    )["JobId"]
    jobs.run_one(rt, "s3-worker")
    body = c.get_media_analysis_job(JobId=job_id)
    assert body["Status"] == "SUCCEEDED", body.get("FailureDetails")
    key = body["Results"]["S3Object"]["Name"]
    lines = s3.get_object(Bucket="reports", Key=key)["Body"].read().decode().splitlines()
    assert [json.loads(x)["source-ref"] for x in lines] == [
        "s3://photos/people/obama.jpg", "s3://photos/people/cap.jpg"
    ]
    summary = json.loads(s3.get_object(
        Bucket="reports", Key=body["ManifestSummary"]["S3Object"]["Name"])["Body"].read())
    assert summary["statistics"]["invalid-json-lines"] == 1
    assert summary["errors"][0]["source-ref"] == "s3://photos/people/gone.jpg"
    nowhere = c.start_media_analysis_job(
        OperationsConfig={"DetectModerationLabels": {}},
        Input={"S3Object": {"Bucket": "photos", "Name": "manifest.jsonl"}},
        OutputConfig={"S3Bucket": "no-such-bucket"},
    )["JobId"]
    jobs.run_one(rt, "s3-worker")
    failed = c.get_media_analysis_job(JobId=nowhere)
    assert failed["Status"] == "FAILED" and failed["FailureDetails"]["Code"] == "INVALID_OUTPUT_CONFIG"


def test_an_endpoint_that_is_down_fails_the_request_quickly(tmp_path: Path, runtime: Runtime) -> None:
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]  # nothing listens here once the socket is closed
    rt = Runtime(Settings(data_dir=tmp_path, s3_endpoint_url=f"http://127.0.0.1:{dead}"))
    rt.faces = runtime.faces
    c = Client(runtime=rt)
    started = time.monotonic()
    with pytest.raises(c.exceptions.InvalidS3ObjectException, match=re.escape("s3://photos/people/obama.jpg")):
        c.detect_faces(Image={"S3Object": {"Bucket": "photos", "Name": "people/obama.jpg"}})
    assert time.monotonic() - started < 30
