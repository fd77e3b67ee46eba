"""``somatrace user create``: make an account from the command line (the first admin, typically).

It works while ``somatrace serve`` runs: with ``SOMATRACE_DATABASE_URL`` both use that database; with the
embedded database it connects to the PostgreSQL the server runs in the data dir. Patients get their login
from their therapist's invitation, not here.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import psycopg
import typer

from api.auth.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    hash_password,
)
from api.commands.db import load_settings
from api.db import migrate
from api.db.embedded import running_conninfo
from api.db.pool import connect_sync
from api.db.queries import q
from api.db.runtime import check_reachable, database
from api.errors import Conflict, DataDirLocked, InvalidInput
from api.routes.fields import EMAIL_PATTERN, MAX_EMAIL_CHARS
from api.settings import Settings

user_app = typer.Typer(help="User accounts.", no_args_is_help=True)

#: Roles this command creates; patient logins belong to a patient and come from their therapist.
CLI_ROLES = ("admin", "therapist", "researcher")


def validate_email(email: str) -> str:
    """The trimmed address, or ``InvalidInput`` naming what is wrong with it."""
    value = email.strip()
    if len(value) > MAX_EMAIL_CHARS or re.fullmatch(EMAIL_PATTERN, value) is None:
        raise InvalidInput(f"--email: {email!r} is not an email address like name@example.org")
    return value


def validate_role(role: str) -> str:
    """``role`` if this command can create it, else ``InvalidInput`` listing the choices."""
    if role == "patient":
        raise InvalidInput(
            "--role: patients get their login from their therapist's invitation "
            "(the patient's page: Login, straps and consent)"
        )
    if role not in CLI_ROLES:
        raise InvalidInput(f"--role: {role!r} is not one of {', '.join(CLI_ROLES)}")
    return role


def validate_password(password: str, email: str | None = None) -> str:
    """``password`` if the policy accepts it for ``email`` (``check_password``), else ``InvalidInput``."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"the password must have {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    if "\x00" in password:
        raise InvalidInput("the password must not contain NUL characters")
    check_password(password, email=email)
    return password


@contextmanager
def command_database(settings: Settings) -> Iterator[str]:
    """The database for a short command: like ``api.db.runtime.database``, but when a running server
    owns the embedded database in the data dir, its PostgreSQL (no second one can start there)."""
    with ExitStack() as stack:
        try:
            conninfo = stack.enter_context(database(settings))
        except DataDirLocked as locked:
            running = running_conninfo(settings.data_dir)
            if running is None:
                raise DataDirLocked(
                    f"{locked.message}. Its database is not running yet (it may be starting): try again "
                    "in a moment, or stop that process and run this command on its own",
                    data_dir=str(settings.data_dir),
                ) from None
            check_reachable(running, setting="SOMATRACE_DATA_DIR (the running server's database)")
            conninfo = running
        yield conninfo


def read_password(from_stdin: bool) -> str:
    """The password from the first line of stdin, or asked for twice on the terminal."""
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@user_app.command("create")
def create(
    email: str = typer.Option(
        ..., "--email", metavar="EMAIL", help="Login email (unique, case-insensitive)."
    ),
    role: str = typer.Option(
        ..., "--role", metavar="admin|therapist|researcher", help="The account's role."
    ),
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Read the password from the first line of stdin."
    ),
    display_name: str | None = typer.Option(
        None, "--name", metavar="NAME", help="Name shown in the dashboard."
    ),
) -> None:
    """Create an account; the database schema is brought up to date first."""
    address = validate_email(email)
    chosen_role = validate_role(role)
    password = validate_password(read_password(password_stdin), address)
    settings = load_settings()
    with command_database(settings) as conninfo:
        migrate.upgrade(conninfo)
        with connect_sync(conninfo) as conn:
            try:
                row = conn.execute(
                    q("users_insert"),
                    {
                        "email": address,
                        "password_hash": hash_password(password),
                        "role": chosen_role,
                        "display_name": display_name,
                        "patient_id": None,
                    },
                ).fetchone()
            except psycopg.errors.UniqueViolation:
                raise Conflict(f"an account with the email {address} already exists") from None
    assert row is not None
    typer.echo(f"created {chosen_role} {address} (id {row['id']})")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
