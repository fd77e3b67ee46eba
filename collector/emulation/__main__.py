"""``python -m collector.emulation --port P``: run an emulated strap as a separate process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from pathlib import Path

from collector.emulation.server import serve_strap
from collector.errors import CollectorError


def main(argv: list[str] | None = None) -> int:
    """Parse arguments and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m collector.emulation", description=__doc__)
    parser.add_argument("--port", type=int, required=True, help="TCP port of the central's HCI")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rr-csv", type=Path, help="t_offset_ms,rr_ms,hr_bpm session to loop")
    parser.add_argument("--ecg-npz", type=Path, help="Polar ECG source for the PMD stream")
    parser.add_argument("--name", default="Polar H10 7E3A1F2B")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                serve_strap(
                    args.port,
                    host=args.host,
                    rr_csv=args.rr_csv,
                    ecg_npz=args.ecg_npz,
                    name=args.name,
                )
            )
    except CollectorError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
