"""``somatrace demo``: the command-line face of ``somatrace.demo.runner`` (which loads only when it runs)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import typer
from rich.console import Console

from somatrace.demo.accounts import DEMO_DAYS, MIN_DEMO_DAYS
from somatrace.demo.progress import SeedProgress

#: Default port of the demo server (``serve`` uses 8000; the demo may run beside it).
DEFAULT_DEMO_PORT = 8765
#: Exit code after Ctrl-C before seeding finished (the shell's convention for SIGINT).
EXIT_INTERRUPTED = 130


def demo(
    headless: bool = typer.Option(
        False,
        "--headless",
        help="Do not wait for a browser: run --duration seconds, print a summary.",
    ),
    duration: float | None = typer.Option(
        None, "--duration", min=1, help="Stop after this many seconds (default: until Ctrl-C)."
    ),
    port: int = typer.Option(
        DEFAULT_DEMO_PORT, "--port", min=0, max=65535, help="0 = any free port."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Bind address."),
    data_dir: Path | None = typer.Option(
        None, "--data-dir", help="Keep the demo database in this new or empty directory."
    ),
    days: int = typer.Option(
        DEMO_DAYS, "--days", min=MIN_DEMO_DAYS, help="Simulated days of history per patient."
    ),
) -> None:
    """Start a self-contained demo: three simulated patients, the dashboard and a live strap."""
    if headless and duration is None:
        raise typer.BadParameter("--headless needs --duration N", param_hint="--duration")
    # In a log or a pipe every line is written at once, not when a buffer fills.
    if not sys.stdout.isatty() and hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(line_buffering=True)
    console = Console()
    progress = SeedProgress(console)
    progress.start()
    from somatrace.demo.runner import StoppedEarly, run_demo

    try:
        summary = asyncio.run(
            run_demo(
                console,
                progress,
                host=host,
                port=port,
                duration_s=duration,
                keep_dir=data_dir,
                days=days,
            )
        )
    except StoppedEarly as exc:
        console.print(str(exc), highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    console.print(
        f"Demo summary: patients={summary.patients} beats_stored={summary.beats_stored} "
        f"windows_computed={summary.windows_computed} daily_values={summary.daily_values} "
        f"live_beats_received={summary.live_beats_received} "
        f"seed_seconds={summary.seed_seconds:.1f} "
        f"first_patient_seconds={summary.first_patient_seconds:.1f}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
