"""Stored-video jobs: Start* queues a job, a worker runs it, Get* pages through its results.

A job's request is stored as sent (validated); :func:`run_job` is what a worker calls. Results are
stored as Rekognition's wire items (one FaceDetection, LabelDetection or Segment each), in the
order Get* returns them by default, so reading a page is one indexed range query.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from candor import audit
from candor.api.model import operation_model
from candor.api.shapes import to_wire
from candor.audit import AuditEvent
from candor.errors import (
    IdempotentParameterMismatchException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceError,
)
from candor.imaging import DecodedImage
from candor.media import S3Ref
from candor.runtime import Runtime
from candor.services import moderation, text
from candor.services.collections import require
from candor.services.faces import to_face_detail
from candor.services.labels import general_labels
from candor.services.pagination import decode_token, encode_token
from candor.services.policy import PolicyRefusal, policy_of
from candor.services.search import DEFAULT_MAX_FACES
from candor.services.search import matches as search_matches
from candor.storage.catalog import CatalogTx
from candor.storage.jobs import (
    FAILED,
    IN_PROGRESS,
    QUEUED,
    SUCCEEDED,
    JobLost,
    JobRecord,
    NewJob,
    ResultWriter,
)
from candor.types import Caller
from candor.video import Frame, VideoError, VideoInfo, probe, sample

Wire = dict[str, Any]
log = logging.getLogger("candor.jobs")


Report = Callable[[float, "VideoInfo | None"], bool]  # progress 0..1 → keep going?

# Start* operation → the Get* that reads it.
GETTERS = {
    "StartFaceDetection": "GetFaceDetection",
    "StartFaceSearch": "GetFaceSearch",
    "StartLabelDetection": "GetLabelDetection",
    "StartTextDetection": "GetTextDetection",
    "StartContentModeration": "GetContentModeration",
    "StartSegmentDetection": "GetSegmentDetection",
}
STARTERS = {get: start for start, get in GETTERS.items()}
BIOMETRIC = {"StartFaceDetection", "StartFaceSearch"}
PURPOSE = "CandorPurpose"  # the stated purpose, kept with the stored request
RESULT_BATCH = 50
MAX_PAGE = 1000


@dataclass(frozen=True)
class JobPage:
    job: JobRecord
    video: VideoInfo | None
    items: tuple[Wire, ...]
    next_token: str | None

    @property
    def status(self) -> str:
        return IN_PROGRESS if self.job.status == QUEUED else self.job.status


def _fingerprint(request: Wire) -> str:
    sent = {k: v for k, v in request.items() if k != PURPOSE}
    return hashlib.sha256(json.dumps(sent, sort_keys=True).encode()).hexdigest()


def _video_ref(request: Wire) -> S3Ref:
    s3 = (request.get("Video") or {}).get("S3Object") or {}
    if not s3.get("Bucket") or not s3.get("Name"):
        raise InvalidParameterException("Video.S3Object needs both Bucket and Name")
    return S3Ref(bucket=s3["Bucket"], name=s3["Name"], version=s3.get("Version"))


def _check_request(operation: str, request: Wire) -> None:
    _video_ref(request)
    if request.get("NotificationChannel") is not None:
        raise InvalidParameterException(
            "NotificationChannel is not supported: this service has no SNS topic to publish to. "
            "Omit it and poll the Get operation with the JobId (JobStatus becomes SUCCEEDED or "
            "FAILED)."
        )
    if operation == "StartSegmentDetection":
        types = request.get("SegmentTypes") or []
        if "TECHNICAL_CUE" in types:
            raise InvalidParameterException(
                "SegmentTypes TECHNICAL_CUE is not served: black frames, credits and colour bars "
                "are not detected by this service. Ask for SegmentTypes ['SHOT']."
            )
        if types != ["SHOT"] and set(types) != {"SHOT"}:
            raise InvalidParameterException(f"SegmentTypes must be ['SHOT'], got {types}")
    if operation == "StartFaceDetection":
        attributes = request.get("FaceAttributes", "DEFAULT")
        if attributes not in ("DEFAULT", "ALL"):
            raise InvalidParameterException(
                f"FaceAttributes must be DEFAULT or ALL, got {attributes!r}"
            )
    if operation == "StartFaceSearch":
        threshold = float(request.get("FaceMatchThreshold", 80.0))
        if not 0.0 <= threshold <= 100.0:
            raise InvalidParameterException(
                f"FaceMatchThreshold must be between 0 and 100, got {threshold}"
            )
    if operation in ("StartLabelDetection", "StartContentModeration"):
        confidence = request.get("MinConfidence", 50.0)
        if not 0.0 <= float(confidence) <= 100.0:
            raise InvalidParameterException(
                f"MinConfidence must be between 0 and 100, got {confidence}"
            )


def start_job(rt: Runtime, caller: Caller, operation: str, request: Wire) -> str:
    """Queue a job for ``request`` (a validated Start* request, a stored-video one or
    StartMediaAnalysisJob); returns its JobId. The same ClientRequestToken with the same
    request returns the first job's id."""
    from candor.services import media_analysis

    if operation == media_analysis.OPERATION:
        media_analysis.check_request(request)
    elif operation in GETTERS:
        _check_request(operation, request)
    else:
        raise InvalidParameterException(f"{operation} is not a job operation")
    token = request.get("ClientRequestToken")
    stored = json.dumps({**request, PURPOSE: caller.purpose}, sort_keys=True)
    with rt.catalog.transaction(write=True) as tx:
        if operation == "StartFaceSearch":
            _check_search(tx, caller, request)
        if token is not None:
            seen = tx.job_by_token(caller.account, operation, token)
            if seen is not None:
                if _fingerprint(json.loads(seen.request)) != _fingerprint(request):
                    raise IdempotentParameterMismatchException(
                        f"ClientRequestToken {token!r} was used with different parameters for "
                        f"{operation}"
                    )
                return seen.job_id
        job = tx.insert_job(
            NewJob(
                job_id=uuid.uuid4().hex,
                account=caller.account,
                operation=operation,
                request=stored,
                token=token,
                tag=request.get("JobTag"),
            )
        )
        if operation in BIOMETRIC:
            ref = _video_ref(request)
            audit.append(
                tx,
                caller,
                AuditEvent(
                    operation=operation,
                    detail={"job_id": job.job_id, "video": f"s3://{ref.bucket}/{ref.name}"},
                ),
            )
    return job.job_id


