"""BLE link to a heart-rate chest strap on bleak: scan, connect, read info, subscribe, reconnect.

The notification callbacks only stamp the arrival time, parse and hand an event to a queue; beat
times, quirk filters, storage and upload are left to ``collector.recorder``.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from collector.ecg import (
    PMD_CONTROL_POINT_UUID,
    PMD_DATA_UUID,
    PMD_SERVICE_UUID,
    ControlPointResponse,
    EcgFrame,
    PmdError,
    PmdRequestFailed,
    build_start_ecg_request,
    build_stop_ecg_request,
    parse_control_point_response,
    parse_ecg_frame,
)
from collector.errors import CollectorError
from collector.gatt import (
    BATTERY_LEVEL_UUID,
    FIRMWARE_REVISION_UUID,
    HEART_RATE_MEASUREMENT_UUID,
    HEART_RATE_SERVICE_UUID,
    MANUFACTURER_NAME_UUID,
    MODEL_NUMBER_UUID,
    HeartRateMeasurement,
    MalformedPacket,
    parse_battery_level,
    parse_heart_rate_measurement,
    parse_utf8_string,
)
from wire import StrapInfo

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

#: PMD status "already in state": the ECG stream was still running from an earlier connection.
PMD_STATUS_ALREADY_IN_STATE = 6
PMD_RESPONSE_TIMEOUT_S = 5.0
#: Delay before retrying after BlueZ answered "InProgress" (another operation still running).
BUSY_RETRY_DELAY_S = 0.5


class BluetoothUnavailable(CollectorError):
    """No usable Bluetooth adapter: none present, powered off, access denied or no system bus."""


class StrapNotFound(CollectorError):
    """No strap matching the address or name advertised within the scan timeout."""

    def __init__(self, target: str, timeout_s: float) -> None:
        super().__init__(
            f"no heart-rate strap {target!r} found within {timeout_s:g} s", target=target
        )
        self.target = target


class StrapLost(CollectorError):
    """The link to a strap failed or dropped (out of range, switched off, radio error)."""

    def __init__(self, address: str, reason: str = "link lost") -> None:
        super().__init__(f"lost strap {address}: {reason}", address=address, reason=reason)
        self.address = address


class ErrorKind(enum.Enum):
    """How the client reacts to a failure of one connection attempt or session."""

    ADAPTER_UNAVAILABLE = "adapter unavailable"
    BUSY = "adapter busy"
    NOT_FOUND = "strap not found"
    LINK_FAILED = "link failed"


class LinkState(enum.Enum):
    """Connection state shown in the live view."""

    IDLE = "idle"
    SEARCHING = "searching"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting to reconnect"
    STOPPED = "stopped"


@dataclass(frozen=True)
class BleBackend:
    """bleak backend classes replacing the platform's (tests and the emulator inject bumble)."""

    scanner: type[BaseBleakScanner] | None = None
    client: type[BaseBleakClient] | None = None


@dataclass(frozen=True)
class StrapAdvert:
    """A strap seen while scanning: advertised name, address and signal strength in dBm."""

    name: str | None
    address: str
    rssi_dbm: int


@dataclass(frozen=True)
class Connected:
    """The link is up and the strap info was read; notifications follow.

    ``info`` is what goes on the wire with each batch (``wire.StrapInfo``); the manufacturer name
    (0x2A29) only chooses the strap's quirk profile and is not sent.
    """

    wall_s: float
    info: StrapInfo
    manufacturer: str | None = None


@dataclass(frozen=True)
class Disconnected:
    """The link went down at ``wall_s`` (``lost`` False when the client stopped on purpose)."""

    wall_s: float
    reason: str
    lost: bool


@dataclass(frozen=True)
class Measurement:
    """A parsed Heart Rate Measurement and its arrival time (Unix seconds)."""

    wall_s: float
    measurement: HeartRateMeasurement


@dataclass(frozen=True)
class Malformed:
    """A notification that could not be parsed; counted, never stored."""

    wall_s: float
    source: str
    packet: bytes
    reason: str


