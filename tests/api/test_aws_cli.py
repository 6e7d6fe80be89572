"""The AWS CLI, unchanged but for --endpoint-url, against a running ``candor serve``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from candor.api.model import operation_model
from candor.api.validate import validate

from .conftest import BIDEN, OBAMA, OBAMA2, REGION, Server

# awscli is a dev dependency: prefer the one installed beside this Python.
_VENV_AWS = Path(sys.executable).with_name("aws")
AWS = str(_VENV_AWS) if _VENV_AWS.exists() else shutil.which("aws")
if AWS is None:
    raise RuntimeError("the AWS CLI is missing; `make install` installs it with the dev extras")


def aws(server: Server, *args: str, secret: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ACCESS_KEY_ID=server.key_id,
        AWS_SECRET_ACCESS_KEY=secret or server.secret,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_MAX_ATTEMPTS="1",
    )
    assert AWS is not None
    return subprocess.run(
        [AWS, "rekognition", *args, "--endpoint-url", server.url, "--output", "json"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )


def _output(operation: str, result: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    validate(operation_model(operation).output_shape, body)
    return body


def test_detect_faces(server: Server) -> None:
    body = _output("DetectFaces", aws(server, "detect-faces", "--image-bytes", f"fileb://{OBAMA}"))
    assert len(body["FaceDetails"]) == 1


def test_compare_faces(server: Server) -> None:
    body = _output("CompareFaces", aws(
        server, "compare-faces", "--source-image-bytes", f"fileb://{OBAMA}",
        "--target-image-bytes", f"fileb://{OBAMA2}", "--similarity-threshold", "80",
    ))
    assert len(body["FaceMatches"]) == 1
    body = _output("CompareFaces", aws(
        server, "compare-faces", "--source-image-bytes", f"fileb://{OBAMA}",
        "--target-image-bytes", f"fileb://{BIDEN}",
    ))
    assert body["FaceMatches"] == [] and len(body["UnmatchedFaces"]) == 1


def test_errors(server: Server, tmp_path: Any) -> None:
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"definitely not a jpeg")
    result = aws(server, "detect-faces", "--image-bytes", f"fileb://{junk}")
    assert result.returncode != 0
    assert "(InvalidImageFormatException)" in result.stderr

    result = aws(server, "compare-faces", "--source-image-bytes", f"fileb://{OBAMA}",
                 "--target-image-bytes", f"fileb://{OBAMA2}", secret="wrong")
    assert result.returncode != 0
    assert "(InvalidSignatureException)" in result.stderr

    result = aws(server, "recognize-celebrities", "--image-bytes", f"fileb://{OBAMA}")
    assert result.returncode != 0 and "refused by design" in result.stderr
