"""Durable spool: transactions, stable batches, acknowledgement, pruning, crash safety."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from collector.beats import Beat, Gap
from collector.errors import CollectorError
from collector.spool import Spool, SpoolError
from wire import StrapInfo

HERE = Path(__file__).resolve().parent
T = 1_790_000_000_000


def beats(n: int, start: int = T, step: int = 1000) -> list[Beat]:
    return [Beat(t_ms=start + i * step, rr_ticks=1024) for i in range(n)]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool(tmp_path / "spool" / "spool.sqlite3")
    yield s
    s.close()


def test_opens_in_wal_mode_with_full_sync(spool: Spool) -> None:
    assert spool._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    other = sqlite3.connect(spool.path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        other.close()


def test_append_commits_and_reappend_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    s = Spool(path)
    s.append(beats(3), [Gap(T - 5000, T)], dropped=2)
    s.append(beats(3))  # same t_ms: ignored
    s.append(beats(1, start=T + 3000))
    s.close()
    reopened = Spool(path)
    st = reopened.stats()
    assert (st.spooled, st.pending, st.uploaded, st.dropped, st.gaps) == (4, 4, 0, 2, 1)
    assert st.last_beat_ms == T + 3000
    reopened.close()


def test_batch_is_stable_until_acknowledged_even_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    s = Spool(path)
    s.set_strap_info(
        StrapInfo(address="AA:BB", name="Polar H10 1A2B3C4D", model="H10", battery_pct=80)
    )
    s.append(beats(10), [Gap(T - 9000, T)])
    first = s.next_batch(max_beats=4)
    assert first is not None
    assert [b.t_ms for b in first.beats] == [T + i * 1000 for i in range(4)]
    assert first.gaps == (Gap(T - 9000, T),)
    # New beats and new strap info do not change an unacknowledged batch.
    s.append(beats(2, start=T - 20000))
    s.set_strap_info(
        StrapInfo(address="AA:BB", name="Polar H10 1A2B3C4D", model="H10", battery_pct=75)
    )
    s.close()
    s = Spool(path)
    again = s.next_batch(max_beats=100)
    assert again == first
    assert again.strap == StrapInfo("AA:BB", "Polar H10 1A2B3C4D", "H10", None, 80)
    s.mark_sent(first.batch_id)
    s.mark_sent(first.batch_id)  # idempotent
    nxt = s.next_batch(max_beats=100)
    assert nxt is not None and nxt.batch_id != first.batch_id
    assert [b.t_ms for b in nxt.beats] == sorted(
        [T - 20000, T - 19000] + [T + i * 1000 for i in range(4, 10)]
    )
    assert nxt.gaps == ()
    assert nxt.strap.battery_pct == 75
    s.mark_sent(nxt.batch_id)
    assert s.next_batch() is None
    st = s.stats()
    assert (st.spooled, st.uploaded, st.pending, st.pending_gaps) == (12, 12, 0, 0)
    s.close()


def test_gap_only_batch(spool: Spool) -> None:
    spool.append([], [Gap(T, T + 10)])
    batch = spool.next_batch()
    assert batch is not None and batch.beats == () and batch.gaps == (Gap(T, T + 10),)


def test_release_batch_rebuilds_smaller(spool: Spool) -> None:
    spool.append(beats(10))
    big = spool.next_batch(10)
    assert big is not None
    spool.release_batch(big.batch_id)
    small = spool.next_batch(5)
    assert small is not None and len(small.beats) == 5 and small.batch_id != big.batch_id
    spool.mark_sent(small.batch_id)
    with pytest.raises(SpoolError, match="already acknowledged"):
        spool.release_batch(small.batch_id)


def test_unknown_batch_is_a_typed_error(spool: Spool) -> None:
    with pytest.raises(SpoolError, match="unknown batch") as info:
        spool.mark_sent(uuid.uuid4())
    assert isinstance(info.value, CollectorError)
    with pytest.raises(SpoolError, match="unknown batch"):
        spool.release_batch(uuid.uuid4())


def test_prune_deletes_only_acknowledged_beats_after_retention(spool: Spool) -> None:
    spool.append(beats(6))
    batch = spool.next_batch(4)
    assert batch is not None
    spool.mark_sent(batch.batch_id)
    sent_at_s = (
        spool._conn.execute(
            "SELECT sent_ms FROM batches WHERE batch_id = ?", (str(batch.batch_id),)
        ).fetchone()[0]
        / 1000
    )
    assert spool.prune(3600, now_s=sent_at_s + 10) == 0  # still within retention
    assert spool.prune(3600, now_s=sent_at_s + 3601) == 4
    remaining = [r[0] for r in spool._conn.execute("SELECT t_ms FROM beats ORDER BY t_ms")]
    assert remaining == [T + 4000, T + 5000]  # pending beats are never pruned
    st = spool.stats()
    assert (st.spooled, st.uploaded, st.pending, st.last_beat_ms) == (6, 4, 2, T + 5000)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda s: s.append([Beat(T, 0)]), "invalid beat"),
        (lambda s: s.append([Beat(-1, 100)]), "invalid beat"),
        (lambda s: s.append([], [Gap(T, T - 1)]), "ends"),
        (lambda s: s.append([], [], dropped=-1), "negative"),
        (lambda s: s.next_batch(0), "max_beats"),
        (lambda s: s.prune(-1), "retention"),
        (lambda s: s.set_strap_info(StrapInfo(battery_pct=101)), "battery"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_stored(
    spool: Spool, call: object, needle: str
) -> None:
    spool.append(beats(1))
    with pytest.raises(SpoolError, match=needle):
        call(spool)  # type: ignore[operator]
    assert spool.stats().spooled == 1


def test_bad_beat_in_a_call_stores_none_of_it(spool: Spool) -> None:
    with pytest.raises(SpoolError):
        spool.append([Beat(T, 1024), Beat(T + 1000, -5)])
    assert spool.stats().spooled == 0


def test_a_file_that_is_not_sqlite_is_a_typed_error(tmp_path: Path) -> None:
    bad = tmp_path / "spool.sqlite3"
    bad.write_bytes(b"this is not a database, just text " * 100)
    with pytest.raises(SpoolError, match="not a usable SQLite database"):
        Spool(bad)


@pytest.mark.parametrize("kill_after", [5, 40, 150])
def test_sigkill_mid_append_loses_no_committed_beat_and_leaves_nothing_half_written(
    tmp_path: Path, kill_after: int
) -> None:
    group_size = 50
    path = tmp_path / "spool.sqlite3"
    child = subprocess.Popen(
        [sys.executable, str(HERE / "spool_child.py"), str(path), str(group_size)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed = -1
    assert child.stdout is not None
    try:
        for line in child.stdout:
            committed = int(line.split()[1])
            if committed >= kill_after:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert committed >= kill_after

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    s = Spool(path)
    rows = [r[0] for r in s._conn.execute("SELECT t_ms FROM beats ORDER BY t_ms")]
    per_group: dict[int, int] = {}
    for t in rows:
        g = (t - 1_790_000_000_000) // (group_size * 1000)
        per_group[g] = per_group.get(g, 0) + 1
    # Every group reported as committed is complete; no group is partially present.
    assert all(per_group.get(g) == group_size for g in range(committed + 1))
    assert set(per_group.values()) == {group_size}
    groups = sorted(per_group)
    assert groups == list(range(len(groups)))  # a prefix: at most one more than reported
    st = s.stats()
    assert st.spooled == len(rows) == st.pending
    assert st.dropped == len(groups)  # counters were updated in the same transactions
    assert st.gaps == len([g for g in groups if g % 10 == 0])
    s.close()


def test_next_batch_searches_an_index_not_a_scan_of_sent_beats(spool: Spool) -> None:
    """A week of uploaded beats must not be scanned for every new batch."""
    plan = spool._conn.execute(
        "EXPLAIN QUERY PLAN SELECT t_ms FROM beats WHERE batch_id IS NULL AND sent = 0"
        " ORDER BY t_ms LIMIT 10"
    ).fetchall()
    assert any("USING INDEX beats_by_batch" in str(row) for row in plan), plan
    assert not any("SCAN beats" in str(row) for row in plan), plan


def test_pending_equals_unsent_rows_through_append_mark_and_prune(spool: Spool) -> None:
    def unsent() -> int:
        return int(spool._conn.execute("SELECT count(*) FROM beats WHERE sent = 0").fetchone()[0])

    spool.append(beats(30))
    for _ in range(2):
        batch = spool.next_batch(10)
        assert batch is not None
        spool.mark_sent(batch.batch_id)
    spool.next_batch(10)  # batched, not yet sent: still pending
    spool.prune(0, now_s=4_000_000_000)
    spool.append(beats(5, start=T - 100_000))
    assert spool.stats().pending == unsent() == 15


def test_new_spool_is_private_to_the_user(tmp_path: Path) -> None:
    s = Spool(tmp_path / "new-dir" / "spool.sqlite3")
    s.close()
    assert (tmp_path / "new-dir").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "new-dir" / "spool.sqlite3").stat().st_mode & 0o077 == 0
