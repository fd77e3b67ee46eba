"""bleak backends over Google's bumble: the real ``collector.ble`` runs against emulated straps.

One :class:`BumbleCentral` (a bumble ``Device`` standing in for the computer's adapter) is shared by
the scanner and client backends; it runs on an in-process ``LocalLink`` or a bumble HCI transport
(e.g. ``tcp-client:127.0.0.1:PORT``). The emulated strap lives in ``collector.emulation.strap``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bleak.uuids import normalize_uuid_str
from bumble import core as bumble_core
from bumble.att import ATT_Error
from bumble.controller import Controller
from bumble.core import AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.hci import HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR, Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport import open_transport
from bumble.transport.common import AsyncPipeSink, Transport

from collector.ble import BleBackend
from collector.errors import CollectorError

logger = logging.getLogger(__name__)

CENTRAL_ADDRESS = "F0:F0:F0:F0:F0:F0"
#: ATT MTU the central asks for after connecting (like desktop stacks; Polar ECG needs > 23).
CENTRAL_ATT_MTU = 247

_PROPERTY_NAMES: tuple[tuple[Characteristic.Properties, CharacteristicPropertyName], ...] = (
    (Characteristic.Properties.BROADCAST, "broadcast"),
    (Characteristic.Properties.READ, "read"),
    (Characteristic.Properties.WRITE_WITHOUT_RESPONSE, "write-without-response"),
    (Characteristic.Properties.WRITE, "write"),
    (Characteristic.Properties.NOTIFY, "notify"),
    (Characteristic.Properties.INDICATE, "indicate"),
    (Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES, "authenticated-signed-writes"),
    (Characteristic.Properties.EXTENDED_PROPERTIES, "extended-properties"),
)

# bumble failures that mean "the link or the peer failed" and become BleakError at this boundary.
_BUMBLE_ERRORS: tuple[type[BaseException], ...] = (
    bumble_core.BaseBumbleError,
    ATT_Error,
    bumble_core.ConnectionError,
)


@contextlib.contextmanager
def _as_bleak_error(what: str) -> Iterator[None]:
    """Turn bumble failures into ``BleakError``; bumble aborts pending requests on a disconnection
    by cancelling them, which is a failure too unless our own task is being cancelled."""
    try:
        yield
    except asyncio.CancelledError as exc:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise BleakError(f"{what} aborted: {exc}") from exc
    except _BUMBLE_ERRORS as exc:
        raise BleakError(f"{what} failed: {exc!r}") from exc


class EmulationError(CollectorError):
    """The emulated radio could not be set up (transport unreachable, bad address...)."""


def _uuid_str(uuid: bumble_core.UUID) -> str:
    return normalize_uuid_str(uuid.to_hex_str("-"))


def _address_str(address: Address) -> str:
    return address.to_string(with_type_qualifier=False)


class BumbleCentral:
    """A bumble ``Device`` in the central role standing in for the computer's Bluetooth adapter."""

    def __init__(self, device: Device, transport: Transport | None = None) -> None:
        self.device = device
        self._transport = transport
        self._scanners: list[BumbleScannerBackend] = []
        self._scan_lock = asyncio.Lock()
        device.on(Device.EVENT_ADVERTISEMENT, self._on_advertisement)

    @classmethod
    async def on_link(cls, link: LocalLink, address: str = CENTRAL_ADDRESS) -> BumbleCentral:
        """Create a central with its own controller on an in-process ``LocalLink``."""
        controller = Controller("central", link=link, public_address=address)
        device = Device(
            name="somatrace-central",
            address=Address(address),
            host=Host(controller, AsyncPipeSink(controller)),
        )
        await device.power_on()
        return cls(device)

    @classmethod
    async def over_transport(cls, spec: str, address: str = CENTRAL_ADDRESS) -> BumbleCentral:
        """Create a central whose controller is reached over a bumble HCI transport spec."""
        try:
            transport = await open_transport(spec)
        except (OSError, ValueError, bumble_core.BaseBumbleError) as exc:
            raise EmulationError(f"cannot open HCI transport {spec!r}: {exc}", spec=spec) from exc
        device = Device.with_hci(
            "somatrace-central", Address(address), transport.source, transport.sink
        )
        try:
            await asyncio.wait_for(device.power_on(), timeout=10.0)
        except (TimeoutError, bumble_core.BaseBumbleError) as exc:
            await transport.close()
            raise EmulationError(
                f"no Bluetooth controller answered on {spec!r}: {exc!r}", spec=spec
            ) from exc
        return cls(device, transport)

    def backend(self) -> BleBackend:
        """bleak backend classes bound to this central."""
        central = self

        class Scanner(BumbleScannerBackend):
            _central: ClassVar[BumbleCentral | None] = central

        class Client(BumbleClientBackend):
            _central: ClassVar[BumbleCentral | None] = central

        return BleBackend(scanner=Scanner, client=Client)

    async def add_scanner(self, scanner: BumbleScannerBackend) -> None:
        """Start delivering advertisements to ``scanner`` (scanning starts with the first one)."""
        async with self._scan_lock:
            if not self._scanners:
                await self.device.start_scanning(filter_duplicates=False)
            self._scanners.append(scanner)

    async def remove_scanner(self, scanner: BumbleScannerBackend) -> None:
        """Stop delivering advertisements to ``scanner`` (scanning stops with the last one)."""
        async with self._scan_lock:
            if scanner in self._scanners:
                self._scanners.remove(scanner)
            if not self._scanners and self.device.scanning:
                await self.device.stop_scanning()

    def _on_advertisement(self, advertisement: Advertisement) -> None:
        for scanner in list(self._scanners):
            scanner.on_advertisement(advertisement)

    async def close(self) -> None:
        """Disconnect, stop scanning and close the transport."""
        self._scanners.clear()
        with contextlib.suppress(*_BUMBLE_ERRORS):
            if self.device.scanning:
                await self.device.stop_scanning()
        for connection in list(self.device.connections.values()):
            with contextlib.suppress(*_BUMBLE_ERRORS):
                await asyncio.wait_for(
                    connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR), 2.0
                )
        if self._transport is not None:
            await self._transport.close()
            self._transport = None


