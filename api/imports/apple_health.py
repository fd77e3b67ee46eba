"""Apple Health ``export.xml`` (or the export's zip): heartbeat series of the HRV records.

Each ``HKQuantityTypeIdentifierHeartRateVariabilitySDNN`` record holds
``<InstantaneousBeatsPerMinute bpm="62" time="7:04:10.93 AM"/>`` entries: one beat each, a local
time of day (1/100 s) dated by the record's ``startDate``. A beat's RR is the time since the previous
beat of its series; the first beat of a series has only Apple's rate (RR = 60000 / bpm, flagged).
The record's ``value`` is Apple's own SDNN of the reading: kept as a summary, never mixed into
markers computed from beats. Pure streaming parser of ``api.imports`` (expat, bounded memory).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import IO, Any, BinaryIO, Final
from xml.parsers import expat

from api.imports.errors import ImportFileError
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import epoch_ms
from api.imports.timeline import ChunkBuffer

HRV_TYPE: Final[str] = "HKQuantityTypeIdentifierHeartRateVariabilitySDNN"
#: Bytes fed to expat per call.
BLOCK_BYTES: Final[int] = 1 << 20
#: Resolution of Apple's beat times, ms (the export writes 1/100 s).
RESOLUTION_MS: Final[float] = 10.0
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,6}))?\s*([AaPp]\.?[Mm]\.?)?\s*$")
_DEVICE_FIELD = re.compile(r"(\w+):(.*?)(?=, \w+:|>\s*$|$)")


def looks_like_apple_health(head: bytes) -> bool:
    return b"<HealthData" in head or b"<!DOCTYPE HealthData" in head


def seconds_of_day(text: str) -> float | None:
    """``7:04:10.93 AM`` / ``19:04:10,93`` as seconds after midnight, else ``None``."""
    m = _TIME.match(text)
    if m is None:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3))
    frac = float("0." + m.group(4)) if m.group(4) else 0.0
    ampm = (m.group(5) or "").replace(".", "").lower()
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm == "pm" else 0)
    if h > 23 or mi > 59 or s > 60:
        return None
    return h * 3600 + mi * 60 + s + frac


def device_label(attrs: dict[str, str]) -> str:
    """``Apple Watch (Watch6,2)`` from the record's device description, else its source name."""
    found = dict(_DEVICE_FIELD.findall(attrs.get("device", "")))
    name = (found.get("name") or attrs.get("sourceName") or "Apple Health").strip()
    hardware = (found.get("hardware") or "").strip()
    return f"{name} ({hardware})" if hardware else name


def open_export_xml(fh: BinaryIO, file_name: str) -> IO[bytes]:
    """The ``export.xml`` stream inside an Apple Health export zip (decompressed as it is read)."""
    try:
        archive = zipfile.ZipFile(fh)
    except zipfile.BadZipFile as exc:
        raise ImportFileError(file_name, f"not a readable zip file ({exc})") from None
    names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "export.xml"]
    if not names:
        raise ImportFileError(
            file_name, "this zip holds no export.xml (an Apple Health export has one)"
        )
    return archive.open(names[0])


