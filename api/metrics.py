"""``GET /metrics`` in the Prometheus text format (prometheus-client): request counts and latency per
route, beats ingested, requests shed by back-pressure, and, read from the database at each scrape,
the analysis queue's depth and lag, stalled jobs and the connection pool.

Counters live in the process; under ``somatrace serve --workers N`` they are shared through
prometheus-client's multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``api.server``), so any
process answers for all. Metrics hold counts only, never patient data.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.db.queries import q
from api.errors import DatabaseUnavailable

logger = logging.getLogger(__name__)

#: Latency buckets, s: fine below the 200 ms goal, coarse up to the 30 s nobody should see.
LATENCY_BUCKETS: Final[tuple[float, ...]] = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
#: Environment variable of prometheus-client's multiprocess mode.
MULTIPROC_ENV: Final[str] = "PROMETHEUS_MULTIPROC_DIR"

REQUESTS = Counter(
    "somatrace_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
LATENCY = Histogram(
    "somatrace_http_request_duration_seconds",
    "Time from a request's arrival to the end of its answer, by method and route template",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
INGEST_BEATS = Counter(
    "somatrace_ingest_beats_total",
    "Beats received in uploads: newly stored (accepted) or already stored (duplicate)",
    ["result"],
)
INGEST_BATCHES = Counter(
    "somatrace_ingest_batches_total", "Beat batches acknowledged (stored or replayed)"
)
SHED_REQUESTS = Counter(
    "somatrace_shed_requests_total",
    "Uploads answered 503 with Retry-After because the process was saturated (back-pressure)",
)

router = APIRouter(tags=["health"])


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class MetricsMiddleware:
    """Counts every answer (500s and shed requests included) and times it, by route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                _observe(scope, status, started)

        try:
            await self.app(scope, receive, observing_send)
        except Exception:
            _observe(scope, 500, started)
            raise


def _observe(scope: Scope, status: int, started: float) -> None:
    if scope.get("somatrace_observed"):
        return
    scope["somatrace_observed"] = True
    method, route = str(scope.get("method", "")), _route(scope)
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(time.perf_counter() - started)


def _registry() -> CollectorRegistry:
    """The registry to expose: all processes' (multiprocess mode) or this process's."""
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry
    return REGISTRY


class _Snapshot:
    """Gauges read at scrape time, as metric families (not process-local metric objects, which
    multiprocess mode would write to files)."""

    def __init__(self, values: list[tuple[str, str, float]]) -> None:
        self.values = values

    def collect(self) -> Iterator[GaugeMetricFamily]:
        for name, doc, value in self.values:
            yield GaugeMetricFamily(name, doc, value=value)


def _database_gauges(row: dict[str, Any] | None, pool: dict[str, int]) -> bytes:
    """The analysis queue, lag, stalled jobs and this process's pool, in the exposition format."""
    values: list[tuple[str, str, float]] = [
        ("somatrace_database_up", "1 when the database answered this scrape", 1.0 if row else 0.0)
    ]
    if row is not None:
        values += [
            ("somatrace_analysis_jobs_waiting", "Analysis jobs waiting to run", row["waiting"]),
            ("somatrace_analysis_jobs_running", "Analysis jobs running", row["running"]),
            (
                "somatrace_analysis_jobs_failed",
                "Analysis jobs that exhausted retries",
                row["failed"],
            ),
            (
                "somatrace_analysis_jobs_stalled",
                "Analysis jobs whose worker stopped sending heartbeats",
                row["stalled"],
            ),
            (
                "somatrace_analysis_dirty_patients",
                "Patients with beats not yet analysed",
                row["dirty_patients"],
            ),
            (
                "somatrace_analysis_lag_seconds",
                "How long the oldest beats not yet analysed have waited (0 when none wait)",
                row["lag_s"] or 0.0,
            ),
            ("somatrace_workers_alive", "Analysis workers sending heartbeats", row["workers"]),
        ]
    values += [
        (f"somatrace_db_pool_{key}", f"Connection pool {key} of this process", float(value))
        for key, value in pool.items()
    ]
    registry = CollectorRegistry()
    registry.register(_Snapshot([(n, d, float(v)) for n, d, v in values]))
    return generate_latest(registry)


@router.get(
    "/metrics",
    include_in_schema=True,
    summary="Prometheus metrics (text exposition format)",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}
    },
)
async def metrics(request: Request) -> Response:
    """Counters and histograms of the API processes and gauges of the analysis queue."""
    from api.worker.queue import QUEUE
    from api.worker.runner import STALLED_AFTER_S

    db = request.app.state.db
    row: dict[str, Any] | None = None
    try:
        async with db.connection() as conn:
            cur = await conn.execute(
                q("metrics_queue"), {"queue": QUEUE, "stalled_after_s": STALLED_AFTER_S}
            )
            row = await cur.fetchone()
    except DatabaseUnavailable as exc:
        logger.info("metrics without database gauges: %s", exc.message)
    stats = db.pool.get_stats()
    pool = {k: int(stats.get(k, 0)) for k in ("pool_size", "pool_available", "requests_waiting")}
    body = generate_latest(_registry()) + _database_gauges(row, pool)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
