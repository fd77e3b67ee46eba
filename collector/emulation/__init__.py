"""Strap emulation for tests and demos: a bleak backend over bumble, an emulated heart-rate strap
(with Polar PMD ECG), an in-process radio and a separate-process strap server. See README.md."""

from collector.emulation.backend import BumbleCentral, BumbleClientBackend, BumbleScannerBackend
from collector.emulation.hrm import ALL_FLAG_FORMS, FlagForm, encode_heart_rate_measurement
from collector.emulation.radio import VirtualRadio
from collector.emulation.strap import EcgSource, EmulatedStrap, VirtualClock

__all__ = [
    "ALL_FLAG_FORMS",
    "BumbleCentral",
    "BumbleClientBackend",
    "BumbleScannerBackend",
    "EcgSource",
    "EmulatedStrap",
    "FlagForm",
    "VirtualClock",
    "VirtualRadio",
    "encode_heart_rate_measurement",
]
