"""Media analysis jobs whose manifest cannot be used fail with INVALID_MANIFEST and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from candor import Client, Settings, jobs
from candor.runtime import Runtime
from candor.services import media_analysis


@pytest.fixture
def bulk(tmp_path: Path, runtime: Runtime) -> tuple[Client, Runtime, Path]:
    rt = Runtime(Settings(data_dir=tmp_path))
    rt.__dict__["nudity"] = runtime.nudity
    (rt.settings.media_dir / "inbox").mkdir(parents=True)
    (rt.settings.media_dir / "outbox").mkdir()
    return Client(runtime=rt), rt, rt.settings.media_dir / "inbox"


def _run(client: Client, rt: Runtime) -> dict[str, Any]:
    job_id = client.start_media_analysis_job(
        OperationsConfig={"DetectModerationLabels": {}},
        Input={"S3Object": {"Bucket": "inbox", "Name": "manifest.jsonl"}},
        OutputConfig={"S3Bucket": "outbox"},
    )["JobId"]
    jobs.run_one(rt, "w")
    body: dict[str, Any] = client.get_media_analysis_job(JobId=job_id)
    return body


@pytest.mark.parametrize(
    ("content", "limits", "why"),
    [
        (b"\n  \n", {}, "no lines"),
        (b"\xff\xfe\x00bad", {}, "not UTF-8"),
        (b'{"source-ref": "s3://inbox/a.jpg"}\n' * 3, {"MAX_MANIFEST_LINES": 2}, "at most 2"),
        (b'{"source-ref": "s3://inbox/a.jpg"}\n', {"MAX_MANIFEST_BYTES": 10}, "over 10 bytes"),
    ],
    ids=["empty", "not-utf8", "too-many-lines", "too-large"],
)
def test_an_unusable_manifest_fails_the_job(
    bulk: Any, monkeypatch: pytest.MonkeyPatch, content: bytes, limits: dict[str, int], why: str
) -> None:
    client, rt, folder = bulk
    for name, value in limits.items():
        monkeypatch.setattr(media_analysis, name, value)
    (folder / "manifest.jsonl").write_bytes(content)
    body = _run(client, rt)
    assert body["Status"] == "FAILED"
    assert body["FailureDetails"]["Code"] == "INVALID_MANIFEST"
    assert why in body["FailureDetails"]["Message"]
    assert "Results" not in body
