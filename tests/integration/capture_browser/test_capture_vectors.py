"""The page's 0x2A37 parser, strap quirks and beat clock (api/static/js/capture/) pass the same vector
files as the Python collector, run in Chromium as the page loads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from .conftest import StaticSite

pytestmark = [pytest.mark.integration, pytest.mark.browser]

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture
def module_page(browser: Browser, static_site: StaticSite) -> Iterator[Page]:
    ctx = browser.new_context()
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(static_site.url("/blank.html"))
    yield page
    ctx.close()
    assert errors == []


def test_page_parser_passes_the_shared_hrm_vectors(module_page: Page) -> None:
    doc = json.loads((DATA / "hrm_vectors.json").read_text())
    results: list[dict[str, Any]] = module_page.evaluate(
        """async (vectors) => {
          const hrm = await import("/static/js/capture/hrm.js");
          const bytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
          return vectors.map((v) => {
            try {
              const m = hrm.parseHeartRateMeasurement(new DataView(bytes(v.hex).buffer));
              return { name: v.name, ok: true, got: {
                heart_rate_bpm: m.heartRateBpm, contact_supported: m.contactSupported,
                sensor_contact: m.sensorContact, energy_expended_kj: m.energyExpendedKj,
                rr_ticks: m.rrTicks }, rr_ms: m.rrMs };
            } catch (err) {
              return { name: v.name, ok: false, error: `${err.name}: ${err.message}` };
            }
          });
        }""",
        doc["vectors"],
    )
    assert len(results) == len(doc["vectors"])
    for vector, result in zip(doc["vectors"], results, strict=True):
        if "error" in vector:
            assert not result["ok"], vector["name"]
            assert result["error"].startswith("MalformedPacket: "), result
            assert vector["error"] in result["error"], (vector["name"], result["error"])
        else:
            assert result["ok"], (vector["name"], result)
            assert result["got"] == vector["expect"], vector["name"]
            assert result["rr_ms"] == [t * 1000 / 1024 for t in vector["expect"]["rr_ticks"]]


def test_page_beat_clock_reproduces_the_python_clock(module_page: Page) -> None:
    doc = json.loads((DATA / "beat_clock_vectors.json").read_text())
    outputs: list[Any] = module_page.evaluate(
        """async (doc) => {
          const hrm = await import("/static/js/capture/hrm.js");
          const quirks = await import("/static/js/capture/quirks.js");
          const { BeatClock } = await import("/static/js/capture/clock.js");
          const bytes = (hex) => Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
          const scenarios = doc.scenarios.map((s) => {
            const strap = s.strap || {};
            const clock = new BeatClock(quirks.profileFor(strap.manufacturer, strap.model, strap.name),
              { resumeAfterMs: s.resume_after_ms === undefined ? null : s.resume_after_ms });
            const out = [];
            for (const e of s.events) {
              if (e.op === "connect") clock.onConnect(e.wall_s);
              else if (e.op === "disconnect") clock.onDisconnect(e.wall_s);
              else {
                const o = clock.onNotification(hrm.parseHeartRateMeasurement(bytes(e.hex)), e.wall_s);
                out.push({ beats: o.beats.map((b) => [b.tMs, b.rrTicks]),
                  gaps: o.gaps.map((g) => [g.startMs, g.endMs]), dropped: o.dropped, contact: o.contact });
              }
            }
            return out;
          });
          const profiles = doc.profiles.map((c) => quirks.profileFor(c.manufacturer, c.model, c.name).key);
          return { scenarios, profiles };
        }""",
        doc,
    )
    for scenario, got in zip(doc["scenarios"], outputs["scenarios"], strict=True):  # type: ignore[call-overload]
        assert got == scenario["expect"], scenario["name"]
    assert outputs["profiles"] == [c["key"] for c in doc["profiles"]]  # type: ignore[call-overload]
    n_beats = sum(len(o["beats"]) for s in doc["scenarios"] for o in s["expect"])
    assert n_beats > 1500  # the two real recordings are in the file
