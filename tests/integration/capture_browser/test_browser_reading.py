"""A 5-minute morning reading recorded by the patient's page in Chromium from an emulated strap, with
the link dropped once and the network cut half-way: the server holds every beat the strap sent, once,
timed as the Python beat clock times them, and the page shows the verdict ``analysis.reading`` gives on
those beats.

How the strap is emulated (``/work/shared/notes/web-bluetooth.md``): Chromium's DevTools
``BluetoothEmulation`` domain provides the strap (advertised Heart Rate service 0x180D with 0x2A37)
and answers the page's own ``requestDevice`` (the chooser is answered with ``DeviceAccess.selectPrompt``),
``gatt.connect()``, service and characteristic discovery and ``startNotifications()``, and drops the
link (``simulateGATTDisconnection``) so the page's reconnection runs for real. The protocol cannot push
a notification, so each 0x2A37 value is delivered as the answer to a ``readValue()`` on the page's own
subscribed characteristic (``capture/link.js activeCharacteristic()``): Chromium then fires
``characteristicvaluechanged`` on it and the page's real notification handler receives the bytes.
Time is Playwright's page clock (paused; advanced beat by beat), so 5 minutes take seconds.
"""

from __future__ import annotations

import base64
import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np
import psycopg
import pytest
from playwright.sync_api import Browser, CDPSession, Page
from psycopg.rows import dict_row

from analysis.band import NormalBand
from analysis.reading import UsualRange, judge_reading
from analysis.trends import daily_trend, medicine_days_of
from api.auth.passwords import hash_password
from api.trend_view import daily_frame, patient_today
from collector.beats import BeatClock
from collector.gatt import parse_heart_rate_measurement
from collector.quirks import profile_for
from wire import ticks_to_ms

from ...conftest import fresh_database
from ..conftest import serve_app
from ..dashboard_browser.conftest import ARTIFACTS, AXE_FAILING_IMPACTS, AXE_JS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

PASSWORD = "phone-reading-password"
TZ = "Europe/Berlin"
STRAP_ADDRESS = "C0:FF:EE:00:13:37"
STRAP_NAME = "Polar H10 1A2B3C4D"
HRS = "0000180d-0000-1000-8000-00805f9b34fb"
HRM = "00002a37-0000-1000-8000-00805f9b34fb"
CCCD = "00002902-0000-1000-8000-00805f9b34fb"
PHONE = {"width": 390, "height": 844}
#: Baseline: 14 good mornings before a medicine session 3 days ahead (the band is provisional).
BASELINE_DAYS = 14
BASELINE_LN_RMSSD = 4.3
READING_S = 300
LINK = "/static/js/capture/link.js"
READING = "/static/js/capture/reading.js"


@dataclass
class Server:
    base_url: str
    db_url: str
    email: str
    patient_id: uuid.UUID

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.db_url, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(query, params or {}).fetchall()  # type: ignore[arg-type]


def _seed(base_url: str, db_url: str) -> Server:
    therapist_email = f"t-{uuid.uuid4().hex[:6]}@example.org"
    patient_email = f"p-{uuid.uuid4().hex[:6]}@example.org"
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO users (email, password_hash, role, display_name, password_set_at) "
            "VALUES (%s, %s, 'therapist', 'Dr. Phone', now())",
            (therapist_email, hash_password(PASSWORD)),
        )
    with httpx.Client(base_url=base_url, timeout=60) as http:
        token = http.post(
            "/v1/auth/token", data={"username": therapist_email, "password": PASSWORD}
        ).json()["access_token"]
        th = {"Authorization": f"Bearer {token}"}
        pid = http.post(
            "/v1/patients", json={"display_name": "Robin", "timezone": TZ}, headers=th
        ).json()["id"]
        r = http.post(
            f"/v1/patients/{pid}/account",
            json={"email": patient_email, "password": PASSWORD},
            headers=th,
        )
        assert r.status_code == 201, r.text
        medicine_at = datetime.now(UTC) + timedelta(days=3)
        r = http.post(
            f"/v1/patients/{pid}/sessions",
            json={
                "kind": "medicine",
                "started_at": medicine_at.isoformat(),
                "medicine": "esketamine",
                "route": "intranasal",
                "dose": 84,
                "dose_unit": "mg",
            },
            headers=th,
        )
        assert r.status_code == 201, r.text
    rng = np.random.default_rng(13)
    today = datetime.now(UTC).date()
    with psycopg.connect(db_url, autocommit=True) as conn:
        for k in range(BASELINE_DAYS, 0, -1):
            ln = BASELINE_LN_RMSSD + 0.15 * float(rng.standard_normal())
            conn.execute(
                "INSERT INTO daily_values (patient_id, day, source, beat_source, ln_rmssd, rmssd_ms, "
                "resting_hr_bpm, stress_index, n_windows, wear_hours, artifact_share, quality) "
                "VALUES (%s, %s, 'morning', 'collector', %s, %s, 60, 10, 1, 0.1, 0.01, 'good')",
                (pid, today - timedelta(days=k), ln, math.exp(ln)),
            )
    return Server(base_url, db_url, patient_email, uuid.UUID(pid))


