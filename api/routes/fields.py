"""Validated field types of the request models: text without NUL, bounded aware times, emails.

Anything PostgreSQL would refuse (NUL in text, years it cannot round-trip) is refused here as 422.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, StringConstraints

from api.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

#: Earliest and latest year accepted for any time (UTC); a beat or session outside is a typo.
MIN_YEAR = 1970
MAX_YEAR = 2100
#: Longest free text (journal entry, session note), in characters.
MAX_TEXT_CHARS = 20_000
#: Longest display name, in characters (matches the schema's CHECK).
MAX_NAME_CHARS = 200
#: Longest email address, in characters (RFC 5321 path limit).
MAX_EMAIL_CHARS = 254
#: ASCII addresses only: local part of RFC 5322 atext and dots, domain of labels.
EMAIL_PATTERN = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$"


def is_storable_text(value: str) -> bool:
    """True when PostgreSQL can store ``value``: valid UTF-8 (no lone surrogates), no NUL."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _no_nul(value: str) -> str:
    if not is_storable_text(value):
        raise ValueError("must be valid Unicode text without NUL characters")
    return value


def _bounded_time(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return value.astimezone(UTC)


def _bounded_utc_time(value: datetime) -> datetime:
    """A query time: without an offset it is UTC; either way within the accepted years."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not MIN_YEAR <= value.astimezone(UTC).year <= MAX_YEAR:
        raise ValueError(f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return value.astimezone(UTC)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _known_zone(value: str) -> str:
    if value not in _zones():
        raise ValueError("must be an IANA time zone name such as Europe/Berlin")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


Text = Annotated[str, StringConstraints(max_length=MAX_TEXT_CHARS), AfterValidator(_no_nul)]
Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_NAME_CHARS),
    AfterValidator(_no_nul),
    AfterValidator(_not_blank),
]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_no_nul)]
Email = Annotated[str, StringConstraints(max_length=MAX_EMAIL_CHARS, pattern=EMAIL_PATTERN)]
Password = Annotated[
    str,
    StringConstraints(min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH),
    AfterValidator(_no_nul),
]
TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]
Time = Annotated[AwareDatetime, AfterValidator(_bounded_time)]
#: A time in a query string: ISO 8601, UTC when it has no offset, years ``MIN_YEAR``-``MAX_YEAR``.
QueryTime = Annotated[datetime, AfterValidator(_bounded_utc_time)]
