"""Every import format: detected from content, parsed to the exact beats of a realistic sample,
and refused with the file and line or record named when it is malformed or truncated."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from api.imports import (
    ImportContext,
    ImportFileError,
    MissingStart,
    UnknownFormat,
    detect_source,
    open_import,
)
from api.imports.apple_health import seconds_of_day
from api.imports.model import CHUNK_BEATS, BeatChunk, Summary

from .samples import ALL, SOURCE_OF, TZ, Sample, apple_health_xml, hrv_record, kubios_text

MAKERS: dict[str, Callable[[], Sample]] = ALL


def _parse(sample: Sample, **ctx: Any) -> tuple[str, list[BeatChunk], list[Summary], float]:
    start = datetime.fromisoformat(sample.start) if sample.start else None
    context = ImportContext(file_name=sample.name, tz=TZ, start=ctx.get("start", start))
    parsed = open_import(io.BytesIO(sample.data), context)
    chunks: list[BeatChunk] = []
    summaries: list[Summary] = []
    for item in parsed.chunks:
        (chunks if isinstance(item, BeatChunk) else summaries).append(item)  # type: ignore[arg-type]
    return parsed.source, chunks, summaries, parsed.resolution_ms


@pytest.mark.parametrize("kind", list(MAKERS))
def test_sample_parses_to_its_exact_beats(kind: str) -> None:
    sample = MAKERS[kind]()
    source, chunks, summaries, resolution = _parse(sample)
    assert source == SOURCE_OF[kind]
    t = np.concatenate([c.t_ms for c in chunks])
    rr = np.concatenate([c.rr_ms for c in chunks])
    assert t.size == sample.beats
    assert sum(c.skipped for c in chunks) == 0
    assert int(t.min()) == sample.first_ms and int(t.max()) == sample.last_ms
    order = np.argsort(t, kind="stable")
    np.testing.assert_allclose(rr[order], sorted_rr(sample, t), atol=1e-6)
    assert len(summaries) == sample.summaries
    assert resolution > 0
    assert all(c.n_beats <= CHUNK_BEATS for c in chunks)


def sorted_rr(sample: Sample, t: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The sample's RR values in beat-time order (samples list them in file order)."""
    if sample.name == "MyMeasurements_Android.csv":  # readings newest first: reorder by time
        t_sorted = np.sort(t)
        order = np.argsort(np.argsort(t_sorted))
        blocks = [sample.rr_ms[i : i + 90] for i in range(0, len(sample.rr_ms), 90)]
        return np.asarray([v for b in reversed(blocks) for v in b])[order]
    return np.asarray(sample.rr_ms)


def test_apple_health_first_beat_of_each_series_is_flagged_and_sdnn_kept_apart() -> None:
    sample = apple_health_xml(series=3)
    _, chunks, summaries, resolution = _parse(sample)
    flagged = np.concatenate(
        [
            c.rr_from_rate if c.rr_from_rate is not None else np.zeros(c.n_beats, bool)
            for c in chunks
        ]
    )
    assert int(flagged.sum()) == 3
    assert resolution == 10.0
    assert {s.metric for s in summaries} == {"sdnn_ms"}
    assert all(s.device == "Apple Watch (Watch6,2)" for s in summaries)


def test_apple_health_series_across_midnight_keeps_increasing_times() -> None:
    sample = apple_health_xml(series=4)
    _, chunks, _, _ = _parse(sample)
    t = np.concatenate([c.t_ms for c in chunks])
    last_series = t[-70:]
    assert np.all(np.diff(last_series) > 0)
    assert datetime.fromtimestamp(last_series[-1] / 1000, TZ).day == 5


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7:04:10.93 AM", 25450.93),
        ("12:00:01.50 AM", 1.5),
        ("12:30:00.00 PM", 45000.0),
        ("19:04:10,93", 68650.93),
        ("25:00:00", None),
        ("7:04", None),
    ],
)
def test_apple_time_of_day(text: str, seconds: float | None) -> None:
    got = seconds_of_day(text)
    assert got == pytest.approx(seconds) if seconds is not None else got is None


@pytest.mark.parametrize("kind", list(MAKERS))
def test_truncated_file_names_file_and_place(kind: str) -> None:
    sample = MAKERS[kind]()
    cut = Sample(
        sample.name, sample.data[: int(len(sample.data) * 0.6)], 0, 0, 0, start=sample.start
    )
    if kind == "apple_health_zip":
        with pytest.raises(ImportFileError, match=r"export\.zip"):
            _parse(cut)
        return
    if kind in ("elite_hrv", "kubios", "polar_sensor_logger", "hrv4training"):
        # A text cut mid-line leaves a shorter last value, which is still a value: corrupt one
        # line in the middle instead, which a truncated download also produces.
        lines = sample.data.split(b"\n")
        lines[len(lines) // 2] = lines[len(lines) // 2][:3] + b"\x00garbage"
        cut = Sample(sample.name, b"\n".join(lines), 0, 0, 0, start=sample.start)
    with pytest.raises(ImportFileError) as info:
        _parse(cut)
    err = info.value
    assert err.file == sample.name
    assert err.line is not None or err.record is not None, err.message
    assert sample.name in err.message and ("line" in err.message or "record" in err.message)


def test_truncated_text_line_numbers_are_exact() -> None:
    sample = kubios_text()
    lines = sample.data.split(b"\r\n")
    lines[10] = b"0.8x1"
    with pytest.raises(ImportFileError) as info:
        _parse(Sample(sample.name, b"\r\n".join(lines), 0, 0, 0, start=sample.start))
    assert info.value.line == 11


def test_kubios_without_start_says_so() -> None:
    sample = kubios_text()
    with pytest.raises(MissingStart, match="start"):
        _parse(Sample(sample.name, sample.data, 0, 0, 0))


def test_unknown_content_lists_the_formats() -> None:
    with pytest.raises(UnknownFormat, match="Apple Health"):
        detect_source(io.BytesIO(b"%PDF-1.4 not a recording"), ImportContext("scan.pdf", TZ))


def test_elite_hrv_is_told_from_kubios_by_its_name() -> None:
    sample = MAKERS["elite_hrv"]()
    src, _ = detect_source(io.BytesIO(sample.data), ImportContext(sample.name, TZ))
    assert src == "elite_hrv"
    src, _ = detect_source(io.BytesIO(sample.data), ImportContext("rr.txt", TZ))
    assert src == "kubios"


def test_impossible_rr_is_skipped_and_counted_not_a_beat() -> None:
    sample = kubios_text()
    lines = sample.data.split(b"\r\n")
    lines[20] = b"3.500"  # a pause: not a beat, but the clock moves on
    _, chunks, _, _ = _parse(Sample(sample.name, b"\r\n".join(lines), 0, 0, 0, start=sample.start))
    assert sum(c.skipped for c in chunks) == 1
    assert sum(c.n_beats for c in chunks) == sample.beats - 1
    assert (
        int(chunks[-1].t_ms[-1])
        == sample.last_ms - round(1000 * float(sample.data.split(b"\r\n")[20])) + 3500
    )
    assert any(chunks[0].gaps_ms)


def test_hrv_record_builder_matches_apple_rounding() -> None:
    text, t_ms, rr = hrv_record(datetime(2026, 1, 1, 7, 0, tzinfo=TZ), [1000, 1005, 995])
    assert "InstantaneousBeatsPerMinute" in text and len(t_ms) == 3 and len(rr) == 3
