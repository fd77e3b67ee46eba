"""Bad uploads get a 4xx with the envelope and store nothing (issue 14 findings 4, 8, 12); a saturated
API sheds uploads with 503 + Retry-After at once instead of queueing them (finding 14); /metrics."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.ingest.storage import DeviceRef, store_batch
from api.ingest.validation import BeatBatch

from ..conftest import serve_in_thread
from .conftest import T0_MS, Device, beats_body, new_device, settings_for, sql
from .test_faults_http import assert_envelope

INGEST = "/v1/ingest/beats"


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_for(db_url, tmp_path), db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http


def _count(url: str, table: str) -> int:
    return int(str(sql(url, f"SELECT count(*) AS n FROM {table}")[0]["n"]))


async def test_gaps_sharing_a_start_are_a_422_not_a_500(
    client: httpx.AsyncClient, db_url: str
) -> None:
    device = new_device(db_url)
    body = beats_body(T0_MS, 10)
    body["gaps"] = [
        {"start_ms": T0_MS - 9_000, "end_ms": T0_MS - 5_000},
        {"start_ms": T0_MS - 9_000, "end_ms": T0_MS - 1_000},
    ]
    r = await client.post(INGEST, json=body, headers=device.headers)
    error = assert_envelope(r, 422, "invalid_input")
    assert error["fields"]["errors"][0]["loc"] == ["gaps", 1, "start_ms"]
    assert _count(db_url, "beats") == 0 and _count(db_url, "recording_gaps") == 0


async def test_storage_merges_gaps_sharing_a_start_from_any_caller(db_url: str) -> None:
    """Imports call storage directly: the SQL itself cannot hit the same gap row twice."""
    import numpy as np

    device = new_device(db_url)
    batch = BeatBatch(
        batch_id=uuid.uuid4(),
        t_ms=np.array([T0_MS + 1000], dtype=np.int64),
        rr_ticks=np.array([1000], dtype=np.int64),
        gaps_ms=[(T0_MS - 9_000, T0_MS - 5_000), (T0_MS - 9_000, T0_MS - 1_000)],
    )
    async with await psycopg.AsyncConnection.connect(db_url, autocommit=True) as conn:
        conn.row_factory = psycopg.rows.dict_row  # type: ignore[assignment]
        await store_batch(conn, DeviceRef(device.device_id, device.patient_id), batch)  # type: ignore[arg-type]
    [gap] = sql(db_url, "SELECT extract(epoch FROM end_at) * 1000 AS end_ms FROM recording_gaps")
    assert int(float(str(gap["end_ms"]))) == T0_MS - 1_000


async def test_a_reused_batch_id_with_other_beats_is_a_409(
    client: httpx.AsyncClient, db_url: str
) -> None:
    device = new_device(db_url)
    first = beats_body(T0_MS, 2)
    assert (await client.post(INGEST, json=first, headers=device.headers)).status_code == 200
    again = await client.post(INGEST, json=first, headers=device.headers)
    assert again.status_code == 200 and again.json() == {
        "batch_id": first["batch_id"],
        "accepted": 0,
        "duplicates": 2,
    }  # an honest retry stays idempotent
    other = beats_body(T0_MS + 60_000, 2, batch_id=uuid.UUID(first["batch_id"]))
    r = await client.post(INGEST, json=other, headers=device.headers)
    error = assert_envelope(r, 409, "batch_id_reused")
    assert error["fields"]["batch_id"] == first["batch_id"]
    assert _count(db_url, "beats") == 2  # before: 200 {"accepted": 0, "duplicates": 2}, lost


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("text/plain", 415),
        ("application/x-www-form-urlencoded", 415),
        ("", 415),
        ("application/json; charset=utf-8", 200),
        ("Application/JSON", 200),
    ],
)
async def test_ingest_takes_json_only(
    client: httpx.AsyncClient, db_url: str, content_type: str, status: int
) -> None:
    device = new_device(db_url)
    headers = {**device.headers, "Content-Type": content_type}
    r = await client.post(INGEST, content=orjson.dumps(beats_body(T0_MS, 3)), headers=headers)
    if status == 200:
        assert r.status_code == 200, r.text
    else:
        assert_envelope(r, 415, "unsupported_media_type")
        assert _count(db_url, "beats") == 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"batch_id": "', 400, "malformed_request"),  # docs/api.md: 400, was 422
        (b"", 400, "malformed_request"),
        (b'{"batch_id": "6f1c1d4e-59a4-4a1e-9a51-0a5c1f0e3b11"}', 422, "invalid_input"),
        (b'{"batch_id": "6f1c1d4e59a44a1e9a510a5c1f0e3b11", "beats": []}', 422, "invalid_input"),
        (
            b'{"batch_id": "6f1c1d4e-59a4-4a1e-9a51-0a5c1f0e3b12", "beats": [], "gaps": null}',
            422,
            "invalid_input",
        ),
        (
            b'{"batch_id": "6f1c1d4e-59a4-4a1e-9a51-0a5c1f0e3b13", "beats": [{"t_ms": true, "rr_ticks": 800}]}',
            422,
            "invalid_input",
        ),
    ],
)
async def test_the_body_follows_the_schema_strictly(
    client: httpx.AsyncClient, db_url: str, raw: bytes, status: int, code: str
) -> None:
    device = new_device(db_url)
    r = await client.post(
        INGEST, content=raw, headers={**device.headers, "Content-Type": "application/json"}
    )
    assert_envelope(r, status, code)


@pytest.fixture
def slow_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    """A real server handling one upload at a time (so saturation is easy to reach)."""
    app = create_app(settings_for(db_url, tmp_path, ingest_max_in_flight=1), db_url)
    with serve_in_thread(app) as url:
        yield url


def test_a_saturated_api_sheds_uploads_with_503_and_retry_after(
    slow_server: str, db_url: str
) -> None:
    devices = [new_device(db_url) for _ in range(2)]
    blocker = psycopg.connect(db_url)
    blocker.execute("LOCK TABLE beats IN EXCLUSIVE MODE")  # the first upload waits inside
    answers: dict[str, httpx.Response] = {}

    def first() -> None:
        with httpx.Client(base_url=slow_server, timeout=60) as http:
            answers["first"] = http.post(
                INGEST, json=beats_body(T0_MS, 5), headers=devices[0].headers
            )

    thread = threading.Thread(target=first)
    thread.start()
    try:
        time.sleep(1.0)  # the first upload holds the only slot
        with httpx.Client(base_url=slow_server, timeout=60) as http:
            sent = time.monotonic()
            r = http.post(INGEST, json=beats_body(T0_MS, 5, seed=1), headers=devices[1].headers)
            took = time.monotonic() - sent
    finally:
        blocker.rollback()
        blocker.close()
        thread.join(timeout=60)
    error = assert_envelope(r, 503, "overloaded")
    assert int(r.headers["retry-after"]) >= 1 and error["fields"]["retry_after_s"] >= 1
    assert took < 1.0  # answered at once, not after the first upload
    assert answers["first"].status_code == 200
    assert _count(db_url, "beats") == 5  # the shed batch stored nothing; its collector resends


def test_metrics_in_prometheus_format(slow_server: str, db_url: str) -> None:
    device: Device = new_device(db_url)
    with httpx.Client(base_url=slow_server) as http:
        assert (
            http.post(INGEST, json=beats_body(T0_MS, 7), headers=device.headers).status_code == 200
        )
        r = http.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    requests = families["somatrace_http_requests"]
    assert any(
        s.labels == {"method": "POST", "route": "/v1/ingest/beats", "status": "200"}
        and s.value >= 1
        for s in requests.samples
    )
    assert "somatrace_http_request_duration_seconds" in families
    beats = {
        s.labels["result"]: s.value
        for s in families["somatrace_ingest_beats"].samples
        if s.name.endswith("_total")
    }
    assert beats["accepted"] >= 7
    for name in (
        "somatrace_analysis_jobs_waiting",
        "somatrace_analysis_lag_seconds",
        "somatrace_analysis_jobs_stalled",
        "somatrace_shed_requests",
        "somatrace_database_up",
    ):
        assert name in families, name
    assert families["somatrace_analysis_jobs_waiting"].samples[0].value >= 1
    assert families["somatrace_database_up"].samples[0].value == 1
