"""Export throughput (beats/s) and peak memory for one 90-day, 24 h-wear patient (~8 M beats).

Loads a synthetic patient into a fresh database on the machine's PostgreSQL (COPY), computes one day of
windows with ``analysis`` and repeats them for every day, then runs each export format in a child process
and reports beats/s and the child's peak RSS. A shorter run (``--days``) shows that memory stays flat.

    python benchmarks/export.py               # 90 days (default) and 10 days
    python benchmarks/export.py --days 20 --formats csv parquet
"""

# ruff: noqa: E402 - sys.path must be fixed before the project's packages load.
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and benchmarks/analysis.py would shadow the package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql

ADMIN_URL = os.environ.get(
    "SOMATRACE_TEST_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
START = datetime(2026, 1, 5, tzinfo=UTC)


def _db_url(name: str) -> str:
    return urlunsplit(urlsplit(ADMIN_URL)._replace(path="/" + name))


def load(url: str, days: int) -> tuple[str, int]:
    """One consented patient with ``days`` × 24 h of beats, windows and daily values. Returns its pseudonym."""
    from analysis import compute_windows_timed
    from analysis.simulate import simulate_rr

    rr_day = simulate_rr(86_400, seed=7)
    ticks_day = np.round(rr_day * 1024 / 1000).astype(np.int32)
    ticks_day = ticks_day[(ticks_day > 300) & (ticks_day < 2400)]
    day_ms = np.round(np.cumsum(ticks_day * 1000 / 1024)).astype(np.int64)
    day_ms = day_ms[day_ms < 86_400_000]
    ticks_day = ticks_day[: day_ms.size]
    pid, did = uuid.uuid4(), uuid.uuid4()
    pseudonym = "ST-BENCH" + uuid.uuid4().hex[:4].upper()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO patients (id, pseudonym, display_name, research_consent, date_shift_days) VALUES (%s, %s, 'Bench', true, -28)",
            (pid, pseudonym),
        )
        start_ms = int(START.timestamp() * 1000)
        total = 0
        with conn.cursor().copy(
            "COPY beats (patient_id, device_id, t, rr_ticks, rr_ms, flags) FROM STDIN (FORMAT csv)"
        ) as copy:
            for day in range(days):
                t = (start_ms + day * 86_400_000 + day_ms).astype("datetime64[ms]")
                table = pa.table(
                    {
                        "p": pa.array([str(pid)] * t.size),
                        "d": pa.array([str(did)] * t.size),
                        "t": pa.array(t, type=pa.timestamp("ms", tz="UTC")),
                        "k": pa.array(ticks_day),
                        "m": pa.array(ticks_day * 1000 / 1024),
                        "f": pa.array(np.zeros(t.size, dtype=np.int16)),
                    }
                )
                buf = io.BytesIO()
                pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
                copy.write(buf.getvalue())
                total += t.size
        windows = compute_windows_timed(day_ms / 1000.0, ticks_day * 1000 / 1024, window_s=300)
        cols = [c for c in windows.columns if c not in ("window_start_s", "quality")]
        with conn.cursor() as cur:
            for day in range(days):
                rows = []
                for rec in windows.to_dict("records"):
                    ws = START + timedelta(days=day, seconds=float(rec["window_start_s"]))
                    rows.append(
                        (
                            pid,
                            ws,
                            *[
                                None if isinstance(rec[c], float) and np.isnan(rec[c]) else rec[c]
                                for c in cols
                            ],
                            rec["quality"].split(":")[0],
                        )
                    )
                cur.executemany(
                    sql.SQL(
                        "INSERT INTO hrv_windows (patient_id, window_start, {}, quality) VALUES (%s, %s, {}, %s)"
                    ).format(
                        sql.SQL(", ").join(map(sql.Identifier, cols)),
                        sql.SQL(", ").join(sql.Placeholder() * len(cols)),
                    ),
                    rows,
                )
            cur.executemany(
                "INSERT INTO daily_values (patient_id, day, source, ln_rmssd) VALUES (%s, %s, 'night_median', 3.8)",
                [(pid, (START + timedelta(days=d)).date()) for d in range(days)],
            )
        conn.execute("ANALYZE")
    return pseudonym, total


def child(url: str, fmt: str, days: int) -> None:
    """Run one export into a byte counter; print beats/s and peak RSS as JSON."""
    from api.db.pool import Database
    from api.export.selection import ExportFormat, ExportRequest
    from api.export.service import new_stats, stream_export

    async def run() -> dict[str, float]:
        db = Database(url, min_size=1, max_size=4)
        await db.open()
        request = ExportRequest(
            ExportFormat(fmt), START - timedelta(days=1), START + timedelta(days=days + 1)
        )
        async with db.connection() as conn:
            from api.export.selection import consented_patients

            patients = await consented_patients(conn, request)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stats = new_stats()
        t0 = time.perf_counter()
        n_bytes = 0
        async for data in stream_export(db, request, patients, stats):
            n_bytes += len(data)
        elapsed = time.perf_counter() - t0
        await db.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return {
            "format": fmt,
            "days": days,
            "beats": stats.beats,
            "seconds": elapsed,
            "beats_per_s": stats.beats / elapsed,
            "zip_mb": n_bytes / 1e6,
            "rss_before_mb": rss_before / 1024,
            "peak_rss_mb": peak / 1024,
        }

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, nargs="+", default=[10, 90])
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet", "kubios", "fhir", "omh"])
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "FORMAT", "DAYS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    from api.db.migrate import upgrade

    print(
        f"{'days':>5} {'format':>8} {'beats':>10} {'seconds':>8} {'beats/s':>10} {'zip MB':>8} {'peak RSS MB':>12}"
    )
    for days in args.days:
        name = f"somatrace_bench_export_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        url = _db_url(name)
        try:
            upgrade(url)
            t0 = time.perf_counter()
            _, total = load(url, days)
            print(
                f"# loaded {total:,} beats ({days} days) in {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
            for fmt in args.formats:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", url, fmt, str(days)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{days:>5} {fmt:>8} {r['beats']:>10,} {r['seconds']:>8.1f} {r['beats_per_s']:>10,.0f} {r['zip_mb']:>8.1f} {r['peak_rss_mb']:>12.0f}",
                    flush=True,
                )
        finally:
            with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )


if __name__ == "__main__":
    main()
