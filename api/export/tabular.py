"""CSV and Parquet tables of an export (pyarrow): beats, windows, daily values, sessions, journal, patients.

Every table has the same columns in both formats; ``dictionary`` describes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from analysis.windows import COLUMNS
from api.export.beats import BeatChunk
from api.export.questionnaires import RESPONSE_ITEMS_SCHEMA, RESPONSES_SCHEMA

TS = pa.timestamp("ms", tz="UTC")

BEATS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("time", TS),
        ("rr_ms", pa.float64()),
        ("rr_ticks", pa.int32()),
        ("artifact", pa.bool_()),
    ]
)

#: The marker columns of ``analysis.compute_windows`` (and ``hrv_windows``), in their order.
MARKER_COLUMNS: tuple[str, ...] = tuple(
    c for c in COLUMNS if c not in ("window_start_s", "quality")
)

WINDOWS_SCHEMA = pa.schema(
    [("pseudonym", pa.string()), ("window_start", TS), ("window_s", pa.int32())]
    + [(c, pa.int32() if c == "n_beats" else pa.float64()) for c in MARKER_COLUMNS]
    + [("quality", pa.string()), ("quality_notes", pa.string())]
)

DAILY_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("day", pa.date32()),
        ("source", pa.string()),
        ("beat_source", pa.string()),
        ("ln_rmssd", pa.float64()),
        ("rmssd_ms", pa.float64()),
        ("resting_hr_bpm", pa.float64()),
        ("stress_index", pa.float64()),
        ("baevsky_si", pa.float64()),
        ("n_windows", pa.int32()),
        ("wear_hours", pa.float64()),
        ("artifact_share", pa.float64()),
        ("quality", pa.string()),
        ("grade", pa.string()),
        ("counted", pa.bool_()),
        ("exclusion", pa.string()),
        ("rolling_mean_7d", pa.float64()),
        ("rolling_days", pa.int32()),
        ("cv_pct", pa.float64()),
        ("baseline_mean", pa.float64()),
        ("baseline_sd", pa.float64()),
        ("band_low", pa.float64()),
        ("band_high", pa.float64()),
        ("band_position", pa.string()),
    ]
)

SESSIONS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("kind", pa.string()),
        ("started_at", TS),
        ("ended_at", TS),
        ("days_from_first_session", pa.float64()),
    ]
)

#: ``analysis.session_verdicts``: one row per medicine session and period (judged on export).
VERDICTS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("session_day", pa.date32()),
        ("period", pa.string()),
        ("state", pa.string()),
        ("n_days", pa.int32()),
        ("n_possible", pa.int32()),
        ("needed_days", pa.int32()),
        ("diff_ln_rmssd", pa.float64()),
        ("ci_low", pa.float64()),
        ("ci_high", pa.float64()),
        ("ci_level", pa.float64()),
        ("mdc_ln_rmssd", pa.float64()),
        ("p_value", pa.float64()),
        ("p_adjusted", pa.float64()),
        ("flagged", pa.bool_()),
        ("reason", pa.string()),
        ("first_day", pa.date32()),
        ("last_day", pa.date32()),
        ("n_good", pa.int32()),
        ("n_fair", pa.int32()),
        ("n_poor", pa.int32()),
        ("fair_share", pa.float64()),
        ("artifact_share", pa.float64()),
        ("caveat", pa.string()),
        ("judged_on", pa.date32()),
    ]
)

JOURNAL_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("at", TS),
        ("days_from_first_session", pa.float64()),
        ("tags", pa.string()),
        ("mood", pa.int8()),
        ("body", pa.int8()),
        ("text", pa.string()),
    ]
)

PATIENTS_SCHEMA = pa.schema(
    [
        ("pseudonym", pa.string()),
        ("date_shifted", pa.bool_()),
        ("journal_text_included", pa.bool_()),
    ]
)

TABLES: dict[str, pa.Schema] = {
    "patients": PATIENTS_SCHEMA,
    "beats": BEATS_SCHEMA,
    "windows": WINDOWS_SCHEMA,
    "daily": DAILY_SCHEMA,
    "sessions": SESSIONS_SCHEMA,
    "verdicts": VERDICTS_SCHEMA,
    "journal": JOURNAL_SCHEMA,
    "responses": RESPONSES_SCHEMA,
    "response_items": RESPONSE_ITEMS_SCHEMA,
}


def beats_batch(pseudonym: str, chunk: BeatChunk, shift_ms: int) -> pa.RecordBatch:
    """One record batch of beats (times shifted by ``shift_ms``)."""
    n = len(chunk)
    return pa.RecordBatch.from_arrays(
        [
            pa.DictionaryArray.from_arrays(np.zeros(n, dtype=np.int32), [pseudonym]).cast(
                pa.string()
            ),
            pa.array(chunk.t_ms + shift_ms, type=pa.int64()).cast(TS),
            pa.array(chunk.rr_ms, type=pa.float64()),
            pa.array(chunk.rr_ticks, type=pa.int32()),
            pa.array(chunk.artifact, type=pa.bool_()),
        ],
        schema=BEATS_SCHEMA,
    )


def rows_batch(schema: pa.Schema, rows: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
    """A record batch from dict rows carrying every column of ``schema``."""
    columns = [pa.array([row.get(f.name) for row in rows], type=f.type) for f in schema]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class TableWriter:
    """Writes record batches of one table to a file object as CSV or Parquet."""

    def __init__(self, sink: IO[bytes], schema: pa.Schema, fmt: str) -> None:
        self.fmt = fmt
        self.rows = 0
        self._writer: pacsv.CSVWriter | pq.ParquetWriter
        if fmt == "csv":
            self._writer = pacsv.CSVWriter(sink, schema)
        else:
            self._writer = pq.ParquetWriter(sink, schema, compression="zstd")

    def write(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows:
            self._writer.write_batch(batch)
            self.rows += batch.num_rows

    def write_all(self, batches: Iterable[pa.RecordBatch]) -> None:
        for batch in batches:
            self.write(batch)

    def close(self) -> None:
        self._writer.close()
