"""Pure parsers of a heart-rate strap's GATT characteristics (0x2A37, 0x2A19, 0x2A29/24/26).

Bytes in, typed values out; no BLE, no clock. Beat timing is left to ``collector.beats`` and
strap-specific filtering to ``collector.quirks``.
"""

from __future__ import annotations

from dataclasses import dataclass

from collector.errors import CollectorError
from wire import ticks_to_ms

__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "DEVICE_INFORMATION_SERVICE_UUID",
    "FIRMWARE_REVISION_UUID",
    "HEART_RATE_MEASUREMENT_UUID",
    "HEART_RATE_SERVICE_UUID",
    "MANUFACTURER_NAME_UUID",
    "MODEL_NUMBER_UUID",
    "HeartRateMeasurement",
    "MalformedPacket",
    "parse_battery_level",
    "parse_heart_rate_measurement",
    "parse_utf8_string",
]


def _uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


HEART_RATE_SERVICE_UUID = _uuid16(0x180D)
HEART_RATE_MEASUREMENT_UUID = _uuid16(0x2A37)
BATTERY_SERVICE_UUID = _uuid16(0x180F)
BATTERY_LEVEL_UUID = _uuid16(0x2A19)
DEVICE_INFORMATION_SERVICE_UUID = _uuid16(0x180A)
MANUFACTURER_NAME_UUID = _uuid16(0x2A29)
MODEL_NUMBER_UUID = _uuid16(0x2A24)
FIRMWARE_REVISION_UUID = _uuid16(0x2A26)

# Flags byte of the Heart Rate Measurement (HRS 1.0 §3.1.1.1; GATT Specification Supplement 3.113).
_FLAG_HR_UINT16 = 0x01
_FLAG_CONTACT_DETECTED = 0x02
_FLAG_CONTACT_SUPPORTED = 0x04
_FLAG_ENERGY_PRESENT = 0x08
_FLAG_RR_PRESENT = 0x10
_FLAG_RESERVED = 0xE0


class MalformedPacket(CollectorError):
    """A characteristic value does not follow its specification (the message says how)."""


@dataclass(frozen=True, slots=True)
class HeartRateMeasurement:
    """One decoded Heart Rate Measurement notification (characteristic 0x2A37).

    Attributes
    ----------
    heart_rate_bpm:
        Heart rate in beats per minute as computed by the strap (8- or 16-bit field).
    sensor_contact:
        ``True``/``False`` when the strap supports contact detection, ``None`` when it does not.
    energy_expended_kj:
        Cumulative energy expended in kJ when the field is present, else ``None``.
    rr_ticks:
        RR intervals in 1/1024 s, oldest first (possibly empty).
    rr_ms:
        The same intervals in ms, exactly ``ticks * 1000 / 1024`` (no rounding).
    contact_supported:
        Whether the Sensor Contact Supported bit was set.
    """

    heart_rate_bpm: int
    sensor_contact: bool | None
    energy_expended_kj: int | None
    rr_ticks: tuple[int, ...]
    rr_ms: tuple[float, ...]
    contact_supported: bool


def _hex(data: bytes) -> str:
    return data.hex()


