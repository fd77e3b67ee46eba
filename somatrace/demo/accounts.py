"""Who the demo creates: logins (demo-only passwords, printed on start) and simulated patients."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True)
class DemoLogin:
    """A demo account (public passwords, valid in the demo database only)."""

    role: Literal["admin", "therapist", "researcher", "patient"]
    email: str
    password: str
    display_name: str


@dataclass(frozen=True)
class DemoPatient:
    """One simulated patient: the ``somatrace.demo.story.simulate_patient`` arguments and a login."""

    display_name: str
    timezone: str
    seed: int
    login: DemoLogin
    poor_quality: bool = False
    missing_day_rate: float = 0.1
    ln_rmssd_shift_after: tuple[float, float] = (0.15, 0.10)
    #: Receives the live beats of the emulated strap.
    live: bool = False
    #: Shares pseudonymised readings for research (and, with ``journal_consent``, the journal's words).
    research_consent: bool = False
    journal_consent: bool = False


ADMIN: Final = DemoLogin("admin", "admin@demo.somatrace.org", "demo-open-lantern", "Demo admin")
THERAPIST: Final = DemoLogin(
    "therapist", "therapist@demo.somatrace.org", "demo-quiet-harbour", "Dr. Demo Therapist"
)
RESEARCHER: Final = DemoLogin(
    "researcher", "researcher@demo.somatrace.org", "demo-copper-atlas", "Demo Researcher"
)

#: Days of simulated history per patient (six weeks, as the issue asks).
DEMO_DAYS: Final[int] = 42
#: Fewest simulated days the demo accepts (a baseline day, two sessions and days after them).
MIN_DEMO_DAYS: Final[int] = 7


def medicine_days(days: int = DEMO_DAYS) -> tuple[int, int]:
    """Day indices of the two medicine sessions: after the first third (baseline) and two thirds.

    With six weeks that is days 14 and 28: two weeks of baseline, then 14 days after each session.
    """
    return days // 3, 2 * days // 3


PATIENTS: Final[tuple[DemoPatient, ...]] = (
    DemoPatient(
        display_name="Alex Demo",
        timezone="Europe/Berlin",
        seed=11,
        login=DemoLogin("patient", "alex@demo.somatrace.org", "demo-patient-pass", "Alex Demo"),
        ln_rmssd_shift_after=(0.2, 0.1),
        live=True,
        research_consent=True,
        journal_consent=True,
    ),
    DemoPatient(
        display_name="Sam Demo",
        timezone="Europe/Berlin",
        seed=22,
        login=DemoLogin("patient", "sam@demo.somatrace.org", "demo-patient-pass", "Sam Demo"),
        missing_day_rate=0.15,
        ln_rmssd_shift_after=(0.05, 0.0),
        research_consent=True,
    ),
    DemoPatient(
        display_name="Robin Demo (poor signal)",
        timezone="America/New_York",
        seed=33,
        login=DemoLogin("patient", "robin@demo.somatrace.org", "demo-patient-pass", "Robin Demo"),
        poor_quality=True,
        missing_day_rate=0.25,
    ),
)


def all_logins() -> list[DemoLogin]:
    """Every demo login in the order they are printed."""
    return [THERAPIST, RESEARCHER, ADMIN, *(p.login for p in PATIENTS)]
