"""Questionnaire responses in research exports: the ``responses`` and ``response_items`` tables (CSV and
Parquet), FHIR R4 ``QuestionnaireResponse`` resources with a LOINC-coded total-score Observation, and
their part of the data dictionary.

Which patients are exported (consent, pseudonyms, date shift) is ``selection``'s; this module only
shapes one patient's rows. No database ids leave: each response gets a stable key derived from it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from api.export.fhir import LOINC, PSEUDONYM_SYSTEM
from api.instruments.definition import Instrument
from api.instruments.loader import Catalog

TS = pa.timestamp("ms", tz="UTC")

#: Canonical URL prefix of Somatrace's Questionnaire resources (``<prefix>/<id>|<version>``).
QUESTIONNAIRE_BASE = "https://somatrace.org/fhir/Questionnaire"
#: Code system prefix of answer options (``<prefix>/<instrument>``); codes are the option values.
ANSWER_SYSTEM_BASE = "https://somatrace.org/fhir/CodeSystem/answers"
#: Namespace of the response keys (uuid5 of the response id): stable across exports, not the id.
_KEY_NAMESPACE = uuid.UUID("0d7f5c1a-4b8e-4f3a-9d2c-6a1e8b7c5f30")

RESPONSES_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("response_key", pa.string()),
        ("at", TS),
        ("days_from_first_session", pa.float64()),
        ("instrument", pa.string()),
        ("instrument_version", pa.string()),
        ("source", pa.string()),
        ("total", pa.int32()),
        ("severity", pa.string()),
        ("subscales", pa.string()),
        ("safety_alert", pa.bool_()),
        ("answers", pa.string()),
    ]
)

RESPONSE_ITEMS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("response_key", pa.string()),
        ("instrument", pa.string()),
        ("item", pa.int16()),
        ("value", pa.int16()),
    ]
)

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "responses": {
        "pseudonym": "Patient pseudonym.",
        "response_key": "Stable key of the response (derived from it; not a database id); joins response_items.",
        "at": "When the answers were given, UTC (shifted when the patient is date-shifted).",
        "days_from_first_session": "Days since the patient's first session (not affected by date shifting).",
        "instrument": "Instrument id (see 'instruments'): phq9, gad7, pcl5 or a clinic's own.",
        "instrument_version": "Version of the definition file the answers were scored with.",
        "source": "patient: answered by the patient; clinic: answers given in clinic, entered by a therapist.",
        "total": "Total score (sum of the item values).",
        "severity": "Severity band of the total, from the instrument's published bands.",
        "subscales": "Subscale totals as JSON (PCL-5: DSM-5 clusters B, C, D, E); {} when none.",
        "safety_alert": "True when the answers met a risk rule (e.g. PHQ-9 item 9 above 0) and raised a safety alert.",
        "answers": "Item values in item order, ';'-separated.",
    },
    "response_items": {
        "pseudonym": "Patient pseudonym.",
        "response_key": "Key of the response (see responses).",
        "instrument": "Instrument id.",
        "item": "Item number, counting from 1.",
        "value": "The answer's value (see the instrument's options).",
    },
}


def response_key(response_id: uuid.UUID | str) -> str:
    return str(uuid.uuid5(_KEY_NAMESPACE, str(response_id)))


def _days_from(first: datetime | None, moment: datetime) -> float | None:
    return None if first is None else (moment - first).total_seconds() / 86400.0


def response_rows(
    pseudonym: str,
    rows: Sequence[Mapping[str, Any]],
    shift: timedelta,
    first_session_at: datetime | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One patient's ``responses`` and ``response_items`` rows from stored responses."""
    responses: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    for r in rows:
        key = response_key(r["id"])
        answers = [int(v) for v in r["answers"]]
        responses.append(
            {
                "pseudonym": pseudonym,
                "response_key": key,
                "at": r["at"] + shift,
                "days_from_first_session": _days_from(first_session_at, r["at"]),
                "instrument": r["instrument"],
                "instrument_version": r["instrument_version"],
                "source": r["source"],
                "total": int(r["total"]),
                "severity": r["severity"],
                "subscales": json.dumps(r["subscales"] or {}, sort_keys=True),
                "safety_alert": bool(r["safety_alert"]),
                "answers": ";".join(str(v) for v in answers),
            }
        )
        items.extend(
            {
                "pseudonym": pseudonym,
                "response_key": key,
                "instrument": r["instrument"],
                "item": n,
                "value": v,
            }
            for n, v in enumerate(answers, start=1)
        )
    return responses, items


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _answer(inst: Instrument | None, index: int, value: int) -> dict[str, Any]:
    if inst is None or index >= len(inst.items):
        return {"valueInteger": value}
    label = next((o.label for o in inst.item_options(index) if o.value == value), None)
    coding: dict[str, Any] = {"system": f"{ANSWER_SYSTEM_BASE}/{inst.id}", "code": str(value)}
    if label is not None:
        coding["display"] = label
    return {"valueCoding": coding}