def parse_heart_rate_measurement(data: bytes) -> HeartRateMeasurement:
    """Decode a Heart Rate Measurement value (0x2A37).

    Parameters
    ----------
    data:
        The raw characteristic value as delivered by the notification.

    Returns
    -------
    HeartRateMeasurement
        Decoded fields; ``rr_ms`` is exact (``ticks * 1000 / 1024``).

    Raises
    ------
    MalformedPacket
        Empty value, reserved flag bits set, truncated heart-rate or energy field, an odd
        trailing byte in the RR list, or bytes after the last field when RR is absent.

    Notes
    -----
    Layout per Bluetooth SIG Heart Rate Service 1.0 §3.1.1 and the GATT Specification
    Supplement (Heart Rate Measurement): flags (uint8), heart rate (uint8 or uint16, little
    endian), energy expended (uint16 kJ, optional), RR-Interval (uint16 each, 1/1024 s,
    zero or more). A value whose RR flag is set but carries no RR bytes is accepted with an
    empty ``rr_ticks`` (some straps send this between beats).
    """
    raw = bytes(data)
    if not raw:
        raise MalformedPacket("empty Heart Rate Measurement value", packet_hex="")
    flags = raw[0]
    if flags & _FLAG_RESERVED:
        raise MalformedPacket(
            f"reserved flag bits set in Heart Rate Measurement flags 0x{flags:02x}",
            packet_hex=_hex(raw),
            flags=flags,
        )
    pos = 1
    if flags & _FLAG_HR_UINT16:
        if len(raw) < pos + 2:
            raise MalformedPacket(
                "truncated 16-bit heart rate field", packet_hex=_hex(raw), flags=flags
            )
        heart_rate_bpm = int.from_bytes(raw[pos : pos + 2], "little")
        pos += 2
    else:
        if len(raw) < pos + 1:
            raise MalformedPacket(
                "truncated 8-bit heart rate field", packet_hex=_hex(raw), flags=flags
            )
        heart_rate_bpm = raw[pos]
        pos += 1

    contact_supported = bool(flags & _FLAG_CONTACT_SUPPORTED)
    sensor_contact = bool(flags & _FLAG_CONTACT_DETECTED) if contact_supported else None

    energy_expended_kj: int | None = None
    if flags & _FLAG_ENERGY_PRESENT:
        if len(raw) < pos + 2:
            raise MalformedPacket(
                "truncated energy expended field", packet_hex=_hex(raw), flags=flags
            )
        energy_expended_kj = int.from_bytes(raw[pos : pos + 2], "little")
        pos += 2

    rest = raw[pos:]
    if flags & _FLAG_RR_PRESENT:
        if len(rest) % 2:
            raise MalformedPacket(
                f"odd trailing byte in RR-Interval list ({len(rest)} bytes)",
                packet_hex=_hex(raw),
                flags=flags,
            )
        rr_ticks = tuple(int.from_bytes(rest[i : i + 2], "little") for i in range(0, len(rest), 2))
    else:
        if rest:
            raise MalformedPacket(
                f"{len(rest)} unexpected byte(s) after the last field (RR flag not set)",
                packet_hex=_hex(raw),
                flags=flags,
            )
        rr_ticks = ()
    rr_ms = tuple(ticks_to_ms(t) for t in rr_ticks)
    return HeartRateMeasurement(
        heart_rate_bpm=heart_rate_bpm,
        sensor_contact=sensor_contact,
        energy_expended_kj=energy_expended_kj,
        rr_ticks=rr_ticks,
        rr_ms=rr_ms,
        contact_supported=contact_supported,
    )


def parse_battery_level(data: bytes) -> int:
    """Decode a Battery Level value (0x2A19) into a percentage 0–100.

    Raises
    ------
    MalformedPacket
        When the value is not exactly one byte or exceeds 100 %.
    """
    raw = bytes(data)
    if len(raw) != 1:
        raise MalformedPacket(f"Battery Level must be 1 byte, got {len(raw)}", packet_hex=_hex(raw))
    level = raw[0]
    if level > 100:
        raise MalformedPacket(f"Battery Level {level} % exceeds 100 %", packet_hex=_hex(raw))
    return level


def parse_utf8_string(data: bytes) -> str:
    """Decode a Device Information string (manufacturer 0x2A29, model 0x2A24, firmware 0x2A26).

    Trailing NUL padding and surrounding whitespace, which several straps send, are removed.

    Raises
    ------
    MalformedPacket
        When the bytes are not valid UTF-8.
    """
    raw = bytes(data)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPacket(
            f"Device Information string is not valid UTF-8: {exc.reason}", packet_hex=_hex(raw)
        ) from exc
    return text.rstrip("\x00").strip()
