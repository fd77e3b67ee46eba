"""Root error of the collector package; every collector failure is a subclass with structured fields."""

from __future__ import annotations


class CollectorError(Exception):
    """Root of all collector errors.

    Parameters
    ----------
    message:
        Human-readable explanation.
    **fields:
        Structured context (address, packet hex, path...), kept in ``self.fields``.
    """

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, object] = dict(fields)

    def __str__(self) -> str:
        return self.message
