"""Polar exports with beat intervals: Polar Sensor Logger RR files (``Phone timestamp;RR-interval
[ms]``, local phone time) and the Polar Flow account export's ``ppi_samples`` JSON (optical
pulse-to-pulse intervals of a watch, local time).

Pure parsers of ``api.imports``; local times are read in the patient's time zone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, Final

import orjson

from api.imports.errors import ImportFileError
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import epoch_ms, local_datetime, parse_number, text_lines
from api.imports.timeline import ChunkBuffer, RrTimeline

SENSOR_LOGGER_HEADER: Final[str] = "Phone timestamp;RR-interval [ms]"
#: Largest ppi_samples JSON read (it is read whole; Polar writes one file per period).
MAX_PPI_JSON_BYTES: Final[int] = 256 * 1024 * 1024


def looks_like_sensor_logger(head: str) -> bool:
    first = head.lstrip("\ufeff").split("\n", 1)[0].strip()
    return first.replace(" ", "").lower().startswith(SENSOR_LOGGER_HEADER.replace(" ", "").lower())


def looks_like_ppi_json(head: str) -> bool:
    return head.lstrip("\ufeff \r\n\t").startswith(("[", "{")) and "ppiSamples" in head


def parse_sensor_logger(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of a Polar Sensor Logger ``_RR.txt``: each row's RR placed on the RR sum from the first
    row's time, re-synchronised (with a gap) when the phone's time runs ahead by more than 2.5 s."""
    return ParsedImport("polar", 1.0, _sensor_logger(fh, ctx))


def _sensor_logger(fh: BinaryIO, ctx: ImportContext) -> Iterator[BeatChunk | Summary]:
    device = _device_from_name(ctx.file_name) or "Polar sensor (Polar Sensor Logger)"
    buffer = ChunkBuffer(device)
    timeline = RrTimeline(buffer)
    header_seen = False
    rows = 0
    for number, line in text_lines(fh, ctx.file_name):
        if not line.strip():
            continue
        if not header_seen:
            if not looks_like_sensor_logger(line):
                raise ImportFileError(
                    ctx.file_name, f"expected the header {SENSOR_LOGGER_HEADER!r}", line=number
                )
            header_seen = True
            continue
        parts = line.split(";")
        if len(parts) < 2:
            raise ImportFileError(
                ctx.file_name, "expected 'timestamp;RR' separated by ';'", line=number
            )
        rr = parse_number(parts[1])
        try:
            when = local_datetime(parts[0], ctx.tz)
        except ValueError:
            raise ImportFileError(
                ctx.file_name, f"not a timestamp: {parts[0][:40]!r}", line=number
            ) from None
        if rr is None:
            raise ImportFileError(
                ctx.file_name, f"not an RR value in ms: {parts[1][:40]!r}", line=number
            )
        timeline.add(rr, epoch_ms(when))
        rows += 1
        yield from buffer.full()
    if rows == 0:
        raise ImportFileError(ctx.file_name, "holds no RR rows")
    yield from buffer.rest()


def _device_from_name(file_name: str) -> str | None:
    # Polar Sensor Logger names its files like "Polar_H10_1A2B3C4D_20240101_070000_RR.txt".
    base = file_name.replace("\\", "/").rsplit("/", 1)[-1]
    parts = base.split("_")
    if len(parts) >= 3 and parts[0].lower() == "polar":
        return f"Polar {parts[1]} {parts[2]}"
    return None


def parse_ppi_json(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of a Polar Flow ``ppi_samples`` export: ``[{date, devicePpiSamplesList: [{deviceId,
    ppiSamples: [{sampleDateTime, pulseLength}]}]}]``; each sample's time is its beat's time."""
    raw = fh.read(MAX_PPI_JSON_BYTES + 1)
    if len(raw) > MAX_PPI_JSON_BYTES:
        raise ImportFileError(ctx.file_name, f"larger than {MAX_PPI_JSON_BYTES // 2**20} MiB")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ImportFileError(
            ctx.file_name, f"not valid JSON ({exc.msg})", line=exc.lineno
        ) from None
    return ParsedImport("polar", 1.0, _ppi(doc, ctx))


def _ppi(doc: Any, ctx: ImportContext) -> Iterator[BeatChunk | Summary]:
    days = doc if isinstance(doc, list) else [doc]
    record = 0
    buffers: dict[str, ChunkBuffer] = {}
    last_t: dict[str, int] = {}
    for day in days:
        lists = day.get("devicePpiSamplesList") if isinstance(day, dict) else None
        if not isinstance(lists, list):
            raise ImportFileError(ctx.file_name, "expected devicePpiSamplesList", record=record + 1)
        for entry in lists:
            device_id = (
                str(entry.get("deviceId") or "unknown") if isinstance(entry, dict) else "unknown"
            )
            samples = entry.get("ppiSamples") if isinstance(entry, dict) else None
            if not isinstance(samples, list):
                raise ImportFileError(ctx.file_name, "expected ppiSamples", record=record + 1)
            buffer = buffers.setdefault(device_id, ChunkBuffer(f"Polar {device_id}"))
            for sample in samples:
                record += 1
                try:
                    rr = float(sample["pulseLength"])
                    when = local_datetime(str(sample["sampleDateTime"]), ctx.tz)
                except (KeyError, TypeError, ValueError):
                    raise ImportFileError(
                        ctx.file_name,
                        "a PPI sample needs sampleDateTime and pulseLength",
                        record=record,
                    ) from None
                t = round(epoch_ms(when))
                prev = last_t.get(device_id)
                if prev is not None and t - rr > prev + 2500:
                    buffer.gap(prev, t)
                buffer.add(t, rr)
                last_t[device_id] = t if buffer.plausible(rr) else last_t.get(device_id, t)
                yield from buffer.full()
    if record == 0:
        raise ImportFileError(ctx.file_name, "holds no PPI samples")
    for buffer in buffers.values():
        yield from buffer.rest()
