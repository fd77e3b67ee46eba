"""Cost of the analysis worker per uploaded beat, 1 h and 12 h into a night (incremental analysis).

One patient's night of simulated beats (``analysis.simulate.simulate_rr``: respiratory sinus arrhythmia,
ectopic and missed beats) is stored in a fresh PostgreSQL database. At 1 h and again at 12 h into the
night the collector's live uploads are replayed (a batch every ``--upload-s`` seconds, as the
uploader sends them) and the real recompute job (``api.worker.recompute.recompute_patient``: windows
of the touched blocks, wear segments, daily values) is timed after each; the printed cost is job
time divided by the beats the upload carried. For contrast it also times ``analysis`` on the whole
night so far, which is what a live upload cost before the worker became incremental.

    python benchmarks/worker.py [--quick] [--uploads 20] [--upload-s 30]

Goal: the cost per beat at 12 h within 2x the cost at 1 h. Timings vary with machine load: the load
average is printed with them.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import statistics
import time
import uuid
from datetime import UTC, datetime

import numpy as np
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from analysis import compute_windows_timed
from analysis.simulate import simulate_rr
from api.db.migrate import upgrade
from api.worker.queue import mark_dirty_sync
from api.worker.recompute import recompute_patient

ADMIN_URL = os.environ.get(
    "SOMATRACE_BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
NIGHT_START = datetime(2026, 1, 5, 22, 0, tzinfo=UTC)


def create_db(admin_url: str) -> str:
    name = f"somatrace_bench_worker_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = psycopg.conninfo.conninfo_to_dict(admin_url)
    return (
        f"postgresql://{parts.get('user', 'postgres')}@{parts.get('host', '127.0.0.1')}:"
        f"{parts.get('port', 5432)}/{name}"
    )


def drop_db(admin_url: str, url: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def night(hours: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Beat times (epoch ms) and RR ticks of ``hours`` of sleep from ``NIGHT_START``."""
    rr_ms = simulate_rr(hours * 3600, seed=seed, mean_hr_bpm=58, ln_rmssd=3.9, start_hour_local=22)
    ticks = np.round(rr_ms * 1024 / 1000).astype(np.int64)
    t_ms = int(NIGHT_START.timestamp() * 1000) + np.round(np.cumsum(ticks) * 1000 / 1024).astype(
        np.int64
    )
    return t_ms, ticks


def store(conn: psycopg.Connection, patient: uuid.UUID, device: uuid.UUID, t_ms, ticks) -> None:  # type: ignore[no-untyped-def]
    """Beats straight into the table (what ingest stores) and the patient marked dirty."""
    with (
        conn.cursor() as cur,
        cur.copy(
            "COPY beats (patient_id, device_id, t, rr_ticks, rr_ms, flags) FROM STDIN"
        ) as copy,
    ):
        for t, r in zip(t_ms.tolist(), ticks.tolist(), strict=True):
            copy.write_row(
                (patient, device, datetime.fromtimestamp(t / 1000, UTC), r, r * 1000 / 1024, 0)
            )
    first = datetime.fromtimestamp(int(t_ms[0]) / 1000, UTC)
    last = datetime.fromtimestamp(int(t_ms[-1]) / 1000, UTC)
    mark_dirty_sync(conn, patient, first, last)


def replay_uploads(  # type: ignore[no-untyped-def]
    conn, patient, device, t_ms, ticks, at_s: float, uploads: int, upload_s: float
) -> list[tuple[float, int]]:
    """Live uploads after ``at_s`` into the night: (job seconds, beats in the upload) for each."""
    t0 = int(NIGHT_START.timestamp() * 1000)
    out = []
    for k in range(uploads):
        lo = t0 + int((at_s + k * upload_s) * 1000)
        hi = lo + int(upload_s * 1000)
        sel = (t_ms >= lo) & (t_ms < hi)
        store(conn, patient, device, t_ms[sel], ticks[sel])
        started = time.perf_counter()
        report = recompute_patient(conn, patient)
        took = time.perf_counter() - started
        assert report is not None and report.windows_written > 0
        out.append((took, int(sel.sum())))
    return out


def whole_night_analysis_s(t_ms: np.ndarray, ticks: np.ndarray, until_s: float) -> float:
    """``analysis`` on everything recorded so far (what each live upload used to cost)."""
    sel = t_ms < int(NIGHT_START.timestamp() * 1000) + int(until_s * 1000)
    t_s = t_ms[sel] / 1000.0
    rr = ticks[sel] * 1000.0 / 1024.0
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        compute_windows_timed(t_s, rr, window_s=300, clean=True, origin_s=0.0)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer uploads (CI smoke run)")
    parser.add_argument("--uploads", type=int, default=20, help="live uploads timed at each point")
    parser.add_argument("--upload-s", type=float, default=30.0, help="seconds of beats per upload")
    args = parser.parse_args()
    uploads = 5 if args.quick else args.uploads
    hours_1, hours_12 = 1.0, 12.0
    t_ms, ticks = night(hours_12 + 1, seed=7)
    url = create_db(ADMIN_URL)
    try:
        upgrade(url)
        with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
            patient = conn.execute(
                "INSERT INTO patients (pseudonym, display_name) VALUES ('BENCH-WORKER', 'bench') "
                "RETURNING id"
            ).fetchone()["id"]
            device = conn.execute(
                "INSERT INTO devices (patient_id, token_hash) VALUES (%s, %s) RETURNING id",
                (patient, os.urandom(32)),
            ).fetchone()["id"]
            results = {}
            done_s = 0.0
            for hours in (hours_1, hours_12):
                at_s = hours * 3600
                sel = (t_ms >= int(NIGHT_START.timestamp() * 1000) + int(done_s * 1000)) & (
                    t_ms < int(NIGHT_START.timestamp() * 1000) + int(at_s * 1000)
                )
                store(conn, patient, device, t_ms[sel], ticks[sel])  # the night so far
                recompute_patient(conn, patient)
                runs = replay_uploads(
                    conn, patient, device, t_ms, ticks, at_s, uploads, args.upload_s
                )
                done_s = at_s + uploads * args.upload_s
                per_beat = [took / n for took, n in runs]
                results[hours] = (
                    statistics.median(per_beat),
                    statistics.median(took for took, _ in runs),
                    statistics.median(n for _, n in runs),
                    whole_night_analysis_s(t_ms, ticks, at_s),
                )
    finally:
        drop_db(ADMIN_URL, url)
    load = os.getloadavg()
    print(f"worker cost per uploaded beat ({uploads} live uploads of {args.upload_s:.0f} s each)")
    print(f"  load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    print("  into the night   per beat    per job   beats/upload   whole-night analysis (old cost)")
    for hours, (per_beat, job, beats, whole) in results.items():
        print(
            f"  {hours:>5.0f} h     {per_beat * 1000:8.2f} ms  {job * 1000:8.1f} ms"
            f"   {beats:8.0f}        {whole * 1000:8.1f} ms"
        )
    ratio = results[hours_12][0] / results[hours_1][0]
    print(f"  12 h / 1 h cost per beat: {ratio:.2f}x (goal: within 2x)")


if __name__ == "__main__":
    main()
