"""``GET /v1/exports``: a researcher's streamed zip of consented, pseudonymised data (see ``api.export``).

The audit log gets one row per included patient before the first byte, and one summary row at the end.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from api.audit import record
from api.auth.deps import Principal, get_db, require_role
from api.db.pool import Database
from api.errors import InvalidInput
from api.export.selection import ExportFormat, ExportRequest, consented_patients
from api.export.service import new_stats, stats_detail, stream_export
from api.routes.fields import Time
from api.routes.questionnaires import get_catalog
from api.routes.responses import errors

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/exports", tags=["exports"])

RESOURCE = "GET /v1/exports"
_PSEUDONYM_RE = re.compile(r"^[A-Z0-9-]{6,32}$")
#: The ``patients`` parameter: pseudonyms separated by commas (what ``parse_pseudonyms`` accepts).
PSEUDONYM_LIST_PATTERN = r"^ *[A-Z0-9-]{6,32} *(, *[A-Z0-9-]{6,32} *)*$"
#: Longest ``patients`` parameter (about 100 pseudonyms): even fully percent-encoded it fits in a URL.
MAX_PATIENTS_PARAM = 1200
_PSEUDONYM_LIST_RE = re.compile(PSEUDONYM_LIST_PATTERN)


def parse_pseudonyms(raw: str | None) -> tuple[str, ...] | None:
    """``"R-0A1B2C3D4E5F,R-..."`` → a tuple; anything ``PSEUDONYM_LIST_PATTERN`` refuses is a 422
    naming the malformed items."""
    if raw is None:
        return None
    parts = [p.strip() for p in raw.split(",")]
    if not _PSEUDONYM_LIST_RE.match(raw):
        bad = [p for p in parts if not _PSEUDONYM_RE.match(p)] or [raw]
        raise InvalidInput(
            "malformed pseudonym(s)",
            errors=[
                {"loc": ["query", "patients"], "msg": f"not a pseudonym: {p!r}"} for p in bad[:20]
            ],
        )
    return tuple(dict.fromkeys(parts))


@router.get(
    "",
    summary="Export consented, pseudonymised data (zip)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"application/zip": {}},
            "description": "A zip archive: the format's files + data dictionary",
        },
        **errors(401, 403, 422),
    },
)
async def export(
    http_request: Request,
    format: ExportFormat = Query(description="csv | parquet | kubios | fhir | omh"),
    start: Time = Query(description="Start of the period (ISO 8601 with time zone)"),
    end: Time = Query(description="End of the period, exclusive (ISO 8601 with time zone)"),
    patients: str | None = Query(
        None,
        description="Comma-separated pseudonyms; default all consented",
        max_length=MAX_PATIENTS_PARAM,
        # stated in the schema, checked by parse_pseudonyms (which names the bad items)
        json_schema_extra={"pattern": PSEUDONYM_LIST_PATTERN},
    ),
    date_shift: bool = Query(
        False, description="Shift each patient's dates by a secret whole number of weeks"
    ),
    principal: Principal = Depends(require_role("researcher")),
    db: Database = Depends(get_db),
) -> StreamingResponse:
    """Stream a zip with the chosen format's files and ``data_dictionary.{md,json}``.

    Only patients with research consent appear (also not in counts or file names); patients are named
    only by pseudonym; journal text only with the separate journal-text consent.
    """
    request = ExportRequest(
        format=format,
        start=start,
        end=end,
        pseudonyms=parse_pseudonyms(patients),
        date_shift=date_shift,
    )
    stats = new_stats()
    async with db.connection() as conn:
        selected = await consented_patients(conn, request)
        async with conn.transaction():
            for patient in selected:
                await record(
                    conn,
                    principal,
                    "export",
                    RESOURCE,
                    patient.id,
                    {
                        "export_id": stats.export_id,
                        "format": format.value,
                        "start": start.isoformat(),
                        "end": end.isoformat(),
                        "date_shift": date_shift,
                        # no pseudonym: admins read this row beside the patient id
                    },
                )

    async def body() -> AsyncIterator[bytes]:
        try:
            async for data in stream_export(
                db, request, selected, stats, get_catalog(http_request)
            ):
                yield data
        finally:
            async with db.connection() as conn:
                await record(conn, principal, "export", RESOURCE, None, stats_detail(stats))
            if not stats.complete:
                logger.warning("export %s ended before completion", stats.export_id)

    stamp = start.strftime("%Y%m%d")
    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="somatrace-{format.value}-{stamp}.zip"',
            "X-Somatrace-Export-Id": stats.export_id,
            "X-Somatrace-Export-Patients": str(len(selected)),
        },
    )
