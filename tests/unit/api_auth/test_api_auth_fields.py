"""Request field types refuse what PostgreSQL would choke on; the CLI validators give one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from api.commands.user import validate_email, validate_password, validate_role
from api.errors import InvalidInput
from api.routes.fields import Email, Name, Tag, Text, Time, TimeZone
from api.routes.patients import PSEUDONYM_ALPHABET, new_date_shift_days, new_pseudonym


class Model(BaseModel):
    text: Text | None = None
    name: Name | None = None
    tag: Tag | None = None
    email: Email | None = None
    zone: TimeZone | None = None
    at: Time | None = None


@pytest.mark.parametrize(
    "field,value",
    [
        ("text", "nul \x00 inside"),
        ("text", "lone \ud800 surrogate"),
        ("name", "   "),
        ("name", "x" * 201),
        ("tag", ""),
        ("email", "no-at"),
        ("email", "a b@example.org"),
        ("email", "a@exa mple.org"),
        ("zone", "Mars/Olympus"),
        ("zone", "../etc/passwd"),
        ("at", "2026-01-01T00:00:00"),
        ("at", "0001-01-01T00:00:00+14:00"),
        ("at", "9999-12-31T23:59:59-14:00"),
    ],
)
def test_bad_values_are_refused(field: str, value: str) -> None:
    with pytest.raises(ValidationError):
        Model.model_validate({field: value})


def test_good_values_are_normalised() -> None:
    m = Model.model_validate(
        {
            "text": "ünïcode ok 🙂",
            "name": "Alex",
            "email": "first.last+tag@clinic.example",
            "zone": "America/Argentina/Buenos_Aires",
            "at": "2026-03-01T10:00:00+01:00",
        }
    )
    assert m.at == datetime(2026, 3, 1, 9, 0, tzinfo=UTC) and m.at.utcoffset() is not None


def test_pseudonyms_and_date_shifts_are_random_and_well_formed() -> None:
    pseudonyms = {new_pseudonym() for _ in range(500)}
    assert len(pseudonyms) == 500
    for p in pseudonyms:
        assert p.startswith("ST-") and len(p) == 11
        assert set(p[3:]) <= set(PSEUDONYM_ALPHABET)
        assert not set(p[3:]) & set("01OIL")
    shifts = {new_date_shift_days() for _ in range(500)}
    assert all(s % 7 == 0 and s != 0 and abs(s) <= 364 for s in shifts)
    assert any(s < 0 for s in shifts) and any(s > 0 for s in shifts)


def test_cli_validators() -> None:
    assert validate_email("  admin@clinic.example ") == "admin@clinic.example"
    assert validate_role("researcher") == "researcher"
    assert validate_password("ten chars!") == "ten chars!"
    for call in (
        lambda: validate_email("nope"),
        lambda: validate_role("patient"),
        lambda: validate_role("root"),
        lambda: validate_password("short"),
        lambda: validate_password("x" * 257),
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert "\n" not in str(caught.value)
