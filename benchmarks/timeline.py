"""Latency of the trend endpoints at clinic scale: /timeline and /daily over 90 days of 24 h wear.

Loads one patient with 90 days of continuous wear (~8 M beats, one short strap reconnect at each local
midnight) among other patients, their 5-min windows computed with ``analysis.compute_windows_timed``
and their daily values with the worker's ``recompute_daily`` (``analysis.trends``), plus sessions and
journal entries; then serves the real API on loopback and prints p50/p95 latency per endpoint.

Windows are computed with ``analysis`` for ``--distinct-days`` simulated days and those days repeat
(beats and windows shifted by whole days; each day is its own recording segment, so the windows equal
``analysis`` on the stored beats). This keeps the run to a few minutes on 2 cores.

    python benchmarks/timeline.py [--quick] [--days 90] [--others 5] [--requests 200]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, where benchmarks/analysis.py would shadow the
# analysis package: drop it (sibling benchmark modules are loaded by path instead).
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import importlib.util
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import psycopg
from psycopg.rows import dict_row

from analysis import compute_windows_timed
from analysis.quality import split_quality
from analysis.simulate import simulate_rr
from api.auth.tokens import issue_access_token
from api.db.migrate import upgrade
from api.db.queries import q
from api.worker.daily import recompute_daily
from api.worker.window_frame import MARKER_COLUMNS

SECRET = "b" * 48
TZ = "Europe/Berlin"
#: Local midnight of day 0 in Europe/Berlin (UTC+1 in winter), as UTC.
DAY0 = datetime(2026, 1, 4, 23, 0, tzinfo=UTC)


def _load_ingest_benchmark() -> Any:
    """benchmarks/ingest.py as a module (its database and server helpers are shared)."""
    path = Path(__file__).with_name("ingest.py")
    spec = importlib.util.spec_from_file_location("bench_ingest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ingest = _load_ingest_benchmark()
ADMIN_URL: str = _ingest.ADMIN_URL
create_db, drop_db, free_port = _ingest.create_db, _ingest.drop_db, _ingest.free_port
start_server, stop_server, wait_ready = (
    _ingest.start_server,
    _ingest.stop_server,
    _ingest.wait_ready,
)
RECONNECT_S = 10.0  # the strap reconnect at each local midnight (no beats for 10 s)


def simulate_day(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One day of continuous wear: beat times (ms from the day's start) and RR ticks."""
    rr_ms = simulate_rr(86_400 - RECONNECT_S - 5, seed=seed, start_hour_local=0.0)
    ticks = np.clip(np.round(rr_ms * 1.024), 205, 3072).astype(np.int64)
    offs = np.cumsum(np.round(ticks * 1000 / 1024).astype(np.int64)) + int(RECONNECT_S * 1000)
    keep = offs < 86_400_000
    return offs[keep], ticks[keep]


def day_windows(offs_ms: np.ndarray, ticks: np.ndarray) -> pd.DataFrame:
    """Windows of one simulated day as if it started at DAY0 (shifted by whole days later)."""
    t_s = DAY0.timestamp() + offs_ms / 1000.0
    return compute_windows_timed(t_s, ticks * 1000.0 / 1024.0, window_s=300, clean=True)


def copy_beats(
    conn: psycopg.Connection[Any],
    pid: uuid.UUID,
    did: uuid.UUID,
    days: list[tuple[np.ndarray, np.ndarray]],
    n_days: int,
) -> int:
    """Bulk-load n_days of beats (day d repeats simulated day d % len(days)) via a staging table."""
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS bench_stage (t_ms bigint, rr_ticks int) ON COMMIT DROP"
    )
    n = 0
    with conn.cursor() as cur, cur.copy("COPY bench_stage (t_ms, rr_ticks) FROM STDIN") as copy:
        for d in range(n_days):
            offs, ticks = days[d % len(days)]
            base_ms = int((DAY0 + timedelta(days=d)).timestamp() * 1000)
            t_ms = (offs + base_ms).tolist()
            copy.write("".join([f"{t}\t{r}\n" for t, r in zip(t_ms, ticks.tolist(), strict=True)]))
            n += offs.size
    conn.execute(
        "INSERT INTO beats (patient_id, device_id, t, rr_ticks, rr_ms, flags)"
        " SELECT %s, %s, TIMESTAMPTZ 'epoch' + t_ms * INTERVAL '1 millisecond', rr_ticks,"
        " rr_ticks * 1000.0 / 1024.0, 0 FROM bench_stage",
        (pid, did),
    )
    conn.execute("TRUNCATE bench_stage")
    return n


