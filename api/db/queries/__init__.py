"""Named SQL queries: ``api/db/queries/*.sql`` files split on ``-- name: <query_name>`` lines.

Queries are static text with ``%(param)s`` placeholders; nothing is ever built by string formatting.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import LiteralString

from api.errors import SomatraceError

_NAME_RE = re.compile(r"^--\s*name:\s*(?P<name>[a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


@lru_cache(maxsize=1)
def _all_queries() -> dict[str, str]:
    queries: dict[str, str] = {}
    for entry in sorted(resources.files("api.db.queries").iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        text = entry.read_text(encoding="utf-8")
        marks = list(_NAME_RE.finditer(text))
        for i, mark in enumerate(marks):
            end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
            body = text[mark.end() : end].strip()
            name = mark["name"]
            if name in queries:
                raise SomatraceError(f"duplicate named query {name!r} in {entry.name}")
            queries[name] = body
    return queries


def q(name: str) -> LiteralString:
    """The SQL text of the named query ``name``.

    Raises
    ------
    SomatraceError
        If no query has that name.
    """
    try:
        return _all_queries()[name]
    except KeyError:
        raise SomatraceError(f"no named query {name!r}") from None