@dataclass(frozen=True)
class BatteryLevel:
    """Battery level notification or read, in percent."""

    wall_s: float
    battery_pct: int


@dataclass(frozen=True)
class EcgData:
    """A Polar PMD ECG frame and its arrival time."""

    wall_s: float
    frame: EcgFrame


@dataclass(frozen=True)
class EcgUnavailable:
    """ECG was requested but the strap cannot stream it (no PMD service, request refused)."""

    wall_s: float
    reason: str


@dataclass(frozen=True)
class StateChanged:
    """The connection state changed (``detail`` says why, e.g. the last error)."""

    wall_s: float
    state: LinkState
    detail: str = ""


StrapEvent = (
    Connected
    | Disconnected
    | Measurement
    | Malformed
    | BatteryLevel
    | EcgData
    | EcgUnavailable
    | StateChanged
)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: attempt ``n`` waits ``min(max_s, initial_s * factor**n)``
    scaled by a random factor in ``[1 - jitter, 1]``."""

    initial_s: float = 1.0
    max_s: float = 30.0
    factor: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.initial_s < 0 or self.max_s < self.initial_s or self.factor < 1:
            raise CollectorError("invalid backoff parameters", backoff=repr(self))
        if not 0 <= self.jitter <= 1:
            raise CollectorError("backoff jitter must be within 0..1", jitter=self.jitter)

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Delay before retry number ``attempt`` (0-based)."""
        ceiling = min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))
        return ceiling * (1.0 - self.jitter * rng.random())


#: BlueZ / D-Bus error names (``BleakDBusError.dbus_error``) and the reaction to each. Anything else
#: is a failed link, retried with backoff.
DBUS_ERROR_KINDS: dict[str, ErrorKind] = {
    # Another operation (scan, connect) of the adapter is still running: retry soon.
    "org.bluez.Error.InProgress": ErrorKind.BUSY,
    # The adapter is powered off or not yet initialised.
    "org.bluez.Error.NotReady": ErrorKind.ADAPTER_UNAVAILABLE,
    # bluetoothd is not running, or this user may not talk to it.
    "org.freedesktop.DBus.Error.ServiceUnknown": ErrorKind.ADAPTER_UNAVAILABLE,
    "org.freedesktop.DBus.Error.AccessDenied": ErrorKind.ADAPTER_UNAVAILABLE,
    # BlueZ forgot the device object (cache expired while the strap was away): scan again.
    "org.bluez.Error.DoesNotExist": ErrorKind.NOT_FOUND,
    "org.freedesktop.DBus.Error.UnknownObject": ErrorKind.NOT_FOUND,
}


def classify_bleak_error(exc: BaseException) -> ErrorKind:
    """Map an exception raised by bleak (or the OS below it) to the client's reaction.

    Uses the structured fields only, never the message text: the exception class
    (``BleakBluetoothNotAvailableError`` with its ``reason``, ``BleakDeviceNotFoundError``) and, for
    BlueZ, ``BleakDBusError.dbus_error`` (``DBUS_ERROR_KINDS``).
    """
    if isinstance(exc, BleakBluetoothNotAvailableError | BluetoothUnavailable):
        return ErrorKind.ADAPTER_UNAVAILABLE
    if isinstance(exc, BleakDeviceNotFoundError | StrapNotFound):
        return ErrorKind.NOT_FOUND
    if isinstance(exc, FileNotFoundError):
        # BlueZ backend without a D-Bus system bus socket.
        return ErrorKind.ADAPTER_UNAVAILABLE
    if isinstance(exc, BleakDBusError):
        return DBUS_ERROR_KINDS.get(exc.dbus_error, ErrorKind.LINK_FAILED)
    return ErrorKind.LINK_FAILED


def _wrap_unavailable(exc: BaseException) -> BluetoothUnavailable:
    detail = str(exc)
    if isinstance(exc, FileNotFoundError):
        detail = f"no D-Bus system bus for BlueZ (is bluetoothd running?): {exc}"
    return BluetoothUnavailable(f"Bluetooth is not available: {detail}", cause=type(exc).__name__)


