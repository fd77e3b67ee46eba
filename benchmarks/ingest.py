"""Ingest throughput through the real HTTP API, against a row-by-row INSERT baseline, in one run.

Starts one uvicorn process (loopback) on a fresh PostgreSQL database, simulates many devices uploading
realistic batches (consecutive beats from ``analysis.simulate.simulate_rr``) with a few requests in
flight, and prints beats/s; then inserts part of the same beats one INSERT per beat (a transaction per
batch) and prints that rate and the ratio. The analysis worker is not running (its jobs are only queued).

    python benchmarks/ingest.py [--quick] [--devices 50] [--batches 4] [--batch-size 5000]
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
import hashlib
import os
import secrets
import socket
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import orjson
import psycopg
from psycopg import sql

from analysis.simulate import simulate_rr
from api.db.migrate import upgrade
from api.db.queries import q

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
T0_MS = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp() * 1000)


def _with_db(url: str, name: str) -> str:
    """``url`` with its database replaced (URL form, as ``Settings.database_url`` requires)."""
    parts = psycopg.conninfo.conninfo_to_dict(url)
    user = parts.get("user", "postgres")
    return f"postgresql://{user}@{parts.get('host', '127.0.0.1')}:{parts.get('port', 5432)}/{name}"


def create_db(admin_url: str) -> str:
    name = f"somatrace_bench_ingest_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return _with_db(admin_url, name)


def drop_db(admin_url: str, url: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def make_devices(db_url: str, n: int) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    """n patients with one device each: (patient_id, device_id, token)."""
    out = []
    with psycopg.connect(db_url, autocommit=True) as conn:
        for i in range(n):
            token = "stdev_" + secrets.token_urlsafe(32)
            row = conn.execute(
                "INSERT INTO patients (pseudonym, display_name) VALUES (%s, %s) RETURNING id",
                (f"BENCH-{i:05d}", f"bench {i}"),
            ).fetchone()
            assert row is not None
            dev = conn.execute(
                "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
                (row[0], hashlib.sha256(token.encode()).digest()),
            ).fetchone()
            assert dev is not None
            out.append((row[0], dev[0], token))
    return out


def device_beats(seed: int, n_beats: int) -> tuple[np.ndarray, np.ndarray]:
    """Consecutive beats of one device: epoch-ms times and 1/1024 s ticks."""
    rr_ms = simulate_rr(n_beats * 1.2, seed=seed)[:n_beats]
    while rr_ms.size < n_beats:  # long enough in practice; extend deterministically if not
        rr_ms = np.concatenate([rr_ms, rr_ms])[:n_beats]
    ticks = np.clip(np.round(rr_ms * 1.024), 205, 3072).astype(np.int64)
    t_ms = T0_MS + seed * 86_400_000 + np.cumsum(np.round(ticks * 1000 / 1024).astype(np.int64))
    return t_ms, ticks


def build_bodies(
    devices: list[tuple[uuid.UUID, uuid.UUID, str]], batches: int, batch_size: int
) -> tuple[list[list[bytes]], list[tuple[np.ndarray, np.ndarray]]]:
    """Pre-encoded request bodies per device (JSON encoding is the collector's cost, not ours)."""
    bodies: list[list[bytes]] = []
    raw: list[tuple[np.ndarray, np.ndarray]] = []
    for i, _ in enumerate(devices):
        t_ms, ticks = device_beats(i + 1, batches * batch_size)
        raw.append((t_ms, ticks))
        mine = []
        for b in range(batches):
            sl = slice(b * batch_size, (b + 1) * batch_size)
            beats = [
                {"t_ms": int(t), "rr_ticks": int(r)}
                for t, r in zip(t_ms[sl].tolist(), ticks[sl].tolist(), strict=True)
            ]
            doc = {
                "batch_id": str(uuid.uuid4()),
                "beats": beats,
                "strap": {"name": "Polar H10 BENCH", "model": "H10", "battery_pct": 90},
            }
            mine.append(orjson.dumps(doc))
        bodies.append(mine)
    return bodies, raw


def serve_api(db_url: str, port: int, data_dir: str, secret: str = "b" * 48) -> None:
    """Run the real app with uvicorn on loopback (the target of a spawned process)."""
    import logging

    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        database_url=db_url,
        data_dir=Path(data_dir),
        secret_key=secret,
        db_pool_max=10,
        worker_in_process=False,
    )
    uvicorn.run(
        create_app(settings, db_url),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def start_server(db_url: str, port: int, secret: str = "b" * 48) -> subprocess.Popen[bytes]:
    """One uvicorn process serving the real app (this script in ``--serve`` mode)."""
    data_dir = Path("/tmp") / f"somatrace-bench-{uuid.uuid4().hex[:8]}"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--serve",
        db_url,
        str(port),
        str(data_dir),
    ]
    return subprocess.Popen([*cmd, secret])


