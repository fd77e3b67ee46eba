"""Fixtures for the collector unit tests: a Heart Rate Measurement encoder and real RR data."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

DATA_DIR = Path(__file__).resolve().parents[2] / "data"


@dataclass(frozen=True)
class HrmFields:
    """What an encoder puts into a 0x2A37 value (independent of the parser under test)."""

    heart_rate_bpm: int
    hr_uint16: bool = False
    contact_supported: bool = False
    contact_detected: bool = False
    energy_kj: int | None = None
    rr_ticks: tuple[int, ...] = ()
    rr_flag: bool | None = None  # None: set when rr_ticks is non-empty


def encode_hrm(f: HrmFields) -> bytes:
    """Build a Heart Rate Measurement value per HRS 1.0 §3.1.1 (written from the spec table)."""
    flags = 0
    if f.hr_uint16:
        flags |= 0x01
    if f.contact_detected:
        flags |= 0x02
    if f.contact_supported:
        flags |= 0x04
    if f.energy_kj is not None:
        flags |= 0x08
    rr_flag = bool(f.rr_ticks) if f.rr_flag is None else f.rr_flag
    if rr_flag:
        flags |= 0x10
    out = bytearray([flags])
    out += f.heart_rate_bpm.to_bytes(2 if f.hr_uint16 else 1, "little")
    if f.energy_kj is not None:
        out += f.energy_kj.to_bytes(2, "little")
    for t in f.rr_ticks:
        out += t.to_bytes(2, "little")
    return bytes(out)


@pytest.fixture(scope="session")
def hrm_encoder() -> Callable[[HrmFields], bytes]:
    return encode_hrm


@pytest.fixture(scope="session")
def hrm_fields() -> type[HrmFields]:
    return HrmFields


@dataclass(frozen=True)
class RecordedNotification:
    """One notification of the real recording: arrival offset (ms) and RR values (ms, integers)."""

    t_offset_ms: int
    rr_ms: tuple[int, ...]


def load_polar_notifications() -> list[RecordedNotification]:
    """tests/data/polar_h10_rr.csv grouped back into notifications (see PROVENANCE.md)."""
    groups: list[RecordedNotification] = []
    with (DATA_DIR / "polar_h10_rr.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            rr = int(row["rr_ms"])
            if row["hr_bpm"] or not groups:
                groups.append(RecordedNotification(int(row["t_offset_ms"]), (rr,)))
            else:
                last = groups[-1]
                groups[-1] = RecordedNotification(last.t_offset_ms, (*last.rr_ms, rr))
    return groups


@pytest.fixture(scope="session")
def polar_notifications() -> list[RecordedNotification]:
    return load_polar_notifications()


@pytest.fixture(scope="session")
def polar_rr_ms() -> list[int]:
    return [rr for n in load_polar_notifications() for rr in n.rr_ms]
