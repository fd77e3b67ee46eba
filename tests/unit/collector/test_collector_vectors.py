"""The shared vector files pass the Python side: tests/data/hrm_vectors.json (0x2A37 parser) and
tests/data/beat_clock_vectors.json (beat clock + strap quirks).

The browser twins in api/static/js/capture/ must pass the same files
(tests/integration/capture_browser/test_capture_vectors.py). The clock file holds inputs and the
expected output of ``collector.beats.BeatClock``; ``python tests/unit/collector/test_collector_vectors.py``
rewrites the expectations from the current clock when its documented rules change on purpose.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from collector.beats import BeatClock
from collector.gatt import MalformedPacket, parse_heart_rate_measurement
from collector.quirks import profile_for

DATA = Path(__file__).resolve().parents[2] / "data"
HRM_VECTORS = DATA / "hrm_vectors.json"
CLOCK_VECTORS = DATA / "beat_clock_vectors.json"


def _hrm_vectors() -> list[dict[str, Any]]:
    return list(json.loads(HRM_VECTORS.read_text())["vectors"])


@pytest.mark.parametrize("vector", _hrm_vectors(), ids=lambda v: str(v["name"]))
def test_hrm_vector(vector: dict[str, Any]) -> None:
    data = bytes.fromhex(vector["hex"])
    if "error" in vector:
        with pytest.raises(
            MalformedPacket, match=vector["error"].replace("(", r"\(").replace(")", r"\)")
        ):
            parse_heart_rate_measurement(data)
        return
    m = parse_heart_rate_measurement(data)
    expect = vector["expect"]
    assert m.heart_rate_bpm == expect["heart_rate_bpm"]
    assert m.contact_supported is expect["contact_supported"]
    assert m.sensor_contact is expect["sensor_contact"]
    assert m.energy_expended_kj == expect["energy_expended_kj"]
    assert list(m.rr_ticks) == expect["rr_ticks"]
    assert list(m.rr_ms) == [t * 1000 / 1024 for t in expect["rr_ticks"]]


def test_hrm_vectors_cover_every_error_and_field() -> None:
    vectors = _hrm_vectors()
    errors = {v["error"] for v in vectors if "error" in v}
    assert len(errors) >= 6
    flags = {int(v["hex"][:2], 16) for v in vectors if "expect" in v}
    for bit in (0x01, 0x02, 0x04, 0x08, 0x10):
        assert any(f & bit for f in flags), f"no valid vector sets flag bit 0x{bit:02x}"


def run_scenario(scenario: dict[str, Any]) -> list[dict[str, Any]]:
    """Feed one scenario's events to a fresh BeatClock; one output per notification."""
    strap = scenario.get("strap", {})
    profile = profile_for(strap.get("manufacturer"), strap.get("model"), strap.get("name"))
    clock = BeatClock(profile, resume_after_ms=scenario.get("resume_after_ms"))
    outputs: list[dict[str, Any]] = []
    for event in scenario["events"]:
        if event["op"] == "connect":
            clock.on_connect(event["wall_s"])
        elif event["op"] == "disconnect":
            clock.on_disconnect(event["wall_s"])
        else:
            out = clock.on_notification(
                parse_heart_rate_measurement(bytes.fromhex(event["hex"])), event["wall_s"]
            )
            outputs.append(
                {
                    "beats": [[b.t_ms, b.rr_ticks] for b in out.beats],
                    "gaps": [[g.start_ms, g.end_ms] for g in out.gaps],
                    "dropped": out.dropped,
                    "contact": out.contact,
                }
            )
    return outputs


def _clock_doc() -> dict[str, Any]:
    return dict(json.loads(CLOCK_VECTORS.read_text()))


@pytest.mark.parametrize("scenario", _clock_doc()["scenarios"], ids=lambda s: str(s["name"]))
def test_beat_clock_scenario(scenario: dict[str, Any]) -> None:
    assert run_scenario(scenario) == scenario["expect"]


