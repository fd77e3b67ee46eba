"""The parts of the unattended collector without a radio: spool quarantine and schema upgrade, a
spool that fills up (SQLite's own page limit: a real SQLITE_FULL), the memory buffer, the clock
check, journal lines and the systemd unit."""

from __future__ import annotations

import io
import logging
import shutil
import sqlite3
import subprocess
import uuid
from pathlib import Path

import pytest

from collector.beats import Beat, Gap
from collector.clock import ClockCheck, describe_offset, parse_http_date
from collector.journal import JournalFormatter, log_to_journal
from collector.spool import _SCHEMA, Spool, SpoolError, SpoolFull
from collector.status import RecorderStatus, read_status, status_lines, write_status
from collector.systemd import UnitOptions, install_unit, unit_text
from collector.writer import SpoolWriter

T = 1_767_225_600_000


def beats(n: int, start: int = 0) -> list[Beat]:
    return [Beat(t_ms=T + (start + i) * 1000, rr_ticks=1024) for i in range(n)]


def limit_pages(spool: Spool, extra_pages: int) -> None:
    """Let the database grow by at most ``extra_pages`` pages (SQLite then answers SQLITE_FULL)."""
    pages = spool._conn.execute("PRAGMA page_count").fetchone()[0]
    spool._conn.execute(f"PRAGMA max_page_count = {pages + extra_pages}")


def test_a_version_1_spool_is_upgraded_and_keeps_its_pending_batch(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA)  # the version-1 tables
    conn.execute("PRAGMA user_version=1")
    key = str(uuid.uuid4())
    conn.execute("INSERT INTO beats (t_ms, rr_ticks, batch_id) VALUES (?, 1024, ?)", (T, key))
    conn.execute(
        "INSERT INTO batches (batch_id, created_ms, strap_json) VALUES (?, 1, '{}')", (key,)
    )
    conn.commit()
    conn.close()
    with pytest.raises(SpoolError, match="schema version 1"):
        Spool(path, read_only=True)
    spool = Spool(path)
    assert spool._conn.execute("PRAGMA user_version").fetchone()[0] == 2
    batch = spool.next_batch()
    assert batch is not None and [b.t_ms for b in batch.beats] == [T]
    spool.quarantine(batch.batch_id, 422, "beats in the future")
    spool.close()
    reader = Spool(path, read_only=True)
    (held,) = reader.quarantined()
    assert (held.status, held.reason, held.beats) == (422, "beats in the future", 1)
    reader.close()


def test_quarantine_skips_a_batch_until_released(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(beats(6), [Gap(T - 5000, T)])
    first = spool.next_batch(max_beats=3)
    assert first is not None
    spool.quarantine(first.batch_id, 400, "blocked")
    second = spool.next_batch(max_beats=3)
    assert second is not None and second.batch_id != first.batch_id
    spool.mark_sent(second.batch_id)
    assert spool.next_batch(max_beats=3) is None
    stats = spool.stats()
    assert (stats.pending, stats.quarantined_batches, stats.quarantined_beats) == (3, 1, 3)
    assert stats.last_upload_ms is not None
    with pytest.raises(SpoolError, match="already acknowledged"):
        spool.quarantine(second.batch_id, 400, "x")
    assert spool.release_quarantine(uuid.uuid4()) == 0
    assert spool.release_quarantine(first.batch_id) == 1
    again = spool.next_batch(max_beats=3)
    assert again == first  # the same id, beats and gaps as before
    spool.close()


def test_a_full_spool_raises_spool_full_and_stores_nothing_of_the_call(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite3")
    spool.append(beats(10))
    limit_pages(spool, 0)
    with pytest.raises(SpoolFull, match="full") as info:
        spool.append(beats(5000, start=10))
    assert info.value.fields["sqlite_errorcode"] == sqlite3.SQLITE_FULL
    assert spool.stats().spooled == 10
    spool.close()


def test_writer_holds_beats_in_memory_while_full_and_writes_them_when_space_returns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "s.sqlite3")
    now = [0.0]
    free = [10 * 1024 * 1024]
    writer = SpoolWriter(
        spool,
        buffer_max_beats=6000,
        low_space_bytes=1024 * 1024,
        repeat_s=10.0,
        retry_s=1.0,
        clock=lambda: now[0],
        free_bytes=lambda _path: free[0],
    )
    assert writer.append(beats(10)) == 10
    limit_pages(spool, 0)
    free[0] = 0
    caplog.set_level(logging.WARNING)
    assert writer.append(beats(5000, start=10)) == 0
    assert writer.full and writer.buffered_beats == 5000
    for step in range(1, 4):  # more beats while full: held, no write attempt within retry_s
        now[0] += 0.1
        writer.append(beats(10, start=5000 + step * 10))
    assert writer.buffered_beats == 5030
    now[0] += 20.0
    state = writer.check_space()  # retries, still full: the loud error repeats
    assert state.full and state.buffered_beats == 5030
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and "FULL" in r.message]
    assert len(errors) >= 2 and "5030 beats held in memory" in errors[-1].message
    spool._conn.execute("PRAGMA max_page_count = 1073741823")  # space returns
    free[0] = 10 * 1024 * 1024
    now[0] += 2.0
    state = writer.check_space()
    assert not state.full and state.buffered_beats == 0
    assert spool.stats().spooled == 5040 and writer.committed_beats == 5040
    assert any("writable again" in r.message for r in caplog.records)
    spool.close()


