"""A 1 GB synthetic Apple Health export imported through the real HTTP API: peak memory and speed.

Writes a realistic ``export.xml`` (the export's DOCTYPE, mostly heart-rate records and an HRV record
with a 60-beat series after every 50 of them, like a watch's background readings; series in 12-hour
locale times, some across midnight), starts one uvicorn process serving the real app on a fresh
PostgreSQL database, uploads the file as the patient (streamed from disk), and prints the server's
peak resident memory before and after (Linux ``VmHWM``), the file size, beats stored, MB/s and
``uptime``'s load. A second upload of the same file shows the re-import path (0 accepted).

    python benchmarks/import_apple_health.py [--size-mb 1024] [--keep FILE]
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import importlib.util
import os
import random
import tempfile
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import psycopg

from api.auth.passwords import hash_password
from api.db.migrate import upgrade


def _load_ingest_benchmark() -> Any:
    """benchmarks/ingest.py as a module (its database and server helpers are shared)."""
    path = Path(__file__).with_name("ingest.py")
    spec = importlib.util.spec_from_file_location("bench_ingest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ingest = _load_ingest_benchmark()
PASSWORD = "bench-import-password"
TZ = timezone(timedelta(hours=1))
DEVICE = (
    "&lt;&lt;HKDevice: 0x283a1c0f0&gt;, name:Apple Watch, manufacturer:Apple Inc., model:Watch, "
    "hardware:Watch6,2, software:9.1&gt;"
)
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary)*)>
<!ATTLIST HealthData locale CDATA #REQUIRED>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
]>
<HealthData locale="en_US">
 <ExportDate value="2026-03-05 09:00:00 +0100"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1990-01-01"/>
"""