def copy_windows(
    conn: psycopg.Connection[Any], pid: uuid.UUID, frames: list[pd.DataFrame], n_days: int
) -> int:
    n = 0
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY hrv_windows (patient_id, window_start, window_s, n_beats, "
            + ", ".join(MARKER_COLUMNS)
            + ", quality, quality_notes) FROM STDIN"
        ) as copy,
    ):
        for d in range(n_days):
            frame = frames[d % len(frames)]
            for rec in frame.to_dict("records"):
                grade, notes = split_quality(str(rec["quality"]))
                vals = [None if not np.isfinite(rec[c]) else float(rec[c]) for c in MARKER_COLUMNS]
                start = datetime.fromtimestamp(rec["window_start_s"], UTC) + timedelta(days=d)
                copy.write_row((pid, start, 300, int(rec["n_beats"]), *vals, grade, notes))
                n += 1
    return n


def add_patient(conn: psycopg.Connection[Any], label: str) -> tuple[uuid.UUID, uuid.UUID]:
    pid = conn.execute(
        "INSERT INTO patients (pseudonym, display_name, timezone) VALUES (%s, %s, %s) RETURNING id",
        (f"BENCH-{label}", label, TZ),
    ).fetchone()["id"]
    did = conn.execute(
        "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
        (pid, secrets.token_bytes(32)),
    ).fetchone()["id"]
    return pid, did


def add_sessions_and_journal(conn: psycopg.Connection[Any], pid: uuid.UUID, n_days: int) -> None:
    for med_day in (n_days // 3, 2 * n_days // 3):
        start = DAY0 + timedelta(days=med_day, hours=10)
        conn.execute(
            "INSERT INTO sessions (patient_id, kind, started_at, ended_at) VALUES (%s, 'medicine', %s, %s)",
            (pid, start, start + timedelta(hours=3)),
        )
        conn.execute(
            "INSERT INTO sessions (patient_id, kind, started_at) VALUES (%s, 'integration', %s)",
            (pid, start + timedelta(days=2, hours=4)),
        )
    for d in range(0, n_days, 1):
        conn.execute(
            "INSERT INTO journal_entries (patient_id, at, text, tags, mood, body) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                pid,
                DAY0 + timedelta(days=d, hours=20),
                f"evening note {d}",
                ["sleep", "walk"],
                d % 11,
                (d * 3) % 11,
            ),
        )


async def measure(
    base: str, token: str, pid: uuid.UUID, n_days: int, requests: int
) -> dict[str, list[float]]:
    headers = {"Authorization": f"Bearer {token}"}
    params = {
        "start": DAY0.isoformat(),
        "end": (DAY0 + timedelta(days=n_days)).isoformat(),
    }
    one_day = {"start": (DAY0 + timedelta(days=n_days - 1)).isoformat(), "end": params["end"]}
    out: dict[str, list[float]] = {"timeline": [], "daily": [], "windows (1 day)": []}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for name, path, p in (
            ("timeline", "timeline", params),
            ("daily", "daily", params),
            ("windows (1 day)", "windows", one_day),
        ):
            url = f"/v1/patients/{pid}/{path}"
            for i in range(requests + 10):
                t0 = time.perf_counter()
                resp = await client.get(url, params=p, headers=headers)
                dt = time.perf_counter() - t0
                if resp.status_code != 200:
                    raise SystemExit(f"{path}: {resp.status_code} {resp.text[:300]}")
                if i >= 10:  # warm-up excluded
                    out[name].append(dt * 1000)
            if name == "timeline":
                body = resp.json()
                print(
                    f"timeline body: {len(body['daily'])} days, {len(body['sessions'])} sessions, "
                    f"{len(body['journal'])} journal entries, {len(body['wear_segments'])} wear segments, "
                    f"{len(resp.content) / 1024:.0f} KiB"
                )
    return out


