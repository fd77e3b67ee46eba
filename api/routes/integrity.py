"""Maps PostgreSQL integrity errors raised by a write to typed 4xx errors (409, 404, 422).

Request models already refuse what they can; this catches what only the database knows (uniqueness).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from api.errors import Conflict, InvalidInput, NotFound


@contextmanager
def integrity_errors(
    conflict: str, *, missing: str = "a referenced record does not exist"
) -> Iterator[None]:
    """Turn unique, foreign-key and check violations inside the block into typed errors."""
    try:
        yield
    except psycopg.errors.UniqueViolation as exc:
        raise Conflict(conflict) from exc
    except psycopg.errors.ForeignKeyViolation as exc:
        raise NotFound(missing) from exc
    except (psycopg.errors.CheckViolation, psycopg.errors.DataError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"the database refused the values: {first}") from exc
