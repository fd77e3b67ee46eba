"""End to end: beats through HTTP ingest → worker → /windows and /daily equal ``analysis``."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psycopg

from analysis import compute_windows_timed
from analysis.trends import compute_trends
from api.trend_view import patient_today
from api.worker.runner import run_until_idle_async
from api.worker.window_frame import MARKER_COLUMNS

from .conftest import World, batches

RANGE = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-20T00:00:00Z"}


def reference_windows(world: World) -> pd.DataFrame:
    t_s = world.sim.beats_t_ms / 1000.0
    rr_ms = world.sim.rr_ticks.astype(np.float64) * 1000.0 / 1024.0
    return compute_windows_timed(t_s, rr_ms, window_s=300, clean=True, origin_s=0.0)


def assert_close(got: Any, want: Any, what: str) -> None:
    if want is None or (isinstance(want, float) and not math.isfinite(want)):
        assert got is None, f"{what}: got {got}, want null"
    else:
        assert got is not None, f"{what}: got null, want {want}"
        assert math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-12), (
            f"{what}: got {got}, want {want}"
        )


def assert_windows_equal(api_rows: list[dict[str, Any]], ref: pd.DataFrame) -> None:
    assert len(api_rows) == len(ref)
    for got, want in zip(api_rows, ref.to_dict("records"), strict=True):
        start = datetime.fromisoformat(got["window_start"]).timestamp()
        assert start == want["window_start_s"]
        assert got["n_beats"] == want["n_beats"]
        for col in MARKER_COLUMNS:
            assert_close(got[col], want[col], f"{col} at {got['window_start']}")
        grade, _, notes = str(want["quality"]).partition(": ")
        assert got["quality"] == grade
        assert got["quality_notes"] == ([n.strip() for n in notes.split(";")] if notes else [])


async def ingest_all(client: httpx.AsyncClient, world: World, bodies: list[dict[str, Any]]) -> int:
    accepted = 0
    for body in bodies:
        resp = await client.post("/v1/ingest/beats", json=body, headers=world.device_headers)
        assert resp.status_code == 200, resp.text
        accepted += int(resp.json()["accepted"])
    return accepted


async def get_json(client: httpx.AsyncClient, world: World, path: str, **params: str) -> Any:
    resp = await client.get(
        f"/v1/patients/{world.patient_id}/{path}", params=params, headers=world.reader_headers
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


async def test_ingest_worker_windows_and_daily_equal_analysis(
    client: httpx.AsyncClient, world: World, db_url: str
) -> None:
    sim = world.sim
    bodies = batches(sim.beats_t_ms, sim.rr_ticks)
    late = bodies.pop(len(bodies) // 2)  # held back: arrives after the worker has run
    n_late = len(late["beats"])
    assert await ingest_all(client, world, bodies) == sim.beats_t_ms.size - n_late
    status = await run_until_idle_async(db_url)
    assert status.problems == [] and status.dirty_patients == 0
    early = await get_json(client, world, "windows", **RANGE)

    # the late batch, and a batch sent again (all duplicates)
    assert await ingest_all(client, world, [late, bodies[0]]) == n_late
    status = await run_until_idle_async(db_url)
    assert status.problems == [] and status.dirty_patients == 0

    ref = reference_windows(world)
    windows = await get_json(client, world, "windows", **RANGE)
    assert len(early) < len(windows)  # the late batch filled a hole
    assert_windows_equal(windows, ref)

    ref_frame = ref.assign(window_start=pd.to_datetime(ref["window_start_s"], unit="s", utc=True))
    trends = compute_trends(ref_frame, sim.tz, sim.sessions, today=patient_today(sim.tz))
    daily = await get_json(client, world, "daily", **RANGE)
    want_daily = trends.daily.to_dict("records")
    assert [d["day"] for d in daily] == [w["day"].isoformat() for w in want_daily]
    for got, want in zip(daily, want_daily, strict=True):
        assert got["source"] == want["source"]
        assert got["grade"] == want["grade"]
        assert got["quality"].startswith(got["grade"])
        assert got["counted"] == want["counted"] and got["complete"] is True
        assert got["exclusion"] == want["exclusion"]
        for api_col, ref_col in (
            ("ln_rmssd", "ln_rmssd"),
            ("rmssd_ms", "rmssd_ms"),
            ("resting_hr_bpm", "resting_hr_bpm"),
            ("artifact_share", "artifact_share"),
            ("rolling_mean_7d", "rolling_mean_7d"),
            ("cv_pct", "cv_7d_pct"),
            ("band_low", "band_low"),
            ("band_high", "band_high"),
        ):
            assert_close(got[api_col], want[ref_col], f"{api_col} on {got['day']}")
    assert any(d["counted"] for d in daily) and any(d["rolling_mean_7d"] for d in daily)

    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT id FROM sessions WHERE patient_id = %s AND kind = 'medicine'",
            (world.patient_id,),
        ).fetchone()
        assert row is not None
    integration = await get_json(client, world, f"sessions/{row[0]}/integration")
    # four baseline days: the verdicts say so instead of giving numbers
    assert integration["status"] == "insufficient_data"
    assert integration["baseline"]["n_days"] == 4
    assert "needs 10" in integration["baseline"]["reason"]
    want_periods = trends.verdicts.periods
    assert [p["period"] for p in integration["periods"]] == [p.period for p in want_periods]
    for got_p, want_p in zip(integration["periods"], want_periods, strict=True):
        assert got_p["state"] == want_p.state == "insufficient"
        assert got_p["reason"] == want_p.reason and "cannot tell yet" in got_p["reason"]
        assert got_p["diff_ln_rmssd"] is None and got_p["flagged"] is False

    timeline = await get_json(client, world, "timeline", **RANGE)
    assert timeline["daily"] == daily
    assert timeline["band"]["status"] == "insufficient" and timeline["today"]
    assert {s["kind"] for s in timeline["sessions"]} == {s.kind for s in sim.sessions}
    assert len(timeline["wear_segments"]) >= 6  # six nights and mornings: gaps between them
    assert sum(w["n_windows"] for w in timeline["wear_segments"]) == len(windows)


async def test_beats_stream_json_and_csv(client: httpx.AsyncClient, world: World) -> None:
    sim = world.sim
    n = 12_000
    await ingest_all(client, world, batches(sim.beats_t_ms[:n], sim.rr_ticks[:n]))
    start = datetime.fromtimestamp(int(sim.beats_t_ms[0]) / 1000, UTC)
    end = datetime.fromtimestamp(int(sim.beats_t_ms[n - 1]) / 1000, UTC)
    params = {"start": start.isoformat(), "end": (end + timedelta(milliseconds=1)).isoformat()}
    url = f"/v1/patients/{world.patient_id}/beats"
    resp = await client.get(url, params=params, headers=world.reader_headers)
    assert resp.status_code == 200
    beats = resp.json()
    assert [b["t_ms"] for b in beats] == sim.beats_t_ms[:n].tolist()
    assert [b["rr_ticks"] for b in beats] == sim.rr_ticks[:n].tolist()
    assert beats[0]["rr_ms"] == int(sim.rr_ticks[0]) * 1000 / 1024
    csv = await client.get(
        url, params=params, headers={**world.reader_headers, "Accept": "text/csv"}
    )
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().split("\n")
    assert lines[0] == "t_ms,rr_ticks,rr_ms" and len(lines) == n + 1
    assert lines[1].split(",")[:2] == [str(sim.beats_t_ms[0]), str(sim.rr_ticks[0])]
    empty = await client.get(
        url,
        params={"start": "2020-01-01T00:00:00Z", "end": "2020-01-02T00:00:00Z"},
        headers=world.reader_headers,
    )
    assert empty.json() == []
    backwards = {"start": RANGE["end"], "end": RANGE["start"]}
    bad = await client.get(url, params=backwards, headers=world.reader_headers)
    assert bad.status_code == 422


async def test_data_routes_need_an_assigned_reader_and_are_audited(
    client: httpx.AsyncClient, world: World, db_url: str
) -> None:
    for path in ("beats", "windows", "daily", "timeline"):
        url = f"/v1/patients/{world.patient_id}/{path}"
        assert (await client.get(url)).status_code == 401
        device = await client.get(url, headers=world.device_headers)
        assert device.status_code == 401
        ok = await client.get(url, headers=world.reader_headers)
        assert ok.status_code == 200, (path, ok.text)
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM audit_log WHERE patient_id = %s AND action = 'read'",
            (world.patient_id,),
        ).fetchone()
        assert row is not None and row[0] == 4
