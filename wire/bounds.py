"""What a beat on the wire may be: the RR range a strap can report for a heartbeat and the time range.

The collector drops RR values outside these bounds and the API refuses them; narrower physiological
bounds that only flag a beat for artifact correction are ``analysis.bounds``.
"""

from __future__ import annotations

import math
from typing import Final

from wire.units import RR_TICKS_PER_S

#: Shortest RR interval that is a beat: 200 ms = 300 bpm, above any sustained human rhythm (maximal
#: sinus rates stay below ~220 bpm; firmware_notes/README.md, "Bounds"). Missed beats are included.
RR_MIN_MS: Final[float] = 200.0
#: Longest RR interval that is a beat: 3000 ms = 20 bpm. Longer values from consumer straps are contact
#: loss or counter garbage (e.g. Polar H10's 1878949389 ticks), not beats.
RR_MAX_MS: Final[float] = 3000.0
#: The same bounds in whole ticks: ``RR_MIN_TICKS <= rr_ticks <= RR_MAX_TICKS`` exactly when
#: ``RR_MIN_MS <= rr_ticks * 1000 / 1024 <= RR_MAX_MS`` (205 and 3072 ticks).
RR_MIN_TICKS: Final[int] = math.ceil(RR_MIN_MS * RR_TICKS_PER_S / 1000)
RR_MAX_TICKS: Final[int] = math.floor(RR_MAX_MS * RR_TICKS_PER_S / 1000)
#: Earliest accepted beat time: 2000-01-01T00:00:00Z in epoch ms (older: the clock was never set).
MIN_T_MS: Final[int] = 946_684_800_000
#: How far a beat may lie ahead of the server's clock (clock skew between collector and server), ms.
MAX_FUTURE_SKEW_MS: Final[int] = 5 * 60 * 1000


def is_plausible_rr_ticks(rr_ticks: int) -> bool:
    """Whether an RR value in 1/1024 s ticks lies within [RR_MIN_TICKS, RR_MAX_TICKS]."""
    return RR_MIN_TICKS <= rr_ticks <= RR_MAX_TICKS
