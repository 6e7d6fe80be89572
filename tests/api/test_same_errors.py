"""The server, ``candor.Client`` and the CLI refuse the same invalid input with the same error.

Cases are generated from botocore's service model: for every served operation, every top-level
member with a pattern (ids), a range or an enum gets a value that breaks it, with valid values
for the other required members. The server is asked over HTTP (raw JSON: boto3 would refuse
some values itself), the client in process; the CLI for the commands that expose a member.
"""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError, ParamValidationError

from candor import Client
from candor.api.model import operation_model
from candor.api.operations import HANDLERS
from candor.api.validate import _compiled
from candor.cli import main

from .conftest import Server, post

VALID: dict[str, Any] = {
    "CollectionId": "same-errors",
    "FaceId": str(uuid.UUID(int=1)),
    "UserId": "user-1",
    "Image": {"Bytes": b"\xff\xd8\xff"},
    "SourceImage": {"Bytes": b"\xff\xd8\xff"},
    "TargetImage": {"Bytes": b"\xff\xd8\xff"},
    "FaceIds": [str(uuid.UUID(int=2))],
    "ResourceArn": "arn:aws:rekognition:us-east-1:admin:collection/same-errors",
    "Tags": {"team": "a"},
    "TagKeys": ["team"],
    "Video": {"S3Object": {"Bucket": "clips", "Name": "clip.mp4"}},
    "JobId": "0" * 32,
    "SegmentTypes": ["SHOT"],
    "OperationsConfig": {"DetectModerationLabels": {"MinConfidence": 50}},
    "Input": {"S3Object": {"Bucket": "bulk", "Name": "manifest.jsonl"}},
    "OutputConfig": {"S3Bucket": "out"},
}


def _broken(shape: Any) -> list[tuple[str, Any]]:
    """Values that break one constraint of ``shape`` each, labelled."""
    meta, out = shape.metadata, []
    if shape.type_name == "string":
        if shape.enum:
            out.append(("enum", "NOT_ONE_OF_THEM"))
        pattern = meta.get("pattern")
        if pattern and not _compiled(pattern).fullmatch("bad id/with?"):
            out.append(("pattern", "bad id/with?"))
        if "max" in meta and meta["max"] < 10_000:
            out.append(("max-length", "a" * (meta["max"] + 1)))
    if shape.type_name in ("integer", "long", "float", "double"):
        if "max" in meta:
            out.append(("max", meta["max"] + 1))
        if "min" in meta:
            out.append(("min", meta["min"] - 1))
    return out


def _cases() -> list[Any]:
    cases = []
    for op in sorted(HANDLERS):
        shape = operation_model(op).input_shape
        required = shape.required_members
        if any(r not in VALID for r in required):
            continue  # no valid value known for a required member
        for name, member in shape.members.items():
            for label, value in _broken(member):
                params = {r: VALID[r] for r in required if r != name}
                params[name] = value
                cases.append(pytest.param(op, name, params, id=f"{op}-{name}-{label}"))
    return cases


CASES = _cases()


def _json_ready(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def test_the_cases_cover_every_served_operation() -> None:
    covered = {c.values[0] for c in CASES}
    with_constraints = {
        op for op in HANDLERS
        if any(_broken(m) for m in operation_model(op).input_shape.members.values())
    }
    assert with_constraints - covered == set(), "add valid values for their required members"
    assert len(CASES) > 60


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Client:
    return Client(data_dir=tmp_path_factory.mktemp("same-errors"))


@pytest.mark.parametrize(("operation", "member", "params"), CASES)
def test_server_and_client_give_the_same_error(
    server: Server, local: Client, operation: str, member: str, params: dict[str, Any]
) -> None:
    r = post(server, operation, _json_ready(params))
    assert r.status == 400 and r.code == "InvalidParameterException", r.body
    assert member in r.body["message"]
    method = getattr(local, xform_name(operation))
    try:
        method(**params)
    except ClientError as exc:
        assert exc.response["Error"]["Code"] == r.code
        assert exc.response["Error"]["Message"] == r.body["message"]
    except ParamValidationError as exc:  # botocore's own check comes first, as in boto3
        assert member in str(exc)
    else:
        pytest.fail(f"{operation} accepted {member}={params[member]!r} in process")


# The CLI: each command's members, broken the same ways, through `candor ...`.
CLI_CASES = [
    ("CreateCollection", {"CollectionId": "bad id/with?"}, ["collection", "create", "bad id/with?"]),
    ("DescribeCollection", {"CollectionId": "bad id/with?"}, ["collection", "describe", "bad id/with?"]),
    ("DeleteCollection", {"CollectionId": "bad id/with?"}, ["collection", "delete", "bad id/with?"]),
    ("SearchFacesByImage", {"CollectionId": "c1", "Image": "IMG", "FaceMatchThreshold": 150.0},
     ["search", "c1", "IMG", "--threshold", "150"]),
    ("SearchFacesByImage", {"CollectionId": "c1", "Image": "IMG", "MaxFaces": 5000},
     ["search", "c1", "IMG", "--max-faces", "5000"]),
    ("CompareFaces", {"SourceImage": "IMG", "TargetImage": "IMG", "SimilarityThreshold": 101.0},
     ["compare-faces", "IMG", "IMG", "--threshold", "101"]),
    ("DetectLabels", {"Image": "IMG", "MinConfidence": 101.0},
     ["detect-labels", "IMG", "--min-confidence", "101"]),
    ("DetectModerationLabels", {"Image": "IMG", "MinConfidence": -1.0},
     ["detect-moderation-labels", "IMG", "--min-confidence", "-1"]),
    ("DetectText", {"Image": "IMG", "Filters": {"WordFilter": {"MinConfidence": 200.0}}},
     ["detect-text", "IMG", "--min-confidence", "200"]),
    ("IndexFaces", {"CollectionId": "bad id/with?", "Image": "IMG"},
     ["index", "bad id/with?", "IMG"]),
]


@pytest.mark.parametrize(("operation", "params", "argv"), CLI_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CLI_CASES)])
def test_cli_gives_the_servers_error(
    server: Server, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    operation: str, params: dict[str, Any], argv: list[str],
) -> None:
    image = tmp_path / "img.jpg"
    image.write_bytes(b"\xff\xd8\xff")
    params = {k: ({"Bytes": b"\xff\xd8\xff"} if v == "IMG" else v) for k, v in params.items()}
    r = post(server, operation, _json_ready(params))
    assert r.status == 400, r.body
    code = main(["--data-dir", str(tmp_path / "d"), *[str(image) if a == "IMG" else a for a in argv]])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"error: {r.code}: {r.body['message']}" in err