def get_job(
    rt: Runtime,
    caller: Caller,
    operation: str,
    *,
    job_id: str,
    max_results: int = MAX_PAGE,
    next_token: str | None = None,
    sort_by: str = "TIMESTAMP",
    aggregate_by: str = "TIMESTAMPS",
) -> JobPage:
    """One page of a job's results (none until it SUCCEEDED). GetLabelDetection and
    GetContentModeration with ``aggregate_by="SEGMENTS"`` give one item per run of sampled
    frames showing a label."""
    if not 1 <= max_results <= MAX_PAGE:
        raise InvalidParameterException(f"MaxResults must be 1..{MAX_PAGE}, got {max_results}")
    segments = aggregate_by == "SEGMENTS"
    if segments and operation != "GetLabelDetection":
        raise InvalidParameterException("AggregateBy SEGMENTS is for GetLabelDetection only")
    with rt.catalog.transaction() as tx:
        job = tx.job(caller.account, job_id)
        if job is None or GETTERS.get(job.operation) != operation:
            raise ResourceNotFoundException(
                f"No {STARTERS.get(operation, 'such')} job {job_id!r} in this account"
            )
        video = VideoInfo(**json.loads(job.video)) if job.video else None
        kind = f"{operation}:{job_id}:{sort_by}:{aggregate_by}"
        after = int(decode_token(kind, next_token) or 0)
        if job.status != SUCCEEDED:
            return JobPage(job, video, (), None)
        if sort_by in _ORDERS or segments:
            # Not the stored items or order: read every item (one per face or label per sampled
            # frame), aggregate and sort them, and page by position.
            everything = [json.loads(p) for _, p in tx.job_results(job_id, 0, 10**9)]
            if segments:
                everything = label_segments(everything)
            everything.sort(key=_ORDERS.get(sort_by, _by_time))
            rows = list(enumerate(everything[after : after + max_results + 1], start=after + 1))
        else:
            rows = [(n, json.loads(p)) for n, p in tx.job_results(job_id, after, max_results + 1)]
    more = len(rows) > max_results
    rows = rows[:max_results]
    token = encode_token(kind, rows[-1][0]) if more and rows else None
    return JobPage(job, video, tuple(item for _, item in rows), token)


