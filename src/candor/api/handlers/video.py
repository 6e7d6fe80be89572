"""Wire handlers for stored video: Start* queues a job, Get* reads its status and results."""

from __future__ import annotations

import json
from typing import Any

from candor.api.handlers.common import Handler, Wire, given
from candor.api.shapes import output
from candor.errors import InvalidParameterException, ResourceNotFoundException
from candor.runtime import Runtime
from candor.services import media_analysis, video
from candor.services.pagination import decode_token, encode_token
from candor.types import Caller


def _start(operation: str) -> Handler:
    def start(rt: Runtime, p: Wire, caller: Caller) -> Wire:
        return output(operation, JobId=video.start_job(rt, caller, operation, p))

    return start


def _get(operation: str) -> Handler:
    def get(rt: Runtime, p: Wire, caller: Caller) -> Wire:
        page = video.get_job(
            rt,
            caller,
            operation,
            job_id=p["JobId"],
            **given(
                p,
                max_results="MaxResults",
                next_token="NextToken",
                sort_by="SortBy",
                aggregate_by="AggregateBy",
            ),
        )
        request = json.loads(page.job.request)
        members: dict[str, Any] = {
            "JobId": page.job.job_id,
            "JobStatus": page.status,
            "StatusMessage": page.job.status_message,
            "JobTag": page.job.tag,
            "Video": request.get("Video"),
            "NextToken": page.next_token,
        }
        if operation == "GetSegmentDetection":
            members["VideoMetadata"] = [page.video] if page.video else None
            members["Segments"] = page.items
            members["SelectedSegmentTypes"] = [{"Type": "SHOT", "ModelVersion": "scenedetect"}]
        else:
            members["VideoMetadata"] = page.video
            member = {
                "GetFaceDetection": "Faces",
                "GetFaceSearch": "Persons",
                "GetLabelDetection": "Labels",
                "GetTextDetection": "TextDetections",
                "GetContentModeration": "ModerationLabels",
            }[operation]
            members[member] = page.items
        if operation in ("GetLabelDetection", "GetContentModeration"):
            members["GetRequestMetadata"] = {
                "SortBy": p.get("SortBy", "TIMESTAMP"),
                "AggregateBy": p.get("AggregateBy", "TIMESTAMPS"),
            }
        if operation == "GetLabelDetection":
            members["LabelModelVersion"] = rt.classifier.name
        if operation == "GetTextDetection":
            members["TextModelVersion"] = rt.ocr.name
        if operation == "GetContentModeration":
            members["ModerationModelVersion"] = rt.nudity.name
        return output(operation, **members)

    return get


def get_media_analysis_job(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    with rt.catalog.transaction() as tx:
        job = tx.job(caller.account, p["JobId"])
    if job is None or job.operation != media_analysis.OPERATION:
        raise ResourceNotFoundException(f"No media analysis job {p['JobId']!r} in this account")
    return output("GetMediaAnalysisJob", media_analysis.describe(job))


def list_media_analysis_jobs(rt: Runtime, p: Wire, caller: Caller) -> Wire:
    limit = int(p.get("MaxResults", LIST_MAX))
    if not 1 <= limit <= LIST_MAX:
        raise InvalidParameterException(f"MaxResults must be 1..{LIST_MAX}, got {limit}")
    kind = f"ListMediaAnalysisJobs:{caller.account}"
    position = decode_token(kind, p.get("NextToken"))
    after = None if position is None else str(position)
    with rt.catalog.transaction() as tx:
        found = tx.jobs(caller.account, media_analysis.OPERATION, after, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    token = encode_token(kind, found[-1].job_id) if more else None
    return output(
        "ListMediaAnalysisJobs",
        MediaAnalysisJobs=[media_analysis.describe(job) for job in found],
        NextToken=token,
    )


LIST_MAX = 100

HANDLERS: dict[str, Handler] = {
    "StartMediaAnalysisJob": _start("StartMediaAnalysisJob"),
    "GetMediaAnalysisJob": get_media_analysis_job,
    "ListMediaAnalysisJobs": list_media_analysis_jobs,
}
for _start_op, _get_op in video.GETTERS.items():
    HANDLERS[_start_op] = _start(_start_op)
    HANDLERS[_get_op] = _get(_get_op)
