"""Every window marker is exported and described; both stress scales keep their own names and codes."""

from __future__ import annotations

from analysis import COLUMNS
from api.export.dictionary import MARKERS, TABLE_COLUMNS
from api.export.fhir import FHIR_MARKERS
from api.export.tabular import DAILY_SCHEMA, WINDOWS_SCHEMA

NOT_MARKERS = {"window_start_s", "n_beats", "artifact_share", "quality"}


def test_every_window_marker_is_a_column_with_a_definition() -> None:
    markers = [c for c in COLUMNS if c not in NOT_MARKERS]
    assert set(markers) == set(MARKERS)
    assert set(markers) <= set(WINDOWS_SCHEMA.names)
    for name in markers:
        assert MARKERS[name]["unit"] and MARKERS[name]["definition"] and MARKERS[name]["reference"]
        assert name in TABLE_COLUMNS["windows"]


def test_stress_scales_are_told_apart() -> None:
    assert "Kubios" in MARKERS["stress_index"]["definition"]
    assert "trimmed range" in MARKERS["baevsky_si"]["definition"]
    assert FHIR_MARKERS["stress_index"][1] == "stress-index"
    assert FHIR_MARKERS["baevsky_si"][1] == "baevsky-si"
    assert {"stress_index", "baevsky_si"} <= set(DAILY_SCHEMA.names)
    assert "square of the daily stress_index" in TABLE_COLUMNS["daily"]["baevsky_si"].lower()
