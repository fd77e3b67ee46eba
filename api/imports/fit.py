"""FIT files (Garmin, Wahoo and others) with beat intervals: ``hrv`` messages (global 78) carry up
to five RR intervals in s, in order, with no time of their own.

Pure parser of ``api.imports`` on ``fitdecode`` (MIT; CRC checked): beats follow the RR sum from the
activity's timer start (else the first timestamp), re-anchored with a gap when the timer restarts
or the file's timestamps run more than ``RESYNC_MS`` ahead of the RR sum (beats missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import BinaryIO, Final

import fitdecode

from api.imports.errors import ImportFileError
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary
from api.imports.text import epoch_ms
from api.imports.timeline import RESYNC_MS, ChunkBuffer, RrTimeline

#: FIT global message number of ``hrv``.
HRV_MESG_NUM: Final[int] = 78
#: The file's timestamps may run ahead of the RR sum by this much before beats count as missing
#: (hrv messages are written in bursts behind the record messages), ms.
FIT_RESYNC_MS: Final[float] = 2 * RESYNC_MS


def looks_like_fit(head: bytes) -> bool:
    """A FIT file header: size 12 or 14 and the ``.FIT`` signature at bytes 8-11."""
    return len(head) >= 12 and head[0] in (12, 14) and head[8:12] == b".FIT"


def parse_fit(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Beats of every ``hrv`` message of a FIT file.

    Raises
    ------
    ImportFileError
        A bad header, a CRC mismatch or a truncated file (naming the record), or no beat
        intervals at all (HRV logging was off).
    """
    return ParsedImport("fit", 1.0, _beats(fh, ctx))


def _device(message: fitdecode.FitDataMessage) -> str:
    maker = message.get_value("manufacturer", fallback=None)
    product = None
    for name in ("garmin_product", "favero_product", "product_name", "product"):
        if message.has_field(name):
            product = message.get_value(name, fallback=None)
            if product is not None:
                break
    text = " ".join(str(v).replace("_", " ") for v in (maker, product) if v is not None)
    return text.strip() or "FIT device"


def _beats(fh: BinaryIO, ctx: ImportContext) -> Iterator[BeatChunk | Summary]:
    buffer: ChunkBuffer | None = None
    timeline: RrTimeline | None = None
    device = "FIT device"
    anchor: float | None = None
    last_ts: float | None = None
    timer_running = False
    record = 0
    intervals = 0
    try:
        reader = fitdecode.FitReader(
            fh, check_crc=fitdecode.CrcCheck.RAISE, error_handling=fitdecode.ErrorHandling.RAISE
        )
        for frame in reader:
            if not isinstance(frame, fitdecode.FitDataMessage):
                continue
            record += 1
            if frame.name == "file_id":
                device = _device(frame)
                continue
            ts = (
                frame.get_value("timestamp", fallback=None)
                if frame.has_field("timestamp")
                else None
            )
            if isinstance(ts, datetime):
                last_ts = epoch_ms(ts)
                if anchor is None:
                    anchor = last_ts
            if frame.name == "event" and frame.get_value("event", fallback=None) == "timer":
                kind = frame.get_value("event_type", fallback=None)
                if kind == "start" and last_ts is not None:
                    if timeline is not None and not timer_running:
                        timeline.anchor(last_ts)
                    timer_running = True
                elif kind in ("stop", "stop_all", "stop_disable", "stop_disable_all"):
                    timer_running = False
                continue
            position = timeline.position_ms if timeline is not None else None
            if (
                timeline is not None
                and last_ts is not None
                and position is not None
                and last_ts - position > FIT_RESYNC_MS
            ):
                timeline.anchor(last_ts)
            if frame.global_mesg_num != HRV_MESG_NUM:
                continue
            values = frame.get_value("time", fallback=None)
            if values is None:
                continue
            if not isinstance(values, tuple | list):
                values = (values,)
            if timeline is None:
                if anchor is None:
                    raise ImportFileError(
                        ctx.file_name, "beat intervals before any timestamp", record=record
                    )
                buffer = ChunkBuffer(device)
                timeline = RrTimeline(buffer)
                timeline.anchor(anchor, gap=False)
            assert buffer is not None
            for value in values:
                if value is None:  # 0xFFFF: an unused slot of the five
                    continue
                timeline.add(round(float(value) * 1000.0, 3))
                intervals += 1
            yield from buffer.full()
    except fitdecode.FitHeaderError as exc:
        raise ImportFileError(
            ctx.file_name, f"not a valid FIT file ({exc})", record=record + 1
        ) from None
    except fitdecode.FitCRCError:
        raise ImportFileError(
            ctx.file_name, "CRC mismatch: the file is damaged", record=record + 1
        ) from None
    except fitdecode.FitEOFError:
        raise ImportFileError(ctx.file_name, "the file is truncated", record=record + 1) from None
    except fitdecode.FitError as exc:
        raise ImportFileError(
            ctx.file_name, f"FIT parse error ({exc})", record=record + 1
        ) from None
    if intervals == 0 or buffer is None:
        raise ImportFileError(
            ctx.file_name,
            "holds no beat intervals (hrv messages): switch on HRV logging on the watch and record again",
        )
    yield from buffer.rest()