async def scan(timeout_s: float, *, backend: BleBackend | None = None) -> list[StrapAdvert]:
    """Scan ``timeout_s`` seconds for devices advertising the Heart Rate service (0x180D).

    Returns
    -------
    list[StrapAdvert]
        Strongest signal first.

    Raises
    ------
    BluetoothUnavailable
        No usable adapter.
    """
    if timeout_s <= 0:
        raise CollectorError("scan timeout must be positive", timeout_s=timeout_s)
    scanner_type = backend.scanner if backend else None
    try:
        if scanner_type is None:
            found = await BleakScanner.discover(
                timeout=timeout_s, return_adv=True, service_uuids=[HEART_RATE_SERVICE_UUID]
            )
        else:
            found = await BleakScanner.discover(
                timeout=timeout_s,
                return_adv=True,
                service_uuids=[HEART_RATE_SERVICE_UUID],
                backend=scanner_type,
            )
    except (BleakError, OSError) as exc:
        if classify_bleak_error(exc) is ErrorKind.ADAPTER_UNAVAILABLE:
            raise _wrap_unavailable(exc) from exc
        raise CollectorError(f"scan failed: {exc}", cause=type(exc).__name__) from exc
    adverts = [
        StrapAdvert(name=adv.local_name or device.name, address=device.address, rssi_dbm=adv.rssi)
        for device, adv in found.values()
        if HEART_RATE_SERVICE_UUID in [u.lower() for u in adv.service_uuids]
    ]
    return sorted(adverts, key=lambda a: (-a.rssi_dbm, a.address))


@dataclass
class _Session:
    """Per-connection bookkeeping of :class:`StrapClient`."""

    address: str
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    lost_at_s: float | None = None
    announced: bool = False
    pmd_responses: asyncio.Queue[ControlPointResponse] = field(default_factory=asyncio.Queue)


