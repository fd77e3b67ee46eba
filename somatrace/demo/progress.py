"""The demo's seeding progress: stages with counts and time left, shown as rich columns on a terminal
and as plain timed lines in a log; the same state feeds the dashboard's banner (``banner``)."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Final

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn
from rich.table import Column
from rich.text import Text

#: Seconds between plain progress lines when the output is not a terminal (a log, a pipe).
PLAIN_LINE_INTERVAL_S: Final[float] = 3.0
#: Shortest time a stage must have run before its rate predicts the time left, s.
MIN_ETA_BASIS_S: Final[float] = 1.0


def compact_count(n: int) -> str:
    """``945239`` → ``945k``, ``2212401`` → ``2.2M``: counts that fit a narrow column."""
    if n < 10_000:
        return f"{n:,}"
    if n < 1_000_000:
        return f"{n / 1000:.0f}k"
    return f"{n / 1_000_000:.1f}M"


def duration_words(seconds: float) -> str:
    """``7.2`` → ``7 s``, ``83`` → ``1 min 23 s``."""
    s = max(0, math.ceil(seconds))
    return f"{s} s" if s < 60 else f"{s // 60} min {s % 60:02d} s"


@dataclass
class Stage:
    """One step of the seeding: what it does, how much of it is done, since when.

    ``expected_s`` is a prediction of the stage's length when its own count cannot tell (the worker
    reports a patient's analysis only when it is done), taken from earlier stages of the same kind.
    """

    key: str
    label: str
    unit: str
    done: int = 0
    total: int = 0
    started_s: float = 0.0
    finished_s: float | None = None
    expected_s: float | None = None

    def elapsed_s(self, now_s: float) -> float:
        return (self.finished_s if self.finished_s is not None else now_s) - self.started_s

    def left_s(self, now_s: float) -> float | None:
        """Predicted seconds left, or None when nothing predicts it yet."""
        if self.finished_s is not None:
            return 0.0
        elapsed = now_s - self.started_s
        if self.total > 0 and self.done > 0 and elapsed >= MIN_ETA_BASIS_S:
            return elapsed * (self.total - self.done) / self.done
        if self.expected_s is not None:
            return max(0.0, self.expected_s - elapsed)
        return None

    def line(self, now_s: float) -> str:
        """The plain-text line: what, how many, how long so far, how long left."""
        parts = [self.label]
        if self.total > 0:
            pct = 100.0 * self.done / self.total
            parts.append(f"{self.done:,}/{self.total:,} {self.unit} ({pct:.0f} %)")
        if self.finished_s is not None:
            parts.append(f"done in {duration_words(self.elapsed_s(now_s))}")
            return ": ".join(parts[:1]) + " " + ", ".join(parts[1:])
        parts.append(f"{duration_words(self.elapsed_s(now_s))} so far")
        left = self.left_s(now_s)
        parts.append("time left unknown" if left is None else f"about {duration_words(left)} left")
        return ": ".join(parts[:1]) + " " + ", ".join(parts[1:])


class _CountColumn(ProgressColumn):
    """``412k/945k beats``: compact, so the column never pushes the line past the terminal."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text(f"{compact_count(int(task.completed))} {task.fields.get('unit', '')}")
        return Text(
            f"{compact_count(int(task.completed))}/{compact_count(int(task.total))} "
            f"{task.fields.get('unit', '')}"
        )


class _TimeColumn(ProgressColumn):
    """Elapsed time, and the time left while the stage runs."""

    def __init__(self, progress: SeedProgress) -> None:
        super().__init__()
        self.seed_progress = progress

    def render(self, task: Task) -> Text:
        stage = self.seed_progress.stage(str(task.fields.get("key", "")))
        if stage is None:
            return Text("")
        now = time.monotonic()
        if stage.finished_s is not None:
            return Text(duration_words(stage.elapsed_s(now)))
        left = stage.left_s(now)
        return Text(
            f"{duration_words(stage.elapsed_s(now))}"
            + ("" if left is None else f", ~{duration_words(left)} left")
        )


