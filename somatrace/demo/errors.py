"""The demo's typed error (a ``SomatraceError``, so the CLI prints one line and exits 1)."""

from __future__ import annotations

from api.errors import SomatraceError


class DemoError(SomatraceError):
    """Seeding or running the demo failed (server refused a request, worker did not finish...)."""

    status = 500
    code = "demo_failed"
