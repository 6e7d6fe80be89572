"""GET /metrics: Prometheus text format, parsed with prometheus-client's own parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from .conftest import OBAMA, Server, get, post, start_server, stop_server


def _samples(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    status, headers, body = get(server, "/metrics")
    assert status == 200 and headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_metrics_count_requests_time_them_and_read_the_store(server: Server, rek: Any) -> None:
    before = _samples(server)
    name = "metrics-probe"
    rek.create_collection(CollectionId=name)
    rek.index_faces(CollectionId=name, Image={"Bytes": OBAMA.read_bytes()})
    for _ in range(3):
        rek.detect_faces(Image={"Bytes": OBAMA.read_bytes()})
    try:
        rek.describe_collection(CollectionId="no-such-collection")
    except rek.exceptions.ResourceNotFoundException:
        pass
    after = _samples(server)

    def grew(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    ok = (("operation", "DetectFaces"), ("status", "200"))
    assert grew(("candor_requests_total", ok)) == 3
    missing = (("operation", "DescribeCollection"), ("status", "400"))
    assert grew(("candor_requests_total", missing)) == 1
    timed = (("operation", "DetectFaces"),)
    assert grew(("candor_request_duration_seconds_count", timed)) == 3
    assert grew(("candor_request_duration_seconds_sum", timed)) > 0
    assert after[("candor_collections", ())] >= 1 and after[("candor_faces", ())] >= 1
    assert ("candor_job_queue_depth", ()) in after and after[("candor_workers", ())] >= 1
    rek.delete_collection(CollectionId=name)


def test_an_unknown_target_names_no_series(server: Server) -> None:
    post(server, "NotAnOperation", body=b"{}")
    samples = _samples(server)
    assert not [k for k in samples if "NotAnOperation" in str(k)]
    assert samples[("candor_requests_total", (("operation", "unknown"), ("status", "400")))] >= 1


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    server = start_server(tmp_path / "off", env={"CANDOR_METRICS": "off"})
    try:
        status, _, _ = get(server, "/metrics")
        assert status == 404
    finally:
        stop_server(server)


def test_who_may_read_metrics() -> None:
    from candor.api.front.metrics import allowed

    assert allowed("loopback", "127.0.0.1") and allowed("loopback", "::1")
    assert not allowed("loopback", "10.0.0.7") and not allowed("loopback", None)
    assert not allowed("loopback", "not-an-address")
    assert allowed("on", "10.0.0.7") and not allowed("off", "127.0.0.1")