class StrapClient:
    """Keeps one strap connected and streams its notifications as :data:`StrapEvent` on ``events``.

    Parameters
    ----------
    target:
        Bluetooth address (case-insensitive) or advertised name of the strap.
    backend:
        bleak backend override (tests and the emulator); None for the platform's.
    clock:
        Wall clock in Unix seconds stamped on every event (``time.time``; tests pass a virtual one).
    scan_timeout_s, connect_timeout_s:
        Limits of one search and one connection attempt.
    backoff:
        Delays between reconnection attempts; reset after every successful connection.
    ecg:
        Also start the Polar PMD ECG stream when the strap offers it.
    """

    def __init__(
        self,
        target: str,
        *,
        backend: BleBackend | None = None,
        clock: Callable[[], float] = time.time,
        scan_timeout_s: float = 10.0,
        connect_timeout_s: float = 20.0,
        backoff: Backoff | None = None,
        ecg: bool = False,
        rng: random.Random | None = None,
    ) -> None:
        if not target.strip():
            raise CollectorError("strap address or name must not be empty")
        self.target = target.strip()
        self.backend = backend or BleBackend()
        self.events: asyncio.Queue[StrapEvent] = asyncio.Queue()
        self._clock = clock
        self.scan_timeout_s = scan_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.backoff = backoff or Backoff()
        self.ecg = ecg
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.state = LinkState.IDLE
        self.connections = 0
        #: Heart Rate notifications received (parsed or not), counted in the BLE callback.
        self.notifications_received = 0
        self.last_error: str | None = None

    def _emit(self, event: StrapEvent) -> None:
        self.events.put_nowait(event)

    def _set_state(self, state: LinkState, detail: str = "") -> None:
        if state is not self.state or detail:
            self.state = state
            self._emit(StateChanged(self._clock(), state, detail))

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, stream and reconnect with backoff until ``stop`` is set.

        Raises
        ------
        BluetoothUnavailable
            When no adapter is usable before the first successful connection (later outages,
            e.g. a laptop waking up, are retried).
        """
        attempt = 0
        try:
            while not stop.is_set():
                connections_before = self.connections
                try:
                    await self._session(stop)
                except (BleakError, CollectorError, OSError, TimeoutError, EOFError) as exc:
                    kind = classify_bleak_error(exc)
                    self.last_error = f"{kind.value}: {exc}"
                    logger.info("strap %s: %s", self.target, self.last_error)
                    if kind is ErrorKind.ADAPTER_UNAVAILABLE and self.connections == 0:
                        if isinstance(exc, BluetoothUnavailable):
                            raise
                        raise _wrap_unavailable(exc) from exc
                    if self.connections > connections_before:
                        attempt = 0
                    delay = (
                        BUSY_RETRY_DELAY_S
                        if kind is ErrorKind.BUSY
                        else self.backoff.delay_s(attempt, self._rng)
                    )
                    attempt += 1
                    if stop.is_set():
                        break
                    self._set_state(LinkState.WAITING, self.last_error)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), timeout=delay)
        finally:
            self._set_state(LinkState.STOPPED)

    async def _find(self) -> BLEDevice:
        wanted = self.target.lower()

        def matches(device: BLEDevice, adv: AdvertisementData) -> bool:
            return (
                device.address.lower() == wanted
                or adv.local_name == self.target
                or device.name == self.target
            )

        if self.backend.scanner is None:
            device = await BleakScanner.find_device_by_filter(matches, timeout=self.scan_timeout_s)
        else:
            device = await BleakScanner.find_device_by_filter(
                matches, timeout=self.scan_timeout_s, backend=self.backend.scanner
            )
        if device is None:
            raise StrapNotFound(self.target, self.scan_timeout_s)
        return device

    async def _unless_stopped(self, awaitable: Awaitable[_T], stop: asyncio.Event) -> _T | None:
        """Await ``awaitable``; if ``stop`` is set first, cancel it and return None."""
        task = asyncio.ensure_future(awaitable)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        if task.done():
            return task.result()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, BleakError, CollectorError, OSError):
            await task
        return None

    async def _session(self, stop: asyncio.Event) -> None:
        self._set_state(LinkState.SEARCHING)
        device = await self._unless_stopped(self._find(), stop)
        if device is None or stop.is_set():
            return
        self._set_state(LinkState.CONNECTING)
        session = _Session(address=device.address)

        def on_disconnect(_client: BleakClient) -> None:
            if session.lost_at_s is None:
                session.lost_at_s = self._clock()
            session.disconnected.set()

        client = BleakClient(
            device,
            disconnected_callback=on_disconnect,
            timeout=self.connect_timeout_s,
            backend=self.backend.client,
        )

        async def connect() -> bool:
            await client.connect()
            return True

        if await self._unless_stopped(connect(), stop) is None:
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
            return
        try:
            info, manufacturer = await self._read_info(client, device)
            self.connections += 1
            session.announced = True
            self._emit(Connected(self._clock(), info, manufacturer))
            self._set_state(LinkState.CONNECTED)
            await client.start_notify(HEART_RATE_MEASUREMENT_UUID, self._on_heart_rate)
            await self._subscribe_battery(client)
            if self.ecg:
                await self._start_ecg(client, session)
            if not session.disconnected.is_set():
                stop_wait = asyncio.ensure_future(stop.wait())
                lost_wait = asyncio.ensure_future(session.disconnected.wait())
                try:
                    await asyncio.wait({stop_wait, lost_wait}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop_wait.cancel()
                    lost_wait.cancel()
            if session.disconnected.is_set():
                raise StrapLost(device.address)
        except BleakError as exc:
            if session.disconnected.is_set():
                raise StrapLost(device.address) from exc
            raise
        finally:
            await self._close(client, session)

    async def _close(self, client: BleakClient, session: _Session) -> None:
        lost = session.disconnected.is_set()
        if not lost:
            if self.ecg:
                with contextlib.suppress(BleakError, OSError, TimeoutError):
                    await client.write_gatt_char(
                        PMD_CONTROL_POINT_UUID, build_stop_ecg_request(), response=True
                    )
            with contextlib.suppress(BleakError, OSError, TimeoutError):
                await client.disconnect()
        if session.announced:
            wall = session.lost_at_s if lost and session.lost_at_s is not None else self._clock()
            self._emit(
                Disconnected(wall, "link lost" if lost else "stopped by the collector", lost=lost)
            )

    async def _read_optional(self, client: BleakClient, uuid: str) -> bytes | None:
        char = client.services.get_characteristic(uuid)
        if char is None or "read" not in char.properties:
            return None
        try:
            return bytes(await client.read_gatt_char(char))
        except BleakError as exc:
            if not client.is_connected:
                raise
            logger.warning("reading %s failed: %s", uuid, exc)
            return None

    async def _read_info(
        self, client: BleakClient, device: BLEDevice
    ) -> tuple[StrapInfo, str | None]:
        def text(raw: bytes | None) -> str | None:
            if raw is None:
                return None
            try:
                return parse_utf8_string(raw)
            except MalformedPacket as exc:
                logger.warning("strap sent an unreadable string: %s", exc)
                return None

        battery: int | None = None
        raw_battery = await self._read_optional(client, BATTERY_LEVEL_UUID)
        if raw_battery is not None:
            try:
                battery = parse_battery_level(raw_battery)
            except MalformedPacket as exc:
                logger.warning("strap sent an unreadable battery level: %s", exc)
        manufacturer = text(await self._read_optional(client, MANUFACTURER_NAME_UUID))
        info = StrapInfo(
            address=device.address,
            name=device.name,
            model=text(await self._read_optional(client, MODEL_NUMBER_UUID)),
            firmware=text(await self._read_optional(client, FIRMWARE_REVISION_UUID)),
            battery_pct=battery,
        )
        return info, manufacturer

    async def _subscribe_battery(self, client: BleakClient) -> None:
        char = client.services.get_characteristic(BATTERY_LEVEL_UUID)
        if char is not None and "notify" in char.properties:
            await client.start_notify(char, self._on_battery)

    def _on_heart_rate(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        wall_s = self._clock()
        self.notifications_received += 1
        packet = bytes(data)
        try:
            measurement = parse_heart_rate_measurement(packet)
        except MalformedPacket as exc:
            self._emit(Malformed(wall_s, "heart_rate", packet, str(exc)))
            return
        self._emit(Measurement(wall_s, measurement))

    def _on_battery(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        wall_s = self._clock()
        packet = bytes(data)
        try:
            self._emit(BatteryLevel(wall_s, parse_battery_level(packet)))
        except MalformedPacket as exc:
            self._emit(Malformed(wall_s, "battery", packet, str(exc)))

    def _on_ecg(self, _char: BleakGATTCharacteristic, data: bytearray) -> None:
        wall_s = self._clock()
        packet = bytes(data)
        try:
            self._emit(EcgData(wall_s, parse_ecg_frame(packet)))
        except PmdError as exc:
            self._emit(Malformed(wall_s, "ecg", packet, str(exc)))

    async def _start_ecg(self, client: BleakClient, session: _Session) -> None:
        if client.services.get_service(PMD_SERVICE_UUID) is None:
            self._emit(EcgUnavailable(self._clock(), "strap has no Polar PMD service"))
            return

        def on_control_point(_char: BleakGATTCharacteristic, data: bytearray) -> None:
            try:
                session.pmd_responses.put_nowait(parse_control_point_response(bytes(data)))
            except PmdError as exc:
                self._emit(Malformed(self._clock(), "pmd_control", bytes(data), str(exc)))

        await client.start_notify(PMD_CONTROL_POINT_UUID, on_control_point)
        await client.start_notify(PMD_DATA_UUID, self._on_ecg)
        await client.write_gatt_char(
            PMD_CONTROL_POINT_UUID, build_start_ecg_request(), response=True
        )
        try:
            response = await asyncio.wait_for(
                session.pmd_responses.get(), timeout=PMD_RESPONSE_TIMEOUT_S
            )
        except TimeoutError:
            self._emit(EcgUnavailable(self._clock(), "strap did not answer the ECG start request"))
            return
        if not response.ok and response.status != PMD_STATUS_ALREADY_IN_STATE:
            error = PmdRequestFailed(
                f"strap refused to start ECG: {response.status_text}", status=response.status
            )
            self._emit(EcgUnavailable(self._clock(), str(error)))
