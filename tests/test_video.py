"""Stored video: decoding, shots against reference cut lists, and jobs through candor.Client."""

from __future__ import annotations

import itertools
import json
import shutil
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from candor import Client, Settings, jobs
from candor.runtime import Runtime
from candor.services import video as video_service
from candor.types import Caller
from candor.video import VideoError, probe, sample

from .conftest import DATA

VIDEO = DATA / "video"
HAMILTON = VIDEO / "faces" / "short_hamilton_clip.mp4"
SCENES = VIDEO / "scenes"
GOLDEN = SCENES / "goldens"


def test_probe_reads_metadata_rotation_and_variable_frame_rate() -> None:
    info = probe(HAMILTON, max_seconds=3600)
    assert (info.codec, info.format, info.frame_width, info.frame_height) == ("h264", "mp4", 640, 360)
    assert 9000 < info.duration_millis < 9300 and abs(info.frame_rate - 29.97) < 0.01
    rotated = probe(SCENES / "issue-134-rotate.mp4", max_seconds=3600)
    assert (rotated.frame_width, rotated.frame_height) == (544, 1280)  # shown upright
    frame = next(sample(SCENES / "issue-134-rotate.mp4", rate=2.0))
    assert frame.pixels.shape == (1280, 544, 3)


def test_sampling_follows_presentation_time_at_the_rate_asked() -> None:
    stamps = [f.timestamp_millis for f in sample(SCENES / "goldeneye-vfr-drop3.mp4", rate=2.0)]
    assert stamps[0] == 0
    gaps = [b - a for a, b in pairwise(stamps)]
    assert all(400 <= g <= 700 for g in gaps), gaps  # ~500 ms although frames were dropped
    assert 18 <= len(stamps) <= 21


