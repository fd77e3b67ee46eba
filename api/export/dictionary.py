"""The data dictionary shipped in every export (Markdown and JSON): columns, units, marker definitions,
artifact method, software versions, window length, time zone and date-shift policy."""

from __future__ import annotations

import json
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from api.export import questionnaires
from api.export.fhir import FHIR_MARKERS, LOINC, PSEUDONYM_SYSTEM, SOMATRACE_CODES
from api.export.selection import ExportRequest
from api.instruments.loader import Catalog

MARKERS: dict[str, dict[str, str]] = {
    "mean_nn_ms": {
        "unit": "ms",
        "definition": "Mean of the NN intervals in the window.",
        "neurokit2": "HRV_MeanNN",
        "reference": "Task Force 1996, Circulation 93:1043",
    },
    "mean_hr_bpm": {
        "unit": "1/min",
        "definition": "60000 / mean_nn_ms.",
        "neurokit2": "60000 / HRV_MeanNN",
        "reference": "Task Force 1996",
    },
    "sdnn_ms": {
        "unit": "ms",
        "definition": "Standard deviation of NN intervals (ddof=1).",
        "neurokit2": "HRV_SDNN",
        "reference": "Task Force 1996",
    },
    "rmssd_ms": {
        "unit": "ms",
        "definition": "Root mean square of successive NN differences.",
        "neurokit2": "HRV_RMSSD",
        "reference": "Task Force 1996; Shaffer & Ginsberg 2017",
    },
    "ln_rmssd": {
        "unit": "ln(ms)",
        "definition": "Natural logarithm of rmssd_ms.",
        "neurokit2": "log(HRV_RMSSD)",
        "reference": "Plews et al. 2013",
    },
    "pnn50_pct": {
        "unit": "%",
        "definition": "Share of successive NN differences larger than 50 ms.",
        "neurokit2": "HRV_pNN50",
        "reference": "Task Force 1996",
    },
    "sd1_ms": {
        "unit": "ms",
        "definition": "Poincaré plot standard deviation across the identity line.",
        "neurokit2": "HRV_SD1",
        "reference": "Brennan et al. 2001",
    },
    "sd2_ms": {
        "unit": "ms",
        "definition": "Poincaré plot standard deviation along the identity line.",
        "neurokit2": "HRV_SD2",
        "reference": "Brennan et al. 2001",
    },
    "sd1_sd2": {
        "unit": "1",
        "definition": "sd1_ms / sd2_ms.",
        "neurokit2": "HRV_SD1SD2",
        "reference": "Brennan et al. 2001",
    },
    "lf_ms2": {
        "unit": "ms²",
        "definition": "Power 0.04–0.15 Hz of the NN series interpolated at 4 Hz (absolute, not normalised), from the window's longest gap-free stretch; NaN when that stretch is shorter than 120 s.",
        "neurokit2": "HRV_LF (hrv_frequency, interpolation_rate=4, normalize=False)",
        "reference": "Task Force 1996",
    },
    "hf_ms2": {
        "unit": "ms²",
        "definition": "Power 0.15–0.4 Hz, as lf_ms2; NaN when the longest gap-free stretch is shorter than 60 s.",
        "neurokit2": "HRV_HF",
        "reference": "Task Force 1996",
    },
    "lf_hf": {
        "unit": "1",
        "definition": "lf_ms2 / hf_ms2.",
        "neurokit2": "HRV_LFHF",
        "reference": "Task Force 1996",
    },
    "dfa_alpha1": {
        "unit": "1",
        "definition": "Short-term scaling exponent of detrended fluctuation analysis (boxes of 4–11 beats); boxes never span a gap, the boxes of all gap-free stretches of the window are pooled.",
        "neurokit2": "HRV_DFA_alpha1",
        "reference": "Peng et al. 1995",
    },
    "sampen": {
        "unit": "1",
        "definition": "Sample entropy, m = 2, r = 0.2 × SD of the window; templates never span a gap, template pairs are formed across the window's gap-free stretches.",
        "neurokit2": "HRV_SampEn",
        "reference": "Richman & Moorman 2000",
    },
    "stress_index": {
        "unit": "1",
        "definition": "Stress index on Kubios' scale: the square root of baevsky_si (typical resting values 7–12).",
        "neurokit2": "(not in neurokit2)",
        "reference": "Kubios HRV User's Guide 3.5 (Tarvainen et al. 2021); Baevsky & Chernikova 2017",
    },
    "baevsky_si": {
        "unit": "1",
        "definition": "Baevsky's stress index AMo / (2 · Mo · MxDMn): 50 ms bins, AMo in % of intervals in the modal bin, Mo the modal bin's centre in s, MxDMn the variation range in s taken as the 1 % trimmed range (the k shortest and the k longest intervals left out, k = max(1, floor(n / 100))) and at least one bin (50 ms), so one outlying beat cannot set it; at most 1000 / Mo.",
        "neurokit2": "(not in neurokit2)",
        "reference": "Baevsky & Chernikova 2017, Cardiometry 10:66; trimmed range: Wilcox 2012",
    },
}

