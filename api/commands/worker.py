"""``somatrace worker``: run the analysis worker, process the queue once, or show its state."""

from __future__ import annotations

import asyncio
import json

import typer

from api.commands.db import load_settings
from api.db import migrate
from api.db.runtime import database


def worker(
    status: bool = typer.Option(
        False, "--status", help="Print job counts and failed or retrying jobs as JSON, then exit."
    ),
    once: bool = typer.Option(False, "--once", help="Process every ready job, then exit."),
    concurrency: int = typer.Option(1, min=1, max=16, help="Jobs run at the same time."),
) -> None:
    """Recompute windows and daily values of patients whose beats changed (runs until stopped)."""
    from api.worker.runner import job_status, run_until_idle, run_worker  # loads the analysis stack

    settings = load_settings()
    with database(settings) as conninfo:
        migrate.upgrade(conninfo)
        if status:
            typer.echo(json.dumps(job_status(conninfo).to_dict(), indent=2))
            return
        if once:
            result = run_until_idle(conninfo)
            typer.echo(json.dumps(result.to_dict(), indent=2))
            if result.problems:
                raise typer.Exit(code=1)
            return
        typer.echo("analysis worker running (Ctrl+C stops it)", err=True)
        asyncio.run(
            run_worker(
                conninfo,
                wait=True,
                concurrency=concurrency,
                install_signal_handlers=True,
                settings=settings,
            )
        )


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
