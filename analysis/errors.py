"""Root error of the analysis package; every analysis failure is a subclass with structured fields."""

from __future__ import annotations


class AnalysisError(Exception):
    """Root of all analysis errors.

    Parameters
    ----------
    message:
        Human-readable explanation.
    **fields:
        Structured context (line number, value, window...), kept in ``self.fields``.
    """

    def __init__(self, message: str, **fields: object) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, object] = dict(fields)

    def __str__(self) -> str:
        return self.message
