"""``somatrace demo`` with its output going to a file (as under a service manager): timestamped plain
progress lines from the first seconds on (what, how many, how long left), the URL as soon as the first
patient is complete, and while the others are seeded a banner on the pages fed by ``GET /v1/background``,
which turns inactive once everything is loaded."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import sync_playwright

from ..dashboard_browser.conftest import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SOMATRACE = Path(sys.executable).with_name("somatrace")
#: Long enough a history that the background seeding lasts a while after the first patient.
DAYS = 14
#: A minimal environment, as a service manager gives (sbin: ``useradd`` for the embedded PostgreSQL).
DEMO_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#: The issue's promise: progress lines within this many seconds of the start.
FIRST_LINES_WITHIN_S = 10.0
PROGRESS_LINE = re.compile(r"^\[\s*\d+\.\d s\] \S.* (\d+ s so far|done in \d+ s)", re.M)
#: What, how many, how long so far and how long left (unknown until a second of work predicts it: on
#: a quiet machine a patient's beats may be stored in less time than that).
COUNTED_LINE = re.compile(
    r"^\[\s*\d+\.\d s\] .+ [\d,]+/[\d,]+ beats \(\d+ %\), .+ so far, "
    r"(about .+|time) left( unknown)?$",
    re.M,
)
#: A prediction of the time left (the analysis steps predict from the beats they analyse).
LEFT_LINE = re.compile(r"^\[\s*\d+\.\d s\] .+ \d+ s so far, about \d+ s left$", re.M)
READY_LINE = re.compile(r"Somatrace demo ready at (http://127\.0\.0\.1:\d+)")
RUNNING_LINE = re.compile(r"Somatrace demo running at (http://127\.0\.0\.1:\d+)")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "demo"


def _wait_for(
    log: Path, pattern: re.Pattern[str], proc: subprocess.Popen[bytes], limit_s: float
) -> re.Match[str]:
    deadline = time.monotonic() + limit_s
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        match = pattern.search(text)
        if match is not None:
            return match
        if proc.poll() is not None:
            pytest.fail(f"demo exited with {proc.returncode}:\n{text[-3000:]}")
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.2)


def test_demo_log_progress_and_background_banner(tmp_path: Path) -> None:
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        started = time.monotonic()
        proc = subprocess.Popen(
            [str(SOMATRACE), "demo", "--port", "0", "--days", str(DAYS)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            env={"PATH": DEMO_PATH, "HOME": str(tmp_path)},
        )
    try:
        time.sleep(FIRST_LINES_WITHIN_S - (time.monotonic() - started))
        early = log.read_text(encoding="utf-8")
        assert len(PROGRESS_LINE.findall(early)) >= 2, (
            early
        )  # lines keep coming, not one at the end
        url = _wait_for(log, READY_LINE, proc, 600).group(1)
        state = httpx.get(f"{url}/v1/background", timeout=30).json()
        assert state["active"] is True, state
        assert state["total"] == 3 and state["done"] == 1
        assert "1 of 3 patients ready" in state["message"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 390, "height": 800})
                page.goto(f"{url}/#/login")
                banner = page.locator("#background-banner")
                banner.wait_for(state="visible", timeout=30_000)
                assert "patients ready" in banner.inner_text()
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "background-banner-phone.png"))
                _wait_for(log, RUNNING_LINE, proc, 900)
                page.locator("#background-reload").wait_for(timeout=30_000)  # banner: all loaded
            finally:
                browser.close()
        assert httpx.get(f"{url}/v1/background", timeout=30).json() == {
            "active": False,
            "message": None,
            "done": None,
            "total": None,
            "eta_s": None,
            "elapsed_s": None,
        }
        text = log.read_text(encoding="utf-8")
        assert COUNTED_LINE.search(text), text[-3000:]  # what, how many, how long so far
        assert LEFT_LINE.search(text), text[-3000:]  # how long left
        assert text.index("Somatrace demo ready at") < text.index("Somatrace demo running at")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=300) == 0, log.read_text(encoding="utf-8")[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
