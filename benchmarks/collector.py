"""Collector CPU cost per recorded hour: parse (0x2A37) + beat clock + spool commit, per strap.

Replays tests/data/polar_h10_rr.csv (real Polar H10 RR, tiled to the requested duration) as a strap
sends it: ~1 notification per second with 1-2 RR values each, one spool transaction per
notification (what the recorder does). Prints CPU seconds (time.process_time) per recorded hour
and the share of one core; the goal is <= 1 %.

Usage: python -m benchmarks.collector [--hours 1.0] [--spool-dir DIR]   (from the repository root;
``python benchmarks/collector.py`` works too).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path

# Run as a script, this file's own directory comes first on sys.path and its name would shadow
# the ``collector`` package; drop it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from collector.beats import BeatClock  # noqa: E402
from collector.gatt import parse_heart_rate_measurement  # noqa: E402
from collector.quirks import profile_for  # noqa: E402
from collector.spool import Spool  # noqa: E402
from collector.uploader import batch_payload  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "polar_h10_rr.csv"


def load_notifications() -> list[list[int]]:
    """RR values (ms) grouped into the notifications they arrived in."""
    groups: list[list[int]] = []
    with DATA.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["hr_bpm"] or not groups:
                groups.append([int(row["rr_ms"])])
            else:
                groups[-1].append(int(row["rr_ms"]))
    return groups


def build_stream(hours: float) -> tuple[list[tuple[float, bytes]], int, float]:
    """(arrival offset s, packet) pairs covering ``hours`` of beats; beat count; seconds covered."""
    groups = load_notifications()
    stream: list[tuple[float, bytes]] = []
    t_ms = 0.0
    beats = 0
    target_ms = hours * 3600 * 1000
    i = 0
    while t_ms < target_ms:
        rr = groups[i % len(groups)]
        i += 1
        t_ms += sum(rr)
        packet = bytearray([0x16, round(60000 / rr[-1]) & 0xFF])
        for value in rr:
            packet += round(value * 1.024).to_bytes(2, "little")
        stream.append((t_ms / 1000, bytes(packet)))
        beats += len(rr)
    return stream, beats, t_ms / 1000


def run(hours: float, spool_dir: Path) -> None:
    stream, n_beats, covered_s = build_stream(hours)
    spool = Spool(spool_dir / "bench-spool.sqlite3")
    clock = BeatClock(profile_for("Polar Electro Oy", "Polar H10"))
    base_s = time.time()
    clock.on_connect(base_s)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for offset_s, packet in stream:
        m = parse_heart_rate_measurement(packet)
        out = clock.on_notification(m, base_s + offset_s)
        spool.append(out.beats, out.gaps, out.dropped)
    cpu_s = time.process_time() - cpu0
    wall_s = time.perf_counter() - wall0
    stats = spool.stats()
    # Preparing the hour for upload (batches of 5000 + JSON bodies), without the network.
    up0 = time.process_time()
    bodies = 0
    while (batch := spool.next_batch(5000)) is not None:
        bodies += len(json.dumps(batch_payload(batch)))
        spool.mark_sent(batch.batch_id)
    upload_cpu_s = time.process_time() - up0
    spool.close()
    recorded_h = covered_s / 3600
    cpu_per_hour = cpu_s / recorded_h
    print(f"notifications        {len(stream)}")
    print(f"beats spooled        {stats.spooled} of {n_beats} (dropped {stats.dropped})")
    print(f"recorded duration    {recorded_h:.3f} h")
    print(f"CPU time             {cpu_s:.3f} s (wall {wall_s:.3f} s incl. fsync waits)")
    print(f"CPU per recorded h   {cpu_per_hour:.3f} s")
    print(f"share of one core    {cpu_per_hour / 3600 * 100:.4f} %  (goal <= 1 %)")
    print(f"per notification     {cpu_s / len(stream) * 1e6:.1f} us CPU")
    print(
        f"upload preparation   {upload_cpu_s:.3f} s CPU per recorded hour "
        f"({bodies / 1e6:.2f} MB of JSON; batching + mark_sent, no network)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=1.0, help="recorded hours to replay")
    parser.add_argument("--spool-dir", type=Path, default=None, help="where to put the spool")
    args = parser.parse_args()
    if args.spool_dir is not None:
        args.spool_dir.mkdir(parents=True, exist_ok=True)
        run(args.hours, args.spool_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="somatrace-bench-") as tmp:
            run(args.hours, Path(tmp))


if __name__ == "__main__":
    main()
