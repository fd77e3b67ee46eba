"""Streams one research export as a zip: selected consented patients, one format, plus the data dictionary.

Rows are read per patient and per chunk, written straight into the archive and sent; memory stays flat.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from api.db.pool import Database
from api.db.queries import q
from api.export import dictionary, fhir, kubios, omh, questionnaires, tabular
from api.export.beats import iter_beats
from api.export.selection import ExportFormat, ExportPatient, ExportRequest
from api.export.zipstream import ZipStream
from api.instruments.loader import Catalog
from api.trend_view import export_rows, judged_trend, judged_verdict_rows, load_patient_days

logger = logging.getLogger(__name__)


@dataclass
class ExportStats:
    """What an export contained (recorded in the audit log when it ends)."""

    export_id: str
    patients: int = 0
    beats: int = 0
    windows: int = 0
    days: int = 0
    sessions: int = 0
    verdicts: int = 0
    journal_entries: int = 0
    responses: int = 0
    files: list[str] = field(default_factory=list)
    complete: bool = False


def _days_from(first: datetime | None, moment: datetime | None) -> float | None:
    if first is None or moment is None:
        return None
    return (moment - first).total_seconds() / 86400.0


def _shift(moment: datetime | None, patient: ExportPatient) -> datetime | None:
    return None if moment is None else moment + patient.shift


class _Export:
    """One export in progress: the archive, the database, the counters."""

    def __init__(
        self,
        db: Database,
        request: ExportRequest,
        patients: list[ExportPatient],
        stats: ExportStats,
        catalog: Catalog | None = None,
    ) -> None:
        self.db = db
        self.catalog = catalog
        self.request = request
        self.patients = patients
        self.stats = stats
        self.zip = ZipStream()
        self.created = datetime.now(UTC)

    async def _rows(self, query: str, patient: ExportPatient) -> list[dict[str, Any]]:
        async with self.db.connection() as conn:
            cur = await conn.execute(
                q(query),
                {"patient_id": patient.id, "start": self.request.start, "end": self.request.end},
            )
            return list(await cur.fetchall())

    async def _beat_chunks(self, patient: ExportPatient) -> AsyncIterator[Any]:
        async with self.db.connection() as conn:
            async for chunk in iter_beats(conn, patient.id, self.request.start, self.request.end):
                self.stats.beats += len(chunk)
                yield chunk

    # --- tabular formats -------------------------------------------------------------------------
    async def tabular(self) -> AsyncIterator[bytes]:
        fmt = self.request.format.value
        ext = "csv" if fmt == "csv" else "parquet"
        compress = fmt == "csv"

        async def table(name: str, batches: AsyncIterator[Any]) -> AsyncIterator[bytes]:
            path = f"{name}.{ext}"
            with self.zip.open(path, compress=compress) as entry:
                writer = tabular.TableWriter(entry, tabular.TABLES[name], fmt)
                async for batch in batches:
                    await asyncio.to_thread(writer.write, batch)
                    yield self.zip.drain()
                writer.close()
            self.stats.files.append(path)
            yield self.zip.drain()

        async for data in table("patients", self._patients_batches()):
            yield data
        async for data in table("beats", self._beats_batches()):
            yield data
        async for data in table("windows", self._windows_batches()):
            yield data
        async for data in table("daily", self._daily_batches()):
            yield data
        async for data in table("sessions", self._sessions_batches()):
            yield data
        async for data in table("verdicts", self._verdicts_batches()):
            yield data
        async for data in table("journal", self._journal_batches()):
            yield data
        async for data in table("responses", self._response_batches("responses")):
            yield data
        async for data in table("response_items", self._response_batches("items")):
            yield data

    async def _patients_batches(self) -> AsyncIterator[Any]:
        yield tabular.rows_batch(
            tabular.PATIENTS_SCHEMA,
            [
                {
                    "pseudonym": p.pseudonym,
                    "date_shifted": self.request.date_shift,
                    "journal_text_included": p.journal_text,
                }
                for p in self.patients
            ],
        )

    async def _beats_batches(self) -> AsyncIterator[Any]:
        for patient in self.patients:
            async for chunk in self._beat_chunks(patient):
                yield await asyncio.to_thread(
                    tabular.beats_batch, patient.pseudonym, chunk, patient.shift_ms
                )

    async def _windows_batches(self) -> AsyncIterator[Any]:
        for patient in self.patients:
            rows = await self._rows("export_windows", patient)
            self.stats.windows += len(rows)
            for row in rows:
                row["pseudonym"] = patient.pseudonym
                row["window_start"] = _shift(row["window_start"], patient)
                row["quality_notes"] = "; ".join(row.get("quality_notes") or [])
            yield tabular.rows_batch(tabular.WINDOWS_SCHEMA, rows)

    async def _daily_batches(self) -> AsyncIterator[Any]:
        first, last = (
            self.request.start.astimezone(UTC).date(),
            self.request.end.astimezone(UTC).date(),
        )
        for patient in self.patients:
            async with self.db.connection() as conn:
                days = await load_patient_days(conn, patient.id, patient.timezone)
            rows = [r for r in export_rows(await judged_trend(days)) if first <= r["day"] <= last]
            self.stats.days += len(rows)
            for row in rows:
                row["pseudonym"] = patient.pseudonym
                row["day"] = row["day"] + patient.shift
                # Baevsky's scale of the daily value: the square of the daily stress index, as
                # daily_values.baevsky_si is defined (migration 0030).
                si = row.get("stress_index")
                row["baevsky_si"] = si * si if si is not None else None
            yield tabular.rows_batch(tabular.DAILY_SCHEMA, rows)

    async def _sessions_batches(self) -> AsyncIterator[Any]:
        for patient in self.patients:
            rows = await self._rows("export_sessions", patient)
            self.stats.sessions += len(rows)
            out = [
                {
                    "pseudonym": patient.pseudonym,
                    "kind": r["kind"],
                    "started_at": _shift(r["started_at"], patient),
                    "ended_at": _shift(r["ended_at"], patient),
                    "days_from_first_session": _days_from(
                        patient.first_session_at, r["started_at"]
                    ),
                }
                for r in rows
            ]
            yield tabular.rows_batch(tabular.SESSIONS_SCHEMA, out)

    async def _verdicts_batches(self) -> AsyncIterator[Any]:
        """The session verdicts as the dashboard shows them (``analysis.session_verdicts``),
        judged for each patient's today, for the medicine sessions in the requested days."""
        first, last = (
            self.request.start.astimezone(UTC).date(),
            self.request.end.astimezone(UTC).date(),
        )
        for patient in self.patients:
            async with self.db.connection() as conn:
                days = await load_patient_days(conn, patient.id, patient.timezone)
            rows = [r for r in await judged_verdict_rows(days) if first <= r["session_day"] <= last]
            self.stats.verdicts += len(rows)
            for row in rows:
                row["pseudonym"] = patient.pseudonym
                for col in ("session_day", "first_day", "last_day", "judged_on"):
                    row[col] = row[col] + patient.shift
            yield tabular.rows_batch(tabular.VERDICTS_SCHEMA, rows)

    async def _journal_batches(self) -> AsyncIterator[Any]:
        for patient in self.patients:
            rows = await self._rows("export_journal", patient)
            self.stats.journal_entries += len(rows)
            out = [
                {
                    "pseudonym": patient.pseudonym,
                    "at": _shift(r["at"], patient),
                    "days_from_first_session": _days_from(patient.first_session_at, r["at"]),
                    "tags": "; ".join(r["tags"] or []),
                    "mood": r["mood"],
                    "body": r["body"],
                    "text": r["text"] if patient.journal_text else None,
                }
                for r in rows
            ]
            yield tabular.rows_batch(tabular.JOURNAL_SCHEMA, out)

    async def _response_batches(self, which: str) -> AsyncIterator[Any]:
        for patient in self.patients:
            rows = await self._rows("export_responses", patient)
            responses, items = questionnaires.response_rows(
                patient.pseudonym, rows, patient.shift, patient.first_session_at
            )
            if which == "responses":
                self.stats.responses += len(responses)
                yield tabular.rows_batch(questionnaires.RESPONSES_SCHEMA, responses)
            else:
                yield tabular.rows_batch(questionnaires.RESPONSE_ITEMS_SCHEMA, items)

    # --- Kubios RR text ---------------------------------------------------------------------------
    async def kubios(self) -> AsyncIterator[bytes]:
        for patient in self.patients:
            number = 0
            entry: IO[bytes] | None = None
            async for chunk in self._beat_chunks(patient):
                starts = chunk.segment_start.nonzero()[0].tolist()
                bounds = [*starts, len(chunk)]
                if not starts or starts[0] != 0:
                    bounds = [0, *bounds]
                for a, b in itertools.pairwise(bounds):
                    if a == b:
                        continue
                    if chunk.segment_start[a] or entry is None:
                        if entry is not None:
                            entry.close()
                        number += 1
                        name = kubios.recording_file_name(
                            patient.pseudonym,
                            number,
                            int(chunk.t_ms[a]) + patient.shift_ms,
                            float(chunk.rr_ms[a]),
                        )
                        entry = self.zip.open(name)
                        self.stats.files.append(name)
                    entry.write(kubios.rr_lines(chunk.rr_ticks[a:b]))
                yield self.zip.drain()
            if entry is not None:
                entry.close()
            yield self.zip.drain()

    # --- FHIR -------------------------------------------------------------------------------------
    async def fhir_bundles(self) -> AsyncIterator[bytes]:
        for patient in self.patients:
            rows = await self._rows("export_windows", patient)
            self.stats.windows += len(rows)
            by_day: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                day = (row["window_start"] + patient.shift).date().isoformat()
                by_day.setdefault(day, []).extend(
                    fhir.window_observations(patient.pseudonym, row, patient.shift)
                )
            for day, observations in by_day.items():
                name = f"fhir/{patient.pseudonym}/{day}.json"
                self.zip.write_bytes(name, fhir.bundle_json(observations, self.created))
                self.stats.files.append(name)
                yield self.zip.drain()
            responses = await self._rows("export_responses", patient)
            if responses:
                self.stats.responses += len(responses)
                resources = [
                    resource
                    for row in responses
                    for resource in questionnaires.fhir_resources(
                        patient.pseudonym, row, patient.shift, self.catalog
                    )
                ]
                name = f"fhir/{patient.pseudonym}/questionnaire-responses.json"
                self.zip.write_bytes(name, fhir.bundle_json(resources, self.created))
                self.stats.files.append(name)
                yield self.zip.drain()

    # --- Open mHealth -----------------------------------------------------------------------------
    async def omh_points(self) -> AsyncIterator[bytes]:
        for patient in self.patients:
            rows = await self._rows("export_windows", patient)
            self.stats.windows += len(rows)
            name = f"omh/{patient.pseudonym}/heart-rate.json"
            points = [
                p
                for r in rows
                if (p := omh.heart_rate_point(patient.pseudonym, r, patient.shift, self.created))
            ]
            self.zip.write_bytes(name, json.dumps(points, separators=(",", ":")).encode())
            self.stats.files.append(name)
            yield self.zip.drain()
            name = f"omh/{patient.pseudonym}/rr-interval.json"
            with self.zip.open(name) as entry:
                entry.write(b"[")
                first = True
                async for chunk in self._beat_chunks(patient):
                    text = await asyncio.to_thread(
                        omh.rr_interval_points,
                        patient.pseudonym,
                        chunk.t_ms + patient.shift_ms,
                        chunk.rr_ticks,
                        self.created,
                    )
                    if text:
                        entry.write((text if first else "," + text).encode())
                        first = False
                    yield self.zip.drain()
                entry.write(b"]")
            self.stats.files.append(name)
            yield self.zip.drain()

    async def run(self) -> AsyncIterator[bytes]:
        body = {
            ExportFormat.csv: self.tabular,
            ExportFormat.parquet: self.tabular,
            ExportFormat.kubios: self.kubios,
            ExportFormat.fhir: self.fhir_bundles,
            ExportFormat.omh: self.omh_points,
        }[self.request.format]
        async for data in body():
            if data:
                yield data
        files = [*self.stats.files, "data_dictionary.md", "data_dictionary.json"]
        meta = dictionary.build(self.request, self.created, files, self.catalog)
        self.zip.write_bytes("data_dictionary.md", dictionary.to_markdown(meta).encode())
        self.zip.write_bytes(
            "data_dictionary.json", json.dumps(meta, indent=2, ensure_ascii=False).encode()
        )
        self.stats.files = files
        yield self.zip.drain() + self.zip.close()
        self.stats.complete = True


def new_stats() -> ExportStats:
    return ExportStats(export_id=str(uuid.uuid4()))


async def stream_export(
    db: Database,
    request: ExportRequest,
    patients: list[ExportPatient],
    stats: ExportStats,
    catalog: Catalog | None = None,
) -> AsyncIterator[bytes]:
    """The export's zip archive, in pieces; ``stats`` fills in as it goes (``catalog``: the
    questionnaire instruments, for item texts and the data dictionary)."""
    stats.patients = len(patients)
    async for data in _Export(db, request, patients, stats, catalog).run():
        yield data


def stats_detail(stats: ExportStats) -> dict[str, Any]:
    """``stats`` as audit-log detail: counts only. File names hold research pseudonyms, and the
    admins who read the audit log must not be able to link those to patients."""
    detail = asdict(stats)
    detail["n_files"] = len(detail.pop("files"))
    return detail
