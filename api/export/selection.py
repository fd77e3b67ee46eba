"""What an export contains: its parameters, and the consented patients with their (secret) date shifts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from api.db.queries import q
from api.errors import InvalidInput

#: Longest span one export may cover.
MAX_EXPORT_SPAN = timedelta(days=3660)
#: Most pseudonyms one request may name.
MAX_PSEUDONYMS = 100


class ExportFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"
    kubios = "kubios"
    fhir = "fhir"
    omh = "omh"


@dataclass(frozen=True)
class ExportRequest:
    """An export's parameters (times are tz-aware; ``end`` exclusive)."""

    format: ExportFormat
    start: datetime
    end: datetime
    pseudonyms: tuple[str, ...] | None = None
    date_shift: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise InvalidInput("start and end need a time zone (e.g. 2026-01-01T00:00:00Z)")
        if self.end <= self.start:
            raise InvalidInput(
                "end must be after start", start=self.start.isoformat(), end=self.end.isoformat()
            )
        if self.end - self.start > MAX_EXPORT_SPAN:
            raise InvalidInput(f"an export covers at most {MAX_EXPORT_SPAN.days} days")
        if self.pseudonyms is not None and len(self.pseudonyms) > MAX_PSEUDONYMS:
            raise InvalidInput(f"at most {MAX_PSEUDONYMS} pseudonyms per export")


@dataclass(frozen=True)
class ExportPatient:
    """A consented patient as the export sees them: no name, no e-mail, no real id in any file."""

    id: uuid.UUID
    pseudonym: str
    timezone: str
    shift: timedelta
    journal_text: bool
    first_session_at: datetime | None

    @property
    def shift_ms(self) -> int:
        return int(self.shift.total_seconds() * 1000)


async def consented_patients(conn: Any, request: ExportRequest) -> list[ExportPatient]:
    """Patients with research consent (optionally only the named pseudonyms).

    Unknown pseudonyms and patients without consent are left out alike, so an export never reveals
    whether a patient without consent exists.
    """
    cur = await conn.execute(
        q("export_patients"),
        {"pseudonyms": list(request.pseudonyms) if request.pseudonyms is not None else None},
    )
    rows = await cur.fetchall()
    return [
        ExportPatient(
            id=row["id"],
            pseudonym=row["pseudonym"],
            timezone=row["timezone"],
            shift=timedelta(days=int(row["date_shift_days"]))
            if request.date_shift
            else timedelta(0),
            journal_text=bool(row["journal_text_consent"]),
            first_session_at=row["first_session_at"],
        )
        for row in rows
    ]
