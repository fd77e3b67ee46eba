"""Load: N emulated collectors uploading live beats at the collector's pace to one, then two API
processes, with the analysis worker running.

Each emulated device behaves like ``collector.uploader`` on a live recording: it wakes about every
``--interval-s`` seconds (the uploader's 5 s minimum between uploads; every beat wakes it), sends the
beats recorded since as one batch with a stable batch id, re-sends the same batch after a 503 or 429
once ``Retry-After`` has passed, and gives up nothing. Per phase it prints throughput, latency
(p50/p99 of every answer), errors (anything but 200 and the back-pressure 503s, which are counted
apart), acknowledged vs stored beats, and the worker's lag (how long the oldest un-analysed beats
waited, sampled every 5 s, and how long the queue took to drain after the load stopped).

    python benchmarks/load.py [--devices 500] [--duration-s 600] [--quick] [--processes 1 2]

``--quick`` runs 1 minute per phase. Goal on this machine: 0 errors, p99 < 200 ms, stored =
acknowledged, lag under a minute at 500 devices. The machine is shared: the load average is printed.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import secrets
import socket
import statistics
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field

import httpx
import numpy as np
import orjson
import psycopg
from prometheus_client.parser import text_string_to_metric_families
from psycopg import sql

from api.db.migrate import upgrade

ADMIN_URL = os.environ.get(
    "SOMATRACE_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
INGEST = "/v1/ingest/beats"


@dataclass
class Device:
    patient_id: uuid.UUID
    token: str
    rng: random.Random
    next_t_ms: int = 0


@dataclass
class Tally:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    acknowledged_beats: int = 0
    acknowledged_batches: int = 0
    shed: int = 0
    lag_samples_s: list[float] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def create_db() -> str:
    name = f"somatrace_bench_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
    return (
        f"postgresql://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:"
        f"{parts.get('port', 5432)}/{name}"
    )


def drop_db(url: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def make_devices(url: str, n: int, tag: str) -> list[Device]:
    devices = []
    with psycopg.connect(url, autocommit=True) as conn:
        for i in range(n):
            token = "stdev_" + secrets.token_urlsafe(32)
            row = conn.execute(
                "INSERT INTO patients (pseudonym, display_name) VALUES (%s, %s) RETURNING id",
                (f"LOAD-{tag.upper()}-{i:05d}", f"load {tag} {i}"),
            ).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s)",
                (row[0], hashlib.sha256(token.encode()).digest()),
            )
            devices.append(Device(row[0], token, random.Random(i * 7919 + len(tag))))
    return devices


def beats_until(device: Device, until_ms: int) -> list[dict[str, int]]:
    """The beats a strap reported up to ``until_ms``: ~62 bpm with breathing-like variability."""
    beats = []
    while device.next_t_ms + 1200 <= until_ms:
        rr_ms = 968 + 60 * np.sin(device.next_t_ms / 4000.0) + device.rng.gauss(0, 25)
        ticks = round(max(300.0, rr_ms) * 1024 / 1000)
        device.next_t_ms += round(ticks * 1000 / 1024)
        beats.append({"t_ms": device.next_t_ms, "rr_ticks": ticks})
    return beats


class Connection:
    """One collector's keep-alive HTTP/1.1 connection (asyncio streams: a light client, so the load
    generator sharing the machine's cores costs little next to the server it measures)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()
        self.reader = self.writer = None

    async def post(self, path: str, body: bytes, token: str) -> tuple[int, dict[str, str], bytes]:
        """One request; a kept-alive connection the server closed meanwhile is opened again once
        (as every HTTP client does), so only a failure on a fresh connection counts."""
        if self.writer is not None:
            try:
                return await self._exchange(path, body, token)
            except (OSError, ConnectionError, asyncio.IncompleteReadError):
                await self.close()
        return await self._exchange(path, body, token)

    async def _exchange(
        self, path: str, body: bytes, token: str
    ) -> tuple[int, dict[str, str], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, headers, payload


async def run_device(
    host: str, port: int, device: Device, tally: Tally, stop_at: float, interval_s: float
) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(device.rng.uniform(0, interval_s))  # devices were started at random times
    device.next_t_ms = int(time.time() * 1000) - 10_000
    conn = Connection(host, port)
    pending: bytes | None = None
    try:
        while loop.time() < stop_at or pending is not None:
            if pending is None:
                beats = beats_until(device, int(time.time() * 1000))
                if not beats:
                    await asyncio.sleep(0.5)
                    continue
                pending = orjson.dumps({"batch_id": str(uuid.uuid4()), "beats": beats})
            sent = loop.time()
            try:
                status, headers, payload = await asyncio.wait_for(
                    conn.post(INGEST, pending, device.token), timeout=30
                )
            except (OSError, ConnectionError, TimeoutError, asyncio.IncompleteReadError) as exc:
                tally.latencies_s.append(loop.time() - sent)
                tally.errors.append(f"{type(exc).__name__}: {exc}")
                await conn.close()
                await asyncio.sleep(device.rng.uniform(0.5, 1.0) * interval_s)
                continue
            tally.latencies_s.append(loop.time() - sent)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status == 200:
                tally.acknowledged_batches += 1
                tally.acknowledged_beats += int(orjson.loads(payload)["accepted"])
                pending = None
                delay = device.rng.uniform(0.9, 1.1) * interval_s
            elif status in (429, 503):
                tally.shed += 1
                delay = float(headers.get("retry-after", "1")) * device.rng.uniform(1.0, 1.5)
            else:
                tally.errors.append(f"{status}: {payload[:200]!r}")
                pending = None  # the collector quarantines a refused batch
                delay = interval_s
            await asyncio.sleep(delay)
    finally:
        await conn.close()


def drive_part(args: tuple[str, int, list[Device], float, float]) -> Tally:
    """One load-generator process: its share of the devices, each on its own connection."""
    host, port, devices, duration_s, interval_s = args

    async def run() -> Tally:
        tally = Tally()
        stop_at = asyncio.get_running_loop().time() + duration_s
        await asyncio.gather(
            *(run_device(host, port, d, tally, stop_at, interval_s) for d in devices)
        )
        return tally

    return asyncio.run(run())


def drive(
    port: int, url: str, devices: list[Device], duration_s: float, interval_s: float, clients: int
) -> Tally:
    """Run the devices from ``clients`` processes while the main process samples the worker lag."""
    import multiprocessing

    shares = [devices[i::clients] for i in range(clients)]
    lag = Tally()
    stop = threading.Event()

    def sample() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.wait(5):
                row = conn.execute(
                    "SELECT coalesce(extract(epoch FROM now() - min(dirty_since)), 0)"
                    " FROM analysis_dirty"
                ).fetchone()
                lag.lag_samples_s.append(float(row[0]) if row else 0.0)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(clients) as pool:
        parts = pool.map(
            drive_part, [("127.0.0.1", port, share, duration_s, interval_s) for share in shares]
        )
    stop.set()
    sampler.join()
    total = Tally(lag_samples_s=lag.lag_samples_s)
    for part in parts:
        total.latencies_s += part.latencies_s
        total.errors += part.errors
        total.acknowledged_beats += part.acknowledged_beats
        total.acknowledged_batches += part.acknowledged_batches
        total.shed += part.shed
        for code, n in part.statuses.items():
            total.statuses[code] = total.statuses.get(code, 0) + n
    return total


def wait_drained(url: str, timeout_s: float) -> float | None:
    """Seconds until no patient waits for analysis (None: not within ``timeout_s``)."""
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() - started < timeout_s:
            row = conn.execute("SELECT count(*) FROM analysis_dirty").fetchone()
            if row is not None and row[0] == 0:
                return time.monotonic() - started
            time.sleep(1)
    return None


def stored_beats(url: str, devices: list[Device]) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM beats WHERE patient_id = ANY(%s)",
            ([d.patient_id for d in devices],),
        ).fetchone()
    return int(row[0]) if row else 0


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    out = log.open("wb")
    return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ingest_histogram(base_url: str) -> dict[float, float]:
    """Cumulative bucket counts of the server's own ingest latency (``GET /metrics``)."""
    text = httpx.get(f"{base_url}/metrics", timeout=30).text
    buckets: dict[float, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "somatrace_http_request_duration_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket") and sample.labels.get("route") == INGEST:
                le = float(sample.labels["le"])
                buckets[le] = buckets.get(le, 0.0) + sample.value
    return buckets


