"""FHIR R4 Bundles of Observations from 5-minute HRV windows (one collection Bundle per patient and day).

Heart rate uses LOINC 8867-4 and SDNN LOINC 80404-7; markers without a LOINC code use Somatrace's code system.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
#: Code system of the markers that have no LOINC code (documented in the export's data dictionary).
SOMATRACE_CODES = "https://somatrace.org/fhir/CodeSystem/hrv-marker"
#: Identifier system of the pseudonym that stands in for the patient.
PSEUDONYM_SYSTEM = "https://somatrace.org/fhir/NamingSystem/pseudonym"
#: Namespace of the deterministic Observation ids (uuid5 of pseudonym, marker and window start).
_ID_NAMESPACE = uuid.UUID("6f1b7c2e-8a55-4c1e-9a0b-3f2d8c9e1a77")

#: marker column -> (code system, code, display, UCUM unit code, unit text)
FHIR_MARKERS: dict[str, tuple[str, str, str, str, str]] = {
    "mean_hr_bpm": (LOINC, "8867-4", "Heart rate", "/min", "beats/minute"),
    "sdnn_ms": (
        LOINC,
        "80404-7",
        "R-R interval.standard deviation (Heart rate variability)",
        "ms",
        "ms",
    ),
    "mean_nn_ms": (SOMATRACE_CODES, "mean-nn", "Mean NN interval", "ms", "ms"),
    "rmssd_ms": (
        SOMATRACE_CODES,
        "rmssd",
        "Root mean square of successive NN differences",
        "ms",
        "ms",
    ),
    "ln_rmssd": (SOMATRACE_CODES, "ln-rmssd", "Natural log of RMSSD (ms)", "1", "1"),
    "pnn50_pct": (SOMATRACE_CODES, "pnn50", "Share of successive NN differences > 50 ms", "%", "%"),
    "sd1_ms": (SOMATRACE_CODES, "sd1", "Poincare SD1", "ms", "ms"),
    "sd2_ms": (SOMATRACE_CODES, "sd2", "Poincare SD2", "ms", "ms"),
    "lf_ms2": (SOMATRACE_CODES, "lf-power", "Low-frequency power 0.04-0.15 Hz", "ms2", "ms2"),
    "hf_ms2": (SOMATRACE_CODES, "hf-power", "High-frequency power 0.15-0.4 Hz", "ms2", "ms2"),
    "lf_hf": (SOMATRACE_CODES, "lf-hf", "LF/HF power ratio", "1", "1"),
    "dfa_alpha1": (
        SOMATRACE_CODES,
        "dfa-alpha1",
        "Detrended fluctuation analysis alpha 1",
        "1",
        "1",
    ),
    "sampen": (SOMATRACE_CODES, "sampen", "Sample entropy (m=2, r=0.2 SD)", "1", "1"),
    "stress_index": (
        SOMATRACE_CODES,
        "stress-index",
        "Stress index (Kubios: square root of Baevsky's stress index)",
        "1",
        "1",
    ),
    "baevsky_si": (SOMATRACE_CODES, "baevsky-si", "Baevsky stress index", "1", "1"),
}


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def window_observations(
    pseudonym: str, window: Mapping[str, Any], shift: timedelta
) -> list[dict[str, Any]]:
    """One Observation per available marker of one window (missing markers are left out, never invented)."""
    start: datetime = window["window_start"] + shift
    end = start + timedelta(seconds=int(window["window_s"]))
    notes = [window["quality"], *window.get("quality_notes", [])]
    out: list[dict[str, Any]] = []
    for column, (system, code, display, unit_code, unit_text) in FHIR_MARKERS.items():
        value = window.get(column)
        if value is None or not math.isfinite(float(value)):
            continue
        ident = uuid.uuid5(_ID_NAMESPACE, f"{pseudonym}/{column}/{_iso(start)}")
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": str(ident),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                            "display": "Vital Signs",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [{"system": system, "code": code, "display": display}],
                "text": display,
            },
            "subject": {"identifier": {"system": PSEUDONYM_SYSTEM, "value": pseudonym}},
            "effectivePeriod": {"start": _iso(start), "end": _iso(end)},
            "valueQuantity": {
                "value": float(value),
                "unit": unit_text,
                "system": UCUM,
                "code": unit_code,
            },
            "note": [{"text": "; ".join(str(n) for n in notes if n)}],
        }
        out.append(observation)
    return out


def bundle_json(observations: list[dict[str, Any]], timestamp: datetime) -> bytes:
    """A FHIR R4 ``collection`` Bundle holding ``observations``, as JSON bytes."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _iso(timestamp),
        "entry": [{"fullUrl": f"urn:uuid:{obs['id']}", "resource": obs} for obs in observations],
    }
    return json.dumps(bundle, separators=(",", ":")).encode()
