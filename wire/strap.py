"""The strap-info model sent with every batch: what the collector knows about the strap it records.

The collector fills it from the Device Information and Battery services; the API stores it with the
device. Reading those services is ``collector.ble``; storing is ``api.ingest.storage``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, TypedDict

#: Longest strap text field, in characters.
MAX_STRAP_TEXT: Final[int] = 200
#: The text fields of the strap object, in wire order.
STRAP_TEXT_FIELDS: Final[tuple[str, ...]] = ("address", "name", "model", "firmware")


class StrapDoc(TypedDict):
    """The ``strap`` object of a batch: text of at most ``MAX_STRAP_TEXT`` characters or null,
    ``battery_pct`` an integer 0–100 or null."""

    address: str | None
    name: str | None
    model: str | None
    firmware: str | None
    battery_pct: int | None


@dataclass(frozen=True, slots=True)
class StrapInfo:
    """Strap identity and battery; ``None`` where the strap does not say (the API then keeps what it
    stored before)."""

    address: str | None = None
    name: str | None = None
    model: str | None = None
    firmware: str | None = None
    battery_pct: int | None = None

    def to_doc(self) -> StrapDoc:
        """The wire form (every key present, ``None`` as null)."""
        return {
            "address": self.address,
            "name": self.name,
            "model": self.model,
            "firmware": self.firmware,
            "battery_pct": self.battery_pct,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> StrapInfo:
        """Read the wire form back without validating it (the collector's own spool; the API
        validates what it receives in ``api.ingest.validation``)."""
        return cls(
            address=doc.get("address"),
            name=doc.get("name"),
            model=doc.get("model"),
            firmware=doc.get("firmware"),
            battery_pct=doc.get("battery_pct"),
        )
