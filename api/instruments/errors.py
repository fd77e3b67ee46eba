"""Errors of the instruments package: a bad definition file (naming file and field) and bad answers."""

from __future__ import annotations

from pathlib import Path

from api.errors import InvalidInput, SomatraceError


class InstrumentDefinitionError(SomatraceError):
    """A definition or protocol file is malformed; ``file`` and ``field`` say where.

    ``field`` is a dotted path into the file, counting array entries from 1 (``items.9.text`` is
    the text of the ninth ``[[items]]`` table).
    """

    status = 500
    code = "instrument_definition_error"

    def __init__(self, file: Path | str, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}", file=str(file), field=field)
        self.file = str(file)
        self.field = field


class InvalidAnswers(InvalidInput):
    """Answers that do not fit the instrument: ``errors`` names each bad item (422)."""
