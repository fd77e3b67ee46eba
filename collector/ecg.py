"""Polar Measurement Data (PMD) ECG: control-point requests, ECG frame parser, ECG file writer.

Frame layout per the Polar BLE SDK's Measurement Data Specification: type byte, 64-bit timestamp
(ns since 2000-01-01, of the last sample), frame-type byte, then samples. Only uncompressed frame
type 0 (signed 24-bit µV at 130 Hz, Polar H10) is supported. BLE is left to ``collector.ble``.
"""

from __future__ import annotations

import csv
import struct
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TextIO

from collector.errors import CollectorError

PMD_SERVICE_UUID = "fb005c80-02e7-f387-1cad-8acd2d8df0c8"
PMD_CONTROL_POINT_UUID = "fb005c81-02e7-f387-1cad-8acd2d8df0c8"
PMD_DATA_UUID = "fb005c82-02e7-f387-1cad-8acd2d8df0c8"

MEASUREMENT_TYPE_ECG = 0x00
OP_GET_SETTINGS = 0x01
OP_START_MEASUREMENT = 0x02
OP_STOP_MEASUREMENT = 0x03
CONTROL_POINT_RESPONSE_CODE = 0xF0
SETTING_SAMPLE_RATE = 0x00
SETTING_RESOLUTION = 0x01
FRAME_TYPE_0 = 0x00
FRAME_COMPRESSED_BIT = 0x80

#: Polar H10 ECG: 130 Hz, 14-bit resolution, samples in µV.
ECG_SAMPLE_RATE_HZ = 130
ECG_RESOLUTION_BITS = 14
ECG_SAMPLE_BYTES = 3
FRAME_HEADER_BYTES = 10
#: Polar timestamps count nanoseconds from 2000-01-01T00:00:00Z.
POLAR_EPOCH_UNIX_NS = 946_684_800 * 1_000_000_000

PMD_STATUS_TEXT: dict[int, str] = {
    0: "success",
    1: "invalid op code",
    2: "invalid measurement type",
    3: "not supported",
    4: "invalid length",
    5: "invalid parameter",
    6: "already in state",
    7: "invalid resolution",
    8: "invalid sample rate",
    9: "invalid range",
    10: "invalid MTU",
    11: "invalid number of channels",
    12: "invalid state",
    13: "device in charger",
}


class PmdError(CollectorError):
    """Root of Polar PMD errors."""


class MalformedPmdFrame(PmdError):
    """A PMD data frame or control-point response that does not follow the specification."""


class PmdRequestFailed(PmdError):
    """The strap answered a control-point request with an error status."""


@dataclass(frozen=True)
class ControlPointResponse:
    """Response to a PMD control-point request (sent by the strap as an indication)."""

    op_code: int
    measurement_type: int
    status: int
    parameters: bytes

    @property
    def ok(self) -> bool:
        """True when the request succeeded."""
        return self.status == 0

    @property
    def status_text(self) -> str:
        """Human-readable status."""
        return PMD_STATUS_TEXT.get(self.status, f"unknown status {self.status}")


@dataclass(frozen=True)
class EcgFrame:
    """One ECG frame: ``samples_uv`` oldest first; ``last_sample_unix_ns`` stamps the last one."""

    last_sample_unix_ns: int
    samples_uv: tuple[int, ...]


def build_start_ecg_request(
    sample_rate_hz: int = ECG_SAMPLE_RATE_HZ, resolution_bits: int = ECG_RESOLUTION_BITS
) -> bytes:
    """Control-point request starting ECG at ``sample_rate_hz`` and ``resolution_bits``."""
    return (
        bytes([OP_START_MEASUREMENT, MEASUREMENT_TYPE_ECG, SETTING_SAMPLE_RATE, 1])
        + struct.pack("<H", sample_rate_hz)
        + bytes([SETTING_RESOLUTION, 1])
        + struct.pack("<H", resolution_bits)
    )


def build_stop_ecg_request() -> bytes:
    """Control-point request that stops the ECG stream."""
    return bytes([OP_STOP_MEASUREMENT, MEASUREMENT_TYPE_ECG])


def parse_start_request(data: bytes) -> tuple[int, dict[int, int]]:
    """Parse a start request into ``(measurement_type, {setting_type: value})`` (first value each).

    Raises
    ------
    MalformedPmdFrame
        When the request is truncated or not a start request.
    """
    if len(data) < 2 or data[0] != OP_START_MEASUREMENT:
        raise MalformedPmdFrame("not a PMD start request", packet=data.hex())
    settings: dict[int, int] = {}
    pos = 2
    while pos < len(data):
        if pos + 2 > len(data):
            raise MalformedPmdFrame("truncated setting in PMD start request", packet=data.hex())
        setting_type, count = data[pos], data[pos + 1]
        end = pos + 2 + 2 * count
        if count == 0 or end > len(data):
            raise MalformedPmdFrame("bad setting length in PMD start request", packet=data.hex())
        settings[setting_type] = struct.unpack_from("<H", data, pos + 2)[0]
        pos = end
    return data[1], settings


