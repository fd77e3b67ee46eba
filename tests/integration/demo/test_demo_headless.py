"""``somatrace demo --headless``: the real command in a subprocess (embedded PostgreSQL, seeding, worker,
server, live emulated strap); while it runs, the dashboard and API answer with the demo data; at the
end it prints a summary with stored beats, computed windows and live beats received."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from somatrace.demo.accounts import PATIENTS, THERAPIST

pytestmark = pytest.mark.integration

SOMATRACE = Path(sys.executable).with_name("somatrace")
#: Seconds the demo keeps running after seeding (the checks below happen in that time).
DURATION_S = 25
#: Shortest history the command accepts: keeps the test to the machine's patience.
DAYS = 7
URL_LINE = re.compile(r"Somatrace demo running at (http://127\.0\.0\.1:\d+)")
SUMMARY_LINE = re.compile(
    r"Demo summary: patients=(\d+) beats_stored=(\d+) windows_computed=(\d+) "
    r"daily_values=(\d+) live_beats_received=(\d+) seed_seconds=([\d.]+)"
)


DATA_DIR_LINE = re.compile(r"Starting the embedded PostgreSQL in (\S+) ")
#: Longest wait for the demo to print its URL, in seconds.
URL_TIMEOUT_S = 900
#: A minimal environment, as a service manager gives; sbin holds the ``useradd`` that the embedded
#: PostgreSQL runs (as root) on its first start on a machine.
DEMO_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class DemoProcess:
    """``somatrace demo`` in a subprocess with its output collected line by line."""

    def __init__(self, tmp_path: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [str(SOMATRACE), "demo", "--port", "0", "--days", str(DAYS), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=tmp_path,
            env={"PATH": DEMO_PATH, "HOME": str(tmp_path), "COLUMNS": "200", "TERM": "dumb"},
        )
        self.lines: list[str] = []
        self.url_seen = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)
            if URL_LINE.search(line):
                self.url_seen.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def url(self) -> str:
        """The demo's URL once printed; fails at once when the demo exits before printing it."""
        deadline = time.monotonic() + URL_TIMEOUT_S
        while not self.url_seen.wait(timeout=1.0):
            if self.proc.poll() is not None:
                self.reader.join(timeout=10)
                if self.url_seen.is_set():
                    break
                pytest.fail(f"demo exited with {self.proc.returncode}:\n{self.output[-3000:]}")
            assert time.monotonic() < deadline, self.output[-3000:]
        return next(m.group(1) for line in self.lines if (m := URL_LINE.search(line)))

    def data_dir(self) -> Path:
        match = DATA_DIR_LINE.search(self.output)
        assert match is not None, self.output[-3000:]
        return Path(match.group(1))

    def finish(self, timeout_s: float) -> int:
        try:
            return self.proc.wait(timeout=timeout_s)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=60)
            self.reader.join(timeout=10)


def test_demo_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path)
    url = demo.url()
    assert httpx.get(f"{url}/healthz", timeout=30).json()["status"] == "ok"
    demo.proc.send_signal(signal.SIGINT)
    code = demo.finish(timeout_s=300)
    assert code == 0, demo.output[-3000:]
    assert "Stopping" in demo.output
    assert SUMMARY_LINE.search(demo.output) is not None
    assert not demo.data_dir().exists()  # embedded PostgreSQL stopped, temporary data removed
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/healthz", timeout=5)


def test_demo_headless_serves_seeded_data_and_live_beats(tmp_path: Path) -> None:
    demo = DemoProcess(tmp_path, "--headless", "--duration", str(DURATION_S))
    proc = demo.proc
    try:
        url = demo.url()
        with httpx.Client(base_url=url, timeout=30) as http:
            page = http.get("/")
            assert (
                page.status_code == 200
                and '<script type="module" src="/static/js/main.js">' in page.text
            )
            assert http.get("/static/vendor/uplot/uPlot.esm.js").status_code == 200
            token = http.post(
                "/v1/auth/token", data={"username": THERAPIST.email, "password": THERAPIST.password}
            ).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            patients = http.get("/v1/patients", headers=auth).json()
            assert sorted(p["display_name"] for p in patients) == sorted(
                p.display_name for p in PATIENTS
            )
            for p in patients:
                timeline = http.get(f"/v1/patients/{p['id']}/timeline", headers=auth).json()
                kinds = [s["kind"] for s in timeline["sessions"]]
                assert kinds.count("medicine") == 2 and kinds.count("integration") >= 1
                assert any(d["ln_rmssd"] is not None for d in timeline["daily"]), p["display_name"]
        demo.finish(timeout_s=DURATION_S + 300)
    finally:
        if proc.poll() is None:
            proc.terminate()
        demo.finish(timeout_s=60)
    output = demo.output
    assert proc.returncode == 0, output[-3000:]
    summary = SUMMARY_LINE.search(output)
    assert summary is not None, output[-3000:]
    patients_n, beats, windows, daily, live, seed_s = summary.groups()
    assert int(patients_n) == len(PATIENTS)
    assert int(beats) > 100_000  # a week of nights for three patients
    assert int(windows) > 500
    assert int(daily) >= len(PATIENTS) * 3
    assert int(live) > 0  # beats from the emulated strap went through collector and ingest
    print(
        f"\ndemo --days {DAYS}: seeding took {float(seed_s):.1f} s; {beats} beats, {windows} windows"
    )