def _central_of(cls: type[BumbleScannerBackend] | type[BumbleClientBackend]) -> BumbleCentral:
    central = cls._central
    if central is None:
        raise BleakError("bumble backend used without a central: use BumbleCentral.backend()")
    return central


class BumbleScannerBackend(BaseBleakScanner):
    """bleak scanner backend fed by a :class:`BumbleCentral`'s advertisement reports."""

    _central: ClassVar[BumbleCentral | None] = None

    def __init__(
        self,
        detection_callback: Callable[[BLEDevice, AdvertisementData], Any] | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning_mode = scanning_mode

    async def start(self) -> None:
        self.seen_devices = {}
        with _as_bleak_error("bumble scan start"):
            await _central_of(type(self)).add_scanner(self)

    async def stop(self) -> None:
        with _as_bleak_error("bumble scan stop"):
            await _central_of(type(self)).remove_scanner(self)

    def on_advertisement(self, advertisement: Advertisement) -> None:
        """Turn one bumble advertisement report into bleak's device and advertisement data."""
        data = advertisement.data
        name = data.get(AdvertisingData.COMPLETE_LOCAL_NAME) or data.get(
            AdvertisingData.SHORTENED_LOCAL_NAME
        )
        uuids: list[str] = []
        for ad_type in (
            AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            for uuid in data.get(ad_type) or []:
                uuids.append(_uuid_str(uuid))
        manufacturer: dict[int, bytes] = {}
        raw_manufacturer = data.get(AdvertisingData.MANUFACTURER_SPECIFIC_DATA)
        if raw_manufacturer:
            company_id, payload = raw_manufacturer
            manufacturer[int(company_id)] = bytes(payload)
        local_name = str(name) if name is not None else None
        if not self.is_allowed_uuid(uuids):
            return
        adv = AdvertisementData(
            local_name=local_name,
            manufacturer_data=manufacturer,
            service_data={},
            service_uuids=uuids,
            tx_power=None,
            rssi=int(advertisement.rssi),
            platform_data=(advertisement,),
        )
        address = _address_str(advertisement.address)
        previous = self.seen_devices.get(address)
        if local_name is None and previous is not None:
            local_name = previous[0].name
        device = self.create_or_update_device(address, address, local_name, advertisement, adv)
        self.call_detection_callbacks(device, adv)


class BumbleClientBackend(BaseBleakClient):
    """bleak client backend: connects the shared bumble central to a peripheral, maps its GATT."""

    _central: ClassVar[BumbleCentral | None] = None

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(
            address_or_ble_device,
            disconnected_callback=kwargs.pop("disconnected_callback", None),
            timeout=kwargs.pop("timeout", 10.0),
        )
        self._peer_address: Address
        self._name = self.address
        if isinstance(address_or_ble_device, BLEDevice):
            self._name = address_or_ble_device.name or self.address
            details = address_or_ble_device.details
            self._peer_address = (
                details.address
                if isinstance(details, Advertisement)
                else Address(address_or_ble_device.address)
            )
        else:
            self._peer_address = Address(address_or_ble_device)
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._subscriptions: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        return self._connection.att_mtu if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    def _on_disconnection(self, reason: int) -> None:
        logger.debug("bumble link to %s down, reason 0x%02x", self.address, reason)
        was_connected = self._connection is not None
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        if was_connected and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        device = _central_of(type(self)).device
        try:
            async with asyncio.timeout(self._timeout):
                with _as_bleak_error(f"bumble connection to {self.address}"):
                    connection = await device.connect(self._peer_address)
                    self._connection = connection
                    connection.on(Connection.EVENT_DISCONNECTION, self._on_disconnection)
                    peer = Peer(connection)
                    self._peer = peer
                    await peer.request_mtu(CENTRAL_ATT_MTU)
                    self.services = await self._discover(peer)
                    if pair:
                        await connection.pair()
        except TimeoutError as exc:
            await self._abandon()
            raise BleakDeviceNotFoundError(
                self.address, f"connection to {self.address} timed out"
            ) from exc
        except (BleakError, asyncio.CancelledError):
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        connection, self._connection, self._peer = self._connection, None, None
        device = _central_of(type(self)).device
        with contextlib.suppress(*_BUMBLE_ERRORS, TimeoutError):
            if connection is not None:
                await asyncio.wait_for(
                    connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR), 2.0
                )
            elif device.is_le_connecting:
                await device.cancel_connection()  # type: ignore[no-untyped-call]

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for service in await peer.discover_services():
            bleak_service = BleakGATTService(service, service.handle, _uuid_str(service.uuid))
            collection.add_service(bleak_service)
            for char in await peer.discover_characteristics(service=service):
                names = [name for flag, name in _PROPERTY_NAMES if char.properties & flag]
                bleak_char = BleakGATTCharacteristic(
                    char,
                    char.handle,
                    _uuid_str(char.uuid),
                    names,
                    lambda: self.mtu_size - 3,
                    bleak_service,
                )
                collection.add_characteristic(bleak_char)
                for descriptor in await peer.discover_descriptors(characteristic=char):
                    collection.add_descriptor(
                        BleakGATTDescriptor(
                            descriptor,
                            descriptor.handle,
                            _uuid_str(descriptor.type),
                            bleak_char,
                        )
                    )
        return collection

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError("Not connected")
        return self._peer

    async def disconnect(self) -> None:
        connection = self._connection
        if connection is None:
            return
        self._connection = None
        self._peer = None
        self._subscriptions.clear()
        with _as_bleak_error("bumble disconnect"):
            await connection.disconnect(HCI_REMOTE_USER_TERMINATED_CONNECTION_ERROR)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        if self._connection is None:
            raise BleakError("Not connected")
        with _as_bleak_error("bumble pairing"):
            await self._connection.pair()

    async def unpair(self) -> None:
        keystore = _central_of(type(self)).device.keystore
        if keystore is not None:
            with contextlib.suppress(KeyError):
                await keystore.delete(str(self._peer_address))
        await self.disconnect()

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        with _as_bleak_error(f"read of {characteristic.uuid}"):
            return bytearray(await peer.read_value(characteristic.obj))

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        peer = self._require_peer()
        with _as_bleak_error(f"read of descriptor {descriptor.uuid}"):
            return bytearray(await peer.read_value(descriptor.obj))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        peer = self._require_peer()
        with _as_bleak_error(f"write of {characteristic.uuid}"):
            await peer.write_value(characteristic.obj, bytes(data), with_response=response)

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        peer = self._require_peer()
        with _as_bleak_error(f"write of descriptor {descriptor.uuid}"):
            await peer.write_value(descriptor.obj, bytes(data), with_response=True)

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        peer = self._require_peer()

        def subscriber(value: bytes) -> None:
            callback(bytearray(value))

        with _as_bleak_error(f"subscribe to {characteristic.uuid}"):
            await peer.subscribe(characteristic.obj, subscriber)
        self._subscriptions[characteristic.handle] = subscriber

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        peer = self._require_peer()
        subscriber = self._subscriptions.pop(characteristic.handle, None)
        with _as_bleak_error(f"unsubscribe from {characteristic.uuid}"):
            await peer.unsubscribe(characteristic.obj, subscriber)