@pytest.fixture
def straps() -> Iterator[list[EmulatedStrap]]:
    """Emulated straps made by a test (append them), switched off afterwards."""
    made: list[EmulatedStrap] = []
    yield made
    for strap in made:
        strap.close()


@pytest.fixture(scope="module")
def server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with (
        fresh_database(pg_admin_url, "somatrace_phone_reading", migrated=True) as db_url,
        serve_app(db_url, tmp_path_factory.mktemp("phone")) as url,
    ):
        yield _seed(url, db_url)


class EmulatedStrap:
    """A Heart Rate strap in Chromium's Bluetooth emulation, answering the page's GATT operations and
    delivering queued 0x2A37 values as answers to the page's reads."""

    def __init__(self, browser_cdp: CDPSession, page_cdp: CDPSession) -> None:
        self.b = browser_cdp
        self.p = page_cdp
        self.values: list[bytes] = []
        self.prompted = False
        self.ops: list[str] = []
        self.char_id = ""
        b, p = browser_cdp, page_cdp
        b.send("BluetoothEmulation.enable", {"state": "powered-on", "leSupported": True})
        b.send(
            "BluetoothEmulation.simulatePreconnectedPeripheral",
            {
                "address": STRAP_ADDRESS,
                "name": STRAP_NAME,
                "manufacturerData": [],
                "knownServiceUuids": [HRS],
            },
        )
        self.add_services()
        b.on("BluetoothEmulation.gattOperationReceived", self._on_gatt)
        b.on("BluetoothEmulation.characteristicOperationReceived", self._on_char)
        b.on("BluetoothEmulation.descriptorOperationReceived", self._on_descriptor)
        p.send("DeviceAccess.enable")
        p.on("DeviceAccess.deviceRequestPrompted", self._on_prompt)

    def add_services(self) -> None:
        """The Heart Rate service with 0x2A37 and its CCCD (again after a disconnection: Chromium's
        emulation forgets a peripheral's services when its link drops)."""
        b = self.b
        service = b.send(
            "BluetoothEmulation.addService", {"address": STRAP_ADDRESS, "serviceUuid": HRS}
        )
        char = b.send(
            "BluetoothEmulation.addCharacteristic",
            {
                "serviceId": service["serviceId"],
                "characteristicUuid": HRM,
                "properties": {"notify": True, "read": True},
            },
        )
        self.char_id = char["characteristicId"]
        b.send(
            "BluetoothEmulation.addDescriptor",
            {"characteristicId": self.char_id, "descriptorUuid": CCCD},
        )

    def _on_prompt(self, event: dict[str, Any]) -> None:
        if self.prompted or not event.get("devices"):
            return  # the prompt event can arrive twice; a second selectPrompt crashes Chromium
        self.prompted = True
        self.p.send(
            "DeviceAccess.selectPrompt", {"id": event["id"], "deviceId": event["devices"][0]["id"]}
        )

    def _on_gatt(self, event: dict[str, Any]) -> None:
        self.ops.append(event["type"])
        self.b.send(
            "BluetoothEmulation.simulateGATTOperationResponse",
            {"address": event["address"], "type": event["type"], "code": 0},
        )

    def _on_char(self, event: dict[str, Any]) -> None:
        self.ops.append(event["type"])
        answer: dict[str, Any] = {
            "characteristicId": event["characteristicId"],
            "type": event["type"],
            "code": 0,
        }
        if event["type"] == "read":
            answer["data"] = base64.b64encode(self.values.pop(0)).decode()
        self.b.send("BluetoothEmulation.simulateCharacteristicOperationResponse", answer)

    def _on_descriptor(self, event: dict[str, Any]) -> None:
        self.b.send(
            "BluetoothEmulation.simulateDescriptorOperationResponse",
            {"descriptorId": event["descriptorId"], "type": event["type"], "code": 0},
        )

    def close(self) -> None:
        """Switch the emulation off (it is browser-wide: the next test enables its own)."""
        self.b.send("BluetoothEmulation.disable")

    def drop_link(self) -> None:
        self.b.send("BluetoothEmulation.simulateGATTDisconnection", {"address": STRAP_ADDRESS})