def _date(t: datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S %z")


def _clock(t: datetime) -> str:
    h = t.hour % 12 or 12
    return f"{h}:{t.minute:02d}:{t.second:02d}.{t.microsecond // 10_000:02d} {'AM' if t.hour < 12 else 'PM'}"


#: About how many bytes and seconds of records one block (50 heart-rate records and one 60-beat HRV
#: record) takes: the start is chosen so that the last beat lies before now (the API refuses beats in
#: the future), and not before 2000.
BLOCK_BYTES = 27_000
BLOCK_SECONDS = 50 * 270 + 30 + 60
EARLIEST = datetime(2000, 1, 2, tzinfo=TZ)


def export_start(size_bytes: int, now: datetime | None = None) -> datetime:
    """The first record's time: the export's span (size, block rate, 3 % margin) before now."""
    span = timedelta(seconds=1.03 * size_bytes / BLOCK_BYTES * BLOCK_SECONDS)
    start = (now or datetime.now(TZ)) - span - timedelta(days=1)
    return max(EARLIEST, start.replace(hour=0, minute=0, second=0, microsecond=0))


def write_export(path: Path, size_bytes: int, seed: int = 13) -> tuple[int, int]:
    """Write the synthetic export; returns (beats, HRV records)."""
    rng = random.Random(seed)
    t = export_start(size_bytes)
    beats = records = 0
    with path.open("w", encoding="utf-8", buffering=1 << 20) as fh:
        fh.write(HEAD)
        written = len(HEAD)
        while written < size_bytes:
            parts = []
            for _ in range(50):
                t += timedelta(seconds=rng.randint(120, 420))
                parts.append(
                    f' <Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Jane’s Apple Watch" '
                    f'sourceVersion="9.1" device="{DEVICE}" unit="count/min" creationDate="{_date(t)}" '
                    f'startDate="{_date(t)}" endDate="{_date(t)}" value="{rng.randint(52, 110)}">\n'
                    f'  <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="{rng.randint(0, 2)}"/>\n'
                    " </Record>\n"
                )
            start = t + timedelta(seconds=30)
            lines = []
            b = start
            rr_prev = 1000
            for _ in range(60):
                rr = max(450, min(1500, rr_prev + rng.randint(-40, 40)))
                rr_prev = rr
                b += timedelta(milliseconds=rr)
                b = b.replace(microsecond=(b.microsecond // 10_000) * 10_000)
                lines.append(
                    f'   <InstantaneousBeatsPerMinute bpm="{round(60000 / rr)}" time="{_clock(b)}"/>\n'
                )
            parts.append(
                f' <Record type="HKQuantityTypeIdentifierHeartRateVariabilitySDNN" sourceName="Jane’s Apple Watch" '
                f'sourceVersion="9.1" device="{DEVICE}" unit="ms" creationDate="{_date(b)}" '
                f'startDate="{_date(start)}" endDate="{_date(b)}" value="{rng.uniform(20, 80):.5f}">\n'
                "  <HeartRateVariabilityMetadataList>\n"
                + "".join(lines)
                + "  </HeartRateVariabilityMetadataList>\n </Record>\n"
            )
            t = b
            beats += 60
            records += 1
            block = "".join(parts)
            fh.write(block)
            written += len(block.encode())
        fh.write("</HealthData>\n")
    return beats, records


def vm_hwm_mb(pid: int) -> float:
    """Peak resident memory of a process, MiB (Linux /proc/<pid>/status VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def vm_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--size-mb", type=int, default=1024, help="size of the synthetic export, MiB"
    )
    parser.add_argument("--keep", type=Path, help="write the export here and keep it")
    parser.add_argument(
        "--admin-url", default=os.environ.get("SOMATRACE_TEST_ADMIN_URL", _ingest.ADMIN_URL)
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="somatrace-bench-import-") as tmp:
        path = args.keep or Path(tmp) / "export.xml"
        started = time.perf_counter()
        beats, records = write_export(path, args.size_mb * 1024 * 1024)
        size = path.stat().st_size
        print(
            f"synthetic export.xml: {size / 2**20:,.0f} MiB, {records:,} HRV records, {beats:,} beats "
            f"(written in {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        db_url = _ingest.create_db(args.admin_url)
        server = None
        try:
            upgrade(db_url)
            with psycopg.connect(db_url, autocommit=True) as conn:
                row = conn.execute(
                    "INSERT INTO patients (pseudonym, display_name, timezone) "
                    "VALUES ('BENCH-IMPORT', 'Bench', 'Europe/Berlin') RETURNING id"
                ).fetchone()
                assert row is not None
                pid = row[0]
                conn.execute(
                    "INSERT INTO users (email, password_hash, role, patient_id) VALUES (%s, %s, 'patient', %s)",
                    ("bench-import@example.org", hash_password(PASSWORD), pid),
                )
            port = _ingest.free_port()
            base = f"http://127.0.0.1:{port}"
            server = _ingest.start_server(db_url, port)
            asyncio.run(_ingest.wait_ready(base))
            idle_hwm, idle_rss = vm_hwm_mb(server.pid), vm_rss_mb(server.pid)
            with httpx.Client(
                base_url=base, timeout=httpx.Timeout(60.0, read=3600.0, write=3600.0)
            ) as client:
                token = client.post(
                    "/v1/auth/token",
                    data={"username": "bench-import@example.org", "password": PASSWORD},
                ).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}
                for label in ("first import", "re-import"):
                    t0 = time.perf_counter()
                    with path.open("rb") as fh:
                        r = client.post(
                            f"/v1/patients/{pid}/imports",
                            files={"file": ("export.xml", fh)},
                            headers=headers,
                        )
                    elapsed = time.perf_counter() - t0
                    if r.status_code != 201:
                        raise SystemExit(f"{label}: {r.status_code} {r.text[:300]}")
                    body = r.json()
                    print(
                        f"{label}: {elapsed:.1f} s ({size / 2**20 / elapsed:.1f} MiB/s), "
                        f"{body['beats']:,} beats, {body['accepted']:,} accepted, "
                        f"{body['duplicates']:,} duplicates, {body['summaries']:,} SDNN summaries; "
                        f"server peak RSS {vm_hwm_mb(server.pid):.0f} MiB",
                        flush=True,
                    )
            print(
                f"server memory: {idle_rss:.0f} MiB resident when idle (peak {idle_hwm:.0f} MiB), "
                f"peak {vm_hwm_mb(server.pid):.0f} MiB after importing {size / 2**20:,.0f} MiB "
                f"(bounded: the upload is spooled to disk and parsed streaming)"
            )
            print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        finally:
            _ingest.stop_server(server)
            _ingest.drop_db(args.admin_url, db_url)


if __name__ == "__main__":
    main()
