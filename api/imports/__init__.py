"""Imports of beat-to-beat files patients already hold (Apple Health, FIT, Polar, Elite HRV,
HRV4Training, Kubios RR text): content detection and one pure, streaming parser per format.

Parsers read a binary file object and yield beats in bounded chunks; they never touch the
database. Storing an import with its provenance is ``api.imports.storage``; the HTTP route is
``api.routes.imports`` and the CLI command ``somatrace import``.
"""

from api.imports.detect import SOURCES, detect_source, open_import
from api.imports.errors import ImportFileError, MissingStart, UnknownFormat
from api.imports.model import BeatChunk, ImportContext, ParsedImport, Summary

__all__ = [
    "SOURCES",
    "BeatChunk",
    "ImportContext",
    "ImportFileError",
    "MissingStart",
    "ParsedImport",
    "Summary",
    "UnknownFormat",
    "detect_source",
    "open_import",
]