def fhir_resources(
    pseudonym: str, row: Mapping[str, Any], shift: timedelta, catalog: Catalog | None
) -> list[dict[str, Any]]:
    """A ``QuestionnaireResponse`` for one stored response, and an ``Observation`` of its total
    (LOINC-coded when the definition names a total-score code, e.g. PHQ-9 44261-6)."""
    inst = catalog.instrument(str(row["instrument"])) if catalog is not None else None
    key = response_key(row["id"])
    authored = _iso(row["at"] + shift)
    subject = {"identifier": {"system": PSEUDONYM_SYSTEM, "value": pseudonym}}
    answers = [int(v) for v in row["answers"]]
    items: list[dict[str, Any]] = []
    for i, value in enumerate(answers):
        item: dict[str, Any] = {"linkId": str(i + 1), "answer": [_answer(inst, i, value)]}
        if inst is not None and i < len(inst.items):
            item["text"] = inst.items[i].text
        items.append(item)
    items.append(
        {"linkId": "total", "text": "Total score", "answer": [{"valueInteger": int(row["total"])}]}
    )
    items.append(
        {
            "linkId": "severity",
            "text": "Severity band",
            "answer": [{"valueString": str(row["severity"])}],
        }
    )
    response: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": key,
        "status": "completed",
        "questionnaire": f"{QUESTIONNAIRE_BASE}/{row['instrument']}|{row['instrument_version']}",
        "subject": subject,
        "authored": authored,
        "item": items,
    }
    title = inst.short_title if inst is not None else str(row["instrument"])
    coding = (
        {"system": LOINC, "code": inst.fhir.loinc_total, "display": f"{title} total score"}
        if inst is not None and inst.fhir.loinc_total
        else {
            "system": "https://somatrace.org/fhir/CodeSystem/questionnaire-total",
            "code": str(row["instrument"]),
            "display": f"{title} total score",
        }
    )
    observation = {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_KEY_NAMESPACE, f"{key}/total")),
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "survey",
                        "display": "Survey",
                    }
                ]
            }
        ],
        "code": {"coding": [coding], "text": f"{title} total score"},
        "subject": subject,
        "effectiveDateTime": authored,
        "valueInteger": int(row["total"]),
        "interpretation": [{"text": str(row["severity"])}],
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{key}"}],
    }
    return [response, observation]


def dictionary_section(catalog: Catalog | None) -> dict[str, Any]:
    """The instruments an export's responses were scored with: items, options, bands, licence, source."""
    if catalog is None:
        return {}
    return {
        inst.id: {
            "title": inst.title,
            "version": inst.version,
            "measures": inst.measures,
            "recall": inst.recall,
            "items": len(inst.items),
            "total_range": [inst.min_total, inst.scoring.max_total],
            "bands": [{"min": b.min, "max": b.max, "label": b.label} for b in inst.bands],
            "cutoffs": [{"total": c.total, "label": c.label} for c in inst.cutoffs],
            "response": f"a drop of at least {inst.change.response_drop_pct:g} % from the pre-session baseline",
            "remission": (
                f"a total below {inst.change.remission_below}"
                if inst.change.remission_below
                else "not defined"
            ),
            "licence": f"{inst.licence.name}: {inst.licence.text}",
            "source": inst.source.citation,
            "loinc": {"panel": inst.fhir.loinc_panel, "total": inst.fhir.loinc_total},
        }
        for inst in catalog.instruments.values()
    }
