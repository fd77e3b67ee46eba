"""How ``collector.ble`` reacts to bleak failures the emulator cannot reproduce: BlueZ "InProgress",
adapter powered off or absent, device not found (scripted fake bleak backends, no radio)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakDeviceNotFoundError,
    BleakError,
)

from collector import ble
from collector.ble import (
    Backoff,
    BleBackend,
    BluetoothUnavailable,
    Connected,
    Disconnected,
    ErrorKind,
    LinkState,
    Measurement,
    StateChanged,
    StrapClient,
    StrapEvent,
    StrapNotFound,
    classify_bleak_error,
    scan,
)
from collector.gatt import HEART_RATE_MEASUREMENT_UUID, HEART_RATE_SERVICE_UUID

ADDRESS = "C7:3A:1F:2B:00:01"
POWERED_OFF = BleakBluetoothNotAvailableError(
    "Bluetooth is powered off", BleakBluetoothNotAvailableReason.POWERED_OFF
)
IN_PROGRESS = BleakDBusError("org.bluez.Error.InProgress", ["Operation already in progress"])
NOT_FOUND = BleakDeviceNotFoundError(ADDRESS, f"Device with address {ADDRESS} was not found.")


class Script:
    """What the fake backends do, step by step (shared by the scanner and the client)."""

    scan_errors: ClassVar[list[BaseException | None]] = []
    connect_errors: ClassVar[list[BaseException | None]] = []
    connects: ClassVar[int] = 0
    clients: ClassVar[list[FakeClient]] = []

    @classmethod
    def reset(
        cls, scan_errors: list[BaseException | None], connect_errors: list[BaseException | None]
    ) -> None:
        cls.scan_errors = list(scan_errors)
        cls.connect_errors = list(connect_errors)
        cls.connects = 0
        cls.clients = []


class FakeScanner(BaseBleakScanner):
    def __init__(
        self,
        detection_callback: Callable[[BLEDevice, AdvertisementData], Any] | None,
        service_uuids: list[str] | None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)

    async def start(self) -> None:
        error = Script.scan_errors.pop(0) if Script.scan_errors else None
        if error is not None:
            raise error
        adv = AdvertisementData("Fake H10", {}, {}, [HEART_RATE_SERVICE_UUID], None, -60, ())
        device = self.create_or_update_device(ADDRESS, ADDRESS, "Fake H10", None, adv)
        asyncio.get_running_loop().call_soon(self.call_detection_callbacks, device, adv)

    async def stop(self) -> None:
        return None


class FakeClient(BaseBleakClient):
    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.get("disconnected_callback"),
            timeout=kwargs.get("timeout", 1.0),
        )
        self.connected = False
        self.callback: NotifyCallback | None = None
        Script.clients.append(self)

    @property
    def name(self) -> str:
        return "Fake H10"

    @property
    def mtu_size(self) -> int:
        return 23

    @property
    def is_connected(self) -> bool:
        return self.connected

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        Script.connects += 1
        error = Script.connect_errors.pop(0) if Script.connect_errors else None
        if error is not None:
            raise error
        services = BleakGATTServiceCollection()
        service = BleakGATTService(None, 1, HEART_RATE_SERVICE_UUID)
        services.add_service(service)
        char = BleakGATTCharacteristic(
            None, 3, HEART_RATE_MEASUREMENT_UUID, ["notify"], lambda: 20, service
        )
        services.add_characteristic(char)
        self.services = services
        self.connected = True

    def lose_link(self) -> None:
        self.connected = False
        if self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        self.connected = False

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise BleakError("pairing not scripted")

    async def unpair(self) -> None:
        raise BleakError("unpairing not scripted")

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("not readable")

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("not readable")

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: Any, response: bool
    ) -> None:
        raise BleakError("not writable")

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("not writable")

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        self.callback = callback

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self.callback = None


FAKE = BleBackend(scanner=FakeScanner, client=FakeClient)
FAST = Backoff(initial_s=0.001, max_s=0.004, jitter=0.0)


def drain(client: StrapClient) -> list[StrapEvent]:
    events = []
    while not client.events.empty():
        events.append(client.events.get_nowait())
    return events


async def until(predicate: Callable[[], bool]) -> None:
    for _ in range(5000):
        if predicate():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never met")


def make_client() -> StrapClient:
    return StrapClient(ADDRESS, backend=FAKE, scan_timeout_s=0.2, backoff=FAST)


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (POWERED_OFF, ErrorKind.ADAPTER_UNAVAILABLE),
        (
            BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH
            ),
            ErrorKind.ADAPTER_UNAVAILABLE,
        ),
        (
            BleakDBusError("org.bluez.Error.NotReady", ["Resource Not Ready"]),
            ErrorKind.ADAPTER_UNAVAILABLE,
        ),
        (
            BleakDBusError("org.freedesktop.DBus.Error.AccessDenied", ["Rejected send message"]),
            ErrorKind.ADAPTER_UNAVAILABLE,
        ),
        (BleakDBusError("org.bluez.Error.DoesNotExist", ["Does Not Exist"]), ErrorKind.NOT_FOUND),
        (
            BleakDBusError("org.bluez.Error.Failed", ["le-connection-abort-by-local"]),
            ErrorKind.LINK_FAILED,
        ),
        # The message text alone decides nothing: a plain BleakError saying "in progress" is a link failure.
        (
            BleakError("Operation already in progress (org.bluez.Error.InProgress)"),
            ErrorKind.LINK_FAILED,
        ),
        (
            FileNotFoundError(2, "No such file: /var/run/dbus/system_bus_socket"),
            ErrorKind.ADAPTER_UNAVAILABLE,
        ),
        (IN_PROGRESS, ErrorKind.BUSY),
        (NOT_FOUND, ErrorKind.NOT_FOUND),
        (StrapNotFound(ADDRESS, 1.0), ErrorKind.NOT_FOUND),
        (BleakError("Characteristic 0x0003 was not found"), ErrorKind.LINK_FAILED),
        (TimeoutError(), ErrorKind.LINK_FAILED),
    ],
)
def test_classify_bleak_errors(exc: BaseException, kind: ErrorKind) -> None:
    assert classify_bleak_error(exc) is kind


async def test_adapter_off_at_start_raises_bluetooth_unavailable() -> None:
    Script.reset(scan_errors=[POWERED_OFF], connect_errors=[])
    client = make_client()
    with pytest.raises(BluetoothUnavailable, match="powered off") as info:
        await client.run(asyncio.Event())
    assert isinstance(info.value.__cause__, BleakBluetoothNotAvailableError)
    assert client.state is LinkState.STOPPED


async def test_scan_without_adapter_raises_bluetooth_unavailable() -> None:
    Script.reset(scan_errors=[FileNotFoundError(2, "no system bus")], connect_errors=[])
    with pytest.raises(BluetoothUnavailable):
        await scan(0.05, backend=BleBackend(scanner=FakeScanner))


async def test_in_progress_is_retried_quickly_then_connects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BlueZ "InProgress" (another operation still running) is retried after a short fixed delay."""
    monkeypatch.setattr(ble, "BUSY_RETRY_DELAY_S", 0.001)
    Script.reset(scan_errors=[], connect_errors=[IN_PROGRESS, IN_PROGRESS])
    client = make_client()
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    await until(lambda: client.connections == 1)
    stop.set()
    await task
    events = drain(client)
    waits = [e for e in events if isinstance(e, StateChanged) and e.state is LinkState.WAITING]
    assert len(waits) == 2 and all("adapter busy" in e.detail for e in waits)
    assert Script.connects == 3
    assert [type(e) for e in events if isinstance(e, Connected | Disconnected)] == [
        Connected,
        Disconnected,
    ]


