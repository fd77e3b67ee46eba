"""Errors of an import: the file and the line or record at fault, as 422 answers.

Raised by the parsers in ``api.imports``; the API turns them into responses in one place.
"""

from __future__ import annotations

from api.errors import SomatraceError


class ImportFileError(SomatraceError):
    """A file cannot be imported; nothing of it is stored. ``file`` names it, ``line`` or
    ``record`` (1-based) says where, when known."""

    status = 422
    code = "import_invalid"

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        record: int | None = None,
        **extra: str | int | None,
    ) -> None:
        where = (
            f", line {line}"
            if line is not None
            else f", record {record}"
            if record is not None
            else ""
        )
        super().__init__(f"{file}{where}: {message}")
        self.fields = {"file": file, "line": line, "record": record, **extra}
        self.file = file
        self.line = line
        self.record = record


class UnknownFormat(ImportFileError):
    """The content matches none of the supported formats."""

    code = "import_unknown_format"


class MissingStart(ImportFileError):
    """The file holds no absolute time (Kubios RR text) and no ``start`` was given."""

    code = "import_needs_start"
