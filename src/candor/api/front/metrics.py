"""``GET /metrics``: the server's state in Prometheus' text format, through prometheus-client.

Request counts and latencies are measured in the front process, which sees every request (the
workers behind it only run them), so no multi-process collection is needed. Jobs by state,
the queue's depth and the stored collections, faces and users are read from the database at
each scrape: they are the same for every API process sharing it. Its own registry, not the
library's global one, so tests and several apps in one process do not mix.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from candor.storage.catalog import Catalog

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Latency buckets spanning a cached search (a few ms) to a large image's analysis (seconds).
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _StoreCollector:
    """Gauges read from the database when scraped."""

    def __init__(self, catalog: Callable[[], Catalog]) -> None:
        self.catalog = catalog

    def collect(self) -> Iterator[Any]:
        with self.catalog().transaction() as tx:
            counts = tx.job_counts()
            collections, faces, users = tx.store_counts()
        jobs = GaugeMetricFamily(
            "candor_jobs", "Jobs in the database by operation and state",
            labels=["operation", "state"],
        )
        for (operation, state), n in sorted(counts.items()):
            jobs.add_metric([operation, state], n)
        yield jobs
        yield GaugeMetricFamily(
            "candor_job_queue_depth", "Jobs queued and not yet claimed by a worker",
            value=sum(n for (_, state), n in counts.items() if state == "QUEUED"),
        )
        yield GaugeMetricFamily("candor_collections", "Face collections", value=collections)
        yield GaugeMetricFamily(
            "candor_faces", "Faces stored, over all collections (what the search indexes hold)",
            value=faces,
        )
        yield GaugeMetricFamily("candor_users", "Users stored, over all collections", value=users)


class Metrics:
    def __init__(self, catalog: Callable[[], Catalog], workers: int) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "candor_requests", "Requests answered, by operation and HTTP status",
            ["operation", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "candor_request_duration_seconds", "Time from a request's arrival to its answer",
            ["operation"], buckets=_BUCKETS, registry=self.registry,
        )
        self.in_flight = Gauge(
            "candor_requests_in_flight", "Requests being answered now", registry=self.registry
        )
        Gauge("candor_workers", "Worker processes running the models",
              registry=self.registry).set(workers)
        self.registry.register(_StoreCollector(catalog))

    def observe(self, operation: str | None, status: int, seconds: float) -> None:
        # Only operations of the API name a series: an unknown X-Amz-Target is "unknown", so
        # a client cannot create series at will.
        name = operation or "unknown"
        self.requests.labels(name, str(status)).inc()
        self.latency.labels(name).observe(seconds)

    def render(self) -> bytes:
        data: bytes = generate_latest(self.registry)
        return data


def allowed(mode: str, remote: str | None) -> bool:
    """Whether ``remote`` may read /metrics under CANDOR_METRICS ``mode``."""
    if mode == "on":
        return True
    if mode != "loopback" or remote is None:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False