class SeedProgress:
    """Seeding progress shared by the console view and the dashboard's banner (thread-safe).

    On a terminal a rich progress display (one row per stage, columns that fit the width); otherwise
    a line when a stage starts or ends and, for the stages under way, every
    ``PLAIN_LINE_INTERVAL_S`` seconds (from a thread, so lines keep coming while the event loop is
    busy).
    """

    def __init__(self, console: Console, *, interval_s: float = PLAIN_LINE_INTERVAL_S) -> None:
        self.console = console
        self.interactive = console.is_terminal and not console.is_dumb_terminal
        self.interval_s = interval_s
        self.started_s = time.monotonic()
        self._lock = threading.Lock()
        self._stages: dict[str, Stage] = {}
        self._tasks: dict[str, TaskID] = {}
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self.patients_total = 0
        self.patients_ready = 0
        self.finished = False
        self.view: Progress | None = None
        if self.interactive:
            self.view = Progress(
                TextColumn(
                    "{task.description}",
                    table_column=Column(ratio=3, no_wrap=True, overflow="ellipsis"),
                ),
                BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=6)),
                _CountColumn(table_column=Column(no_wrap=True)),
                _TimeColumn(self),
                console=console,
                expand=True,
                transient=False,
            )

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Show the progress (rich live display, or the plain-line thread)."""
        if self.view is not None:
            self.view.start()
        else:
            self._ticker = threading.Thread(target=self._tick, name="demo-progress", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        """Stop showing progress (idempotent)."""
        self._stop.set()
        if self.view is not None:
            self.view.stop()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None

    def _tick(self) -> None:
        while not self._stop.wait(self.interval_s):
            now = time.monotonic()
            with self._lock:
                running = [s for s in self._stages.values() if s.finished_s is None]
                lines = [self._stamp(now) + s.line(now) for s in running]
            for text in lines:
                self.say(text)

    def _stamp(self, now_s: float) -> str:
        return f"[{now_s - self.started_s:6.1f} s] "

    def say(self, text: str) -> None:
        """One line of output above the progress display (or in the log)."""
        self.console.print(text, highlight=False, soft_wrap=True, markup=False)

    # -- stages ---------------------------------------------------------------------------------

    def stage(self, key: str) -> Stage | None:
        with self._lock:
            return self._stages.get(key)

    def begin(
        self,
        key: str,
        label: str,
        *,
        total: int = 0,
        unit: str = "",
        expected_s: float | None = None,
    ) -> None:
        """A stage starts (a line in the log; a row on the terminal)."""
        now = time.monotonic()
        stage = Stage(key, label, unit, total=total, started_s=now, expected_s=expected_s)
        with self._lock:
            self._stages[key] = stage
            line = self._stamp(now) + stage.line(now)
        if self.view is not None:
            self._tasks[key] = self.view.add_task(label, total=total or None, key=key, unit=unit)
        else:
            self.say(line)

    def advance(self, key: str, done: int, total: int | None = None) -> None:
        """The stage's count is now ``done`` (of ``total``, when it changed)."""
        with self._lock:
            stage = self._stages[key]
            stage.done = done
            if total is not None:
                stage.total = total
        if self.view is not None:
            self.view.update(self._tasks[key], completed=done, total=stage.total or None)

    def end(self, key: str) -> float:
        """The stage is done; returns how long it took, s."""
        now = time.monotonic()
        with self._lock:
            stage = self._stages[key]
            if stage.total:
                stage.done = stage.total
            stage.finished_s = now
            line = self._stamp(now) + stage.line(now)
            took = stage.elapsed_s(now)
        if self.view is not None:
            task = self._tasks[key]
            self.view.update(task, completed=stage.total or 1, total=stage.total or 1)
        else:
            self.say(line)
        return took

    def patient_ready(self) -> None:
        with self._lock:
            self.patients_ready += 1

    def done(self) -> None:
        """Everything is seeded: the banner goes away."""
        with self._lock:
            self.finished = True

    # -- the dashboard's banner -------------------------------------------------------------------

    def left_s(self) -> float | None:
        """Predicted seconds until every stage begun so far is done (None: unknown)."""
        now = time.monotonic()
        with self._lock:
            lefts = [s.left_s(now) for s in self._stages.values() if s.finished_s is None]
        if any(left is None for left in lefts):
            return None
        return max((left for left in lefts if left is not None), default=0.0)

    def banner(self) -> dict[str, object]:
        """What the dashboard's banner shows while the demo still seeds: ``active`` and a sentence."""
        now = time.monotonic()
        with self._lock:
            if self.finished:
                return {"active": False}
            running = [s for s in self._stages.values() if s.finished_s is None]
            ready, total = self.patients_ready, self.patients_total
        doing = "; ".join(s.label for s in running) or "preparing"
        left = self.left_s()
        message = (
            f"The demo is still loading: {ready} of {total} patients ready. Now: {doing}."
            + ("" if left is None else f" About {duration_words(left)} left.")
            + " Reload the page when it is done to see everyone."
        )
        return {
            "active": True,
            "message": message,
            "done": ready,
            "total": total,
            "eta_s": None if left is None else round(left, 1),
            "elapsed_s": round(now - self.started_s, 1),
        }
