"""``somatrace worker``: run the analysis worker, process the queue once, or show or check its state."""

from __future__ import annotations

import asyncio
import json

import typer

from api.commands.db import load_settings
from api.db import migrate
from api.db.runtime import database


def worker(
    status: bool = typer.Option(
        False,
        "--status",
        help="Print job counts, failed, retrying and stalled jobs and live workers as JSON, then exit.",
    ),
    check: bool = typer.Option(
        False,
        "--check",
        help="Exit 0 when a worker is alive and no job is stalled, else 1 (for health checks).",
    ),
    once: bool = typer.Option(False, "--once", help="Process every ready job, then exit."),
    concurrency: int = typer.Option(1, min=1, max=16, help="Jobs run at the same time."),
) -> None:
    """Recompute windows and daily values of patients whose beats changed (runs until stopped,
    reconnecting after database outages)."""
    from api.logs import configure_logging
    from api.worker.runner import job_status, run_until_idle, run_worker_supervised

    settings = load_settings()
    configure_logging(settings)
    with database(settings) as conninfo:
        if status or check:
            result = job_status(conninfo, stalled_after_s=settings.worker_stalled_after_s)
            typer.echo(json.dumps(result.to_dict(), indent=2))
            if check and not result.healthy:
                raise typer.Exit(code=1)
            return
        migrate.upgrade(conninfo)
        if once:
            outcome = run_until_idle(conninfo)
            typer.echo(json.dumps(outcome.to_dict(), indent=2))
            if outcome.problems:
                raise typer.Exit(code=1)
            return
        typer.echo("analysis worker running (Ctrl+C stops it)", err=True)
        asyncio.run(
            run_worker_supervised(
                conninfo,
                concurrency=concurrency,
                install_signal_handlers=True,
                heartbeat_s=settings.worker_heartbeat_s,
                stalled_after_s=settings.worker_stalled_after_s,
                settings=settings,
            )
        )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