def packet(hr_bpm: int, rr_ticks: list[int], contact: bool = True) -> bytes:
    """A 0x2A37 value: 8-bit heart rate, contact supported (and detected), RR intervals."""
    flags = 0x10 | 0x04 | (0x02 if contact else 0)
    out = bytes([flags, hr_bpm])
    for r in rr_ticks:
        out += r.to_bytes(2, "little")
    return out


def rr_series(seed: int = 21) -> list[int]:
    """RR ticks of a resting person (about 64 bpm, RMSSD about 45 ms) for a little over 5 minutes."""
    rng = np.random.default_rng(seed)
    out: list[int] = []
    total_ms = 0.0
    phase = 0.0
    while total_ms < (READING_S + 5) * 1000:
        phase += 2 * math.pi * 0.25 * 0.94
        rr_ms = 940 + 35 * math.sin(phase) + 20 * float(rng.standard_normal())
        ticks = round(rr_ms * 1.024)
        out.append(ticks)
        total_ms += ticks_to_ms(ticks)
    return out


def axe(page: Page, where: str) -> None:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"
    )
    bad = [v for v in json.loads(result)["violations"] if v.get("impact") in AXE_FAILING_IMPACTS]
    assert not bad, f"axe on {where}: {[(v['id'], v['help']) for v in bad]}"


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=False)


def _login(page: Page, server: Server) -> None:
    page.goto(f"{server.base_url}/#/login")
    page.fill("#login-email", server.email)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_function("() => document.body.dataset.ready === '#/me'", timeout=60_000)


def _wait_for_link(page: Page, strap: EmulatedStrap) -> None:
    """Until the page has subscribed again (polled: the page clock is paused, so no page timers)."""
    for _ in range(300):
        state = page.evaluate(
            """async ([link, reading]) => {
              const { activeCharacteristic } = await import(link);
              const { readingController } = await import(reading);
              const c = readingController();
              return { ok: activeCharacteristic() !== null, state: c.linkState, error: c.error };
            }""",
            [LINK, READING],
        )
        if state["ok"]:
            return
        time.sleep(0.05)
    raise AssertionError(f"the page did not reconnect: {state}, operations {strap.ops[-8:]}")


def _deliver(page: Page, strap: EmulatedStrap, value: bytes, expect_written: int) -> None:
    """One notification through the page's own handler; returns once its beats are in the outbox."""
    strap.values.append(value)
    page.evaluate(
        """async ([link, reading, n]) => {
          const { activeCharacteristic } = await import(link);
          const { readingController } = await import(reading);
          const c = readingController();
          const ch = activeCharacteristic();
          if (!ch) throw new Error("no subscribed characteristic");
          const written = new Promise((resolve) => {
            const check = () => {
              if (c.beatsWritten >= n) { c.removeEventListener("change", check); resolve(); }
            };
            c.addEventListener("change", check);
            check();
          });
          await ch.readValue();
          await written;
        }""",
        [LINK, READING, expect_written],
    )