def label_segments(items: list[Wire]) -> list[Wire]:
    """LabelDetection (or ContentModerationDetection) items aggregated by SEGMENTS: for each
    label, each run of sampled frames
    that show it, with no sampled frame between them that does not (the sampling step is the
    smallest gap between the job's timestamps), becomes one item spanning the run: its
    StartTimestampMillis and EndTimestampMillis are the first and last frames' timestamps and its
    Label is the run's most confident frame's."""
    stamps = sorted({int(item["Timestamp"]) for item in items})
    gaps = [b - a for a, b in itertools.pairwise(stamps) if b > a]
    step = min(gaps, default=0)
    by_name: dict[str, list[Wire]] = {}
    for item in sorted(items, key=lambda x: int(x["Timestamp"])):
        by_name.setdefault(_label(item)["Name"], []).append(item)
    out: list[Wire] = []
    for seen in by_name.values():
        run = [seen[0]]
        for item in seen[1:]:
            if int(item["Timestamp"]) - int(run[-1]["Timestamp"]) <= 1.5 * step:
                run.append(item)
                continue
            out.append(_segment(run))
            run = [item]
        out.append(_segment(run))
    return out


def _label(item: Wire) -> Wire:
    label: Wire = item.get("Label") or item["ModerationLabel"]
    return label


def _segment(run: list[Wire]) -> Wire:
    start, end = int(run[0]["Timestamp"]), int(run[-1]["Timestamp"])
    best = max(run, key=lambda x: float(_label(x)["Confidence"]))
    member = "Label" if "Label" in best else "ModerationLabel"
    return {
        "Timestamp": start,
        member: best[member],
        "StartTimestampMillis": start,
        "EndTimestampMillis": end,
        "DurationMillis": end - start,
    }


def _by_time(item: Wire) -> tuple[int, str]:
    return int(item["Timestamp"]), str(_label(item)["Name"])


def _by_name(item: Wire) -> tuple[str, int]:
    return str(_label(item)["Name"]), int(item["Timestamp"])


_ORDERS: dict[str, Callable[[Wire], tuple[Any, int]]] = {
    "INDEX": lambda item: (item["Person"]["Index"], item["Timestamp"]),
    "NAME": _by_name,
}


# --- running a job (workers) ------------------------------------------------------------------


def claim(rt: Runtime, worker: str) -> JobRecord | None:
    stale = datetime.now(timezone.utc) - timedelta(seconds=rt.settings.job_stale_after)
    with rt.catalog.transaction(write=True) as tx:
        return tx.claim_job(worker, stale)


def run_job(rt: Runtime, job: JobRecord, worker: str, report: Report) -> str:
    """Run a claimed job to SUCCEEDED or FAILED (the status returned). A video that cannot be
    read or decoded fails the job with a StatusMessage that says why."""
    request = json.loads(job.request)
    caller = Caller(account=job.account, purpose=request.get(PURPOSE))
    info: VideoInfo | None = None
    try:
        ref = _video_ref(request)
        with rt.media.local_file(
            ref, max_bytes=rt.settings.max_video_bytes, account=caller.account
        ) as path:
            info = probe(path, max_seconds=rt.settings.max_video_seconds)
            if not report(0.0, info):
                raise JobLost
            items = ANALYSES[job.operation](rt, caller, path, info, request, report)
            results = ResultWriter(rt.catalog, job.job_id, worker, RESULT_BATCH)
            for item in items:
                results.add(json.dumps(item, separators=(",", ":")))
            results.flush()
        status, message = SUCCEEDED, None
    except JobLost:
        log.warning("job %s was reclaimed from %s; its new worker has it", job.job_id, worker)
        return IN_PROGRESS
    except VideoError as exc:
        status, message = FAILED, f"Unable to analyse s3://{ref.bucket}/{ref.name}: {exc}"
    except ServiceError as exc:  # the video is missing, too large, or the request is wrong
        status, message = FAILED, f"{exc.code}: {exc}"
    except Exception as exc:  # the job must end, whatever happened; the log has the traceback
        log.exception("video job %s failed", job.job_id)
        status = FAILED
        message = f"Internal error while analysing the video ({type(exc).__name__})"
    video = json.dumps(asdict(info)) if info is not None else None
    with rt.catalog.transaction(write=True) as tx:
        tx.finish_job(job.job_id, worker, status, message, video)
    return status


def _shape(operation: str, member: str) -> Any:
    return operation_model(operation).output_shape.members[member].member


