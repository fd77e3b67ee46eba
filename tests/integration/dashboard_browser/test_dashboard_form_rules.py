"""The browser checks every form exactly as the API does: the form engine of the dashboard
(``api/static/js/forms.js``, in Chromium) and ``api.form_rules`` (in Python, which the routes enforce) give
the same messages for the same fields on thousands of seeded values, valid and not, and every message of
every rule is reached."""

from __future__ import annotations

import json
import mimetypes
import random
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route

from api.form_rules import FORMS, all_forms_json
from api.routes.dashboard import STATIC_DIR

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ORIGIN = "http://forms.test"
#: Mutated cases per form (seeded).
CASES_PER_FORM = 300

VALID: dict[str, dict[str, Any]] = {
    "account": {"email": "ana@example.org", "display_name": "Dr. Ana", "role": "therapist"},
    "patient": {"display_name": "Sam", "timezone": "Europe/Berlin"},
    "invite": {"email": "sam@example.org"},
    "password": {"password": "river stone lantern", "password_confirm": "river stone lantern"},
    "session": {
        "kind": "medicine",
        "started_at": "2026-03-02T09:00:00.000Z",
        "ended_at": "2026-03-02T11:30:00.000Z",
        "medicine": "ketamine",
        "route": "im",
        "dose": 0.5,
        "dose_unit": "mg/kg",
        "setting": "clinic room",
        "note": "calm",
    },
    "journal": {
        "at": "2026-03-03T19:00:00.000Z",
        "text": "walked",
        "tags": ["walk"],
        "mood": 6,
        "body": None,
    },
    "device": {"label": "H10"},
    "assignment": {
        "therapist_id": "0f8fad5b-d9cb-469f-a165-70867728950e",
        "patient_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    },
    "export": {"format": "csv", "start": "2026-01-01", "end": "2026-03-31", "date_shift": False},
    "audit_filter": {"since": "2026-01-01", "until": "2026-01-31"},
}

#: Values that probe each rule: blanks, lengths around the limits, patterns, choices, numbers, dates.
PROBES: list[Any] = [
    None,
    "",
    "   ",
    "x",
    "a" * 10,
    "a" * 64,
    "a" * 65,
    "a" * 100,
    "a" * 101,
    "a" * 200,
    "a" * 201,
    "a" * 256,
    "a" * 257,
    "a\u0000b",
    "ana@example.org",
    "ana@",
    "ana example.org",
    " ana@example.org ",
    "therapist",
    "patient",
    "ketamine",
    "esketamine",
    "rectal",
    "im",
    "iv",
    "mg",
    "mg/kg",
    "g",
    "Europe/Berlin",
    "Mars/Olympus",
    "UTC",
    "csv",
    "xlsx",
    "medicine",
    "integration",
    "other",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "not-a-uuid",
    0,
    -1,
    0.5,
    5,
    10,
    11,
    7.5,
    10_000,
    10_001,
    True,
    False,
    [],
    ["walk"],
    ["a" * 65],
    [" "],
    ["t"] * 33,
    ["t"] * 32,
    "2026-03-02",
    "2026-02-30",
    "1969-12-31",
    "2101-01-01",
    "2026-03-02T09:00:00.000Z",
    "2026-03-02T09:00:00",
    "2026-03-02T09:00:00+01:00",
    "1969-12-31T23:00:00.000Z",
    "yesterday",
    "river stone lantern",
    "river stone lanterns",
    "a" * 20_001,
]


def _static(route: Route) -> None:
    path = route.request.url.removeprefix(ORIGIN + "/static/").split("?")[0]
    file = (STATIC_DIR / path).resolve()
    if STATIC_DIR.resolve() not in file.parents or not file.is_file():
        route.fulfill(status=404, body="")
        return
    kind = (
        "text/javascript" if file.suffix in (".js", ".mjs") else mimetypes.guess_type(file.name)[0]
    )
    route.fulfill(
        status=200, body=file.read_bytes(), headers={"Content-Type": kind or "text/plain"}
    )


@pytest.fixture
def engine(browser: Browser) -> Iterator[Page]:
    """A page that can import the dashboard's modules (served from disk, no server)."""
    context = browser.new_context()
    page = context.new_page()
    page.route(f"{ORIGIN}/static/**", _static)
    page.route(
        f"{ORIGIN}/",
        lambda r: r.fulfill(
            status=200,
            body="<!doctype html><title>forms</title>",
            headers={"Content-Type": "text/html"},
        ),
    )
    page.goto(f"{ORIGIN}/")
    try:
        yield page
    finally:
        context.close()


def _cases(rng: random.Random, name: str) -> list[dict[str, Any]]:
    base = VALID[name]
    out = [dict(base)]
    fields = list(FORMS[name].fields)
    for field in fields:
        for probe in PROBES:
            out.append({**base, field: probe})
    while len(out) < len(fields) * len(PROBES) + CASES_PER_FORM:
        case = dict(base)
        for field in rng.sample(fields, k=min(len(fields), rng.randint(1, 3))):
            case[field] = rng.choice(PROBES)
        out.append(case)
    return out


def _python(name: str, data: dict[str, Any]) -> list[list[str]]:
    return [[p["field"], p["msg"]] for p in FORMS[name].problems(data)]


def test_browser_and_api_give_the_same_messages_for_the_same_values(engine: Page) -> None:
    rng = random.Random(20261201)
    rules = all_forms_json()
    checked = 0
    differences: list[str] = []
    for name in FORMS:
        cases = _cases(rng, name)
        browser = engine.evaluate(
            """async ([rules, name, cases]) => {
                const m = await import('/static/js/forms.js');
                const zones = new Set(rules.time_zones);
                return cases.map((c) => m.formProblems(rules.forms[name], c, zones).map((p) => [p.field, p.msg]));
            }""",
            [rules, name, cases],
        )
        for case, got in zip(cases, browser, strict=True):
            expected = _python(name, case)
            checked += 1
            if got != expected:
                differences.append(f"{name} {json.dumps(case)[:200]}: browser {got} api {expected}")
    assert checked > 2000
    assert not differences, "\n".join(differences[:20])
    # the probes reach every message of every rule at least once
    said = {
        msg
        for name in FORMS
        for case in _cases(random.Random(1), name)
        for _, msg in _python(name, case)
    }
    for name, form in FORMS.items():
        for field, rule in form.fields.items():
            optional = not rule.required and rule.required_when is None
            unused = {
                k
                for k, m in rule.messages().items()
                if m not in said and not (k == "required" and optional)
            }
            assert not unused, (name, field, unused)