@pytest.mark.parametrize("case", _clock_doc()["profiles"], ids=lambda c: str(c["key"]))
def test_profile_vector(case: dict[str, Any]) -> None:
    assert (
        profile_for(case.get("manufacturer"), case.get("model"), case.get("name")).key
        == case["key"]
    )


# --- building the clock file (run this module as a script) -------------------------------------


def _hrm(hr: int, rr_ticks: list[int], contact: bool | None = True) -> str:
    flags = 0x10 if rr_ticks else 0
    if contact is not None:
        flags |= 0x04 | (0x02 if contact else 0)
    out = bytearray([flags, hr])
    for t in rr_ticks:
        out += t.to_bytes(2, "little")
    return out.hex()


def _polar_events(rng: random.Random, t0_s: float, drift: float) -> list[dict[str, Any]]:
    """The real H10 recording (tests/data/polar_h10_rr.csv) as notifications arriving 0-1 s after
    their last beat with jitter, on a strap clock ``drift`` fast."""
    import csv

    events: list[dict[str, Any]] = [{"op": "connect", "wall_s": t0_s}]
    with (DATA / "polar_h10_rr.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    groups: list[list[int]] = []
    for row in rows:
        if row["hr_bpm"] or not groups:
            groups.append([int(row["rr_ms"])])
        else:
            groups[-1].append(int(row["rr_ms"]))
    beat_s = t0_s + 0.5
    for rr_ms in groups:
        ticks = [round(r * 1.024) for r in rr_ms]
        beat_s += sum(ticks) / 1024 * (1 + drift)
        arrival = beat_s + rng.uniform(0.0, 0.3) + rng.uniform(0.0, 0.2)
        events.append({"op": "notify", "hex": _hrm(60, ticks), "wall_s": round(arrival, 6)})
    return events


def build_clock_doc() -> dict[str, Any]:
    rng = random.Random(13)
    t0 = 1_767_254_400.0  # 2026-01-01T08:00:00Z
    scenarios: list[dict[str, Any]] = [
        {
            "name": "real Polar H10 recording, strap clock 0.5 % fast, jittered arrivals",
            "strap": {"name": "Polar H10 1A2B3C4D"},
            "events": _polar_events(rng, t0, 0.005),
        },
        {
            "name": "real Polar H10 recording, strap clock 0.5 % slow, generic strap",
            "strap": {"name": "HRM-Generic"},
            "events": _polar_events(rng, t0 + 0.123, -0.005),
        },
        {
            "name": "disconnect and reconnect record a gap and invent no beats",
            "events": [
                {"op": "connect", "wall_s": t0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 1.1},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 2.05},
                {"op": "notify", "hex": _hrm(60, [1000, 1010]), "wall_s": t0 + 4.2},
                {"op": "disconnect", "wall_s": t0 + 5.0},
                {"op": "connect", "wall_s": t0 + 12.0},
                {"op": "notify", "hex": _hrm(61, [1008]), "wall_s": t0 + 12.9},
                {"op": "notify", "hex": _hrm(61, [1008]), "wall_s": t0 + 13.95},
            ],
        },
        {
            "name": "silence longer than the jump threshold re-anchors with a gap",
            "events": [
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 1.0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 2.0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 7.5},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 8.52},
            ],
        },
        {
            "name": "impossible RR values are dropped and counted, never beats",
            "events": [
                {"op": "notify", "hex": _hrm(60, [0, 1024]), "wall_s": t0 + 1.0},
                {"op": "notify", "hex": _hrm(60, [28, 65535, 1030]), "wall_s": t0 + 2.0},
                {"op": "notify", "hex": _hrm(60, [204, 205, 3072, 3073]), "wall_s": t0 + 8.5},
            ],
        },
        {
            "name": "Garmin HRM-Dual trailing bogus RR is dropped",
            "strap": {"manufacturer": "Garmin", "model": "HRM-Dual"},
            "events": [
                {"op": "notify", "hex": _hrm(66, [930, 52], None), "wall_s": t0 + 1.0},
                {"op": "notify", "hex": _hrm(66, [940], None), "wall_s": t0 + 1.93},
                {"op": "notify", "hex": _hrm(66, [52], None), "wall_s": t0 + 2.5},
            ],
        },
        {
            "name": "Polar contact bit is not trusted for two seconds after connect",
            "strap": {"name": "Polar H9 ABCD"},
            "events": [
                {"op": "connect", "wall_s": t0},
                {"op": "notify", "hex": _hrm(60, [1024], False), "wall_s": t0 + 1.0},
                {"op": "notify", "hex": _hrm(60, [1024], True), "wall_s": t0 + 2.0},
                {"op": "notify", "hex": _hrm(60, [1024], False), "wall_s": t0 + 3.0},
                {"op": "notify", "hex": _hrm(60, [], None), "wall_s": t0 + 3.5},
            ],
        },
        {
            "name": "wall clock stepping back never reorders beats",
            "events": [
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 10.0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 11.0},
                {"op": "notify", "hex": _hrm(60, [1024, 1024]), "wall_s": t0 + 5.0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 6.0},
                {"op": "disconnect", "wall_s": t0 + 6.5},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 3.0},
            ],
        },
        {
            "name": "resume after a restart starts with a gap from the stored beat",
            "resume_after_ms": int(t0 * 1000) + 500,
            "events": [
                {"op": "notify", "hex": _hrm(60, [1024, 1024]), "wall_s": t0 + 30.0},
                {"op": "notify", "hex": _hrm(60, [1024]), "wall_s": t0 + 31.0},
            ],
        },
        {
            "name": "ties round half to even like Python's round",
            "events": [
                {"op": "notify", "hex": _hrm(60, [512]), "wall_s": t0 + 0.0625},
                {"op": "disconnect", "wall_s": t0 + 1.0},
                {"op": "notify", "hex": _hrm(60, [512]), "wall_s": t0 + 3.1875},
                {"op": "notify", "hex": _hrm(60, [1]), "wall_s": t0 + 3.6},
            ],
        },
    ]
    for s in scenarios:
        s["expect"] = run_scenario(s)
    profiles = [
        {"name": "Polar H10 1A2B3C4D", "key": "polar-h10"},
        {"name": "Polar H9 0A1B2C3D", "key": "polar-h9"},
        {
            "manufacturer": "Polar Electro Oy",
            "model": "Polar Verity Sense",
            "key": "optical-sensors",
        },
        {"name": "Polar OH1 1234", "key": "optical-sensors"},
        {"manufacturer": "Garmin", "model": "HRM-Dual", "key": "garmin-hrm-dual-pro"},
        {"name": "HRM-Pro:123456", "key": "garmin-hrm-dual-pro"},
        {"name": "TICKR 1A2B", "key": "wahoo-tickr"},
        {"manufacturer": "Coospo", "model": "H6", "key": "coospo-h808s-h6"},
        {"name": "H808S 00123", "key": "coospo-h808s-h6"},
        {"name": "Movesense 175030000123", "key": "movesense"},
        {"model": "H6", "key": "generic"},
        {"name": "HRM-Generic", "key": "generic"},
        {"key": "generic"},
    ]
    return {
        "description": "Beat clock and strap-quirk vectors: inputs (strap identity, connect/"
        "disconnect/notification events with arrival wall_s in epoch s and the 0x2A37 value as hex) "
        "and the output of collector.beats.BeatClock per notification (beats as [t_ms, rr_ticks], "
        "gaps as [start_ms, end_ms], RR values dropped, contact as shown). The page's clock.js and "
        "quirks.js must reproduce every output exactly.",
        "scenarios": scenarios,
        "profiles": profiles,
    }


if __name__ == "__main__":
    CLOCK_VECTORS.write_text(json.dumps(build_clock_doc(), separators=(",", ":")) + "\n")
    sys.stdout.write(f"wrote {CLOCK_VECTORS}\n")