def direct_sql(db_url: str, pid: uuid.UUID, n_days: int, requests: int) -> None:
    """The endpoints' queries alone (no HTTP, no auth): how much of the latency is the database."""
    params = {"patient_id": pid, "start": DAY0, "end": DAY0 + timedelta(days=n_days)}
    with psycopg.connect(db_url, autocommit=True) as conn:
        for name in ("timeline_json", "daily_all"):
            lat = []
            for i in range(requests + 10):
                t0 = time.perf_counter()
                conn.execute(q(name), params).fetchone()
                if i >= 10:
                    lat.append((time.perf_counter() - t0) * 1000)
            lat.sort()
            print(
                f"SQL {name:16s} p50 {statistics.median(lat):6.1f} ms  "
                f"p95 {lat[int(0.95 * (len(lat) - 1))]:6.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="14 days, 5 others, 50 requests")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--distinct-days", type=int, default=4)
    parser.add_argument("--others", type=int, default=5, help="other patients (windows + daily)")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    if args.quick:
        args.days, args.distinct_days, args.others, args.requests = 14, 2, 5, 50

    db_url = create_db(args.admin_url)
    server: Any = None
    try:
        upgrade(db_url)
        t0 = time.perf_counter()
        days = [simulate_day(seed) for seed in range(1, args.distinct_days + 1)]
        frames = [day_windows(*d) for d in days]
        print(f"analysis of {args.distinct_days} distinct days: {time.perf_counter() - t0:.1f} s")
        with psycopg.connect(db_url, autocommit=True, row_factory=dict_row) as conn:
            t0 = time.perf_counter()
            pid, did = add_patient(conn, "MAIN01")
            with conn.transaction():
                n_beats = copy_beats(conn, pid, did, days, args.days)
                n_windows = copy_windows(conn, pid, frames, args.days)
                add_sessions_and_journal(conn, pid, args.days)
                n_days = recompute_daily(conn, pid, TZ)
                conn.execute(q("wear_segments_rebuild"), {"patient_id": pid})
            print(
                f"patient: {n_beats:,} beats, {n_windows:,} windows, {n_days} daily values "
                f"loaded in {time.perf_counter() - t0:.1f} s"
            )
            t0 = time.perf_counter()
            for i in range(args.others):
                opid, odid = add_patient(conn, f"OTHER{i:03d}")
                with conn.transaction():
                    copy_beats(conn, opid, odid, days[:1], 1)
                    copy_windows(conn, opid, frames, args.days)
                    add_sessions_and_journal(conn, opid, args.days)
                    recompute_daily(conn, opid, TZ)
                    conn.execute(q("wear_segments_rebuild"), {"patient_id": opid})
            conn.execute("ANALYZE")
            print(f"{args.others} other patients loaded in {time.perf_counter() - t0:.1f} s")
            uid = conn.execute(
                "INSERT INTO users (email, password_hash, role) VALUES ('bench@example.org', 'x', 'therapist') RETURNING id"
            ).fetchone()["id"]
            conn.execute(
                "INSERT INTO therapist_assignments (therapist_id, patient_id) VALUES (%s, %s)",
                (uid, pid),
            )
        direct_sql(db_url, pid, args.days, args.requests)
        token = issue_access_token(SECRET, uid, "therapist", 3600)
        port = free_port()
        server = start_server(db_url, port, SECRET)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_ready(base))
        results = asyncio.run(measure(base, token, pid, args.days, args.requests))
        for name, lat in results.items():
            lat.sort()
            p95 = lat[int(0.95 * (len(lat) - 1))]
            print(
                f"{name:16s} {args.days} days: p50 {statistics.median(lat):6.1f} ms  "
                f"p95 {p95:6.1f} ms  ({len(lat)} sequential requests; goal p95 ≤ 50 ms)"
            )
    finally:
        stop_server(server)
        drop_db(args.admin_url, db_url)


if __name__ == "__main__":
    main()
