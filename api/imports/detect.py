"""Which format a file is, from its content (and, for Elite HRV, its name), and its parser.

Pure: reads the first bytes of a seekable binary file object and rewinds it. The parsers are the
format modules of ``api.imports``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO, Final

from api.imports.apple_health import looks_like_apple_health, parse_apple_health
from api.imports.elite_hrv import looks_like_elite_hrv, parse_elite_hrv
from api.imports.errors import UnknownFormat
from api.imports.fit import looks_like_fit, parse_fit
from api.imports.hrv4training import looks_like_hrv4training, parse_hrv4training
from api.imports.kubios import looks_like_rr_text, parse_kubios
from api.imports.model import ImportContext, ParsedImport, Source
from api.imports.polar import (
    looks_like_ppi_json,
    looks_like_sensor_logger,
    parse_ppi_json,
    parse_sensor_logger,
)

#: Bytes looked at to detect the format.
HEAD_BYTES: Final[int] = 64 * 1024
#: Every source an import can have, with what the page and the docs call it.
SOURCES: Final[dict[Source, str]] = {
    "apple_health": "Apple Health export (export.xml or the export's zip)",
    "fit": "FIT file with beat intervals (Garmin, Wahoo, ...)",
    "polar": "Polar export with RR or PPI (Polar Sensor Logger RR file, Polar Flow ppi_samples JSON)",
    "elite_hrv": "Elite HRV reading export (one RR per line, time in the file name)",
    "hrv4training": "HRV4Training CSV export with RR intervals",
    "kubios": "Kubios RR text (one RR per line; needs a start time)",
}

Parser = Callable[[BinaryIO, ImportContext], ParsedImport]


def _zip_holds_export_xml(fh: BinaryIO) -> bool:
    import zipfile

    try:
        with zipfile.ZipFile(fh) as archive:
            return any(n.rsplit("/", 1)[-1] == "export.xml" for n in archive.namelist())
    except zipfile.BadZipFile:
        return False
    finally:
        fh.seek(0)


def detect_source(fh: BinaryIO, ctx: ImportContext) -> tuple[Source, Parser]:
    """The source of a file and its parser; the file is rewound.

    Raises
    ------
    UnknownFormat
        The content matches no supported format (the message lists them).
    """
    head = fh.read(HEAD_BYTES)
    fh.seek(0)
    if head.startswith(b"PK\x03\x04") and _zip_holds_export_xml(fh):
        return "apple_health", parse_apple_health
    if looks_like_fit(head):
        return "fit", parse_fit
    if looks_like_apple_health(head):
        return "apple_health", parse_apple_health
    text = head.decode("utf-8", errors="replace")
    if looks_like_ppi_json(text):
        return "polar", parse_ppi_json
    if looks_like_sensor_logger(text):
        return "polar", parse_sensor_logger
    if looks_like_hrv4training(text):
        return "hrv4training", parse_hrv4training
    if looks_like_elite_hrv(text, ctx):
        return "elite_hrv", parse_elite_hrv
    if looks_like_rr_text(text):
        return "kubios", parse_kubios
    raise UnknownFormat(
        ctx.file_name,
        "not a format Somatrace imports; supported: " + "; ".join(SOURCES.values()),
    )


def open_import(fh: BinaryIO, ctx: ImportContext) -> ParsedImport:
    """Detect the file's format and start parsing it (chunks are produced as they are iterated)."""
    _, parser = detect_source(fh, ctx)
    return parser(fh, ctx)