TABLE_COLUMNS: dict[str, dict[str, str]] = {
    "patients": {
        "pseudonym": "Stable pseudonym of the patient (the only identifier in any file).",
        "date_shifted": "True when this patient's times are shifted (see the date-shift policy).",
        "journal_text_included": "True when the patient allowed journal text in research exports.",
    },
    "beats": {
        "pseudonym": "Patient pseudonym.",
        "time": "Beat time, UTC (ms precision): the end of its RR interval, as reconstructed by the collector.",
        "rr_ms": "RR interval in ms, exactly rr_ticks × 1000 / 1024.",
        "rr_ticks": "RR interval as the strap sent it, in 1/1024 s.",
        "artifact": "True when the beat is outside physiological bounds (not positive or longer than 2500 ms), or the artifact correction (which also merges fragments shorter than 250 ms into their neighbours) changed the interval ending at it.",
    },
    "windows": {
        "pseudonym": "Patient pseudonym.",
        "window_start": "Start of the clock-aligned window, UTC.",
        "window_s": "Window length in s.",
        "n_beats": "Beats whose end time lies in the window.",
        "artifact_share": "Share (0–1) of the window's beats removed or corrected.",
        **{k: f"{v['definition']} Unit: {v['unit']}." for k, v in MARKERS.items()},
        "quality": "Grade: good | fair | poor | insufficient.",
        "quality_notes": "Why the grade, and which markers are NaN and why ('; '-separated).",
    },
    "daily": {
        "pseudonym": "Patient pseudonym.",
        "day": "Local calendar day of the patient (shifted with the patient's date shift).",
        "source": "Which reading gives the daily value: morning | night_median | day_median | none.",
        "beat_source": "Where its beats came from: collector | browser | an import format.",
        "ln_rmssd": "Daily ln RMSSD (ln ms).",
        "rmssd_ms": "Daily RMSSD (ms).",
        "resting_hr_bpm": "Daily resting heart rate (1/min).",
        "stress_index": "Daily stress index on Kubios' scale (pooled from the contributing windows' stress_index).",
        "baevsky_si": "Square of the daily stress_index: the daily value on Baevsky's scale.",
        "n_windows": "Windows contributing to the day.",
        "wear_hours": "Hours of recorded beats that day.",
        "artifact_share": "Share of corrected beats in the contributing windows.",
        "quality": "Quality of the daily value: grade (good | fair | poor | insufficient) and reasons.",
        "grade": "The grade alone.",
        "counted": "The day counts for the band and the session verdicts (complete on the export "
        "date, graded good or fair, measured as the patient's primary source).",
        "exclusion": "Why the day does not count (e.g. 'poor signal'); empty when it does.",
        "rolling_mean_7d": "Mean of the counted days among the 7 ending on this day (≥ 3 needed).",
        "rolling_days": "Counted days in that 7-day window.",
        "cv_pct": "Coefficient of variation of the counted days in that 7-day window, %.",
        "baseline_mean": "Baseline level: GLS mean of the counted days in the 60 before the first "
        "medicine session, with AR(1) day-to-day errors (≥ 10 counted days).",
        "baseline_sd": "Day-to-day SD of the baseline days (REML).",
        "band_low": "Lower edge of the normal band for this day's 7-day mean: 90 % of a stable "
        "person's 7-day means fall inside (AR(1) prediction interval; analysis.band).",
        "band_high": "Upper edge of that band.",
        "band_position": "The badge: the 7-day mean above, within or below the band.",
    },
    "sessions": {
        "pseudonym": "Patient pseudonym.",
        "kind": "medicine | integration | other.",
        "started_at": "Start, UTC (shifted when the patient is date-shifted).",
        "ended_at": "End, UTC, when known.",
        "days_from_first_session": "Days since the patient's first session (not affected by date shifting).",
    },
    "verdicts": {
        "pseudonym": "Patient pseudonym.",
        "session_day": "Local date of the medicine session (shifted when the patient is date-shifted).",
        "period": "days 1-3 | days 4-14 | days 15-28 after the session (cut before the next one).",
        "state": "verdict | in_progress | not_reached | insufficient (cannot tell yet).",
        "n_days": "Counted days in the period (complete, good or fair, primary source).",
        "n_possible": "Calendar days in the period.",
        "needed_days": "Counted days a verdict needs: max(2, half the period's days).",
        "diff_ln_rmssd": "Change of daily ln RMSSD against the baseline level and its slow trend "
        "(GLS with AR(1) errors; analysis.verdicts). Empty unless state is verdict.",
        "ci_low": "Lower end of the interval of that change, at its Holm step's level.",
        "ci_high": "Upper end of that interval.",
        "ci_level": "Level of the interval (0.983, 0.975 or 0.95 for three periods).",
        "mdc_ln_rmssd": "Minimal detectable change: the change these days would show with 80 % "
        "power (ln ms).",
        "p_value": "Parametric-bootstrap p-value of the period (299 null refits).",
        "p_adjusted": "Holm-adjusted p-value across the session's periods.",
        "flagged": "The interval excludes 0 after Holm's family-wise adjustment (α 5 %).",
        "reason": "Why there is no verdict (other states), in words.",
        "first_day": "First local date of the period (shifted like session_day).",
        "last_day": "Last local date of the period.",
        "n_good": "Counted days graded good.",
        "n_fair": "Counted days graded fair.",
        "n_poor": "Poor-signal days in the period, left out.",
        "fair_share": "n_fair / n_days.",
        "artifact_share": "Mean share of corrected beats behind the counted days.",
        "caveat": "Warning about the data behind the period (mostly fair days, many artifacts, "
        "poor days left out); empty if none.",
        "judged_on": "The patient's local date the verdicts were judged on (today never counts).",
    },
    "journal": {
        "pseudonym": "Patient pseudonym.",
        "at": "Time of the entry, UTC (shifted when the patient is date-shifted).",
        "days_from_first_session": "Days since the patient's first session.",
        "tags": "The entry's tags, '; '-separated.",
        "mood": "Mood scale 0–10, when given.",
        "body": "Body scale 0–10, when given.",
        "text": "Free text: only when the patient gave the separate journal-text consent; empty otherwise.",
    },
    **questionnaires.TABLE_COLUMNS,
}


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def build(
    request: ExportRequest, created: datetime, files: list[str], catalog: Catalog | None = None
) -> dict[str, Any]:
    """The data dictionary of one export as a JSON-ready dict."""
    return {
        "title": "Somatrace research export",
        "created": created.isoformat(),
        "format": request.format.value,
        "period": {
            "start": request.start.isoformat(),
            "end": request.end.isoformat(),
            "end_exclusive": True,
        },
        "software": {
            "somatrace": _version("somatrace"),
            "neurokit2": _version("neurokit2"),
            "numpy": _version("numpy"),
            "scipy": _version("scipy"),
            "pyarrow": _version("pyarrow"),
        },
        "window_s": 300,
        "artifact_method": (
            "RR not positive or longer than 2500 ms removed (a gap); then, per continuous segment (a new segment "
            "starts after a gap longer than 3 s or twice the beat's own RR), Lipponen & Tarvainen (2019) beat "
            "classification and correction as neurokit2 signal_fixpeaks(method='kubios', iterative=True), with the "
            "interquartile ranges behind both thresholds taken as at least two steps of the RR resolution "
            "(1/1024 s for a strap, detected from the values for files) and, where that spread is unresolved, the "
            "difference threshold at least its 91-beat third quartile. Fragments shorter than 250 ms are corrected "
            "with the rest (the extra-beat rule merges them) and any left are merged into a neighbour, so the time "
            "axis is kept. Identical to neurokit2 on integer-ms input whose spread is well above its resolution. "
            "J Med Eng Technol 43(3):173-181. Window quality reflects the expected RMSSD error (2 × the corrected "
            "share, and the rounding error of the resolution) and flags ectopy-dominated windows "
            "(RMSSD > 25 % of mean NN after correction)."
        ),
        "time_zone_policy": (
            "All times are UTC (ISO 8601, 'Z'). Daily values are the patient's local calendar days; the patient's "
            "time zone itself is not exported."
        ),
        "date_shift_policy": (
            "With date shifting, each patient's times and days are moved by a secret whole number of weeks "
            "(non-zero, per patient, stable across exports), so weekdays, times of day and intervals are kept "
            "and real dates are hidden. The shift is never exported. Without it, times are real."
            if request.date_shift
            else "No date shifting in this export: times are real (UTC)."
        ),
        "consent_policy": (
            "Only patients who gave research consent are included, identified only by a stable pseudonym. "
            "No names or e-mail addresses. Journal free text only with the separate journal-text consent."
        ),
        "tables": TABLE_COLUMNS,
        "markers": MARKERS,
        "fhir": {
            "version": "R4 (validated with fhir.resources R4B models)",
            "loinc": {c[1]: c[2] for c in FHIR_MARKERS.values() if c[0] == LOINC},
            "somatrace_code_system": SOMATRACE_CODES,
            "somatrace_codes": {
                c[1]: c[2] for c in FHIR_MARKERS.values() if c[0] == SOMATRACE_CODES
            },
            "subject": f"Observation.subject.identifier with system {PSEUDONYM_SYSTEM} and the pseudonym",
        },
        "open_mhealth": {
            "heart-rate": "omh:heart-rate:2.0, one data point per 5-minute window (average)",
            "rr-interval": "omh:rr-interval:1.0, one data point per beat (value in ms)",
        },
        "kubios": "One RR interval per line in seconds (exact ticks/1024), one file per patient and continuous recording.",
        "instruments": questionnaires.dictionary_section(catalog),
        "fhir_questionnaires": (
            "fhir/<pseudonym>/questionnaire-responses.json: a collection Bundle per patient with one "
            "QuestionnaireResponse per response (questionnaire "
            f"{questionnaires.QUESTIONNAIRE_BASE}/<instrument>|<version>; answers coded in "
            f"{questionnaires.ANSWER_SYSTEM_BASE}/<instrument> with the option value as code) and one "
            "Observation of its total score (LOINC where the instrument has a code: PHQ-9 44261-6, "
            "GAD-7 70274-6), derivedFrom the QuestionnaireResponse."
        ),
        "files": files,
    }


