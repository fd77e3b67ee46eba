"""Strap quirk filters and profiles; each test names the firmware note that documents the quirk."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.beats import BeatClock
from collector.gatt import HeartRateMeasurement, parse_heart_rate_measurement
from collector.quirks import (
    GENERIC,
    HRM_DUAL_BOGUS_RR_MAX_MS,
    PROFILES,
    StrapProfile,
    effective_contact,
    filter_rr,
    is_plausible_rr_ms,
    profile_for,
)
from wire import RR_MAX_MS, RR_MIN_MS

REPO = Path(__file__).resolve().parents[3]


def hrm(rr_ticks: tuple[int, ...], contact: bool | None = True) -> HeartRateMeasurement:
    return HeartRateMeasurement(
        heart_rate_bpm=60,
        sensor_contact=contact,
        energy_expended_kj=None,
        rr_ticks=rr_ticks,
        rr_ms=tuple(t * 1000 / 1024 for t in rr_ticks),
        contact_supported=contact is not None,
    )


def test_bounds_are_named_constants_in_ms() -> None:
    """Bounds: see firmware_notes/README.md ("Physiological bounds")."""
    assert (RR_MIN_MS, RR_MAX_MS) == (200.0, 3000.0)
    assert is_plausible_rr_ms(RR_MIN_MS) and is_plausible_rr_ms(RR_MAX_MS)
    assert not is_plausible_rr_ms(RR_MIN_MS - 0.5)
    assert not is_plausible_rr_ms(RR_MAX_MS + 0.5)


def test_polar_h10_garbage_rr_is_dropped_and_counted() -> None:
    """Polar H10 garbage RR 0, 28, 26 and 1878949389: see firmware_notes/polar-h10.md."""
    h10 = profile_for("Polar Electro Oy", "Polar H10")
    result = filter_rr(h10, (915, 1878949389, 0, 28, 14679420, 26, 827))
    assert result.rr_ticks == (915, 827)
    assert result.dropped == 5
    assert len(result.reasons) == 5 and all("impossible RR" in r for r in result.reasons)


def test_polar_h10_garbage_in_a_notification_never_becomes_a_beat() -> None:
    """Polar H10 garbage RR in a real notification: see firmware_notes/polar-h10.md."""
    clock = BeatClock(profile_for("Polar Electro Oy", "Polar H10"))
    clock.on_connect(1000.0)
    m = parse_heart_rate_measurement(bytes([0x16, 70, 0x00, 0x00, 0x1C, 0x00, 0x93, 0x03]))
    assert m.rr_ticks == (0, 28, 915)
    out = clock.on_notification(m, 1001.0)
    assert [b.rr_ticks for b in out.beats] == [915]
    assert out.dropped == 2


def test_polar_h10_contact_is_unknown_for_two_seconds_after_connect() -> None:
    """Contact reads unsupported/false for ~2 s after connect: see firmware_notes/polar-h10.md."""
    h10 = profile_for("Polar Electro Oy", "Polar H10", "Polar H10 1A2B3C4D")
    assert h10.contact_settle_s == 2.0
    assert effective_contact(h10, hrm((1000,), contact=False), 0.5) is None
    assert effective_contact(h10, hrm((1000,), contact=None), 1.9) is None
    assert effective_contact(h10, hrm((1000,), contact=False), 2.1) is False
    assert effective_contact(h10, hrm((1000,), contact=True), 2.1) is True
    # A generic strap's contact bit is taken at face value from the start.
    assert effective_contact(GENERIC, hrm((1000,), contact=False), 0.0) is False


def test_polar_h10_contact_settle_through_the_beat_clock() -> None:
    """Beats still count while contact is unknown: see firmware_notes/polar-h10.md."""
    clock = BeatClock()
    clock.on_connect(100.0, profile=profile_for("Polar Electro Oy", "Polar H10"))
    first = clock.on_notification(hrm((1024,), contact=False), 101.0)
    assert first.contact is None and len(first.beats) == 1
    later = clock.on_notification(hrm((1024,), contact=True), 102.5)
    assert later.contact is True


def test_hrm_dual_bogus_trailing_rr_is_dropped() -> None:
    """HRM-Dual appends a bogus short RR: see firmware_notes/garmin-hrm-dual-pro.md."""
    dual = profile_for("Garmin", "HRM-Dual")
    assert dual.drop_trailing_short_rr
    m = parse_heart_rate_measurement(bytes.fromhex("10382d043500"))
    assert m.rr_ticks == (1069, 53)
    result = filter_rr(dual, m.rr_ticks)
    assert result.rr_ticks == (1069,)
    assert result.dropped == 1
    assert "trailing bogus RR" in result.reasons[0]


def test_hrm_dual_keeps_real_trailing_beats() -> None:
    """Only a short trailing value is bogus: see firmware_notes/garmin-hrm-dual-pro.md."""
    dual = profile_for("Garmin", "HRM-Dual")
    assert filter_rr(dual, (700, 650)).rr_ticks == (700, 650)
    limit_ticks = int(HRM_DUAL_BOGUS_RR_MAX_MS * 1.024)
    assert filter_rr(dual, (700, limit_ticks)).dropped == 1


@pytest.mark.parametrize(
    ("manufacturer", "model", "name", "key"),
    [
        ("Polar Electro Oy", "Polar H10", None, "polar-h10"),
        (None, None, "Polar H10 7E3A5C2B", "polar-h10"),
        ("Polar Electro Oy", "Polar H9", None, "polar-h9"),
        ("Garmin", "HRM-Dual", None, "garmin-hrm-dual-pro"),
        (None, None, "HRM-Pro:123456", "garmin-hrm-dual-pro"),
        ("Wahoo Fitness", "TICKR", None, "wahoo-tickr"),
        (None, None, "TICKR X 1A2B", "wahoo-tickr"),
        ("COOSPO", "H808S", None, "coospo-h808s-h6"),
        ("COOSPO", "H6", None, "coospo-h808s-h6"),
        ("Movesense", "Movesense MD", None, "movesense"),
        # Verity Sense advertises as "Polar Sense …" (firmware_notes/optical-sensors.md).
        ("Polar Electro Oy", "Polar Sense", "Polar Sense B1C2D3E4", "optical-sensors"),
        ("Polar Electro Oy", "Polar OH1", None, "optical-sensors"),
        ("Polar Electro Oy", "Verity Sense", None, "optical-sensors"),
        ("Acme", "HR-1", None, "generic"),
        (None, None, None, "generic"),
    ],
)
def test_profile_chosen_from_device_information(
    manufacturer: str | None, model: str | None, name: str | None, key: str
) -> None:
    """Profiles follow the notes in firmware_notes/ (one per strap family)."""
    assert profile_for(manufacturer, model, name).key == key


def test_optical_profile_marks_rr_as_optical() -> None:
    """Optical sensors give smoothed or no RR: see firmware_notes/optical-sensors.md."""
    assert profile_for("Polar Electro Oy", "Polar OH1").rr_source == "optical"
    assert profile_for("Polar Electro Oy", "Polar H10").rr_source == "ecg"


def test_only_polar_h10_streams_ecg() -> None:
    """H9 has no ECG stream: see firmware_notes/polar-h9.md and polar-h10.md."""
    assert profile_for("Polar Electro Oy", "Polar H10").supports_ecg_stream
    assert not profile_for("Polar Electro Oy", "Polar H9").supports_ecg_stream


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.key)
def test_every_profile_has_its_firmware_note(profile: StrapProfile) -> None:
    assert (REPO / profile.note).is_file(), profile.note