def _frames(
    rt: Runtime, path: Path, info: VideoInfo, report: Report
) -> Iterator[tuple[Frame, DecodedImage]]:
    """The sampled frames, each also as a decoded image for the image services, with progress
    reported as they go (JobLost when the job was taken away)."""
    total = max(1, info.duration_millis)
    for frame in sample(path, rate=rt.settings.video_sample_rate):
        if not report(min(0.99, frame.timestamp_millis / total), None):
            raise JobLost
        yield frame, DecodedImage(pixels=frame.pixels, format="video", sha256="")


T = TypeVar("T")


def _analysed(
    rt: Runtime,
    path: Path,
    info: VideoInfo,
    report: Report,
    analyse: Callable[[DecodedImage], T],
) -> Iterator[tuple[Frame, DecodedImage, T]]:
    """The sampled frames with ``analyse`` applied to each, in frame order. ``video_threads``
    frames are analysed at once (onnxruntime, dlib and Pillow release the GIL) while this
    thread decodes the next; at most one frame more than that is held in memory."""
    threads = rt.settings.video_threads
    frames = _frames(rt, path, info, report)
    if threads <= 1:
        for frame, decoded in frames:
            yield frame, decoded, analyse(decoded)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="candor-video") as pool:
        pending: deque[tuple[Frame, DecodedImage, Future[T]]] = deque()
        try:
            for frame, decoded in frames:
                pending.append((frame, decoded, pool.submit(analyse, decoded)))
                if len(pending) > threads:
                    done, image, result = pending.popleft()
                    yield done, image, result.result()
            while pending:
                done, image, result = pending.popleft()
                yield done, image, result.result()
        finally:
            for *_, result in pending:
                result.cancel()