def test_morning_reading_from_an_emulated_strap_survives_link_drop_and_offline(
    browser: Browser, server: Server, straps: list[EmulatedStrap]
) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    real_now = datetime.now(UTC)
    # the page's clock runs 15 minutes behind, so 5 fast-forwarded minutes stay in the server's past
    page.clock.install(time=real_now - timedelta(minutes=15))
    strap = EmulatedStrap(ctx.browser.new_browser_cdp_session(), ctx.new_cdp_session(page))  # type: ignore[union-attr]
    straps.append(strap)
    _login(page, server)
    page.wait_for_selector("#record-choose")
    page.locator("#record").scroll_into_view_if_needed()
    shot(page, "phone-record-start")
    axe(page, "record: before choosing")

    page.click("#record-choose")
    page.wait_for_selector("#record-start", timeout=30_000)
    assert strap.prompted
    # the reading starts on the running clock (axe needs timers), then the clock is paused and
    # advanced beat by beat
    page.click("#record-start")
    page.wait_for_selector("#record-countdown")
    axe(page, "record: recording")
    started_ms = int(
        page.evaluate(f"import('{READING}').then(m => m.readingController().reading.startedMs)")
    )
    now_ms = int(page.evaluate("Date.now()")) + 200
    page.clock.pause_at(datetime.fromtimestamp(now_ms / 1000, UTC))
    assert int(page.evaluate("Date.now()")) == now_ms

    rr = rr_series()
    py_clock = BeatClock(profile_for(None, None, STRAP_NAME))
    py_clock.on_connect(started_ms / 1000)
    expected: list[tuple[int, int]] = []
    sent: list[int] = []
    cum_ms = 0.0
    drop_at, offline_at, online_at = len(rr) // 3, len(rr) // 2, (3 * len(rr)) // 4
    written = 0
    for i, ticks in enumerate(rr):
        cum_ms += ticks_to_ms(ticks)
        target = started_ms + round(cum_ms)
        if target >= started_ms + READING_S * 1000:
            break
        if target > now_ms:
            page.clock.run_for(target - now_ms)
            now_ms = target
        if i == drop_at:
            # the link drops; the page reconnects by itself (its backoff runs on the page clock)
            strap.drop_link()
            page.wait_for_selector("#record-state.notice-warn")
            strap.add_services()
            py_clock.on_disconnect(now_ms / 1000)
            page.clock.run_for(600)
            now_ms += 600
            _wait_for_link(page, strap)
            py_clock.on_connect(now_ms / 1000)
            continue  # the beat that fell into the drop was never sent
        if i == offline_at:
            ctx.set_offline(True)
        if i == online_at:
            # offline, the beats wait in the outbox: the uploader has failed and waits to retry
            status = page.evaluate(
                "import('/static/js/capture/uploader.js').then(m => m.uploader().status)"
            )
            assert status["state"] == "waiting" and status["unsent"] > 0, status
            assert "connection is back" in page.locator("#record-sending").inner_text()
            held = server.sql(
                "SELECT count(*) AS n FROM beats b JOIN devices d ON d.id = b.device_id "
                "WHERE d.patient_id = %(p)s AND d.source = 'browser'",
                {"p": server.patient_id},
            )[0]["n"]
            in_outbox = page.evaluate(
                "import('/static/js/capture/outbox.js').then(m => m.unsentBeats()).then(u => u.count)"
            )
            assert in_outbox > 0 and held + in_outbox == len(sent)
            ctx.set_offline(False)
        value = packet(round(60000 / ticks_to_ms(ticks)), [ticks])
        out = py_clock.on_notification(parse_heart_rate_measurement(value), now_ms / 1000)
        expected.extend((b.t_ms, b.rr_ticks) for b in out.beats)
        sent.append(ticks)
        written += len(out.beats)
        _deliver(page, strap, value, written)
        if i == len(rr) // 2 + 5:
            page.focus("#record-cancel")  # a keyboard user on the stop button ...
            shot(page, "phone-record-live")
            assert page.locator("#record-contact").inner_text() == "Good skin contact"
            assert page.locator("#record-rmssd").inner_text().endswith(" ms")
        if i == len(rr) // 2 + 15:
            # ... keeps the focus while the values change (they are updated in place)
            assert page.evaluate("document.activeElement.id") == "record-cancel"
    # the end of the reading: the countdown reaches 0, the reading is sealed and sent
    page.clock.run_for(started_ms + READING_S * 1000 + 1500 - now_ms)
    page.wait_for_selector("#record-verdict", timeout=60_000)
    shot(page, "phone-record-verdict")
    page.clock.resume()  # axe waits on timers
    axe(page, "record: verdict")

    device = server.sql(
        "SELECT id FROM devices WHERE patient_id = %(p)s AND source = 'browser'",
        {"p": server.patient_id},
    )
    assert len(device) == 1
    stored = server.sql(
        "SELECT (extract(epoch FROM t) * 1000)::bigint AS t_ms, rr_ticks FROM beats "
        "WHERE device_id = %(d)s ORDER BY t",
        {"d": device[0]["id"]},
    )
    # every beat the strap sent, once, timed exactly as the Python beat clock times them
    assert [r["rr_ticks"] for r in stored] == sent
    assert [(int(r["t_ms"]), r["rr_ticks"]) for r in stored] == expected
    batches = server.sql(
        "SELECT sum(accepted) AS a, count(*) AS n FROM ingest_batches WHERE device_id = %(d)s",
        {"d": device[0]["id"]},
    )[0]
    assert batches["a"] == len(sent)

    # the verdict equals analysis.reading on the same beats with the same baseline
    rows = server.sql(
        "SELECT * FROM daily_values WHERE patient_id = %(p)s ORDER BY day", {"p": server.patient_id}
    )
    sessions = server.sql(
        "SELECT kind, started_at FROM sessions WHERE patient_id = %(p)s", {"p": server.patient_id}
    )
    band = daily_trend(
        daily_frame(rows), medicine_days_of(sessions, TZ), today=patient_today(TZ)
    ).band
    assert isinstance(band, NormalBand)
    usual = UsualRange(band.mean_ln_rmssd, band.sd_ln_rmssd, band.n_days, band.source)
    verdict = judge_reading(
        [t / 1000 for t, _ in expected],
        [ticks_to_ms(r) for _, r in expected],
        start_s=started_ms / 1000,
        end_s=started_ms / 1000 + READING_S,
        usual=usual,
        resolution_ms=1000 / 1024,
    )
    assert verdict.state == "verdict"
    shown = page.locator("#record-verdict")
    assert shown.get_attribute("data-position") == verdict.position
    assert (
        page.locator("#record-verdict-numbers")
        .inner_text()
        .startswith(
            f"Heartbeat variation at rest (RMSSD): {round(verdict.rmssd_ms)} ms; heart rate "
            f"{round(verdict.mean_hr_bpm)} beats per minute; {verdict.n_beats} beats"
        )
    )
    reading = server.sql(
        "SELECT * FROM readings WHERE patient_id = %(p)s", {"p": server.patient_id}
    )
    assert len(reading) == 1 and reading[0]["planned_s"] == READING_S
    assert "connection" in strap.ops and "subscribe-to-notifications" in strap.ops
    assert errors == [] or all("ERR_INTERNET_DISCONNECTED" in e for e in errors), errors
    ctx.close()


