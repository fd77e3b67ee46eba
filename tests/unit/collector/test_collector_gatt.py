"""Heart Rate Measurement (0x2A37), Battery Level and Device Information parsing.

Every flag combination is checked against an encoder written from the HRS 1.0 table (conftest),
and hypothesis checks round-trips and that arbitrary bytes only ever raise MalformedPacket.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.errors import CollectorError
from collector.gatt import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    DEVICE_INFORMATION_SERVICE_UUID,
    FIRMWARE_REVISION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER_UUID,
    MalformedPacket,
    parse_battery_level,
    parse_heart_rate_measurement,
    parse_utf8_string,
)

# (contact_supported, contact_detected bit, expected sensor_contact)
CONTACT_STATES = [
    (False, False, None),  # 00: not supported
    (False, True, None),  # 01: bit 1 without bit 2 still means "not supported" (HRS 1.0 table)
    (True, False, False),  # 10: supported, not detected
    (True, True, True),  # 11: supported, detected
]
RR_POOL = (1024, 0, 65535, 819, 1, 512, 2047, 700, 28, 1500)


@pytest.mark.parametrize("hr_uint16", [False, True], ids=["hr8", "hr16"])
@pytest.mark.parametrize(
    "contact",
    CONTACT_STATES,
    ids=["contact-unsupported", "contact-bit-only", "no-contact", "contact"],
)
@pytest.mark.parametrize(
    "energy_kj", [None, 0, 513, 65535], ids=["no-energy", "e0", "e513", "emax"]
)
@pytest.mark.parametrize("n_rr", range(10), ids=[f"rr{n}" for n in range(10)])
def test_every_flag_combination_decodes_exactly(
    hrm_encoder: Callable[[Any], bytes],
    hrm_fields: Any,
    hr_uint16: bool,
    contact: tuple[bool, bool, bool | None],
    energy_kj: int | None,
    n_rr: int,
) -> None:
    supported, detected, expected_contact = contact
    hr = 300 if hr_uint16 else 72
    rr = RR_POOL[:n_rr]
    data = hrm_encoder(
        hrm_fields(
            heart_rate_bpm=hr,
            hr_uint16=hr_uint16,
            contact_supported=supported,
            contact_detected=detected,
            energy_kj=energy_kj,
            rr_ticks=rr,
        )
    )
    m = parse_heart_rate_measurement(data)
    assert m.heart_rate_bpm == hr
    assert m.contact_supported is supported
    assert m.sensor_contact is expected_contact
    assert m.energy_expended_kj == energy_kj
    assert m.rr_ticks == rr
    assert m.rr_ms == tuple(t * 1000 / 1024 for t in rr)


def test_rr_flag_with_no_values_gives_empty_rr(
    hrm_encoder: Callable[[Any], bytes], hrm_fields: Any
) -> None:
    m = parse_heart_rate_measurement(hrm_encoder(hrm_fields(heart_rate_bpm=60, rr_flag=True)))
    assert m.rr_ticks == ()
    assert m.rr_ms == ()


def test_sixteen_bit_heart_rate_is_little_endian() -> None:
    m = parse_heart_rate_measurement(bytes([0x01, 0x2C, 0x01]))
    assert m.heart_rate_bpm == 300


def test_rr_ms_is_exact_without_rounding() -> None:
    # 1 tick = 0.9765625 ms; 819 ticks = 799.8046875 ms (both exactly representable).
    m = parse_heart_rate_measurement(bytes([0x10, 60, 1, 0, 0x33, 0x03, 0xFF, 0xFF]))
    assert m.rr_ticks == (1, 819, 65535)
    assert m.rr_ms == (0.9765625, 799.8046875, 63999.0234375)
    for ticks, ms in zip(m.rr_ticks, m.rr_ms, strict=True):
        assert Fraction(ms) == Fraction(ticks * 1000, 1024)


def test_known_capture_from_a_real_strap() -> None:
    # Web Bluetooth issue #493 capture: flags 0x10, 62 bpm, RR 0x03b1 = 945 ticks.
    m = parse_heart_rate_measurement(bytes.fromhex("103eb103"))
    assert (m.heart_rate_bpm, m.rr_ticks, m.sensor_contact) == (62, (945,), None)
    assert m.rr_ms == (945 * 1000 / 1024,)


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (bytes([0x20, 60]), "reserved"),
        (bytes([0x40, 60]), "reserved"),
        (bytes([0x80, 60]), "reserved"),
        (bytes([0x00]), "truncated 8-bit heart rate"),
        (bytes([0x01]), "truncated 16-bit heart rate"),
        (bytes([0x01, 60]), "truncated 16-bit heart rate"),
        (bytes([0x08, 60]), "truncated energy"),
        (bytes([0x08, 60, 1]), "truncated energy"),
        (bytes([0x10, 60, 0x00]), "odd trailing byte"),
        (bytes([0x10, 60, 0x00, 0x04, 0x01]), "odd trailing byte"),
        (bytes([0x18, 60, 1, 0, 0x00]), "odd trailing byte"),
        (bytes([0x00, 60, 0x00, 0x04]), "unexpected byte"),
        (bytes([0x08, 60, 1, 0, 9]), "unexpected byte"),
    ],
)
def test_malformed_values_raise_malformed_packet_with_reason(data: bytes, needle: str) -> None:
    with pytest.raises(MalformedPacket) as info:
        parse_heart_rate_measurement(data)
    assert needle in str(info.value)
    assert isinstance(info.value, CollectorError)
    assert info.value.fields["packet_hex"] == data.hex()


@st.composite
def measurements(draw: st.DrawFn) -> dict[str, Any]:
    hr_uint16 = draw(st.booleans())
    return {
        "heart_rate_bpm": draw(st.integers(0, 0xFFFF if hr_uint16 else 0xFF)),
        "hr_uint16": hr_uint16,
        "contact_supported": draw(st.booleans()),
        "contact_detected": draw(st.booleans()),
        "energy_kj": draw(st.none() | st.integers(0, 0xFFFF)),
        "rr_ticks": tuple(draw(st.lists(st.integers(0, 0xFFFF), max_size=12))),
    }


@settings(max_examples=300, deadline=None)
@given(fields=measurements())
def test_round_trip_of_any_valid_measurement(
    hrm_encoder: Callable[[Any], bytes], hrm_fields: Any, fields: dict[str, Any]
) -> None:
    f = hrm_fields(**fields)
    m = parse_heart_rate_measurement(hrm_encoder(f))
    assert m.heart_rate_bpm == f.heart_rate_bpm
    assert m.contact_supported is f.contact_supported
    assert m.sensor_contact == (f.contact_detected if f.contact_supported else None)
    assert m.energy_expended_kj == f.energy_kj
    assert m.rr_ticks == f.rr_ticks
    assert m.rr_ms == tuple(t * 1000 / 1024 for t in f.rr_ticks)


@settings(max_examples=1000, deadline=None)
@given(data=st.binary(max_size=24))
def test_random_bytes_parse_or_raise_malformed_packet_only(
    hrm_encoder: Callable[[Any], bytes], hrm_fields: Any, data: bytes
) -> None:
    try:
        m = parse_heart_rate_measurement(data)
    except MalformedPacket:
        return
    # Whatever parses re-encodes to the very same bytes: nothing was skipped or invented.
    flags = data[0]
    again = hrm_encoder(
        hrm_fields(
            heart_rate_bpm=m.heart_rate_bpm,
            hr_uint16=bool(flags & 0x01),
            contact_supported=m.contact_supported,
            contact_detected=bool(flags & 0x02),
            energy_kj=m.energy_expended_kj,
            rr_ticks=m.rr_ticks,
            rr_flag=bool(flags & 0x10),
        )
    )
    assert again == data


def test_exhaustive_flag_bytes_with_short_payloads() -> None:
    """All 256 flag values × payloads of 0–6 bytes: either a measurement or MalformedPacket."""
    outcomes = {"ok": 0, "malformed": 0}
    for flags, n in itertools.product(range(256), range(7)):
        try:
            parse_heart_rate_measurement(bytes([flags, *range(1, n + 1)]))
            outcomes["ok"] += 1
            assert flags & 0xE0 == 0
        except MalformedPacket:
            outcomes["malformed"] += 1
    assert outcomes["ok"] > 0 and outcomes["malformed"] > 0


@pytest.mark.parametrize(("data", "level"), [(b"\x00", 0), (b"\x57", 87), (b"\x64", 100)])
def test_battery_level(data: bytes, level: int) -> None:
    assert parse_battery_level(data) == level


@pytest.mark.parametrize("data", [b"", b"\x65", b"\xff", b"\x10\x00"])
def test_battery_level_malformed(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        parse_battery_level(data)


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Polar Electro Oy", "Polar Electro Oy"),
        (b"Polar H10\x00\x00", "Polar H10"),
        (b" 3.2.0 ", "3.2.0"),
        ("Gärmin".encode(), "Gärmin"),
        (b"", ""),
    ],
)
def test_device_information_strings(data: bytes, text: str) -> None:
    assert parse_utf8_string(data) == text


def test_device_information_invalid_utf8() -> None:
    with pytest.raises(MalformedPacket, match="UTF-8"):
        parse_utf8_string(b"\xff\xfeH10")


def test_uuid_constants_are_full_lowercase_128_bit() -> None:
    expected = {
        HEART_RATE_SERVICE_UUID: "180d",
        HEART_RATE_MEASUREMENT_UUID: "2a37",
        BATTERY_SERVICE_UUID: "180f",
        BATTERY_LEVEL_UUID: "2a19",
        DEVICE_INFORMATION_SERVICE_UUID: "180a",
        MANUFACTURER_NAME_UUID: "2a29",
        MODEL_NUMBER_UUID: "2a24",
        FIRMWARE_REVISION_UUID: "2a26",
    }
    for uuid_str, short in expected.items():
        assert uuid_str == f"0000{short}-0000-1000-8000-00805f9b34fb"
