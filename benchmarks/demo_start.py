"""Time from ``somatrace demo`` to data: the first complete patient (URL printed) and the whole demo.

Starts the real command (embedded PostgreSQL, ingest, analysis worker, server) as a new user would,
with its output to a pipe, and times its lines from the moment the process was spawned, so Python's
start-up and imports count too. The machine's load is printed beside the figures: on a shared 2-core
machine they move with what else runs.

    python benchmarks/demo_start.py [--days 42] [--runs 1]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SOMATRACE = Path(sys.executable).with_name("somatrace")
#: The demo's own lines this benchmark times.
FIRST_READY = re.compile(r"First patient ready after ([\d.]+) s")
ALL_READY = re.compile(r"Somatrace demo running at (http://\S+)")
SUMMARY = re.compile(r"Demo summary: .*beats_stored=(\d+) windows_computed=(\d+)")
#: The issue's target for the first complete patient, s.
TARGET_FIRST_S = 30.0


@dataclass
class Run:
    first_s: float
    first_own_s: float
    all_s: float
    beats: int
    windows: int
    load_before: tuple[float, float, float]
    load_at_first: tuple[float, float, float]
    load_after: tuple[float, float, float]


def one_run(days: int) -> Run:
    load_before = os.getloadavg()
    days_arg = ("--days", str(days))
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="somatrace-bench-demo-") as home:
        proc = subprocess.Popen(
            [str(SOMATRACE), "demo", "--headless", "--duration", "3", "--port", "0", *days_arg],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=home,
            env={**os.environ, "HOME": home},
        )
        assert proc.stdout is not None
        first_s = first_own_s = all_s = 0.0
        beats = windows = 0
        load_at_first = load_before
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            now = time.monotonic() - started
            if (m := FIRST_READY.search(line)) is not None:
                first_s, first_own_s = now, float(m.group(1))
                load_at_first = os.getloadavg()
            elif ALL_READY.search(line) is not None:
                all_s = now
            elif (m := SUMMARY.search(line)) is not None:
                beats, windows = int(m.group(1)), int(m.group(2))
        code = proc.wait(timeout=600)
    if code != 0 or not first_s or not all_s:
        sys.exit(f"demo failed (exit {code}):\n{''.join(lines[-40:])}")
    return Run(
        first_s, first_own_s, all_s, beats, windows, load_before, load_at_first, os.getloadavg()
    )


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=42, help="simulated days per patient")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"somatrace demo --days {args.days}; {os.cpu_count()} CPUs", flush=True)
    print(
        f"uptime before: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
    )
    for i in range(args.runs):
        r = one_run(args.days)
        verdict = "within" if r.first_s <= TARGET_FIRST_S else "over"
        print(
            f"run {i + 1}: first complete patient {r.first_s:.1f} s after spawn "
            f"(demo's own clock {r.first_own_s:.1f} s; {verdict} the {TARGET_FIRST_S:.0f} s target); "
            f"whole demo {r.all_s:.1f} s; {r.beats:,} beats, {r.windows:,} windows",
            flush=True,
        )
        print(
            f"       load average (1/5/15 min): before {_load(r.load_before)}, "
            f"at first patient {_load(r.load_at_first)}, after {_load(r.load_after)}"
        )
    print(
        f"uptime after: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}"
    )


if __name__ == "__main__":
    main()
