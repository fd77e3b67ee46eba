"""Encoder of Heart Rate Measurement (0x2A37) packets for the emulated strap, byte-exact.

Writes every flag form of the Heart Rate Service 1.0 with integer RR ticks (bumble's own
encoder truncates seconds to ticks); parsing the packets is left to ``collector.gatt``.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass

from collector.errors import CollectorError

FLAG_HR_UINT16 = 0x01
FLAG_CONTACT_DETECTED = 0x02
FLAG_CONTACT_SUPPORTED = 0x04
FLAG_ENERGY_PRESENT = 0x08
FLAG_RR_PRESENT = 0x10

#: Default ATT MTU of a BLE link: notifications carry at most ``ATT_DEFAULT_MTU - 3`` bytes.
ATT_DEFAULT_MTU = 23
RR_TICKS_MAX = 0xFFFF
HR_UINT8_MAX = 0xFF
HR_UINT16_MAX = 0xFFFF
ENERGY_KJ_MAX = 0xFFFF


class EncodingError(CollectorError):
    """A measurement that cannot be expressed as a 0x2A37 packet (value out of range, too long)."""


@dataclass(frozen=True)
class FlagForm:
    """One combination of the optional fields of a Heart Rate Measurement.

    ``contact`` is ``"unsupported"``, ``"no_contact"`` or ``"contact"``.
    """

    hr_uint16: bool = False
    contact: str = "unsupported"
    energy: bool = False
    rr: bool = True

    def flags(self) -> int:
        """The flags byte of this form."""
        value = FLAG_HR_UINT16 if self.hr_uint16 else 0
        if self.contact == "no_contact":
            value |= FLAG_CONTACT_SUPPORTED
        elif self.contact == "contact":
            value |= FLAG_CONTACT_SUPPORTED | FLAG_CONTACT_DETECTED
        elif self.contact != "unsupported":
            raise EncodingError(f"unknown contact state {self.contact!r}", contact=self.contact)
        if self.energy:
            value |= FLAG_ENERGY_PRESENT
        if self.rr:
            value |= FLAG_RR_PRESENT
        return value

    def max_rr_values(self, mtu: int = ATT_DEFAULT_MTU) -> int:
        """How many RR values fit in one notification at ATT MTU ``mtu``."""
        fixed = 1 + (2 if self.hr_uint16 else 1) + (2 if self.energy else 0)
        return max(0, (mtu - 3 - fixed) // 2) if self.rr else 0


#: Every flag form: 8/16-bit HR x three contact states x energy field x RR field (24 forms).
ALL_FLAG_FORMS: tuple[FlagForm, ...] = tuple(
    FlagForm(hr_uint16=hr16, contact=contact, energy=energy, rr=rr)
    for hr16, contact, energy, rr in itertools.product(
        (False, True), ("unsupported", "no_contact", "contact"), (False, True), (False, True)
    )
)


def encode_heart_rate_measurement(
    heart_rate_bpm: int,
    rr_ticks: tuple[int, ...] | list[int] = (),
    *,
    form: FlagForm | None = None,
    energy_expended_kj: int = 0,
    mtu: int = ATT_DEFAULT_MTU,
) -> bytes:
    """Encode one Heart Rate Measurement notification.

    Parameters
    ----------
    heart_rate_bpm:
        Heart rate in beats per minute (0–255 in the 8-bit form, 0–65535 in the 16-bit form).
    rr_ticks:
        RR intervals in 1/1024 s, oldest first; written only when ``form.rr`` is set.
    form:
        Optional fields to write; default: 8-bit HR, contact unsupported, no energy, RR present.
    energy_expended_kj:
        Energy expended in kJ, written when ``form.energy`` is set.
    mtu:
        ATT MTU of the link; a packet longer than ``mtu - 3`` bytes raises :class:`EncodingError`.

    Returns
    -------
    bytes
        The packet exactly as a strap sends it (little-endian fields).
    """
    form = form or FlagForm()
    out = bytearray([form.flags()])
    hr_max = HR_UINT16_MAX if form.hr_uint16 else HR_UINT8_MAX
    if not 0 <= heart_rate_bpm <= hr_max:
        raise EncodingError(f"heart rate {heart_rate_bpm} bpm out of range 0..{hr_max}")
    out += struct.pack("<H" if form.hr_uint16 else "<B", heart_rate_bpm)
    if form.energy:
        if not 0 <= energy_expended_kj <= ENERGY_KJ_MAX:
            raise EncodingError(f"energy expended {energy_expended_kj} kJ out of range")
        out += struct.pack("<H", energy_expended_kj)
    if form.rr:
        for ticks in rr_ticks:
            if not 0 <= ticks <= RR_TICKS_MAX:
                raise EncodingError(f"RR {ticks} ticks out of range 0..{RR_TICKS_MAX}")
            out += struct.pack("<H", ticks)
    elif rr_ticks:
        raise EncodingError("RR values given for a form without the RR field")
    if len(out) > mtu - 3:
        raise EncodingError(
            f"packet of {len(out)} bytes exceeds ATT MTU {mtu} - 3", length=len(out), mtu=mtu
        )
    return bytes(out)
