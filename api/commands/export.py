"""``somatrace export``: download a research export from a Somatrace server as a researcher (with progress).

The server decides what may be exported (consent, pseudonyms, audit); this command only fetches and saves it.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TransferSpeedColumn,
)

from api.errors import SomatraceError
from api.export.selection import ExportFormat

err_console = Console(stderr=True)


class ExportFailed(SomatraceError):
    """The server refused or broke off the export."""

    status = 502
    code = "export_failed"


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        return str(body["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def _login(client: httpx.Client, email: str, password: str) -> str:
    response = client.post("/v1/auth/token", data={"username": email, "password": password})
    if response.status_code != 200:
        raise ExportFailed(f"login failed ({response.status_code}): {_server_message(response)}")
    return str(response.json()["access_token"])


def _refuse_empty(
    client: httpx.Client, token: str, params: dict[str, str], start: datetime, end: datetime
) -> None:
    """Ask the server what the export would hold (``GET /v1/cohort/preview``, by UTC days) and stop with
    its reason when that is nothing: no consent, no chosen pseudonym consented, or no recordings."""
    last = (end.astimezone(UTC) - timedelta(microseconds=1)).date()
    query = {**params, "start": start.astimezone(UTC).date().isoformat(), "end": last.isoformat()}
    response = client.get(
        "/v1/cohort/preview", params=query, headers={"Authorization": f"Bearer {token}"}
    )
    if response.status_code != 200:
        raise ExportFailed(f"export refused ({response.status_code}): {_server_message(response)}")
    preview = response.json()
    if preview.get("empty"):
        raise ExportFailed(f"nothing to export: {preview.get('message', '')}")


def export(
    out: Path = typer.Option(
        ..., "--out", "-o", metavar="FILE", help="Where to write the zip archive."
    ),
    format: ExportFormat = typer.Option(
        ExportFormat.csv, "--format", "-f", help="The export's format."
    ),
    start: datetime = typer.Option(
        ..., metavar="DATETIME", help="Start of the period (ISO 8601; UTC when no zone is given)."
    ),
    end: datetime = typer.Option(..., metavar="DATETIME", help="End of the period, exclusive."),
    patients: str | None = typer.Option(
        None, metavar="PSEUDONYMS", help="Comma-separated pseudonyms (default: all consented)."
    ),
    date_shift: bool = typer.Option(
        False, "--date-shift", help="Shift each patient's dates by a secret number of weeks."
    ),
    server: str = typer.Option(
        "http://127.0.0.1:8000", metavar="URL", help="Somatrace server URL."
    ),
    email: str | None = typer.Option(
        None, metavar="EMAIL", help="Researcher account (password read from stdin)."
    ),
    token: str | None = typer.Option(
        None, metavar="TOKEN", help="An access token instead of --email."
    ),
) -> None:
    """Download consented, pseudonymised data as a zip (the researcher role only)."""
    if (email is None) == (token is None):
        raise typer.BadParameter("give either --email (password on stdin) or --token")
    start = start if start.tzinfo else start.replace(tzinfo=UTC)
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    params: dict[str, str] = {
        "format": format.value,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "date_shift": str(date_shift).lower(),
    }
    if patients:
        params["patients"] = patients
    partial = out.with_name(out.name + ".part")
    try:
        with httpx.Client(base_url=server, timeout=httpx.Timeout(30.0, read=300.0)) as client:
            if token is None:
                assert email is not None
                token = _login(client, email, sys.stdin.readline().rstrip("\n"))
            _refuse_empty(client, token, params, start, end)
            with client.stream(
                "GET", "/v1/exports", params=params, headers={"Authorization": f"Bearer {token}"}
            ) as response:
                if response.status_code != 200:
                    response.read()
                    raise ExportFailed(
                        f"export refused ({response.status_code}): {_server_message(response)}"
                    )
                n_patients = response.headers.get("X-Somatrace-Export-Patients", "?")
                with (
                    Progress(
                        SpinnerColumn(),
                        TextColumn(f"exporting {n_patients} patient(s) as {format.value}"),
                        BarColumn(),
                        DownloadColumn(),
                        TransferSpeedColumn(),
                        console=err_console,
                        transient=False,
                    ) as progress,
                    partial.open("wb") as handle,
                ):
                    task = progress.add_task("export", total=None)
                    for data in response.iter_bytes():
                        handle.write(data)
                        progress.advance(task, len(data))
    except httpx.HTTPError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(f"cannot reach {server}: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    err_console.print(f"wrote {out} ({out.stat().st_size:,} bytes)")


def register(app: typer.Typer) -> None:
    app.command("export")(export)
