"""The rules of every form the dashboard shows, each with its one message: the API enforces them and serves
them (``GET /v1/forms``) so that the browser checks the same things and says them in the same words.

Values are checked as JSON values (what the browser sends): strings, numbers, booleans, lists, null.
Type errors that no form can produce (a number where text belongs) stay pydantic's; who may submit a form
is the routes' business.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Literal

from api.auth.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem
from api.errors import InvalidInput
from api.routes.fields import (
    EMAIL_PATTERN,
    MAX_EMAIL_CHARS,
    MAX_NAME_CHARS,
    MAX_TEXT_CHARS,
    MAX_YEAR,
    MIN_YEAR,
    is_storable_text,
)

Kind = Literal[
    "text",
    "email",
    "password",
    "choice",
    "number",
    "integer",
    "datetime",
    "date",
    "zone",
    "tags",
    "bool",
    "id",
]

#: Most tags on one journal entry, and the longest tag.
MAX_TAGS = 32
MAX_TAG_CHARS = 64
#: Longest label of a strap and longest description of a session's setting.
MAX_LABEL_CHARS = 100
MAX_SETTING_CHARS = 200
#: Largest dose accepted (in mg or mg/kg); the column holds up to 10 digits with 3 decimals.
MAX_DOSE = 10_000
#: Longest span of one research export, days (matches api.export.selection.MAX_EXPORT_SPAN).
MAX_EXPORT_DAYS = 3660
#: Canonical textual UUID (the forms send ids chosen from lists).
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Choices = tuple[tuple[str, str], ...]

SESSION_KINDS: Choices = (
    ("medicine", "Medicine session"),
    ("integration", "Integration appointment"),
    ("other", "Other appointment"),
)
MEDICINES: Choices = (("ketamine", "Ketamine"), ("esketamine", "Esketamine"), ("other", "Other"))
ROUTES: Choices = (
    ("iv", "Intravenous (IV)"),
    ("im", "Intramuscular (IM)"),
    ("intranasal", "Intranasal"),
    ("sublingual_oral", "Sublingual / oral"),
)
DOSE_UNITS: Choices = (("mg", "mg"), ("mg/kg", "mg/kg"))
STAFF_ROLES: Choices = (
    ("therapist", "Therapist"),
    ("researcher", "Researcher"),
    ("admin", "Admin"),
)
EXPORT_FORMATS: Choices = (
    ("csv", "CSV (tables)"),
    ("parquet", "Parquet (tables)"),
    ("kubios", "Kubios RR text"),
    ("fhir", "FHIR R4 Observation bundles"),
    ("omh", "Open mHealth"),
)


@dataclass(frozen=True)
class When:
    """A condition on another field: its value is one of ``values``, or (``values`` empty) it is filled."""

    field: str
    values: tuple[str, ...] = ()

    def holds(self, data: Mapping[str, Any]) -> bool:
        other = data.get(self.field)
        if not self.values:
            return not _empty(other)
        return other in self.values

    def as_json(self) -> dict[str, Any]:
        return {"field": self.field, "values": list(self.values)}


@dataclass(frozen=True)
class FieldRule:
    """What one field of a form must hold, and what to say when it does not.

    ``noun`` completes the required message ("Enter *a name*.", "Choose *a medicine*.").
    """

    label: str
    noun: str
    kind: Kind = "text"
    required: bool = False
    required_when: When | None = None
    only_when: When | None = None
    only_when_message: str = ""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: str = ""
    choices: Choices = ()
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    same_as: str | None = None
    same_as_message: str = ""
    hint: str = ""

    @property
    def verb(self) -> str:
        return "Choose" if self.kind in ("choice", "id", "zone") else "Enter"

    def messages(self) -> dict[str, str]:
        """Every message this rule can give, by problem."""
        out = {"required": f"{self.verb} {self.noun}.", "text": "Use ordinary text only."}
        if self.min_length is not None:
            out["too_short"] = f"Use at least {self.min_length} characters."
        if self.max_length is not None:
            noun = "tags" if self.kind == "tags" else "characters"
            out["too_long"] = f"Use at most {self.max_length} {noun}."
        if self.kind == "tags":
            out["tag_too_long"] = f"Keep each tag to {MAX_TAG_CHARS} characters or fewer."
        if self.pattern is not None:
            out["pattern"] = self.pattern_message
        if self.choices:
            out["choice"] = f"Choose one of: {', '.join(label for _, label in self.choices)}."
        if self.kind == "zone":
            out["choice"] = "Choose a time zone from the list, for example Europe/Berlin."
        if self.kind in ("number", "integer"):
            out["number"] = "Enter a whole number." if self.kind == "integer" else "Enter a number."
        if self.minimum is not None and self.maximum is not None:
            out["range"] = f"Enter a number from {_num(self.minimum)} to {_num(self.maximum)}."
        if self.above is not None:
            most = f" and at most {_num(self.maximum)}" if self.maximum is not None else ""
            out["range"] = f"Enter a number above {_num(self.above)}{most}."
        if self.kind in ("datetime", "date"):
            out["date"] = "Enter a date." if self.kind == "date" else "Enter a date and time."
            out["range"] = f"Enter a date between the years {MIN_YEAR} and {MAX_YEAR}."
            if self.kind == "datetime":
                out["offset"] = "Give the time with its UTC offset, e.g. 2026-03-02T10:00:00+01:00."
        if self.only_when is not None:
            out["only_when"] = self.only_when_message
        if self.same_as is not None:
            out["same_as"] = self.same_as_message
        return out

    def is_required(self, data: Mapping[str, Any]) -> bool:
        return self.required or (self.required_when is not None and self.required_when.holds(data))

    def problem(self, value: Any, data: Mapping[str, Any]) -> str | None:
        """The key of ``messages()`` that ``value`` violates, or None when it is acceptable."""
        if _empty(value):
            return "required" if self.is_required(data) else None
        if self.only_when is not None and not self.only_when.holds(data):
            return "only_when"
        if self.same_as is not None and value != data.get(self.same_as):
            return "same_as"
        check = _CHECKS.get(self.kind, _check_text)
        return check(self, value)

    def as_json(self) -> dict[str, Any]:
        """The rule as the browser's form engine reads it (``api/static/js/forms.js``)."""
        out: dict[str, Any] = {
            "label": self.label,
            "kind": self.kind,
            "required": self.required,
            "messages": self.messages(),
        }
        for name in (
            "min_length",
            "max_length",
            "pattern",
            "minimum",
            "maximum",
            "above",
            "same_as",
            "hint",
        ):
            value = getattr(self, name)
            if value not in (None, ""):
                out[name] = value
        if self.choices:
            out["choices"] = [{"value": v, "label": label} for v, label in self.choices]
        if self.required_when is not None:
            out["required_when"] = self.required_when.as_json()
        if self.only_when is not None:
            out["only_when"] = self.only_when.as_json()
        if self.kind == "tags":
            out["item_max_length"] = MAX_TAG_CHARS
        if self.kind in ("datetime", "date"):
            out["min_year"], out["max_year"] = MIN_YEAR, MAX_YEAR
        return out

    def json_schema(self) -> dict[str, Any]:
        """OpenAPI hints for the request models (documentation; this module enforces)."""
        out: dict[str, Any] = {"title": self.label}
        if self.max_length is not None and self.kind != "tags":
            out["maxLength"] = self.max_length
        if self.choices:
            out["examples"] = [self.choices[0][0]]
        if self.hint:
            out["description"] = self.hint
        return out


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "") or value == []


