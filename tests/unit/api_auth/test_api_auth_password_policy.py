"""Password policy (issue 14 finding 11): length, estimated strength (zxcvbn), not built on the e-mail."""

from __future__ import annotations

import pytest

from api.auth.passwords import WeakPassword, check_password, password_problem
from api.commands.user import validate_password
from api.errors import InvalidInput


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("aaaaaaaaaa", None),  # the finding's three: all passed a length-only policy
        ("password12", None),
        ("alex@example.org", "alex@example.org"),
        ("qwertyuiop", None),
        ("1234567890", None),
        ("Alex-2026-home", "alex@example.org"),
        ("sam.example.org", "sam@example.org"),
        ("short", None),
    ],
)
def test_weak_or_personal_passwords_are_refused_with_a_reason(
    password: str, email: str | None
) -> None:
    assert password_problem(password, email=email) is not None
    with pytest.raises(WeakPassword) as caught:
        check_password(password, email=email)
    assert caught.value.status == 422 and caught.value.code == "weak_password"
    assert caught.value.fields["errors"][0]["loc"] == ["body", "password"]
    assert "\n" not in caught.value.message


@pytest.mark.parametrize(
    "password", ["correct horse battery", "a-long-password", "river-lantern-90-copper"]
)
def test_passphrases_pass(password: str) -> None:
    check_password(password, email="dr.who@example.org")


def test_display_name_counts_as_personal_input() -> None:
    assert password_problem("Robin Example 1", personal=["Robin Example"]) is not None
    assert password_problem("Robin Example 1") is None


def test_the_cli_uses_the_same_policy() -> None:
    with pytest.raises(InvalidInput):
        validate_password("password12", "root@clinic.example")
    with pytest.raises(InvalidInput):
        validate_password("root@clinic.example", "root@clinic.example")
    assert validate_password("river-lantern-90-copper", "root@clinic.example")