def _faces(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    shape = _shape("GetFaceDetection", "Faces")
    extra = request.get("FaceAttributes") == "ALL"

    def analyse(decoded: DecodedImage) -> list[Any]:
        faces = rt.faces.analyze(decoded.pixels, all_attributes=extra)
        return [to_face_detail(face, decoded) for face in faces]

    for frame, _, details in _analysed(rt, path, info, report, analyse):
        for detail in details:
            item = {"Timestamp": frame.timestamp_millis, "Face": detail}
            yield to_wire(shape, item, "Faces")  # type: ignore[misc]


def _labels(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    shape = _shape("GetLabelDetection", "Labels")
    from candor.api.handlers.images import label_filters

    filters = label_filters((request.get("Settings") or {}).get("GeneralLabels") or {})
    min_confidence = float(request.get("MinConfidence", 50.0))

    def analyse(decoded: DecodedImage) -> Any:
        return general_labels(rt, decoded, min_confidence=min_confidence, filters=filters)

    for frame, _, labels in _analysed(rt, path, info, report, analyse):
        for label in labels:
            item = {"Timestamp": frame.timestamp_millis, "Label": label}
            yield to_wire(shape, item, "Labels")  # type: ignore[misc]


def _text(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    """DetectText on each sampled frame (words and lines, Rekognition's 100-word limit each)."""
    from candor.api.handlers.images import text_filters

    shape = _shape("GetTextDetection", "TextDetections")
    word_filter, regions = text_filters(request.get("Filters") or {})

    def analyse(decoded: DecodedImage) -> Any:
        return text.detect_text(rt, image=decoded, word_filter=word_filter, regions=regions)

    for frame, _, found in _analysed(rt, path, info, report, analyse):
        for detection in found.detections:
            item = {"Timestamp": frame.timestamp_millis, "TextDetection": detection}
            yield to_wire(shape, item, "TextDetections")  # type: ignore[misc]


def _moderation(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    """DetectModerationLabels on each sampled frame."""
    shape = _shape("GetContentModeration", "ModerationLabels")
    min_confidence = float(request.get("MinConfidence", moderation.DEFAULT_MIN_CONFIDENCE))

    def analyse(decoded: DecodedImage) -> Any:
        return moderation.detect_moderation_labels(
            rt, image=decoded, min_confidence=min_confidence
        )

    for frame, _, found in _analysed(rt, path, info, report, analyse):
        for label in found.labels:
            item = {"Timestamp": frame.timestamp_millis, "ModerationLabel": label}
            yield to_wire(shape, item, "ModerationLabels")  # type: ignore[misc]


def _segments(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    from candor.inference.shots import detect_shots

    shape = _shape("GetSegmentDetection", "Segments")
    for shot in detect_shots(path, info.frame_rate):
        yield to_wire(shape, shot, "Segments")  # type: ignore[misc]


def _check_search(tx: CatalogTx, caller: Caller, request: Wire) -> None:
    """The collection exists for this caller and its policy allows the search (refusals are
    audited, as for image search)."""
    record = require(tx, caller, request["CollectionId"])
    threshold = float(request.get("FaceMatchThreshold", 80.0))
    refusal = policy_of(tx, record).search_refusal(caller, threshold, record.collection_id)
    if refusal is not None:
        audit.append(
            tx,
            caller,
            AuditEvent(
                operation="StartFaceSearch",
                collection=record.collection_id,
                threshold=threshold,
                outcome=f"refused: {refusal}",
            ),
        )
        raise PolicyRefusal(refusal)


def _face_search(
    rt: Runtime, caller: Caller, path: Path, info: VideoInfo, request: Wire, report: Report
) -> Iterator[Wire]:
    """Every face of each sampled frame, with its track Index (restarted at each shot) and the
    collection faces it matches at FaceMatchThreshold. One audit record for the whole job."""
    from candor.inference.shots import detect_shots
    from candor.inference.tracking import FaceTracks

    shape = _shape("GetFaceSearch", "Persons")
    collection_id = request["CollectionId"]
    threshold = float(request.get("FaceMatchThreshold", 80.0))
    cuts = [shot.start_frame_number for shot in detect_shots(path, info.frame_rate)][1:]
    tracks = FaceTracks(1.0 / rt.settings.video_sample_rate)
    matched: dict[str, float] = {}
    searched = 0

    def analyse(decoded: DecodedImage) -> list[tuple[Any, Any]]:
        faces = [f for f in rt.faces.analyze(decoded.pixels, embed=True) if f.embedding]
        return [(f, to_face_detail(f, decoded)) for f in faces]

    for frame, _, analysed in _analysed(rt, path, info, report, analyse):
        while cuts and frame.index >= cuts[0]:
            tracks.cut()
            cuts.pop(0)
        faces = [face for face, _ in analysed]
        details = [detail for _, detail in analysed]
        indices = tracks.assign([d.bounding_box for d in details])
        items = []
        with rt.catalog.transaction() as tx:
            record = require(tx, caller, collection_id)
            policy = policy_of(tx, record)
            for face, detail, index in zip(faces, details, indices, strict=True):
                assert face.embedding is not None
                found = search_matches(
                    rt, tx, record, face.embedding.data, threshold=threshold,
                    max_faces=DEFAULT_MAX_FACES, policy=policy,
                )
                searched += 1
                for m in found:
                    matched[m.face.face_id] = max(m.similarity, matched.get(m.face.face_id, 0.0))
                items.append({
                    "Timestamp": frame.timestamp_millis,
                    "Person": {"Index": index, "BoundingBox": detail.bounding_box, "Face": detail},
                    "FaceMatches": found,
                })
        for item in items:
            yield to_wire(shape, item, "Persons")  # type: ignore[misc]
    with rt.catalog.transaction(write=True) as tx:
        audit.append(
            tx,
            caller,
            AuditEvent(
                operation="StartFaceSearch",
                collection=collection_id,
                threshold=threshold,
                max_faces=DEFAULT_MAX_FACES,
                match_count=len(matched),
                top_similarity=max(matched.values(), default=None),
                face_ids=tuple(sorted(matched)),
                detail={"video": request["Video"]["S3Object"], "faces_searched": searched},
            ),
        )


ANALYSES: dict[str, Callable[[Runtime, Caller, Path, VideoInfo, Wire, Report], Iterator[Wire]]] = {
    "StartFaceDetection": _faces,
    "StartFaceSearch": _face_search,
    "StartLabelDetection": _labels,
    "StartTextDetection": _text,
    "StartContentModeration": _moderation,
    "StartSegmentDetection": _segments,
}


def reap_jobs(rt: Runtime, *, now: datetime | None = None) -> int:
    """Delete finished jobs older than the retention; returns how many."""
    now = now or datetime.now(timezone.utc)
    before = now - timedelta(days=rt.settings.job_retention_days)
    with rt.catalog.transaction(write=True) as tx:
        expired = tx.finished_jobs(before, 1000)
        for job_id in expired:
            tx.delete_job(job_id)
    return len(expired)