def stop_server(server: subprocess.Popen[bytes] | None) -> None:
    if server is not None and server.poll() is None:
        server.terminate()
        server.wait(10)


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def backend_cpu_s(db_url: str, application_name: str = "") -> float:
    """CPU seconds of the PostgreSQL backends connected to this benchmark's database (not ours)."""
    name = str(psycopg.conninfo.conninfo_to_dict(db_url)["dbname"])
    with psycopg.connect(db_url, autocommit=True) as conn:
        pids = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return sum(proc_cpu_s(int(p[0])) for p in pids)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(base: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the API did not start")


async def drive(
    base: str,
    devices: list[tuple[uuid.UUID, uuid.UUID, str]],
    bodies: list[list[bytes]],
    in_flight: int,
) -> tuple[float, int, list[float]]:
    """Every device uploads its batches in order; ``in_flight`` requests at a time overall."""
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    sem = asyncio.Semaphore(in_flight)
    latencies: list[float] = []
    accepted = 0

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def device_task(token: str, mine: list[bytes]) -> None:
            nonlocal accepted
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            for body in mine:
                async with sem:
                    t0 = time.perf_counter()
                    resp = await client.post("/v1/ingest/beats", content=body, headers=headers)
                    latencies.append(time.perf_counter() - t0)
                if resp.status_code != 200:
                    raise SystemExit(f"ingest failed: {resp.status_code} {resp.text[:300]}")
                accepted += int(resp.json()["accepted"])

        t0 = time.perf_counter()
        await asyncio.gather(
            *(device_task(d[2], mine) for d, mine in zip(devices, bodies, strict=True))
        )
        elapsed = time.perf_counter() - t0
    return elapsed, accepted, latencies


def row_by_row(
    db_url: str,
    devices: list[tuple[uuid.UUID, uuid.UUID, str]],
    raw: list[tuple[np.ndarray, np.ndarray]],
    n_beats: int,
    batch_size: int,
) -> tuple[float, int]:
    """The naive way: one INSERT statement per beat, a transaction per batch (other time range)."""
    done = 0
    shift_ms = 365 * 86_400_000  # a year later: no conflicts with the HTTP run
    with psycopg.connect(db_url, autocommit=True) as conn:
        t0 = time.perf_counter()
        i = 0
        while done < n_beats:
            patient_id, device_id, _ = devices[i % len(devices)]
            t_ms, ticks = raw[i % len(raw)]
            with conn.transaction():
                for t, r in zip(
                    t_ms[:batch_size].tolist(), ticks[:batch_size].tolist(), strict=True
                ):
                    conn.execute(
                        q("ingest_row_by_row_baseline"),
                        {
                            "patient_id": patient_id,
                            "device_id": device_id,
                            "t": datetime.fromtimestamp(
                                (t + shift_ms * (1 + i // len(raw))) / 1000, UTC
                            ),
                            "rr_ticks": r,
                            "rr_ms": r * 1000 / 1024,
                        },
                    )
            done += min(batch_size, t_ms.size)
            i += 1
        return time.perf_counter() - t0, done


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--serve":
        serve_api(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about 10 s)")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--batches", type=int, default=4, help="batches per device")
    parser.add_argument("--batch-size", type=int, default=5_000, help="beats per batch")
    parser.add_argument("--in-flight", type=int, default=8, help="concurrent requests")
    parser.add_argument("--baseline-beats", type=int, default=50_000)
    parser.add_argument("--admin-url", default=ADMIN_URL)
    args = parser.parse_args()
    if args.quick:
        args.devices, args.batches, args.batch_size, args.baseline_beats = 10, 2, 2_000, 10_000

    db_url = create_db(args.admin_url)
    server: subprocess.Popen[bytes] | None = None
    try:
        upgrade(db_url)
        devices = make_devices(db_url, args.devices)
        print(
            f"building {args.devices} devices × {args.batches} batches × {args.batch_size} beats ..."
        )
        bodies, raw = build_bodies(devices, args.batches, args.batch_size)
        port = free_port()
        server = start_server(db_url, port)
        base = f"http://127.0.0.1:{port}"
        asyncio.run(wait_ready(base))
        # warm-up (connections, caches) on one device's first batch, then the real run
        warm = [[bodies[0][0]]]
        asyncio.run(drive(base, devices[:1], warm, 1))
        bodies[0] = bodies[0][1:]
        api_cpu0, pg_cpu0 = proc_cpu_s(server.pid), backend_cpu_s(db_url)
        elapsed, accepted, lat = asyncio.run(drive(base, devices, bodies, args.in_flight))
        api_cpu = proc_cpu_s(server.pid) - api_cpu0
        pg_cpu = backend_cpu_s(db_url) - pg_cpu0
        sent = sum(len(b) for b in bodies) * args.batch_size
        rate = accepted / elapsed
        lat_ms = sorted(x * 1000 for x in lat)
        print(
            f"somatrace HTTP ingest: {accepted:,} beats in {elapsed:.2f} s = {rate:,.0f} beats/s "
            f"({len(lat)} requests of {args.batch_size} beats, {args.in_flight} in flight; "
            f"request p50 {statistics.median(lat_ms):.0f} ms, "
            f"p95 {lat_ms[int(0.95 * (len(lat_ms) - 1))]:.0f} ms)"
        )
        print(
            f"CPU used: API process {api_cpu:.2f} s, its PostgreSQL backends {pg_cpu:.2f} s "
            f"= {accepted / max(api_cpu + pg_cpu, 1e-9):,.0f} beats per CPU-second "
            f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores during the run)"
        )
        if accepted != sent:
            raise SystemExit(f"accepted {accepted} of {sent} beats")
        base_s, base_n = row_by_row(db_url, devices, raw, args.baseline_beats, args.batch_size)
        base_rate = base_n / base_s
        print(
            f"row-by-row INSERT baseline (direct psycopg, one statement per beat, "
            f"transaction per batch): {base_n:,} beats in {base_s:.2f} s = {base_rate:,.0f} beats/s"
        )
        print(
            f"ratio: {rate / base_rate:.1f}× (goal ≥ 20×); goal ≥ 200,000 beats/s per API process"
        )
    finally:
        stop_server(server)
        drop_db(args.admin_url, db_url)


if __name__ == "__main__":
    main()
