"""``somatrace import FILE --server ...``: send a beat file (Apple Health export, FIT, Polar, Elite
HRV, HRV4Training, Kubios RR text) to a Somatrace server as the patient or their therapist.

The server detects the format, stores it with its provenance and answers what it stored
(``api.routes.imports``); this command only logs in, uploads and prints the answer.
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console

from api.errors import SomatraceError

console = Console()


class ImportFailed(SomatraceError):
    """The server refused the file or could not be reached."""

    status = 502
    code = "import_failed"


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason_phrase


def _patient_id(client: httpx.Client, headers: dict[str, str], patient: str | None) -> str:
    response = client.get("/v1/patients", headers=headers)
    if response.status_code != 200:
        raise ImportFailed(f"cannot list patients ({response.status_code}): {_message(response)}")
    rows: list[dict[str, Any]] = response.json()
    if patient is None:
        if len(rows) == 1:
            return str(rows[0]["id"])
        raise typer.BadParameter(
            "this account reaches several patients: pass --patient ID or pseudonym"
        )
    for row in rows:
        if patient in (str(row["id"]), row.get("pseudonym")):
            return str(row["id"])
    raise ImportFailed(f"no patient {patient!r} among the ones this account reaches")


def import_file(
    file: Path = typer.Argument(
        ...,
        exists=True,
        dir_okay=False,
        readable=True,
        help="The file to import.",
    ),
    server: str = typer.Option(
        "http://127.0.0.1:8000", metavar="URL", help="Somatrace server URL."
    ),
    email: str | None = typer.Option(
        None, metavar="EMAIL", help="Your account (password read from stdin)."
    ),
    token: str | None = typer.Option(
        None, metavar="TOKEN", help="An access token instead of --email."
    ),
    patient: str | None = typer.Option(
        None, metavar="PATIENT", help="Patient id or pseudonym (a therapist must give it)."
    ),
    start: datetime | None = typer.Option(
        None,
        metavar="DATETIME",
        help="Start of a file without absolute time (Kubios RR text), ISO 8601 with offset.",
    ),
) -> None:
    """Import a beat file; prints what the server stored (a re-import stores nothing twice)."""
    if (email is None) == (token is None):
        raise typer.BadParameter("give either --email (password on stdin) or --token")
    try:
        with httpx.Client(
            base_url=server, timeout=httpx.Timeout(30.0, read=1800.0, write=1800.0)
        ) as client:
            if token is None:
                login = client.post(
                    "/v1/auth/token",
                    data={"username": email, "password": sys.stdin.readline().rstrip("\n")},
                )
                if login.status_code != 200:
                    raise ImportFailed(f"login failed ({login.status_code}): {_message(login)}")
                token = str(login.json()["access_token"])
            headers = {"Authorization": f"Bearer {token}"}
            pid = _patient_id(client, headers, patient)
            data = {"start": start.isoformat()} if start is not None else {}
            with file.open("rb") as fh:
                response = client.post(
                    f"/v1/patients/{pid}/imports",
                    files={"file": (file.name, fh)},
                    data=data,
                    headers=headers,
                )
    except httpx.HTTPError as exc:
        raise ImportFailed(f"cannot reach {server}: {exc}") from exc
    if response.status_code != 201:
        raise ImportFailed(f"import refused ({response.status_code}): {_message(response)}")
    body = response.json()
    console.print(
        f"{body['file_name']}: {body['source']} — {body['beats']} beats "
        f"({body['accepted']} new, {body['duplicates']} already stored, {body['skipped']} skipped), "
        f"{body['first'] or '–'} to {body['last'] or '–'}; import {body['import_id']}",
        highlight=False,
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    app.command("import")(import_file)