def _check_text(rule: FieldRule, value: Any) -> str | None:
    if not isinstance(value, str) or not is_storable_text(value):
        return "text"
    text = value.strip()
    if rule.min_length is not None and len(value) < rule.min_length:
        return "too_short"
    if rule.max_length is not None and len(value) > rule.max_length:
        return "too_long"
    if rule.pattern is not None and re.fullmatch(rule.pattern, text) is None:
        return "pattern"
    if rule.choices and text not in {v for v, _ in rule.choices}:
        return "choice"
    return None


def _check_zone(rule: FieldRule, value: Any) -> str | None:
    return None if isinstance(value, str) and value in time_zones() else "choice"


def _check_number(rule: FieldRule, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "number"
    if rule.kind == "integer" and not float(value).is_integer():
        return "number"
    if rule.minimum is not None and value < rule.minimum:
        return "range"
    if rule.maximum is not None and value > rule.maximum:
        return "range"
    if rule.above is not None and value <= rule.above:
        return "range"
    return None


def _check_datetime(rule: FieldRule, value: Any) -> str | None:
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return "date"
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return "range"
    if rule.kind == "datetime" and moment.tzinfo is None:
        return "offset"
    return None


def _check_tags(rule: FieldRule, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        return "text"
    if any(not is_storable_text(t) or not t.strip() for t in value):
        return "text"
    if rule.max_length is not None and len(value) > rule.max_length:
        return "too_long"
    if any(len(t) > MAX_TAG_CHARS for t in value):
        return "tag_too_long"
    return None


def _check_bool(rule: FieldRule, value: Any) -> str | None:
    return None if isinstance(value, bool) else "required"


_CHECKS: dict[str, Callable[[FieldRule, Any], str | None]] = {
    "text": _check_text,
    "email": _check_text,
    "password": _check_text,
    "choice": _check_text,
    "id": _check_text,
    "zone": _check_zone,
    "number": _check_number,
    "integer": _check_number,
    "datetime": _check_datetime,
    "date": _check_datetime,
    "tags": _check_tags,
    "bool": _check_bool,
}


@dataclass(frozen=True)
class After:
    """Cross-field check: ``field`` must be later than ``other`` (or the same, when ``same_ok``).

    Both are compared only when both are filled with times of the same kind (two aware instants or two
    calendar days); ``max_days`` bounds the span between them.
    """

    field: str
    other: str
    message: str
    same_ok: bool = False
    max_days: int | None = None
    max_days_message: str = ""

    def problem(self, data: Mapping[str, Any]) -> str | None:
        first, last = _moment(data.get(self.other)), _moment(data.get(self.field))
        if first is None or last is None or (first.tzinfo is None) != (last.tzinfo is None):
            return None
        if last < first or (last == first and not self.same_ok):
            return self.message
        if self.max_days is not None and (last - first).total_seconds() > self.max_days * 86400:
            return self.max_days_message
        return None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "after", "field": self.field, "other": self.other}
        out["message"] = self.message
        out["same_ok"] = self.same_ok
        if self.max_days is not None:
            out["max_days"] = self.max_days
            out["max_days_message"] = self.max_days_message
        return out


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass(frozen=True)
class Form:
    """The fields of one form and its cross-field checks."""

    title: str
    fields: dict[str, FieldRule]
    checks: tuple[After, ...] = field(default_factory=tuple)

    def problems(self, data: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One error per bad field (``loc``, ``msg``, ``type``, ``field``), in the form's order."""
        found: list[dict[str, Any]] = []
        bad: set[str] = set()
        for name, rule in self.fields.items():
            key = rule.problem(data.get(name), data)
            if key is not None:
                bad.add(name)
                found.append(_error(name, rule.messages()[key], key))
        for check in self.checks:
            if check.field in bad or check.other in bad:
                continue
            message = check.problem(data)
            if message is not None:
                found.append(_error(check.field, message, "after"))
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "fields": {name: rule.as_json() for name, rule in self.fields.items()},
            "checks": [c.as_json() for c in self.checks],
        }


def _error(name: str, message: str, key: str) -> dict[str, Any]:
    return {"loc": ["body", name], "msg": message, "type": f"form.{key}", "field": name}


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    """IANA zone names accepted for a patient's days."""
    return frozenset(zoneinfo.available_timezones()) | {"UTC"}


def _email(label: str = "Email", hint: str = "") -> FieldRule:
    return FieldRule(
        label,
        "an email address",
        kind="email",
        required=True,
        max_length=MAX_EMAIL_CHARS,
        pattern=EMAIL_PATTERN,
        pattern_message="Enter an email address like name@example.org.",
        hint=hint,
    )


def _name(label: str, noun: str, *, required: bool = True) -> FieldRule:
    return FieldRule(label, noun, required=required, max_length=MAX_NAME_CHARS)


def _password() -> FieldRule:
    return FieldRule(
        "New password",
        "a password",
        kind="password",
        required=True,
        min_length=MIN_PASSWORD_LENGTH,
        max_length=MAX_PASSWORD_LENGTH,
        hint=f"At least {MIN_PASSWORD_LENGTH} characters; a few unrelated words are easy to remember.",
    )


_MEDICINE_ONLY = When("kind", ("medicine",))
_ONLY_MEDICINE = "Only a medicine session has this."

FORMS: dict[str, Form] = {
    "account": Form(
        "New account",
        {
            "email": _email(hint="The person signs in with this address."),
            "display_name": _name("Name", "the person's name", required=False),
            "role": FieldRule("Role", "a role", kind="choice", required=True, choices=STAFF_ROLES),
        },
    ),
    "patient": Form(
        "Patient",
        {
            "display_name": _name("Name", "the patient's name"),
            "timezone": FieldRule(
                "Time zone",
                "the patient's time zone",
                kind="zone",
                required=True,
                hint="Days and morning readings are counted in this zone.",
            ),
        },
    ),
    "invite": Form(
        "Invite",
        {"email": _email("Patient's email", "The patient will sign in with this address.")},
    ),
    "password": Form(
        "Set a password",
        {
            "password": _password(),
            "password_confirm": FieldRule(
                "Repeat the password",
                "the password again",
                kind="password",
                required=True,
                same_as="password",
                same_as_message="The two passwords are not the same.",
            ),
        },
    ),
    "session": Form(
        "Session",
        {
            "kind": FieldRule(
                "Kind", "a kind", kind="choice", required=True, choices=SESSION_KINDS
            ),
            "started_at": FieldRule("Start", "the start", kind="datetime", required=True),
            "ended_at": FieldRule("End", "the end", kind="datetime"),
            "medicine": FieldRule(
                "Medicine",
                "a medicine",
                kind="choice",
                choices=MEDICINES,
                required_when=_MEDICINE_ONLY,
                only_when=_MEDICINE_ONLY,
                only_when_message=_ONLY_MEDICINE,
            ),
            "route": FieldRule(
                "Route",
                "a route",
                kind="choice",
                choices=ROUTES,
                required_when=_MEDICINE_ONLY,
                only_when=_MEDICINE_ONLY,
                only_when_message=_ONLY_MEDICINE,
            ),
            "dose": FieldRule(
                "Dose",
                "a dose",
                kind="number",
                above=0,
                maximum=MAX_DOSE,
                required_when=When("dose_unit"),
                only_when=_MEDICINE_ONLY,
                only_when_message=_ONLY_MEDICINE,
            ),
            "dose_unit": FieldRule(
                "Unit",
                "the unit of the dose",
                kind="choice",
                choices=DOSE_UNITS,
                required_when=When("dose"),
                only_when=_MEDICINE_ONLY,
                only_when_message=_ONLY_MEDICINE,
            ),
            "setting": FieldRule(
                "Setting",
                "the setting",
                max_length=MAX_SETTING_CHARS,
                only_when=_MEDICINE_ONLY,
                only_when_message=_ONLY_MEDICINE,
                hint="Where and how, e.g. clinic room, eyeshades and music, therapist present.",
            ),
            "note": FieldRule("Note", "a note", max_length=MAX_TEXT_CHARS),
        },
        (After("ended_at", "started_at", "The end must be after the start."),),
    ),
    "journal": Form(
        "Journal entry",
        {
            "at": FieldRule("When", "when it happened", kind="datetime", required=True),
            "text": FieldRule("Note", "a few words", max_length=MAX_TEXT_CHARS),
            "tags": FieldRule(
                "Tags", "tags", kind="tags", max_length=MAX_TAGS, hint="Separate tags with commas."
            ),
            "mood": FieldRule("Mood", "your mood", kind="integer", minimum=0, maximum=10),
            "body": FieldRule("Body", "how your body feels", kind="integer", minimum=0, maximum=10),
        },
    ),
    "device": Form(
        "Strap",
        {"label": FieldRule("Name for this strap", "a name", max_length=MAX_LABEL_CHARS)},
    ),
    "assignment": Form(
        "Assignment",
        {
            "therapist_id": FieldRule(
                "Therapist",
                "a therapist",
                kind="id",
                required=True,
                pattern=UUID_PATTERN,
                pattern_message="Choose a therapist from the list.",
            ),
            "patient_id": FieldRule(
                "Patient",
                "a patient",
                kind="id",
                required=True,
                pattern=UUID_PATTERN,
                pattern_message="Choose a patient from the list.",
            ),
        },
    ),
    "export": Form(
        "Research export",
        {
            "format": FieldRule(
                "Format", "a format", kind="choice", required=True, choices=EXPORT_FORMATS
            ),
            "start": FieldRule("From", "the first day", kind="date", required=True),
            "end": FieldRule("Until", "the last day", kind="date", required=True),
            "date_shift": FieldRule("Shift dates", "whether to shift dates", kind="bool"),
        },
        (
            After(
                "end",
                "start",
                "The last day cannot be before the first day.",
                same_ok=True,
                max_days=MAX_EXPORT_DAYS,
                max_days_message=f"An export covers at most {MAX_EXPORT_DAYS} days.",
            ),
        ),
    ),
    "audit_filter": Form(
        "Audit log filter",
        {
            "since": FieldRule("From", "the first day", kind="date"),
            "until": FieldRule("Until", "the last day", kind="date"),
        },
        (After("until", "since", "The last day cannot be before the first day.", same_ok=True),),
    ),
}


def enforce(
    form: str, data: Mapping[str, Any], *, may_stay_empty: frozenset[str] = frozenset()
) -> None:
    """Raise ``InvalidInput`` (422) listing each field of ``data`` that breaks ``form``'s rules.

    ``may_stay_empty`` names required fields whose stored value is still empty and that this write does
    not touch (a record from before the field existed).
    """
    problems = [
        p
        for p in FORMS[form].problems(data)
        if not (p["field"] in may_stay_empty and p["type"] == "form.required")
    ]
    if problems:
        rules = FORMS[form].fields
        summary = " ".join(
            f"{rules[p['field']].label}: {p['msg']}" if p["field"] in rules else p["msg"]
            for p in problems
        )
        raise InvalidInput(summary, errors=problems)


def password_strength_problem(password: str, personal: tuple[str, ...] = ()) -> str | None:
    """What makes ``password`` a poor choice beyond its length, in the words the form shows; None if fine.

    ``personal`` is the account's email, then names. The policy is ``api.auth.passwords``' (the one every
    way of setting a password applies: estimated strength, not built on the email).
    """
    email = personal[0] if personal else None
    problem = password_problem(
        password, email=email or None, personal=[p for p in personal[1:] if p]
    )
    if problem is None:
        return None
    return f"The password {problem}."


def enforce_password(data: Mapping[str, Any], personal: tuple[str, ...] = ()) -> None:
    """``enforce("password", data)`` and then ``password_strength_problem`` on ``data["password"]``."""
    enforce("password", data)
    message = password_strength_problem(str(data["password"]), personal)
    if message is not None:
        rule = FORMS["password"].fields["password"]
        raise InvalidInput(
            f"{rule.label}: {message}",
            code="weak_password",  # as api.auth.passwords.WeakPassword answers
            errors=field_error("password", message),
        )


def field_error(name: str, message: str) -> list[dict[str, Any]]:
    """The ``errors`` list of a 4xx about one field (e.g. an email that is taken)."""
    return [_error(name, message, "server")]


def schema_extra(form: str, name: str) -> dict[str, Any]:
    """OpenAPI hints of one field (``Field(json_schema_extra=...)``)."""
    return FORMS[form].fields[name].json_schema()


def blank_to_none(value: str | None) -> str | None:
    """Stored form of an optional text: trimmed, or None when blank."""
    if value is None:
        return None
    text = value.strip()
    return text or None


def all_forms_json() -> dict[str, Any]:
    """What ``GET /v1/forms`` answers: every form, and the zones a patient may live in."""
    return {
        "forms": {name: form.as_json() for name, form in FORMS.items()},
        "time_zones": sorted(time_zones()),
    }