def test_writer_buffer_is_bounded_and_counts_what_it_discards(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.sqlite3")
    limit_pages(spool, 0)
    writer = SpoolWriter(spool, buffer_max_beats=100, retry_s=1e9, free_bytes=lambda _p: 0)
    writer.append(beats(5000))
    assert writer.full
    assert writer.buffered_beats == 100 and writer.lost_beats == 4900
    assert writer.state().lost_beats == 4900
    spool.close()


def test_low_space_warns_before_the_disk_is_full(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "s.sqlite3")
    writer = SpoolWriter(spool, low_space_bytes=50_000_000, free_bytes=lambda _p: 20_000_000)
    caplog.set_level(logging.WARNING)
    state = writer.check_space()
    assert state.low and not state.full
    assert "space low: 20.0 MB free" in caplog.records[-1].message
    spool.close()


def test_clock_check_reads_the_date_header_and_says_plainly_when_clocks_disagree(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server_s = parse_http_date("Tue, 01 Dec 2026 09:00:00 GMT")
    assert server_s == 1_796_115_600.0
    assert parse_http_date("yesterday") is None
    check = ClockCheck()
    assert check.agrees is None
    caplog.set_level(logging.WARNING)
    check.observe("Tue, 01 Dec 2026 09:00:00 GMT", server_s + 0.6)
    assert check.agrees and not caplog.records
    check.observe("Tue, 01 Dec 2026 09:00:00 GMT", server_s + 7 * 60 + 3)
    assert check.agrees is False
    assert "7 min 3 s ahead of the server's" in caplog.records[-1].message
    assert "refuses beats more than 5 min" in caplog.records[-1].message
    check.observe("Tue, 01 Dec 2026 09:00:00 GMT", server_s + 7 * 60 + 4)
    assert len(caplog.records) == 1  # said once, not on every request
    assert "behind" in describe_offset(-90.0) and "5 min" not in describe_offset(-90.0)


def test_journal_lines_carry_the_syslog_priority() -> None:
    stream = io.StringIO()
    log_to_journal(logging.INFO, stream)
    try:
        logger = logging.getLogger("collector.test")
        logger.error("disk full\nsecond line")
        logger.warning("low")
        logger.info("connected")
        logger.debug("not shown")
    finally:
        logging.getLogger().handlers.clear()
    assert stream.getvalue().splitlines() == [
        "<3>collector.test: disk full | second line",
        "<4>collector.test: low",
        "<6>collector.test: connected",
    ]
    assert (
        JournalFormatter()
        .format(logging.LogRecord("x", logging.CRITICAL, "", 0, "boom", None, None))
        .startswith("<2>")
    )


def test_systemd_unit_runs_the_unattended_recorder(tmp_path: Path) -> None:
    options = UnitOptions(
        user_unit=False, config=tmp_path / "c.json", spool=tmp_path / "s.sqlite3", run_as="alex"
    )
    text = unit_text(options)
    assert "record --unattended" in text and f"--spool {tmp_path / 's.sqlite3'}" in text
    assert "--status-file %t/somatrace/collector-status.json" in text
    assert "Restart=always" in text and "User=alex" in text and "WantedBy=multi-user.target" in text
    user = unit_text(UnitOptions(user_unit=True, config=options.config, spool=options.spool))
    assert "User=" not in user and "WantedBy=default.target" in user
    path = install_unit(options, tmp_path / "units", enable=False)
    assert path.read_text() == text
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    run_as_root = UnitOptions(
        user_unit=False, config=options.config, spool=options.spool, run_as="root"
    )
    install_unit(run_as_root, tmp_path / "verify", enable=False)
    done = subprocess.run(
        [analyze, "verify", str(tmp_path / "verify" / "somatrace-collector.service")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_status_file_round_trips_and_reads_in_plain_words(tmp_path: Path) -> None:
    path = tmp_path / "run" / "collector-status.json"
    status = RecorderStatus(
        pid=1,
        updated_s=1000.0,
        started_s=900.0,
        interval_s=2.0,
        target="AA:BB",
        spool_path=str(tmp_path / "s.sqlite3"),
        link_state="searching",
        disk_full=True,
        beats_buffered=42,
        clock_offset_s=400.0,
        last_error="strap not found",
    )
    write_status(path, status)
    assert read_status(path) == status
    assert read_status(tmp_path / "none.json") is None
    rows = dict(status_lines(path, status, None, now_s=5000.0))
    assert rows["collector"].startswith("NOT RUNNING")  # stale: written long ago
    assert "42 beats held in memory" in rows["disk"]
    assert "6 min 40 s ahead" in rows["clock"]
    assert rows["last error"] == "strap not found"