def test_beats_written_offline_survive_a_reload_and_are_sent_later(
    browser: Browser, server: Server, straps: list[EmulatedStrap]
) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    page.clock.install(time=datetime.now(UTC) - timedelta(minutes=30))
    strap = EmulatedStrap(ctx.browser.new_browser_cdp_session(), ctx.new_cdp_session(page))  # type: ignore[union-attr]
    straps.append(strap)
    _login(page, server)
    page.click("#record-choose")
    page.wait_for_selector("#record-start")
    page.click("#record-start")
    page.wait_for_selector("#record-countdown")
    # the server cannot be reached (uploads fail as they would offline; the page itself still loads)
    ctx.route("**/v1/ingest/**", lambda route: route.abort("internetdisconnected"))
    now_ms = int(page.evaluate("Date.now()")) + 200
    page.clock.pause_at(datetime.fromtimestamp(now_ms / 1000, UTC))
    sent = rr_series(seed=8)[:40]
    for n, ticks in enumerate(sent, start=1):
        page.clock.run_for(round(ticks_to_ms(ticks)))
        _deliver(page, strap, packet(64, [ticks]), n)
    device_id = page.evaluate(
        "import('/static/js/capture/outbox.js').then(m => m.getMeta('device'))"
        ".then(d => d && d.deviceId)"
    )
    # the tab reloads (or is closed and opened again) before anything was sent: the outbox keeps
    # every beat
    page.clock.resume()
    page.reload()
    page.wait_for_function("() => document.body.dataset.ready === '#/me'", timeout=60_000)
    left = page.evaluate(
        "import('/static/js/capture/outbox.js').then(m => m.unsentBeats()).then(u => u.count)"
    )
    held = (
        server.sql(
            "SELECT count(*) AS n FROM beats b JOIN devices d ON d.id = b.device_id "
            "WHERE d.patient_id = %(p)s AND d.id::text = %(d)s",
            {"p": server.patient_id, "d": str(device_id)},
        )[0]["n"]
        if device_id
        else 0
    )
    assert held + left == len(sent) and left > 0
    ctx.unroute("**/v1/ingest/**")
    page.wait_for_function(
        "() => import('/static/js/capture/outbox.js').then(m => m.unsentBeats())"
        ".then(u => { window.__left = u.count; }) && window.__left === 0",
        timeout=30_000,
    )
    device_id = page.evaluate(
        "import('/static/js/capture/outbox.js').then(m => m.getMeta('device')).then(d => d.deviceId)"
    )
    stored = server.sql(
        "SELECT rr_ticks FROM beats WHERE device_id = %(d)s ORDER BY t", {"d": device_id}
    )
    assert [r["rr_ticks"] for r in stored] == sent
    ctx.close()


