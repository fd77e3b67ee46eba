"""The RR resolution of the Bluetooth Heart Rate Measurement (0x2A37): 1/1024 s per tick.

Conversions only; the bounds of a beat are ``wire.bounds``.
"""

from __future__ import annotations

from typing import Final

#: RR-Interval resolution of the Heart Rate Service: 1/1024 s per tick (HRS 1.0, §3.1.1.5).
RR_TICKS_PER_S: Final[int] = 1024


def ticks_to_ms(rr_ticks: int) -> float:
    """An RR interval in 1/1024 s ticks as ms, exactly (``ticks * 1000 / 1024`` is a binary fraction)."""
    return rr_ticks * 1000 / RR_TICKS_PER_S


def ms_to_ticks(rr_ms: float) -> int:
    """An RR interval in ms rounded to the nearest 1/1024 s tick."""
    return round(rr_ms * RR_TICKS_PER_S / 1000)
