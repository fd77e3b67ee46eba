"""Strap quirks: which RR values are real beats, when contact is trusted.

Pure functions over decoded values; each quirk is documented in ``firmware_notes/<strap>.md``. The RR
bounds are the wire contract's (``wire.bounds``, shared with the API); beat timing is ``collector.beats``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from collector.gatt import HeartRateMeasurement
from wire import RR_MAX_MS, RR_MIN_MS, ticks_to_ms

__all__ = [
    "GENERIC",
    "HRM_DUAL_BOGUS_RR_MAX_MS",
    "PROFILES",
    "RrFilterResult",
    "StrapProfile",
    "effective_contact",
    "filter_rr",
    "is_plausible_rr_ms",
    "profile_for",
]

logger = logging.getLogger(__name__)

#: Garmin HRM-Dual appends an extra RR value of a few dozen ticks (e.g. 52 = 51 ms) after the
#: real ones (firmware_notes/garmin-hrm-dual-pro.md); trailing values at or below this are bogus.
HRM_DUAL_BOGUS_RR_MAX_MS = 150.0


def is_plausible_rr_ms(rr_ms: float) -> bool:
    """Return whether an RR interval lies within [RR_MIN_MS, RR_MAX_MS]."""
    return RR_MIN_MS <= rr_ms <= RR_MAX_MS


@dataclass(frozen=True, slots=True)
class StrapProfile:
    """What the collector knows about one strap family.

    Attributes
    ----------
    key:
        Stable identifier, also the firmware note's file stem.
    display_name:
        Human-readable family name.
    contact_settle_s:
        Seconds after connect during which the sensor-contact bit is not trustworthy.
    drop_trailing_short_rr:
        Drop a trailing RR at or below ``HRM_DUAL_BOGUS_RR_MAX_MS`` (Garmin HRM-Dual).
    rr_source:
        ``"ecg"`` for electrode straps, ``"optical"`` for PPG sensors (smoothed or absent RR).
    supports_ecg_stream:
        Whether the strap can stream raw ECG (Polar PMD).
    """

    key: str
    display_name: str
    contact_settle_s: float = 0.0
    drop_trailing_short_rr: bool = False
    rr_source: Literal["ecg", "optical"] = "ecg"
    supports_ecg_stream: bool = False

    @property
    def note(self) -> str:
        """Path of the firmware note documenting this strap, relative to the repository root."""
        stem = "README" if self.key == "generic" else self.key
        return f"firmware_notes/{stem}.md"


GENERIC = StrapProfile(key="generic", display_name="Generic Heart Rate Service strap")
POLAR_H10 = StrapProfile(
    key="polar-h10", display_name="Polar H10", contact_settle_s=2.0, supports_ecg_stream=True
)
POLAR_H9 = StrapProfile(key="polar-h9", display_name="Polar H9", contact_settle_s=2.0)
GARMIN_HRM_DUAL = StrapProfile(
    key="garmin-hrm-dual-pro", display_name="Garmin HRM-Dual", drop_trailing_short_rr=True
)
GARMIN_HRM_PRO = StrapProfile(key="garmin-hrm-dual-pro", display_name="Garmin HRM-Pro")
WAHOO_TICKR = StrapProfile(key="wahoo-tickr", display_name="Wahoo TICKR")
COOSPO = StrapProfile(key="coospo-h808s-h6", display_name="Coospo H808S / H6")
MOVESENSE = StrapProfile(key="movesense", display_name="Movesense")
OPTICAL = StrapProfile(
    key="optical-sensors",
    display_name="Optical sensor (Polar OH1 / Verity Sense)",
    rr_source="optical",
)

#: Ordered (needle, profile) pairs matched against lower-cased manufacturer + model + name.
_MATCHERS: tuple[tuple[tuple[str, ...], StrapProfile], ...] = (
    (("verity", "oh1", "polar sense"), OPTICAL),
    (("h10",), POLAR_H10),
    (("h9",), POLAR_H9),
    (("hrm-dual", "hrm dual", "hrmdual"), GARMIN_HRM_DUAL),
    (("hrm-pro", "hrm pro", "hrmpro"), GARMIN_HRM_PRO),
    (("tickr",), WAHOO_TICKR),
    (("coospo", "h808s", "h6m"), COOSPO),
    (("movesense",), MOVESENSE),
)

PROFILES: tuple[StrapProfile, ...] = (
    GENERIC,
    POLAR_H10,
    POLAR_H9,
    GARMIN_HRM_DUAL,
    GARMIN_HRM_PRO,
    WAHOO_TICKR,
    COOSPO,
    MOVESENSE,
    OPTICAL,
)


def profile_for(
    manufacturer: str | None, model: str | None, name: str | None = None
) -> StrapProfile:
    """Choose the strap profile from Device Information strings and the advertised name.

    Parameters
    ----------
    manufacturer, model:
        Manufacturer Name (0x2A29) and Model Number (0x2A24) strings, if the strap has them.
    name:
        Advertised local name (e.g. ``"Polar H10 1A2B3C4D"``), used when the strings are vague.

    Returns
    -------
    StrapProfile
        The matching family, else ``GENERIC`` (bounds only, no strap-specific filters).
    """
    haystack = " ".join(s for s in (manufacturer, model, name) if s).lower()
    # Coospo's H6 model string is plain "H6"; only trust it with the Coospo manufacturer.
    if "coospo" in haystack:
        return COOSPO
    for needles, profile in _MATCHERS:
        if any(n in haystack for n in needles):
            return profile
    return GENERIC


@dataclass(frozen=True, slots=True)
class RrFilterResult:
    """RR values that are beats, and how many were rejected and why."""

    rr_ticks: tuple[int, ...]
    dropped: int
    reasons: tuple[str, ...]


def filter_rr(profile: StrapProfile, rr_ticks: tuple[int, ...]) -> RrFilterResult:
    """Keep the RR values of one notification that can be real beats.

    Parameters
    ----------
    profile:
        The strap's profile (strap-specific filters).
    rr_ticks:
        RR values of one notification in 1/1024 s, oldest first.

    Returns
    -------
    RrFilterResult
        Kept values in their original order, the count dropped and one reason per drop.

    Notes
    -----
    Garmin HRM-Dual's trailing bogus value is removed first (firmware_notes/garmin-hrm-dual-pro.md);
    then every value outside [RR_MIN_MS, RR_MAX_MS] is dropped (Polar H10's 0, 28 and
    1878949389-tick garbage, firmware_notes/polar-h10.md).
    """
    values = list(rr_ticks)
    reasons: list[str] = []
    if (
        profile.drop_trailing_short_rr
        and len(values) >= 2
        and ticks_to_ms(values[-1]) <= HRM_DUAL_BOGUS_RR_MAX_MS
    ):
        reasons.append(f"trailing bogus RR {values[-1]} ticks ({profile.display_name})")
        values.pop()
    kept: list[int] = []
    for ticks in values:
        if is_plausible_rr_ms(ticks_to_ms(ticks)):
            kept.append(ticks)
        else:
            reasons.append(f"impossible RR {ticks} ticks ({ticks_to_ms(ticks):.1f} ms)")
    if reasons:
        logger.debug("dropped %d RR value(s): %s", len(reasons), "; ".join(reasons))
    return RrFilterResult(rr_ticks=tuple(kept), dropped=len(reasons), reasons=tuple(reasons))


def effective_contact(
    profile: StrapProfile, measurement: HeartRateMeasurement, seconds_since_connect: float
) -> bool | None:
    """Sensor contact as the user should see it, or ``None`` when it is unknown.

    Polar H10/H9 report contact as unsupported or false for about two seconds after a connection
    (firmware_notes/polar-h10.md); during ``profile.contact_settle_s`` the bit is not trusted.
    """
    if seconds_since_connect < profile.contact_settle_s:
        return None
    return measurement.sensor_contact
