"""A real ``candor serve`` in a subprocess, shared by the tests in this folder.

It starts on an empty data directory, so it also exercises the first-run admin key, which the
fixture reads from the server's own output.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from ..conftest import ON_POSTGRES, SMOKE

EXAMPLES = SMOKE / "examples"
OBAMA = EXAMPLES / "obama.jpg"
OBAMA2 = EXAMPLES / "obama2.jpg"
BIDEN = EXAMPLES / "biden.jpg"
REGION = "eu-central-1"


@dataclass
class Server:
    url: str
    host: str
    port: int
    key_id: str
    secret: str
    data_dir: Path
    proc: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    def client(self, key_id: str | None = None, secret: str | None = None, **config: Any) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "rekognition",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=key_id or self.key_id,
            aws_secret_access_key=secret or self.secret,
            config=Config(retries={"max_attempts": 1, "mode": "standard"}, **config),
        )

    def access_log(self) -> list[dict[str, Any]]:
        lines = self.stderr.read_text().splitlines()
        return [json.loads(x) for x in lines if x.startswith("{") and '"candor.access"' in x]


def server_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("CANDOR_", "AWS_"))}


#: The database URL of each server started on PostgreSQL, by data directory: the CLI run on
#: that data directory must use the same database.
DATABASES: dict[Path, str] = {}


def server_settings(server: Server) -> Any:
    """Settings that reach the server's own database (for tests that look inside it)."""
    from candor.config import Settings

    return Settings(data_dir=server.data_dir, database_url=DATABASES.get(server.data_dir))


def candor(*args: str, data_dir: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = server_env()
    if data_dir in DATABASES:
        env["CANDOR_DATABASE_URL"] = DATABASES[data_dir]
    return subprocess.run(
        [sys.executable, "-m", "candor.cli", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def start_server(
    data_dir: Path, *args: str, timeout: float = 90, env: dict[str, str] | None = None
) -> Server:
    data_dir.mkdir(parents=True, exist_ok=True)
    if env and "CANDOR_DATABASE_URL" in env:
        DATABASES[data_dir] = env["CANDOR_DATABASE_URL"]
    stdout, stderr = data_dir / "serve.out", data_dir / "serve.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "candor.cli", "--data-dir", str(data_dir), "serve",
             "--port", "0", *args],
            stdout=out,
            stderr=err,
            env={**server_env(), **(env or {})},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = stdout.read_text()
        found = re.search(r"listening on (http://([\d.]+):(\d+))", text)
        if found:
            break
        if proc.poll() is not None:
            raise RuntimeError(f"candor serve exited {proc.returncode}: {stderr.read_text()}")
        time.sleep(0.1)
    else:
        proc.kill()
        proc.wait()
        raise RuntimeError(f"candor serve did not start: {stderr.read_text()}")
    key = re.search(r"AWS_ACCESS_KEY_ID=(\S+)", text)
    secret = re.search(r"AWS_SECRET_ACCESS_KEY=(\S+)", text)
    server = Server(
        url=found.group(1),
        host=found.group(2),
        port=int(found.group(3)),
        key_id=key.group(1) if key else "",
        secret=secret.group(1) if secret else "",
        data_dir=data_dir,
        proc=proc,
        stdout=stdout,
        stderr=stderr,
    )
    status, _, _ = get(server, "/health")
    assert status == 200
    return server


def stop_server(server: Server, timeout: float = 60) -> int:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
    try:
        return server.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
        raise


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Server]:
    env = None
    if ON_POSTGRES:  # a database of its own, as its data directory is its own
        from tests.pg import new_database

        env = {"CANDOR_DATABASE_URL": new_database(request.getfixturevalue("pg_server"))}
    running = start_server(tmp_path_factory.mktemp("serve"), "--workers", "2", env=env)
    yield running
    code = stop_server(running)
    log = running.stderr.read_text()
    assert code == 0, log[-4000:]
    assert '"traceback"' not in log and '"status": 500' not in log, log[-4000:]


@pytest.fixture
def rek(server: Server) -> Iterator[Any]:
    client = server.client()
    yield client
    client.close()


def get(server: Server, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(server.host, server.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def code(self) -> str | None:
        value = self.body.get("__type")
        return None if value is None else str(value)


def post(
    server: Server,
    operation: str | None,
    body: bytes | dict[str, Any] = b"{}",
    *,
    sign: bool = True,
    key_id: str | None = None,
    secret: str | None = None,
    when: Any = None,
    send_body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """POST ``body`` to the server, signed the way botocore signs (optionally at time ``when``),
    then send ``send_body`` instead when given (a body changed after signing)."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    raw = json.dumps(body).encode() if isinstance(body, dict) else body
    hdrs = {"Content-Type": "application/x-amz-json-1.1", **(headers or {})}
    if operation is not None:
        hdrs["X-Amz-Target"] = f"RekognitionService.{operation}"
    request = AWSRequest(method="POST", url=server.url + "/", data=raw, headers=hdrs)
    if sign:
        auth = SigV4Auth(
            Credentials(key_id or server.key_id, secret or server.secret), "rekognition", REGION
        )
        if when is None:
            auth.add_auth(request)
        else:
            with mock.patch("botocore.auth.get_current_datetime", return_value=when):
                auth.add_auth(request)
    payload = raw if send_body is None else send_body
    conn = http.client.HTTPConnection(server.host, server.port, timeout=60)
    try:
        conn.request("POST", "/", body=payload, headers=dict(request.headers.items()))
        resp = conn.getresponse()
        data = resp.read()
        return Response(
            resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(data or b"{}")
        )
    finally:
        conn.close()