def test_not_a_video_and_too_long_are_errors_that_say_why(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x17" * 4000)
    with pytest.raises(VideoError, match="not a video") as caught:
        probe(junk, max_seconds=3600)
    assert str(tmp_path) not in str(caught.value)  # no server path in the message
    with pytest.raises(VideoError, match="limit is 5 s"):
        probe(HAMILTON, max_seconds=5)


@pytest.mark.parametrize("clip", ["testvideo", "goldeneye-vfr-drop3", "counter", "fades"])
def test_shots_match_the_reference_cuts_within_one_frame(clip: str) -> None:
    from candor.inference.shots import detect_shots

    golden = json.loads((GOLDEN / f"{clip}.mp4.ContentDetector.default.json").read_text())["cuts"]
    shots = list(detect_shots(SCENES / f"{clip}.mp4"))
    cuts = [s.start_frame_number for s in shots[1:]]
    assert len(cuts) == len(golden)
    assert all(abs(a - b) <= 1 for a, b in zip(cuts, golden, strict=True)), (cuts, golden)
    for before, after in pairwise(shots):
        assert after.start_frame_number == before.end_frame_number + 1
        assert after.start_timestamp_millis == before.end_timestamp_millis


@pytest.fixture
def video_client(tmp_path: Path, runtime: Runtime) -> tuple[Client, Runtime]:
    settings = Settings(data_dir=tmp_path)
    clips = settings.media_dir / "clips"
    clips.mkdir(parents=True)
    shutil.copy(HAMILTON, clips / "hamilton.mp4")
    shutil.copy(SCENES / "testvideo.mp4", clips / "testvideo.mp4")
    (clips / "notes.mp4").write_text("not a video")
    rt = Runtime(settings)
    # Share the session's loaded models; only the database and media differ.
    rt.faces = runtime.faces
    rt.__dict__["classifier"] = runtime.classifier
    return Client(runtime=rt), rt


def _video(name: str) -> dict[str, Any]:
    return {"S3Object": {"Bucket": "clips", "Name": name}}


def test_face_detection_job_runs_and_pages_in_time_order(video_client: Any) -> None:
    client, rt = video_client
    job_id = client.start_face_detection(Video=_video("hamilton.mp4"), JobTag="t1")["JobId"]
    first = client.get_face_detection(JobId=job_id)
    assert first["JobStatus"] == "IN_PROGRESS"
    assert not first.get("Faces")
    assert jobs.run_one(rt, "test-worker") is not None
    whole = client.get_face_detection(JobId=job_id)
    assert whole["JobStatus"] == "SUCCEEDED" and whole["JobTag"] == "t1"
    assert whole["VideoMetadata"]["Codec"] == "h264" and whole["VideoMetadata"]["FrameWidth"] == 640
    faces = whole["Faces"]
    assert len(faces) >= 15  # 2 frames a second over 9 s, most with a face
    stamps = [f["Timestamp"] for f in faces]
    assert stamps == sorted(stamps) and stamps[-1] <= 9300
    assert len({s // 500 for s in stamps}) >= 14  # at least 2 sampled frames per second
    paged, token = [], None
    while True:
        page = client.get_face_detection(JobId=job_id, MaxResults=4, **({"NextToken": token} if token else {}))
        assert len(page["Faces"]) <= 4
        paged += page["Faces"]
        token = page.get("NextToken")
        if not token:
            break
    assert paged == faces


def test_frames_analysed_on_several_threads_give_what_one_thread_gives(video_client: Any) -> None:
    client, rt = video_client
    results = {}
    for threads in (1, 3):
        rt.settings = Settings(data_dir=rt.settings.data_dir, video_threads=threads)
        job_id = client.start_face_detection(Video=_video("hamilton.mp4"))["JobId"]
        jobs.run_one(rt, f"worker-{threads}")
        results[threads] = client.get_face_detection(JobId=job_id, MaxResults=1000)["Faces"]
    assert len(results[1]) >= 15
    assert results[3] == results[1]


def test_segment_and_label_jobs(video_client: Any) -> None:
    client, rt = video_client
    seg = client.start_segment_detection(Video=_video("testvideo.mp4"), SegmentTypes=["SHOT"])
    lab = client.start_label_detection(Video=_video("hamilton.mp4"), MinConfidence=60)
    while jobs.run_one(rt, "test-worker") is not None:
        pass
    shots = client.get_segment_detection(JobId=seg["JobId"])
    assert [s["StartFrameNumber"] for s in shots["Segments"]] == [0, 30, 180, 394]
    assert shots["Segments"][1]["StartTimecodeSMPTE"] == "00:00:01:00"
    assert shots["VideoMetadata"][0]["DurationMillis"] > 23000
    labels = client.get_label_detection(JobId=lab["JobId"])
    assert labels["JobStatus"] == "SUCCEEDED"
    names = {x["Label"]["Name"] for x in labels["Labels"]}
    assert "Person" in names and all(x["Label"]["Confidence"] >= 60 for x in labels["Labels"])
    by_name = client.get_label_detection(JobId=lab["JobId"], SortBy="NAME")["Labels"]
    assert [x["Label"]["Name"] for x in by_name] == sorted(x["Label"]["Name"] for x in by_name)
    # AggregateBy SEGMENTS: one item per run of sampled frames showing the label.
    runs = client.get_label_detection(JobId=lab["JobId"], AggregateBy="SEGMENTS")
    assert runs["GetRequestMetadata"] == {"SortBy": "TIMESTAMP", "AggregateBy": "SEGMENTS"}
    segments = runs["Labels"]
    assert 0 < len(segments) < len(labels["Labels"])
    assert [s["StartTimestampMillis"] for s in segments] == sorted(s["StartTimestampMillis"] for s in segments)
    step = 500  # 2 frames a second
    for name in names:
        seen = sorted(x["Timestamp"] for x in labels["Labels"] if x["Label"]["Name"] == name)
        spans = [s for s in segments if s["Label"]["Name"] == name]
        covered = [t for t in seen if any(s["StartTimestampMillis"] <= t <= s["EndTimestampMillis"] for s in spans)]
        assert covered == seen, name  # every frame showing it lies in one of its segments
        for s in spans:
            assert s["DurationMillis"] == s["EndTimestampMillis"] - s["StartTimestampMillis"] >= 0
            inside = [t for t in seen if s["StartTimestampMillis"] <= t <= s["EndTimestampMillis"]]
            assert all(b - a <= 1.5 * step for a, b in itertools.pairwise(inside))  # no gap inside
            best = max(x["Label"]["Confidence"] for x in labels["Labels"]
                       if x["Label"]["Name"] == name and x["Timestamp"] in inside)
            assert s["Label"]["Confidence"] == best
        for a, b in itertools.pairwise(spans):
            assert b["StartTimestampMillis"] - a["EndTimestampMillis"] > 1.5 * step  # a real gap
    paged, token = [], None
    while True:
        page = client.get_label_detection(JobId=lab["JobId"], AggregateBy="SEGMENTS", MaxResults=3,
                                          **({"NextToken": token} if token else {}))
        paged += page["Labels"]
        token = page.get("NextToken")
        if not token:
            break
    assert paged == segments
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):  # not this listing's
        client.get_label_detection(JobId=lab["JobId"], AggregateBy="SEGMENTS",
                                   NextToken=client.get_label_detection(JobId=lab["JobId"], MaxResults=1)["NextToken"])


def test_errors_refusals_and_isolation(video_client: Any) -> None:
    client, rt = video_client
    bad = client.start_face_detection(Video=_video("notes.mp4"))["JobId"]
    missing = client.start_face_detection(Video=_video("nope.mp4"))["JobId"]
    while jobs.run_one(rt, "test-worker") is not None:
        pass
    failed = client.get_face_detection(JobId=bad)
    assert failed["JobStatus"] == "FAILED" and "not a video" in failed["StatusMessage"]
    assert "InvalidS3ObjectException" in client.get_face_detection(JobId=missing)["StatusMessage"]
    with pytest.raises(client.exceptions.InvalidParameterException, match="NotificationChannel"):
        client.start_face_detection(
            Video=_video("hamilton.mp4"),
            NotificationChannel={"SNSTopicArn": "arn:aws:sns:us-east-1:1:t", "RoleArn": "arn:aws:iam::1:role/r"},
        )
    with pytest.raises(client.exceptions.InvalidParameterException, match="TECHNICAL_CUE"):
        client.start_segment_detection(Video=_video("hamilton.mp4"), SegmentTypes=["TECHNICAL_CUE"])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_face_detection(JobId="0" * 32)
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_label_detection(JobId=bad)  # a face job is not a label job
    other = video_service.get_job
    with pytest.raises(Exception, match="No StartFaceDetection job"):
        other(rt, Caller(account="someone-else"), "GetFaceDetection", job_id=bad)
    with pytest.raises(client.exceptions.InvalidPaginationTokenException):
        client.get_face_detection(JobId=bad, NextToken="bm90IG91cnM")


def _moov_first(source: Path, target: Path) -> None:
    """``source`` remuxed with its index at the front, as a streaming upload has it: a cut of
    such a file still opens and decodes, up to the cut."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", options={"movflags": "faststart"}) as out:
        stream = out.add_stream_from_template(src.streams.video[0])
        for packet in src.demux(src.streams.video[0]):
            if packet.dts is not None:
                packet.stream = stream
                out.mux(packet)


def test_bad_videos_fail_their_jobs_with_a_reason(video_client: Any, tmp_path: Path) -> None:
    import io
    import wave

    from PIL import Image

    client, rt = video_client
    clips = rt.settings.media_dir / "clips"
    whole = HAMILTON.read_bytes()
    (clips / "cut.mp4").write_bytes(whole[: len(whole) // 2])  # index at the end: unreadable
    _moov_first(HAMILTON, tmp_path / "front.mp4")
    front = (tmp_path / "front.mp4").read_bytes()
    (clips / "cut-front.mp4").write_bytes(front[: len(front) // 2])  # decodes half, then stops
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "gray").save(photo, "JPEG")
    (clips / "photo.mp4").write_bytes(photo.getvalue())
    (clips / "empty.mp4").write_bytes(b"")
    with wave.open(str(clips / "sound.mp4"), "wb") as w:  # audio only
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000)
    rt.settings = Settings(data_dir=rt.settings.data_dir, max_video_bytes=len(whole) - 1)
    expected = {
        "cut.mp4": "not a video this service can decode",
        "cut-front.mp4": "looks truncated",
        "photo.mp4": "'jpeg_pipe' is not supported; use MP4, MOV, MKV or AVI",
        "empty.mp4": "not a video this service can decode",
        "sound.mp4": "holds no video stream",
        "hamilton.mp4": "VideoTooLargeException",
    }
    started = {n: client.start_label_detection(Video=_video(n))["JobId"] for n in expected}
    while jobs.run_one(rt, "test-worker") is not None:
        pass
    for name, reason in expected.items():
        got = client.get_label_detection(JobId=started[name])
        assert got["JobStatus"] == "FAILED", name
        assert reason in got["StatusMessage"], (name, got["StatusMessage"])
        assert str(rt.settings.data_dir) not in got["StatusMessage"]


def test_client_request_token_starts_one_job(video_client: Any) -> None:
    client, _ = video_client
    a = client.start_face_detection(Video=_video("hamilton.mp4"), ClientRequestToken="once")
    b = client.start_face_detection(Video=_video("hamilton.mp4"), ClientRequestToken="once")
    assert a["JobId"] == b["JobId"]
    with pytest.raises(client.exceptions.IdempotentParameterMismatchException):
        client.start_face_detection(Video=_video("testvideo.mp4"), ClientRequestToken="once")


def test_a_dead_workers_job_is_restarted_by_another(video_client: Any) -> None:
    client, rt = video_client
    job_id = client.start_segment_detection(Video=_video("testvideo.mp4"), SegmentTypes=["SHOT"])["JobId"]
    dead = video_service.claim(rt, "dead-worker")
    assert dead is not None and dead.job_id == job_id
    assert video_service.claim(rt, "other") is None  # held, and its heartbeat is fresh
    later = datetime.now(timezone.utc) + timedelta(seconds=rt.settings.job_stale_after + 1)
    with rt.catalog.transaction(write=True) as tx:
        taken = tx.claim_job("other", later)
    assert taken is not None and taken.job_id == job_id and taken.attempts == 2
    with rt.catalog.transaction(write=True) as tx:
        assert not tx.heartbeat(job_id, "dead-worker", 0.5, None)  # the dead one learns it lost
    jobs.run_one(rt, "other", job=taken)
    with rt.catalog.transaction(write=True) as tx:
        assert not tx.finish_job(job_id, "dead-worker", "FAILED", "late", None)
    done = client.get_segment_detection(JobId=job_id)
    assert done["JobStatus"] == "SUCCEEDED" and len(done["Segments"]) == 4


def test_finished_jobs_are_deleted_after_the_retention(video_client: Any) -> None:
    client, rt = video_client
    job_id = client.start_segment_detection(Video=_video("testvideo.mp4"), SegmentTypes=["SHOT"])["JobId"]
    jobs.run_one(rt, "w")
    assert video_service.reap_jobs(rt) == 0
    assert video_service.reap_jobs(rt, now=datetime.now(timezone.utc) + timedelta(days=8)) == 1
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_segment_detection(JobId=job_id)


def _enroll_from_the_clip(client: Client, collection: str, at_millis: int) -> str:
    import io

    from PIL import Image

    frame = next(f for f in sample(HAMILTON, rate=2.0) if f.timestamp_millis >= at_millis)
    png = io.BytesIO()
    Image.fromarray(frame.pixels).save(png, "PNG")
    client.create_collection(CollectionId=collection)
    indexed = client.index_faces(
        CollectionId=collection, Image={"Bytes": png.getvalue()}, MaxFaces=1, ExternalImageId="lead"
    )
    face_id: str = indexed["FaceRecords"][0]["Face"]["FaceId"]
    return face_id


def test_face_search_tracks_faces_and_finds_the_enrolled_person(video_client: Any) -> None:
    client, rt = video_client
    face_id = _enroll_from_the_clip(client, "cast", 3000)  # the singer, third shot (2.7-7.0 s)
    job_id = client.start_face_search(
        Video=_video("hamilton.mp4"), CollectionId="cast", FaceMatchThreshold=50
    )["JobId"]
    jobs.run_one(rt, "w")
    body = client.get_face_search(JobId=job_id)
    assert body["JobStatus"] == "SUCCEEDED", body.get("StatusMessage")
    persons = body["Persons"]
    matched = [p for p in persons if p["FaceMatches"]]
    assert {m["Face"]["FaceId"] for p in matched for m in p["FaceMatches"]} == {face_id}
    # Found again in the other frames of the shot, as one tracked person, and nowhere else.
    stamps = [p["Timestamp"] for p in matched]
    assert len(stamps) >= 5 and all(2736 <= t < 7040 for t in stamps), stamps
    assert len({p["Person"]["Index"] for p in matched}) == 1
    # Indices: one per face per shot; none spans a cut.
    shots = [0, 667, 2736, 7040, 10**9]
    for index in {p["Person"]["Index"] for p in persons}:
        times = [p["Timestamp"] for p in persons if p["Person"]["Index"] == index]
        assert len({next(i for i, s in enumerate(shots) if s > t) for t in times}) == 1
    by_index = client.get_face_search(JobId=job_id, SortBy="INDEX")["Persons"]
    keys = [(p["Person"]["Index"], p["Timestamp"]) for p in by_index]
    assert keys == sorted(keys) and len(keys) == len(persons)
    with rt.catalog.transaction() as tx:
        records = [r.fields() for r in tx.audit_records()]
    last = [r for r in records if r["operation"] == "StartFaceSearch"][-1]
    assert last["face_ids"] == [face_id] and last["collection"] == "cast"


def test_face_search_is_refused_where_the_policy_says_so(video_client: Any) -> None:
    client, _ = video_client
    client.create_collection(CollectionId="strict", Tags={"candor:min-match-threshold": "90"})
    with pytest.raises(client.exceptions.AccessDeniedException, match="90"):
        client.start_face_search(Video=_video("hamilton.mp4"), CollectionId="strict")
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.start_face_search(Video=_video("hamilton.mp4"), CollectionId="absent")


def test_text_and_moderation_jobs(video_client: Any) -> None:
    client, rt = video_client
    shutil.copy(SCENES / "counter.mp4", rt.settings.media_dir / "clips" / "counter.mp4")
    text_job = client.start_text_detection(Video=_video("counter.mp4"))["JobId"]
    moderation_job = client.start_content_moderation(Video=_video("hamilton.mp4"), MinConfidence=60)["JobId"]
    while jobs.run_one(rt, "w") is not None:
        pass
    found = client.get_text_detection(JobId=text_job)
    assert found["JobStatus"] == "SUCCEEDED" and found["TextModelVersion"]
    lines = [d for d in found["TextDetections"] if d["TextDetection"]["Type"] == "LINE"]
    # counter.mp4 prints each frame's number: the frames sampled at 0, 0.5, 1.0 … s show 1, 6, 11 …
    texts = " ".join(d["TextDetection"]["DetectedText"] for d in lines)
    assert lines and any(str(n) in texts for n in (6, 11, 16, 21, 26)), texts
    assert [d["Timestamp"] for d in found["TextDetections"]] == sorted(d["Timestamp"] for d in found["TextDetections"])
    mod = client.get_content_moderation(JobId=moderation_job, SortBy="NAME")
    assert mod["JobStatus"] == "SUCCEEDED" and mod["ModerationModelVersion"]
    assert all(x["ModerationLabel"]["Confidence"] >= 60 for x in mod["ModerationLabels"])


def test_the_cli_starts_waits_and_prints(video_client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from candor.cli import main

    _, rt = video_client
    root = ["--data-dir", str(rt.settings.data_dir)]
    assert main([*root, "video", "detect-segments", "s3://clips/testvideo.mp4", "--wait", "--table"]) == 0
    out = capsys.readouterr().out
    assert "SUCCEEDED" in out and "frames 394–719" in out
    assert main([*root, "video", "detect-faces", "s3://clips/notes.mp4", "--wait"]) == 1
    assert json.loads(capsys.readouterr().out)["JobStatus"] == "FAILED"
    assert main([*root, "video", "search-faces", "s3://clips/hamilton.mp4", "--collection", "none"]) != 0
    assert "ResourceNotFoundException" in capsys.readouterr().err


@pytest.mark.slow
def test_a_sigkilled_worker_process_job_is_finished_by_another(video_client: Any) -> None:
    """A real ``candor worker`` process is killed with SIGKILL after it has stored part of a
    job's results; another worker restarts the job and the results are exactly those of an
    uninterrupted run: none missing, none twice."""
    import os
    import signal
    import subprocess
    import sys
    import time

    client, rt = video_client
    rate = 10.0  # labels on 10 frames a second: several result batches for a 9-s clip
    rt.settings = Settings(data_dir=rt.settings.data_dir, video_sample_rate=rate)
    killed = client.start_label_detection(Video=_video("hamilton.mp4"))["JobId"]
    env = {**os.environ, "CANDOR_DATA_DIR": str(rt.settings.data_dir),
           "CANDOR_VIDEO_SAMPLE_RATE": str(rate)}
    proc = subprocess.Popen([str(Path(sys.executable).parent / "candor"), "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with rt.catalog.transaction() as tx:
                if tx.job_results(killed, 0, 1):
                    break
            assert proc.poll() is None, "the worker process exited before storing results"
            time.sleep(0.05)
        else:
            pytest.fail("the worker stored no results within 120 s")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with rt.catalog.transaction() as tx:
        stored = len(tx.job_results(killed, 0, 100_000))
        job = tx.job("admin", killed)
    assert job is not None and job.status == "IN_PROGRESS" and job.worker != "second"

    later = datetime.now(timezone.utc) + timedelta(seconds=rt.settings.job_stale_after + 1)
    with rt.catalog.transaction(write=True) as tx:
        taken = tx.claim_job("second", later)
    assert taken is not None and taken.job_id == killed and taken.attempts == 2
    jobs.run_one(rt, "second", job=taken)

    reference = client.start_label_detection(Video=_video("hamilton.mp4"))["JobId"]
    jobs.run_one(rt, "reference")

    def every_label(job_id: str) -> list[tuple[int, str]]:
        out, token = [], None
        while True:
            page = client.get_label_detection(JobId=job_id, MaxResults=1000,
                                              **({"NextToken": token} if token else {}))
            assert page["JobStatus"] == "SUCCEEDED"
            out += [(x["Timestamp"], x["Label"]["Name"]) for x in page["Labels"]]
            token = page.get("NextToken")
            if not token:
                return out

    restarted, clean = every_label(killed), every_label(reference)
    assert 0 < stored < len(clean), "the kill did not land mid-job"
    assert len(set(restarted)) == len(restarted), "a result was stored twice"
    assert restarted == clean, "the restarted job's results differ from an uninterrupted run"