def parse_control_point_response(data: bytes) -> ControlPointResponse:
    """Parse a control-point response ``F0 op type status [more] [parameters...]``.

    Raises
    ------
    MalformedPmdFrame
        When the response is shorter than 4 bytes or does not start with 0xF0.
    """
    if len(data) < 4 or data[0] != CONTROL_POINT_RESPONSE_CODE:
        raise MalformedPmdFrame("not a PMD control-point response", packet=data.hex())
    return ControlPointResponse(
        op_code=data[1], measurement_type=data[2], status=data[3], parameters=bytes(data[4:])
    )


def parse_ecg_frame(data: bytes) -> EcgFrame:
    """Parse a PMD data notification holding an uncompressed ECG frame (type 0).

    Parameters
    ----------
    data:
        The notification of the PMD data characteristic.

    Returns
    -------
    EcgFrame
        Samples in µV (signed 24-bit little-endian on the wire), last sample's Unix time in ns.

    Raises
    ------
    MalformedPmdFrame
        Not ECG, compressed or unknown frame type, or a sample area not a multiple of 3 bytes.
    """
    if len(data) < FRAME_HEADER_BYTES:
        raise MalformedPmdFrame(f"PMD frame of {len(data)} bytes is shorter than its header")
    if data[0] != MEASUREMENT_TYPE_ECG:
        raise MalformedPmdFrame(f"PMD frame of measurement type {data[0]} is not ECG")
    frame_type = data[9]
    if frame_type != FRAME_TYPE_0:
        raise MalformedPmdFrame(
            f"ECG frame type 0x{frame_type:02x} is not supported (only uncompressed type 0)"
        )
    body = memoryview(data)[FRAME_HEADER_BYTES:]
    if len(body) % ECG_SAMPLE_BYTES:
        raise MalformedPmdFrame(f"ECG sample area of {len(body)} bytes is not a multiple of 3")
    samples = tuple(
        int.from_bytes(body[i : i + ECG_SAMPLE_BYTES], "little", signed=True)
        for i in range(0, len(body), ECG_SAMPLE_BYTES)
    )
    polar_ns = struct.unpack_from("<Q", data, 1)[0]
    return EcgFrame(last_sample_unix_ns=polar_ns + POLAR_EPOCH_UNIX_NS, samples_uv=samples)


class EcgTimestamper:
    """Give each ECG sample a Unix time in ns, as the Polar SDK does.

    Samples of a frame are spread evenly between the previous frame's last sample and this frame's
    last sample; the first frame (or one after a pause over ``max_gap_s``) uses the nominal rate.
    """

    def __init__(self, sample_rate_hz: float = ECG_SAMPLE_RATE_HZ, max_gap_s: float = 1.0) -> None:
        if sample_rate_hz <= 0:
            raise PmdError("sample rate must be positive", sample_rate_hz=sample_rate_hz)
        self._nominal_ns = 1e9 / sample_rate_hz
        self._max_gap_ns = max_gap_s * 1e9
        self._previous_ns: int | None = None

    def reset(self) -> None:
        """Forget the previous frame (call after a disconnect)."""
        self._previous_ns = None

    def stamp(self, frame: EcgFrame) -> list[int]:
        """Unix ns of each sample of ``frame``, oldest first."""
        n = len(frame.samples_uv)
        last = frame.last_sample_unix_ns
        if n == 0:
            return []
        step = self._nominal_ns
        previous = self._previous_ns
        if previous is not None and 0 < last - previous <= self._max_gap_ns + n * step:
            step = (last - previous) / n
        self._previous_ns = last
        return [round(last - (n - 1 - i) * step) for i in range(n)]


class EcgWriter:
    """Append ECG samples to a CSV file ``t_ns,ecg_uV`` (Unix ns, µV), flushed after each frame."""

    HEADER = ("t_ns", "ecg_uV")

    def __init__(self, path: Path, sample_rate_hz: float = ECG_SAMPLE_RATE_HZ) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.exists() or path.stat().st_size == 0
        self._file: TextIO = path.open("a", newline="", encoding="ascii")
        self._csv = csv.writer(self._file, lineterminator="\n")
        if new:
            self._csv.writerow(self.HEADER)
            self._file.flush()
        self._stamper = EcgTimestamper(sample_rate_hz)
        self.samples_written = 0
        self.frames_written = 0

    def write_frame(self, frame: EcgFrame) -> None:
        """Stamp and append one frame."""
        times = self._stamper.stamp(frame)
        self._csv.writerows(zip(times, frame.samples_uv, strict=True))
        self._file.flush()
        self.samples_written += len(frame.samples_uv)
        self.frames_written += 1

    def on_disconnect(self) -> None:
        """Start timestamping afresh after a link loss."""
        self._stamper.reset()

    def close(self) -> None:
        """Close the file."""
        if not self._file.closed:
            self._file.close()

    def __enter__(self) -> EcgWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def read_ecg_csv(path: Path) -> tuple[list[int], list[int]]:
    """Read a file written by :class:`EcgWriter` into ``(t_ns, ecg_uV)`` lists.

    Raises
    ------
    PmdError
        When the file does not start with the expected header.
    """
    with path.open(newline="", encoding="ascii") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if tuple(header or ()) != EcgWriter.HEADER:
            raise PmdError(f"{path} is not an ECG file written by somatrace", path=str(path))
        times: list[int] = []
        values: list[int] = []
        for row in reader:
            times.append(int(row[0]))
            values.append(int(row[1]))
    return times, values
