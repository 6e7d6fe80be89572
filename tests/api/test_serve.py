"""Start-up rules and graceful shutdown of ``candor serve``."""

from __future__ import annotations

import base64
import threading
import time
from pathlib import Path
from typing import Any

from .conftest import OBAMA, candor, get, post, start_server, stop_server


def test_no_auth_is_refused_off_loopback(tmp_path: Path) -> None:
    result = candor("serve", "--no-auth", "--host", "0.0.0.0", "--port", "0", data_dir=tmp_path)
    assert result.returncode == 2
    assert "--no-auth is refused" in result.stderr
    assert not (tmp_path / "candor.db").exists()


def test_no_auth_on_loopback_and_graceful_shutdown(tmp_path: Path) -> None:
    server = start_server(tmp_path, "--no-auth", "--workers", "1")
    try:
        assert "Authentication is OFF" in server.stdout.read_text()
        status, _, _ = get(server, "/health")
        assert status == 200
        unsigned = post(server, "ListCollections", sign=False)
        assert unsigned.status == 200 and unsigned.code is None  # served without a signature
        assert unsigned.body == {"CollectionIds": [], "FaceModelVersions": []}
        status, _, page = get(server, "/console/analyze")  # no keys: no one to sign in as
        assert status == 503 and b"The console needs API keys" in page

        # A request in flight when SIGTERM arrives still gets its answer. The worker's first
        # DetectFaces loads the models (over a second), so 0.3 s in it is still running.
        body = {"Image": {"Bytes": base64.b64encode(OBAMA.read_bytes()).decode()}}
        result: dict[str, Any] = {}
        thread = threading.Thread(
            target=lambda: result.update(r=post(server, "DetectFaces", body, sign=False))
        )
        thread.start()
        time.sleep(0.3)
        code = stop_server(server)
        thread.join(60)
        assert code == 0
        assert result["r"].status == 200 and len(result["r"].body["FaceDetails"]) == 1
    finally:
        stop_server(server)
