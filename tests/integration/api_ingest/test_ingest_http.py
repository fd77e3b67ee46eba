"""POST /v1/ingest/beats on real PostgreSQL: stored once, all or nothing, job queued."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import psycopg
from psycopg.rows import dict_row

from .conftest import Device, batch, insert_device

T0_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def _count(db_url: str, sql: str, *params: object) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(sql, params).fetchone()
        assert row is not None
        return int(row[0])


async def test_batch_is_stored_with_ms_flags_gaps_and_strap(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [820, 830, 250, 810])  # 250 ticks = 244 ms: kept, flagged for the analysis
    body["gaps"] = [{"start_ms": T0_MS - 60_000, "end_ms": T0_MS - 1_000}]
    body["strap"] = {
        "address": "AA:BB",
        "name": "Polar H10 1234",
        "model": "H10",
        "battery_pct": 80,
    }
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"batch_id": body["batch_id"], "accepted": 4, "duplicates": 0}
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT patient_id, t, rr_ticks, rr_ms, flags FROM beats ORDER BY t"
        ).fetchall()
        assert [r["rr_ticks"] for r in rows] == [820, 830, 250, 810]
        assert rows[0]["rr_ms"] == 820 * 1000 / 1024
        assert [r["flags"] for r in rows] == [0, 0, 1, 0]
        assert all(r["patient_id"] == device.patient_id for r in rows)
        first_ms = T0_MS + round(820 * 1000 / 1024)
        assert int(rows[0]["t"].timestamp() * 1000) == first_ms
        dev = conn.execute("SELECT * FROM devices WHERE id = %s", (device.device_id,)).fetchone()
        assert dev is not None
        assert (dev["strap_address"], dev["strap_model"], dev["battery_pct"]) == (
            "AA:BB",
            "H10",
            80,
        )
        assert dev["last_seen_at"] is not None
        gap = conn.execute("SELECT start_at, end_at FROM recording_gaps").fetchone()
        assert gap is not None and int(gap["end_at"].timestamp() * 1000) == T0_MS - 1_000
        dirty = conn.execute("SELECT * FROM analysis_dirty").fetchone()
        assert dirty is not None and dirty["patient_id"] == device.patient_id
        assert dirty["start_at"] == rows[0]["t"] and dirty["end_at"] == rows[-1]["t"]
        jobs = conn.execute(
            "SELECT task_name, status::text, args FROM procrastinate_jobs"
        ).fetchall()
        assert jobs == [
            {
                "task_name": "somatrace.recompute_patient",
                "status": "todo",
                "args": {"patient_id": str(device.patient_id)},
            }
        ]


async def test_same_batch_again_is_all_duplicates(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [800] * 50)
    first = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    again = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert first.json()["accepted"] == 50
    assert again.status_code == 200
    assert again.json() == {"batch_id": body["batch_id"], "accepted": 0, "duplicates": 50}
    assert _count(db_url, "SELECT count(*) FROM beats") == 50


async def test_overlapping_batch_counts_stored_beats_as_duplicates(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    first = batch(T0_MS, [800] * 10)
    await client.post("/v1/ingest/beats", json=first, headers=device.headers)
    resent = dict(first, batch_id=str(uuid.uuid4()))  # collector lost the ack and re-batched
    resent["beats"] = [
        *first["beats"][5:],
        {"t_ms": first["beats"][-1]["t_ms"] + 800, "rr_ticks": 819},
    ]  # type: ignore[index]
    resp = await client.post("/v1/ingest/beats", json=resent, headers=device.headers)
    assert resp.json()["accepted"] == 1 and resp.json()["duplicates"] == 5
    assert _count(db_url, "SELECT count(*) FROM beats") == 11


async def test_two_concurrent_clients_store_the_batch_once(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [790 + i % 40 for i in range(3_000)])
    for _ in range(3):  # several rounds: the race must never store twice
        body["batch_id"] = str(uuid.uuid4())
        a, b = await asyncio.gather(
            client.post("/v1/ingest/beats", json=body, headers=device.headers),
            client.post("/v1/ingest/beats", json=body, headers=device.headers),
        )
        assert a.status_code == b.status_code == 200, (a.text, b.text)
        assert a.json()["accepted"] + b.json()["accepted"] in (0, 3_000)
        assert a.json()["duplicates"] + b.json()["duplicates"] in (3_000, 6_000)
    assert _count(db_url, "SELECT count(*) FROM beats") == 3_000
    assert _count(db_url, "SELECT count(*) FROM ingest_batches") == 3
    assert _count(db_url, "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'") == 1


async def test_concurrent_identical_batch_from_two_devices_of_one_patient(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    other = insert_device(db_url, device.patient_id)
    body = batch(T0_MS, [800] * 100)
    a, b = await asyncio.gather(
        client.post("/v1/ingest/beats", json=body, headers=device.headers),
        client.post("/v1/ingest/beats", json=body, headers=other.headers),
    )
    assert sorted([a.status_code, b.status_code]) == [200, 409]
    assert _count(db_url, "SELECT count(*) FROM beats") == 100


async def test_one_bad_beat_rejects_the_whole_batch(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [800] * 20)
    body["beats"][7]["rr_ticks"] = 40  # type: ignore[index]
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 422
    err = resp.json()["error"]
    assert err["code"] == "invalid_input"
    assert err["fields"]["errors"] == [
        {
            "loc": ["beats", 7, "rr_ticks"],
            "index": 7,
            "field": "rr_ticks",
            "reason": "outside physiological bounds 205-3072 ticks (200-3000 ms)",
            "value": 40,
        }
    ]
    for table in ("beats", "ingest_batches", "analysis_dirty", "procrastinate_jobs"):
        assert _count(db_url, f"SELECT count(*) FROM {table}") == 0, table
    # the corrected batch with the same id is then accepted
    body["beats"][7]["rr_ticks"] = 800  # type: ignore[index]
    ok = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert ok.json()["accepted"] == 20


async def test_every_bad_item_is_named(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    now_ms = int(time.time() * 1000)
    body = batch(T0_MS, [800] * 6)
    beats = body["beats"]
    beats[2]["t_ms"] = beats[1]["t_ms"]  # type: ignore[index]  duplicated time
    beats[4]["t_ms"] = beats[3]["t_ms"] - 5  # type: ignore[index]  going backwards
    beats[5]["t_ms"] = now_ms + 3_600_000  # type: ignore[index]  an hour in the future
    body["gaps"] = [{"start_ms": T0_MS, "end_ms": T0_MS - 1}, {"start_ms": T0_MS}]
    body["strap"] = {"battery_pct": 101}
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 422
    named = {
        (e["loc"][0], e["index"], e["field"]) for e in resp.json()["error"]["fields"]["errors"]
    }
    assert named == {
        ("beats", 2, "t_ms"),
        ("beats", 4, "t_ms"),
        ("beats", 5, "t_ms"),
        ("gaps", 0, "end_ms"),
        ("gaps", 1, "end_ms"),
        ("strap", None, "battery_pct"),
    }
    assert _count(db_url, "SELECT count(*) FROM beats") == 0


async def test_malformed_items_are_named(client: httpx.AsyncClient, device: Device) -> None:
    body = {
        "batch_id": "not-a-uuid",
        "beats": [
            {"t_ms": T0_MS + 1000, "rr_ticks": 800},
            {"t_ms": 1.5, "rr_ticks": 800},
            {"t_ms": T0_MS},
        ],
    }
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 422
    named = {
        (e["loc"][0], e["index"], e["field"]) for e in resp.json()["error"]["fields"]["errors"]
    }
    assert named == {("batch_id", None, ""), ("beats", 1, "t_ms"), ("beats", 2, "rr_ticks")}
    bad_json = await client.post(
        "/v1/ingest/beats",
        content=b"{not json",
        headers={**device.headers, "Content-Type": "application/json"},
    )
    assert bad_json.status_code == 422


async def test_more_than_10000_beats_is_413(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [800] * 10_001)
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 413
    assert resp.json()["error"]["code"] == "payload_too_large"
    assert _count(db_url, "SELECT count(*) FROM beats") == 0
    body["beats"] = body["beats"][:10_000]  # type: ignore[index]
    resp = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    assert resp.status_code == 200 and resp.json()["accepted"] == 10_000


async def test_revoked_unknown_or_missing_token_is_401(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    body = batch(T0_MS, [800] * 3)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE devices SET revoked_at = now() WHERE id = %s", (device.device_id,))
    revoked = await client.post("/v1/ingest/beats", json=body, headers=device.headers)
    unknown = await client.post(
        "/v1/ingest/beats", json=body, headers={"Authorization": "Bearer stdev_" + "x" * 43}
    )
    missing = await client.post("/v1/ingest/beats", json=body)
    assert [r.status_code for r in (revoked, unknown, missing)] == [401, 401, 401]
    assert _count(db_url, "SELECT count(*) FROM beats") == 0


async def test_batches_of_one_patient_share_one_waiting_job(
    client: httpx.AsyncClient, device: Device, db_url: str
) -> None:
    second = insert_device(db_url)
    for i in range(3):
        await client.post(
            "/v1/ingest/beats", json=batch(T0_MS + i * 60_000, [800] * 10), headers=device.headers
        )
    await client.post("/v1/ingest/beats", json=batch(T0_MS, [800] * 10), headers=second.headers)
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        jobs = conn.execute(
            "SELECT args->>'patient_id' AS p FROM procrastinate_jobs ORDER BY id"
        ).fetchall()
        assert sorted(j["p"] for j in jobs) == sorted(
            [str(device.patient_id), str(second.patient_id)]
        )
        dirty = conn.execute(
            "SELECT start_at, end_at, version FROM analysis_dirty WHERE patient_id = %s",
            (device.patient_id,),
        ).fetchone()
        assert dirty is not None and dirty["version"] == 3
        assert (dirty["end_at"] - dirty["start_at"]).total_seconds() > 120


async def test_the_wire_contract_is_served_to_browser_clients(client: httpx.AsyncClient) -> None:
    import wire

    resp = await client.get("/v1/wire")
    assert resp.status_code == 200
    body = resp.json()
    assert body["rr_ticks_per_s"] == wire.RR_TICKS_PER_S == 1024
    assert (body["rr_min_ticks"], body["rr_max_ticks"]) == (wire.RR_MIN_TICKS, wire.RR_MAX_TICKS)
    assert body["ingest_path"] == "/v1/ingest/beats"
    assert body["batch_schema"] == wire.BATCH_JSON_SCHEMA
    openapi = (await client.get("/openapi.json")).json()
    ingest = openapi["paths"]["/v1/ingest/beats"]["post"]["requestBody"]["content"]
    assert ingest["application/json"]["schema"] == wire.BATCH_JSON_SCHEMA