def test_without_web_bluetooth_the_page_says_so_and_points_to_the_alternatives(
    browser: Browser, server: Server
) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    # what Safari and Firefox offer: no navigator.bluetooth
    ctx.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'bluetooth', {get: () => undefined})"
    )
    page = ctx.new_page()
    _login(page, server)
    notice = page.locator("#record-unsupported")
    assert "Safari" in notice.inner_text() and "Firefox" in notice.inner_text()
    alternatives = page.locator("#record-alternatives").inner_text()
    for words in ("Chrome or Edge", "bedside collector", "imported"):
        assert words in alternatives
    assert page.locator("#record-choose").count() == 0
    page.locator("#record").scroll_into_view_if_needed()
    shot(page, "phone-record-unsupported")
    axe(page, "record: no Web Bluetooth")
    ctx.close()


def test_a_browser_revoked_from_the_strap_list_stops_sending_until_the_patient_records_again(
    browser: Browser, server: Server
) -> None:
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    page = ctx.new_page()
    _login(page, server)
    # a token as the page gets it, then revoked by the therapist's strap list
    device = page.evaluate(
        f"import('/static/js/capture/uploader.js').then(m => m.deviceToken('{server.patient_id}'))"
    )
    server.sql(
        "UPDATE devices SET revoked_at = now() WHERE id = %(d)s RETURNING id",
        {"d": device["deviceId"]},
    )
    result = page.evaluate(
        """async ([pid, beatMs]) => {
          const outbox = await import('/static/js/capture/outbox.js');
          const { uploader } = await import('/static/js/capture/uploader.js');
          await outbox.addBeats('r-revoked', [{ tMs: beatMs, rrTicks: 900 }], []);
          await uploader().start(pid);
          return { status: { ...uploader().status }, left: (await outbox.unsentBeats()).count,
                   device: await outbox.getMeta('device') };
        }""",
        [str(server.patient_id), int(datetime.now(UTC).timestamp() * 1000) - 3_600_000],
    )
    assert result["status"]["state"] == "refused" and result["left"] == 1
    assert result["device"]["revoked"] is True
    # sending again does not make a new device behind the patient's back
    again = page.evaluate(
        """import('/static/js/capture/uploader.js').then(async (m) => {
          await m.uploader().kick(); return m.uploader().status.state; })"""
    )
    assert again == "refused"
    browsers = server.sql(
        "SELECT count(*) AS n FROM devices WHERE patient_id = %(p)s AND source = 'browser' "
        "AND revoked_at IS NULL AND created_at > now() - interval '1 minute'",
        {"p": server.patient_id},
    )[0]["n"]
    renewed = page.evaluate(
        f"""import('/static/js/capture/uploader.js').then(async (m) => {{
          const d = await m.deviceToken('{server.patient_id}', {{ renew: true }});
          await m.uploader().start('{server.patient_id}');
          const outbox = await import('/static/js/capture/outbox.js');
          return {{ id: d.deviceId, left: (await outbox.unsentBeats()).count }};
        }})"""
    )
    assert renewed["id"] != device["deviceId"] and renewed["left"] == 0
    after = server.sql(
        "SELECT count(*) AS n FROM devices WHERE patient_id = %(p)s AND source = 'browser' "
        "AND revoked_at IS NULL AND created_at > now() - interval '1 minute'",
        {"p": server.patient_id},
    )[0]["n"]
    assert after == browsers + 1
    ctx.close()
