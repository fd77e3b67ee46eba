"""``/v1/forms``: the rules and messages of the dashboard's forms (``api.form_rules``), and a check of a new
password, so the browser says exactly what the API would. Public: rules are no secret.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.form_rules import FORMS, all_forms_json, password_strength_problem
from api.routes.responses import errors

router = APIRouter(prefix="/v1/forms", tags=["forms"])


class FormsOut(BaseModel):
    forms: dict[str, dict[str, Any]] = Field(
        description="Per form: fields (rules, messages), checks"
    )
    time_zones: list[str] = Field(description="IANA zones a patient's days may be counted in")


class PasswordCheckIn(BaseModel):
    password: str = Field(description="The new password")
    personal: list[str] = Field(
        default_factory=list,
        max_length=8,
        description="The account's email and name, which the password must not contain",
    )


class PasswordCheckOut(BaseModel):
    ok: bool
    message: str | None = Field(description="What the form would say, or null when acceptable")


@router.get("", response_model=FormsOut)
async def forms() -> dict[str, Any]:
    """Every form's fields with their rules and messages, and the accepted time zones."""
    return all_forms_json()


@router.post("/password-check", response_model=PasswordCheckOut, responses=errors(422))
async def password_check(body: PasswordCheckIn) -> PasswordCheckOut:
    """Would this new password be accepted? The same check as invites, resets and first setup."""
    rule = FORMS["password"].fields["password"]
    key = rule.problem(body.password, {"password": body.password})
    message = rule.messages()[key] if key is not None else None
    if message is None:
        message = password_strength_problem(body.password, tuple(p[:256] for p in body.personal))
    return PasswordCheckOut(ok=message is None, message=message)