def parse_apple_health(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats and SDNN summaries of an Apple Health export, streamed.

    Raises
    ------
    ImportFileError
        Malformed or truncated XML (naming the line), a beat time or date that cannot be read,
        or an export without any heartbeat series.
    """
    return ParsedImport("apple_health", RESOLUTION_MS, _stream(fh, ctx))


class _Series:
    """State of the HRV record being read."""

    def __init__(self, attrs: dict[str, str], line: int) -> None:
        self.attrs = attrs
        self.line = line
        self.beats: list[tuple[float, int, int]] = []  # (seconds of day, bpm, line)


class _Handler:
    def __init__(self, parser: Any, ctx: ImportContext) -> None:
        self.parser = parser
        self.ctx = ctx
        self.series: _Series | None = None
        self.buffers: dict[str, ChunkBuffer] = {}
        self.summaries: list[Summary] = []
        self.n_series = 0
        self.error: ImportFileError | None = None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "Record":
            if attrs.get("type") == HRV_TYPE:
                self.series = _Series(attrs, self.parser.CurrentLineNumber)
        elif name == "InstantaneousBeatsPerMinute" and self.series is not None:
            line = self.parser.CurrentLineNumber
            sod = seconds_of_day(attrs.get("time", ""))
            try:
                bpm = int(attrs.get("bpm", ""))
            except ValueError:
                bpm = 0
            if sod is None or not 0 < bpm < 400:
                self._fail(
                    f"cannot read the beat time {attrs.get('time')!r} / bpm {attrs.get('bpm')!r}",
                    line,
                )
                return
            self.series.beats.append((sod, bpm, line))

    def end(self, name: str) -> None:
        if name == "Record" and self.series is not None:
            series, self.series = self.series, None
            self._finish(series)

    def _fail(self, message: str, line: int) -> None:
        if self.error is None:
            self.error = ImportFileError(self.ctx.file_name, message, line=line)
        raise _Stop

    def _finish(self, series: _Series) -> None:
        attrs = series.attrs
        try:
            start = datetime.strptime(attrs.get("startDate", ""), "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            self._fail(f"cannot read startDate {attrs.get('startDate')!r}", series.line)
            return
        end: datetime | None
        try:
            end = datetime.strptime(attrs.get("endDate", ""), "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            end = None
        device = device_label(attrs)
        try:
            value = float(attrs.get("value", ""))
        except ValueError:
            value = float("nan")
        if value == value:
            self.summaries.append(
                Summary(device=device, metric="sdnn_ms", start=start, end=end, value=value)
            )
        if not series.beats:
            return
        self.n_series += 1
        buffer = self.buffers.setdefault(device, ChunkBuffer(device))
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        reference = start
        prev_ms: float | None = None
        for sod, bpm, line in series.beats:
            when = midnight + timedelta(seconds=sod)
            # Series cross midnight: the beat's date is the one that puts it nearest the last time.
            while when < reference - timedelta(hours=12):
                when += timedelta(days=1)
                midnight += timedelta(days=1)
            t_ms = epoch_ms(when)
            if prev_ms is None:
                # The series starts after a break: only Apple's rate tells this beat's RR.
                buffer.add(round(t_ms), 60000.0 / bpm, from_rate=True)
            else:
                rr = round(t_ms - prev_ms, 3)
                if rr <= 0:
                    self._fail("beat times of a series go backwards", line)
                    return
                buffer.add(round(t_ms), rr)
            prev_ms = t_ms
            reference = when


class _Stop(Exception):
    """Raised inside an expat handler to stop at the first bad entry."""


def _stream(fh: BinaryIO, ctx: ImportContext) -> Iterator[BeatChunk | Summary]:
    head = fh.read(4)
    fh.seek(0)
    source: IO[bytes] = open_export_xml(fh, ctx.file_name) if head.startswith(b"PK") else fh
    parser = expat.ParserCreate()
    handler = _Handler(parser, ctx)
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.buffer_text = False
    while True:
        block = source.read(BLOCK_BYTES)
        try:
            parser.Parse(block, not block)
        except _Stop:
            assert handler.error is not None
            raise handler.error from None
        except expat.ExpatError as exc:
            raise ImportFileError(
                ctx.file_name, f"malformed XML ({expat.errors.messages[exc.code]})", line=exc.lineno
            ) from None
        yield from handler.summaries
        handler.summaries.clear()
        for buffer in handler.buffers.values():
            yield from buffer.full()
        if not block:
            break
    if handler.n_series == 0:
        raise ImportFileError(
            ctx.file_name,
            "holds no heartbeat series (HRV records with InstantaneousBeatsPerMinute); an Apple Watch "
            "records them during Breathe/Mindfulness sessions and background HRV readings",
        )
    for buffer in handler.buffers.values():
        yield from buffer.rest()