def to_markdown(dictionary: dict[str, Any]) -> str:
    """The same dictionary as Markdown."""
    lines = [f"# {dictionary['title']}", ""]
    lines += [
        f"- created: {dictionary['created']}",
        f"- format: {dictionary['format']}",
        f"- period: {dictionary['period']['start']} to {dictionary['period']['end']} (end exclusive)",
        f"- window length: {dictionary['window_s']} s",
        "- software: " + ", ".join(f"{k} {v}" for k, v in dictionary["software"].items()),
        "",
        "## Policies",
        "",
        f"- **Consent:** {dictionary['consent_policy']}",
        f"- **Time zone:** {dictionary['time_zone_policy']}",
        f"- **Date shift:** {dictionary['date_shift_policy']}",
        f"- **Artifacts:** {dictionary['artifact_method']}",
        "",
        "## Tables",
    ]
    for table, columns in dictionary["tables"].items():
        lines += ["", f"### {table}", "", "| column | meaning |", "|---|---|"]
        lines += [f"| `{name}` | {text} |" for name, text in columns.items()]
    lines += [
        "",
        "## Markers",
        "",
        "| marker | unit | definition | neurokit2 | reference |",
        "|---|---|---|---|---|",
    ]
    for name, m in dictionary["markers"].items():
        lines.append(
            f"| `{name}` | {m['unit']} | {m['definition']} | {m['neurokit2']} | {m['reference']} |"
        )
    lines += [
        "",
        "## FHIR and Open mHealth",
        "",
        "```json",
        json.dumps(
            {"fhir": dictionary["fhir"], "open_mhealth": dictionary["open_mhealth"]},
            indent=2,
            ensure_ascii=False,
        ),
        "```",
        "",
    ]
    if dictionary.get("instruments"):
        lines += [
            "## Questionnaire instruments",
            "",
            "| id | title | version | items | total | bands | licence | source |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for ident, inst in dictionary["instruments"].items():
            bands = "; ".join(f"{b['min']}–{b['max']} {b['label']}" for b in inst["bands"])
            low, high = inst["total_range"]
            lines.append(
                f"| `{ident}` | {inst['title']} | {inst['version']} | {inst['items']} | {low}–{high} "
                f"| {bands} | {inst['licence']} | {inst['source']} |"
            )
        lines += ["", f"FHIR: {dictionary['fhir_questionnaires']}", ""]
    lines += ["## Files", ""] + [f"- `{f}`" for f in dictionary["files"]] + [""]
    return "\n".join(lines)