async def test_device_not_found_backs_off_and_retries() -> None:
    Script.reset(scan_errors=[], connect_errors=[NOT_FOUND, NOT_FOUND, NOT_FOUND])
    client = make_client()
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    await until(lambda: client.connections == 1)
    stop.set()
    await task
    waits = [
        e for e in drain(client) if isinstance(e, StateChanged) and e.state is LinkState.WAITING
    ]
    assert len(waits) == 3 and all("not found" in e.detail for e in waits)


async def test_adapter_off_after_a_connection_is_retried_not_fatal() -> None:
    """A laptop going to sleep powers the adapter off mid-recording: keep trying, record the gap."""
    Script.reset(scan_errors=[], connect_errors=[])
    client = make_client()
    stop = asyncio.Event()
    task = asyncio.create_task(client.run(stop))
    await until(lambda: client.connections == 1 and Script.clients[-1].callback is not None)
    fake = Script.clients[-1]
    assert fake.callback is not None
    fake.callback(bytearray(b"\x10\x48\x00\x04"))
    Script.scan_errors = [POWERED_OFF, POWERED_OFF]
    fake.lose_link()
    await until(lambda: client.connections == 2)
    stop.set()
    await task
    events = drain(client)
    kinds = [type(e) for e in events if isinstance(e, Connected | Disconnected | Measurement)]
    assert kinds == [Connected, Measurement, Disconnected, Connected, Disconnected]
    lost = [e for e in events if isinstance(e, Disconnected)]
    assert lost[0].lost and not lost[1].lost
    details = [e.detail for e in events if isinstance(e, StateChanged) and e.detail]
    assert sum("adapter unavailable" in d for d in details) == 2


def test_backoff_grows_caps_and_jitters() -> None:
    backoff = Backoff(initial_s=1.0, max_s=8.0, factor=2.0, jitter=0.5)
    rng = random.Random(7)
    delays = [backoff.delay_s(n, rng) for n in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len({round(d, 6) for d in delays[3:]}) > 1  # jitter spreads the capped delays
    assert Backoff(1.0, 8.0, jitter=0.0).delay_s(10, rng) == 8.0


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_s": -1.0}, {"max_s": 0.1, "initial_s": 1.0}, {"factor": 0.5}, {"jitter": 2.0}],
)
def test_backoff_rejects_bad_parameters(kwargs: dict[str, float]) -> None:
    with pytest.raises(ble.CollectorError):
        Backoff(**kwargs)


def test_empty_target_is_rejected() -> None:
    with pytest.raises(ble.CollectorError, match="must not be empty"):
        StrapClient("  ")
