"""Fixtures for end-to-end tests of the BLE client over the bumble-emulated strap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from collector.emulation.radio import VirtualRadio
from collector.emulation.session import Notification, load_rr_csv

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
RR_CSV = DATA_DIR / "polar_h10_rr.csv"
ECG_NPZ = DATA_DIR / "polar_h10_ecg130hz.npz"


@pytest.fixture
def session() -> list[Notification]:
    """The 10-minute Polar H10 session (tests/data/polar_h10_rr.csv, MIT, K. Broman)."""
    return load_rr_csv(RR_CSV)


@pytest.fixture
async def radio() -> AsyncIterator[VirtualRadio]:
    """A virtual radio created inside the test's own event loop."""
    async with VirtualRadio() as r:
        yield r
