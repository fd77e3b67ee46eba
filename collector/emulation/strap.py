"""An emulated heart-rate chest strap on bumble: advertising, Heart Rate, Battery, Device Info
and Polar PMD (ECG) services, with byte-exact notifications and scripted link failures.

Tests and demos drive it; the collector talks to it through ``collector.emulation.backend``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from bumble import core as bumble_core
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service
from bumble.hci import HCI_CONNECTION_TIMEOUT_ERROR, Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from collector.ecg import (
    CONTROL_POINT_RESPONSE_CODE,
    ECG_SAMPLE_BYTES,
    ECG_SAMPLE_RATE_HZ,
    FRAME_HEADER_BYTES,
    FRAME_TYPE_0,
    MEASUREMENT_TYPE_ECG,
    OP_GET_SETTINGS,
    OP_START_MEASUREMENT,
    OP_STOP_MEASUREMENT,
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    POLAR_EPOCH_UNIX_NS,
    SETTING_RESOLUTION,
    SETTING_SAMPLE_RATE,
    MalformedPmdFrame,
    parse_start_request,
)
from collector.emulation.hrm import FlagForm, encode_heart_rate_measurement
from collector.errors import CollectorError
from wire import RR_TICKS_PER_S

logger = logging.getLogger(__name__)

HEART_RATE_SERVICE_UUID16 = 0x180D
BATTERY_SERVICE = "180F"
BATTERY_LEVEL = "2A19"
DEVICE_INFORMATION_SERVICE = "180A"
MANUFACTURER_NAME = "2A29"
MODEL_NUMBER = "2A24"
FIRMWARE_REVISION = "2A26"
HEART_RATE_SERVICE = "180D"
HEART_RATE_MEASUREMENT = "2A37"
BODY_SENSOR_LOCATION = "2A38"
BODY_SENSOR_LOCATION_CHEST = 0x01
#: ATT MTU the emulated strap accepts (a Polar H10 negotiates 232).
STRAP_ATT_MTU = 232
#: PMD feature read of the control point: ECG (bit 0) and accelerometer (bit 2) like an H10.
PMD_FEATURES = bytes([0x0F, 0x05, 0x00])
PMD_STATUS_SUCCESS = 0
PMD_STATUS_INVALID_OP_CODE = 1
PMD_STATUS_INVALID_MEASUREMENT_TYPE = 2
PMD_STATUS_INVALID_PARAMETER = 5
PMD_STATUS_ALREADY_IN_STATE = 6


class StrapEmulationError(CollectorError):
    """The emulated strap was driven wrongly (not started, bad ECG source...)."""


class VirtualClock:
    """A settable wall clock in Unix seconds: the strap advances it by each RR it sends, so that a
    recording of minutes streams in milliseconds while beat times stay consistent."""

    def __init__(self, start_s: float | None = None) -> None:
        self._now_s = time.time() if start_s is None else start_s

    def __call__(self) -> float:
        return self._now_s

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise StrapEmulationError("a clock does not run backwards", seconds=seconds)
        self._now_s += seconds


@dataclass(frozen=True)
class EcgSource:
    """ECG samples to stream: Unix time in ns and value in µV of each sample."""

    times_unix_ns: np.ndarray[Any, np.dtype[np.int64]]
    samples_uv: np.ndarray[Any, np.dtype[np.int32]]

    @classmethod
    def from_npz(cls, path: Path) -> EcgSource:
        """Load ``t0_ns`` (epoch ns of the first sample), ``t_offset_us`` and ``ecg_uV`` arrays."""
        try:
            with np.load(path) as data:
                t0_ns = int(data["t0_ns"])
                offsets_us = data["t_offset_us"].astype(np.int64)
                samples = data["ecg_uV"].astype(np.int32)
        except (OSError, KeyError, ValueError) as exc:
            raise StrapEmulationError(f"cannot read ECG source {path}: {exc}") from exc
        if offsets_us.shape != samples.shape:
            raise StrapEmulationError(f"ECG source {path}: times and samples differ in length")
        return cls(times_unix_ns=t0_ns + offsets_us * 1000, samples_uv=samples)


class EmulatedStrap:
    """A bumble peripheral that behaves like a heart-rate chest strap.

    Parameters
    ----------
    name, address, manufacturer, model, firmware:
        What it advertises and answers in Device Information (address: static random).
    battery_pct:
        Battery Level (0x2A19), readable and notified on :meth:`set_battery`.
    clock:
        Advanced by the RR sum of every :meth:`send` when it is a :class:`VirtualClock`.
    ecg_source:
        Enables the Polar PMD service streaming these samples on request.
    ecg_realtime:
        Pace ECG frames at the sample rate (demo) instead of back to back (tests).
    """

    def __init__(
        self,
        *,
        name: str = "Polar H10 7E3A1F2B",
        address: str = "C7:3A:1F:2B:00:01",
        manufacturer: str = "Polar Electro Oy",
        model: str = "H10",
        firmware: str = "3.1.1",
        battery_pct: int = 87,
        clock: Callable[[], float] | None = None,
        ecg_source: EcgSource | None = None,
        ecg_realtime: bool = False,
        advertising_interval_ms: float = 20.0,
    ) -> None:
        if not 0 <= battery_pct <= 100:
            raise StrapEmulationError("battery level must be within 0..100", battery=battery_pct)
        self.name = name
        self.address = address
        self.manufacturer = manufacturer
        self.model = model
        self.firmware = firmware
        self.battery_pct = battery_pct
        self.clock: Callable[[], float] = clock or time.time
        self.ecg_source = ecg_source
        self.ecg_realtime = ecg_realtime
        self.advertising_interval_ms = advertising_interval_ms
        self.notifications_sent = 0
        self.notifications_lost = 0
        self.ecg_frames_sent = 0
        self.ecg_samples_sent = 0
        self.connections_accepted = 0
        self.ecg_done = asyncio.Event()
        self._device: Device | None = None
        self._controller: Controller | None = None
        self._link: LocalLink | None = None
        self._isolated_link = LocalLink()  # type: ignore[no-untyped-call]
        self._hr_subscribers: set[Any] = set()
        self._subscribed = asyncio.Event()
        self._ecg_task: asyncio.Task[None] | None = None
        self._ecg_position = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._build_services()

    # ------------------------------------------------------------------ set-up
    def _build_services(self) -> None:
        self.heart_rate_measurement = Characteristic(
            HEART_RATE_MEASUREMENT, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
        )
        self.heart_rate_measurement.on(
            Characteristic.EVENT_SUBSCRIPTION, self._on_heart_rate_subscription
        )
        body_location = Characteristic(
            BODY_SENSOR_LOCATION,
            Characteristic.Properties.READ,
            Characteristic.READABLE,
            bytes([BODY_SENSOR_LOCATION_CHEST]),
        )
        self.battery_level: Characteristic[bytes] = Characteristic(
            BATTERY_LEVEL,
            Characteristic.Properties.READ | Characteristic.Properties.NOTIFY,
            Characteristic.READABLE,
            CharacteristicValue(read=lambda _connection: bytes([self.battery_pct])),
        )

        def text(uuid: str, value: str) -> Characteristic[bytes]:
            return Characteristic(
                uuid, Characteristic.Properties.READ, Characteristic.READABLE, value.encode()
            )

        self.services = [
            Service(HEART_RATE_SERVICE, [self.heart_rate_measurement, body_location]),
            Service(BATTERY_SERVICE, [self.battery_level]),
            Service(
                DEVICE_INFORMATION_SERVICE,
                [
                    text(MANUFACTURER_NAME, self.manufacturer),
                    text(MODEL_NUMBER, self.model),
                    text(FIRMWARE_REVISION, self.firmware),
                ],
            ),
        ]
        if self.ecg_source is not None:
            self.pmd_control_point: Characteristic[bytes] = Characteristic(
                PMD_CONTROL_POINT_UUID,
                Characteristic.Properties.READ
                | Characteristic.Properties.WRITE
                | Characteristic.Properties.INDICATE,
                Characteristic.READABLE | Characteristic.WRITEABLE,
                CharacteristicValue(
                    read=lambda _connection: PMD_FEATURES, write=self._on_pmd_control_write
                ),
            )
            self.pmd_data = Characteristic(
                PMD_DATA_UUID, Characteristic.Properties.NOTIFY, Characteristic.READABLE, b""
            )
            self.services.append(Service(PMD_SERVICE_UUID, [self.pmd_control_point, self.pmd_data]))

    def _advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    (
                        AdvertisingData.FLAGS,
                        bytes(
                            [
                                AdvertisingData.LE_GENERAL_DISCOVERABLE_MODE_FLAG
                                | AdvertisingData.BR_EDR_NOT_SUPPORTED_FLAG
                            ]
                        ),
                    ),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        struct.pack("<H", HEART_RATE_SERVICE_UUID16),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()),
                ]
            )
        )

    @property
    def device(self) -> Device:
        """The bumble device (after :meth:`start`)."""
        if self._device is None:
            raise StrapEmulationError("emulated strap not started")
        return self._device

    async def start(self, link: LocalLink) -> None:
        """Power the strap on ``link`` and advertise (restarted after each disconnection)."""
        if self._device is not None:
            raise StrapEmulationError("emulated strap already started")
        self._link = link
        self._controller = Controller(
            f"strap-{self.address}", link=link, public_address=self.address
        )
        device = Device(
            name=self.name,
            address=Address(self.address),
            host=Host(self._controller, AsyncPipeSink(self._controller)),
        )
        device.gatt_server.max_mtu = STRAP_ATT_MTU
        device.add_services(self.services)
        device.advertising_data = self._advertising_data()
        device.on(Device.EVENT_CONNECTION, self._on_connection)
        self._device = device
        await device.power_on()
        await self._advertise()

    async def _advertise(self) -> None:
        await self.device.start_advertising(
            auto_restart=True,
            advertising_data=self._advertising_data(),
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms,
        )

    async def stop(self) -> None:
        """Stop streaming, disconnect and stop advertising."""
        for task in list(self._tasks):
            task.cancel()
        if self._ecg_task is not None:
            self._ecg_task.cancel()
        if self._device is None:
            return
        with contextlib.suppress(bumble_core.BaseBumbleError, asyncio.CancelledError):
            if self._device.is_advertising:
                await self._device.stop_advertising()
        await self.drop(reason=0x13)

    # --------------------------------------------------------------- link events
    def _on_connection(self, connection: Connection) -> None:
        self.connections_accepted += 1
        connection.on(Connection.EVENT_DISCONNECTION, lambda _reason: self._on_disconnection())

    def _on_disconnection(self) -> None:
        self._hr_subscribers.clear()
        self._subscribed.clear()
        if self._ecg_task is not None:
            self._ecg_task.cancel()
            self._ecg_task = None

    def _on_heart_rate_subscription(self, bearer: Any, notify: bool, indicate: bool) -> None:
        if notify or indicate:
            self._hr_subscribers.add(bearer)
            self._subscribed.set()
        else:
            self._hr_subscribers.discard(bearer)
            if not self._hr_subscribers:
                self._subscribed.clear()

    @property
    def connected(self) -> bool:
        """True while a central is connected."""
        return bool(self._device is not None and self._device.connections)

    @property
    def subscribed(self) -> bool:
        """True while a central listens to Heart Rate Measurement notifications."""
        return bool(self._hr_subscribers)

    async def wait_subscribed(self, timeout_s: float = 10.0) -> None:
        """Wait until a central subscribes to Heart Rate Measurement notifications."""
        await asyncio.wait_for(self._subscribed.wait(), timeout=timeout_s)

    # ------------------------------------------------------------- heart rate
    async def notify_raw(self, packet: bytes) -> bool:
        """Send ``packet`` as a Heart Rate Measurement notification, byte for byte (garbage too).

        Returns True when a subscribed central was there to receive it, False when it was lost.
        """
        if not self._hr_subscribers:
            self.notifications_lost += 1
            return False
        await self.device.notify_subscribers(self.heart_rate_measurement, packet)
        self.notifications_sent += 1
        return True

    async def send(
        self,
        heart_rate_bpm: int,
        rr_ticks: Sequence[int] = (),
        *,
        form: FlagForm | None = None,
        energy_expended_kj: int = 0,
    ) -> bool:
        """Encode and notify one measurement; a :class:`VirtualClock` advances by the RR sum first
        (the notification leaves the strap when its last beat ends)."""
        packet = encode_heart_rate_measurement(
            heart_rate_bpm,
            list(rr_ticks),
            form=form,
            energy_expended_kj=energy_expended_kj,
            mtu=STRAP_ATT_MTU,
        )
        if isinstance(self.clock, VirtualClock):
            self.clock.advance(sum(rr_ticks) / RR_TICKS_PER_S)
        return await self.notify_raw(packet)

    async def set_battery(self, battery_pct: int) -> None:
        """Change the battery level and notify subscribers."""
        if not 0 <= battery_pct <= 100:
            raise StrapEmulationError("battery level must be within 0..100", battery=battery_pct)
        self.battery_pct = battery_pct
        if self._device is not None and self._device.connections:
            await self._device.notify_subscribers(self.battery_level, bytes([battery_pct]))

    # ---------------------------------------------------------- link failures
    async def drop(self, reason: int = HCI_CONNECTION_TIMEOUT_ERROR) -> None:
        """Drop every connection from the strap's side (default reason 0x08, supervision timeout);
        the strap keeps advertising and accepts the next connection."""
        device = self.device
        for connection in list(device.connections.values()):
            with contextlib.suppress(bumble_core.BaseBumbleError, asyncio.CancelledError):
                await device.disconnect(connection, reason)
        self._on_disconnection()

    async def vanish(self) -> None:
        """Go out of range: drop the link (reason 0x08) and move to a radio nobody listens to."""
        await self.drop()
        controller = self._controller
        if controller is None or self._link is None:
            raise StrapEmulationError("emulated strap not started")
        self._link.remove_controller(controller)
        controller.link = self._isolated_link
        self._isolated_link.add_controller(controller)

    async def reappear(self) -> None:
        """Come back into range: rejoin the shared radio, advertising as before."""
        controller = self._controller
        if controller is None or self._link is None:
            raise StrapEmulationError("emulated strap not started")
        if controller.link is self._link:
            return
        self._isolated_link.remove_controller(controller)
        controller.link = self._link
        self._link.add_controller(controller)

    # ------------------------------------------------------------- Polar PMD
    def _on_pmd_control_write(self, connection: Connection, value: bytes) -> None:
        task = asyncio.get_running_loop().create_task(self._handle_pmd_request(bytes(value)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _respond(
        self, op_code: int, measurement_type: int, status: int, params: bytes
    ) -> None:
        response = (
            bytes([CONTROL_POINT_RESPONSE_CODE, op_code, measurement_type, status, 0]) + params
        )
        # Let the write response go out before the indication, like the strap does.
        await asyncio.sleep(0)
        await self.device.indicate_subscribers(self.pmd_control_point, response)

    async def _handle_pmd_request(self, request: bytes) -> None:
        if not request:
            await self._respond(0, 0, PMD_STATUS_INVALID_OP_CODE, b"")
            return
        op_code = request[0]
        measurement_type = request[1] if len(request) > 1 else 0
        if measurement_type != MEASUREMENT_TYPE_ECG:
            await self._respond(op_code, measurement_type, PMD_STATUS_INVALID_MEASUREMENT_TYPE, b"")
            return
        if op_code == OP_GET_SETTINGS:
            settings = bytes([SETTING_SAMPLE_RATE, 1]) + struct.pack("<H", ECG_SAMPLE_RATE_HZ)
            settings += bytes([SETTING_RESOLUTION, 1]) + struct.pack("<H", 14)
            await self._respond(op_code, measurement_type, PMD_STATUS_SUCCESS, settings)
        elif op_code == OP_START_MEASUREMENT:
            try:
                _, settings_requested = parse_start_request(request)
            except MalformedPmdFrame:
                await self._respond(op_code, measurement_type, PMD_STATUS_INVALID_PARAMETER, b"")
                return
            if (
                settings_requested.get(SETTING_SAMPLE_RATE, ECG_SAMPLE_RATE_HZ)
                != ECG_SAMPLE_RATE_HZ
            ):
                await self._respond(op_code, measurement_type, PMD_STATUS_INVALID_PARAMETER, b"")
                return
            if self._ecg_task is not None and not self._ecg_task.done():
                await self._respond(op_code, measurement_type, PMD_STATUS_ALREADY_IN_STATE, b"")
                return
            await self._respond(op_code, measurement_type, PMD_STATUS_SUCCESS, b"")
            self._ecg_task = asyncio.get_running_loop().create_task(self._stream_ecg())
        elif op_code == OP_STOP_MEASUREMENT:
            if self._ecg_task is not None:
                self._ecg_task.cancel()
                self._ecg_task = None
            await self._respond(op_code, measurement_type, PMD_STATUS_SUCCESS, b"")
        else:
            await self._respond(op_code, measurement_type, PMD_STATUS_INVALID_OP_CODE, b"")

    async def _stream_ecg(self) -> None:
        source = self.ecg_source
        device = self.device
        if source is None:
            return
        connections = list(device.connections.values())
        mtu = connections[0].att_mtu if connections else 23
        per_frame = max(1, (mtu - 3 - FRAME_HEADER_BYTES) // ECG_SAMPLE_BYTES)
        total = len(source.samples_uv)
        period_s = 1.0 / ECG_SAMPLE_RATE_HZ
        while self._ecg_position < total:
            start = self._ecg_position
            end = min(total, start + per_frame)
            last_polar_ns = int(source.times_unix_ns[end - 1]) - POLAR_EPOCH_UNIX_NS
            frame = bytearray([MEASUREMENT_TYPE_ECG])
            frame += struct.pack("<Q", last_polar_ns)
            frame.append(FRAME_TYPE_0)
            for value in source.samples_uv[start:end]:
                frame += int(value).to_bytes(ECG_SAMPLE_BYTES, "little", signed=True)
            await device.notify_subscribers(self.pmd_data, bytes(frame))
            self._ecg_position = end
            self.ecg_frames_sent += 1
            self.ecg_samples_sent += end - start
            await asyncio.sleep(period_s * (end - start) if self.ecg_realtime else 0)
        self.ecg_done.set()
