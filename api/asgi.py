"""The ASGI application built from the environment, for process managers:
``uvicorn --factory api.asgi:app_from_environment`` (what each process of ``somatrace serve --workers N``
runs), or gunicorn with uvicorn workers. Migrations are applied beforehand (``somatrace db upgrade``).
"""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from api.commands.db import load_settings
from api.errors import ConfigError
from api.logs import configure_logging


def app_from_environment() -> FastAPI:
    """The app for ``SOMATRACE_DATABASE_URL`` with logging as configured.

    Raises
    ------
    ConfigError
        No database URL (the embedded database belongs to the ``somatrace serve`` that started it)
        or a placeholder signing secret in production.
    """
    settings = load_settings()
    configure_logging(settings)
    if settings.database_url is None:
        raise ConfigError(
            "SOMATRACE_DATABASE_URL",
            "must be set for a server process started by a process manager",
        )
    settings.signing_secret()  # refuse a weak secret before serving anything
    return create_app(settings, settings.database_url)