def histogram_quantile(before: dict[float, float], after: dict[float, float], q: float) -> float:
    """Prometheus' ``histogram_quantile`` over the buckets' growth: linear within a bucket, s."""
    edges = sorted(after)
    counts = [after[e] - before.get(e, 0.0) for e in edges]
    total = counts[-1] if counts else 0.0
    if total <= 0:
        return float("nan")
    rank = q * total
    lower_edge, lower_count = 0.0, 0.0
    for edge, count in zip(edges, counts, strict=True):
        if count >= rank:
            if edge == float("inf"):
                return lower_edge
            return lower_edge + (edge - lower_edge) * (rank - lower_count) / max(
                count - lower_count, 1e-12
            )
        lower_edge, lower_count = edge, count
    return lower_edge


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=500)
    parser.add_argument("--duration-s", type=float, default=600.0, help="load per phase")
    parser.add_argument("--quick", action="store_true", help="1 minute per phase")
    parser.add_argument("--interval-s", type=float, default=5.0, help="upload pace per device")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=2, help="load-generator processes")
    args = parser.parse_args()
    duration = 60.0 if args.quick else args.duration_s
    url = create_db()
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / f"somatrace-load-{uuid.uuid4().hex[:6]}"
    workdir.mkdir(parents=True)
    env = {
        **os.environ,
        "SOMATRACE_DATABASE_URL": url,
        "SOMATRACE_SECRET_KEY": secrets.token_urlsafe(32),
        "SOMATRACE_DATA_DIR": str(workdir),
        "SOMATRACE_WORKER_IN_PROCESS": "false",
        "SOMATRACE_LOG_LEVEL": "WARNING",
    }
    cli = [sys.executable, "-m", "somatrace.cli"]
    try:
        upgrade(url)
        worker = start([*cli, "worker"], env, workdir / "worker.log")
        print(
            f"load: {args.devices} emulated collectors, a batch every ~{args.interval_s:.0f} s each, "
            f"{duration:.0f} s per phase, worker running; {os.cpu_count()} cores shared"
        )
        try:
            for processes in args.processes:
                devices = make_devices(url, args.devices, f"p{processes}")
                port = free_port()
                serve = start(
                    [*cli, "serve", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", str(processes)],
                    env,
                    workdir / f"serve{processes}.log",
                )  # fmt: skip
                try:
                    base = f"http://127.0.0.1:{port}"
                    for _ in range(240):
                        try:
                            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                                break
                        except httpx.HTTPError:
                            time.sleep(0.5)
                    load_before = os.getloadavg()
                    hist_before = ingest_histogram(base)
                    began = time.monotonic()
                    tally = drive(port, url, devices, duration, args.interval_s, args.clients)
                    elapsed = time.monotonic() - began
                    load_after = os.getloadavg()
                    hist_after = ingest_histogram(base)
                finally:
                    stop(serve)
                drain_s = wait_drained(url, 600)
                stored = stored_beats(url, devices)
                lat = tally.latencies_s
                ok = tally.statuses.get(200, 0)
                print(f"\n{processes} API process{'es' if processes > 1 else ''}:")
                print(
                    f"  load average before {load_before[0]:.2f}, after {load_after[0]:.2f} "
                    f"(1 min), {load_after[1]:.2f} (5 min)"
                )
                print(
                    f"  throughput  {ok / elapsed:.1f} batches/s, "
                    f"{tally.acknowledged_beats / elapsed:.0f} beats/s acknowledged "
                    f"({len(lat)} requests in {elapsed:.0f} s)"
                )
                print(
                    f"  latency     p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, "
                    f"max {max(lat, default=0) * 1000:.0f} ms (at the clients, all answers)"
                )
                print(
                    "              server side: p50 "
                    f"{histogram_quantile(hist_before, hist_after, 0.5) * 1000:.0f} ms, p99 "
                    f"{histogram_quantile(hist_before, hist_after, 0.99) * 1000:.0f} ms (/metrics)"
                )
                print(
                    f"  answers     {dict(sorted(tally.statuses.items()))}; back-pressure 503/429: "
                    f"{tally.shed}; errors: {len(tally.errors)}"
                )
                for err in tally.errors[:5]:
                    print(f"    {err}")
                print(
                    f"  beats       acknowledged {tally.acknowledged_beats}, stored {stored}"
                    f" ({'equal' if stored == tally.acknowledged_beats else 'DIFFERENT'})"
                )
                lags = tally.lag_samples_s
                drained = f"{drain_s:.0f} s" if drain_s is not None else "not within 600 s"
                print(
                    f"  worker lag  median {statistics.median(lags) if lags else 0:.0f} s, "
                    f"max {max(lags, default=0):.0f} s while loaded; queue drained {drained} "
                    "after the load stopped"
                )
        finally:
            stop(worker)
    finally:
        drop_db(url)
    print(f"\nuptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
