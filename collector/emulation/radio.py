"""An in-process virtual radio: one bumble ``LocalLink`` joining the central and emulated straps.

Create it inside the event loop that uses it (bumble binds futures to the running loop).
"""

from __future__ import annotations

import asyncio
from types import TracebackType

from bumble.link import LocalLink

from collector.ble import BleBackend
from collector.emulation.backend import BumbleCentral
from collector.emulation.strap import EmulatedStrap, StrapEmulationError


class VirtualRadio:
    """A ``LocalLink`` with a central (the computer's adapter) and any number of straps."""

    def __init__(self) -> None:
        self.link = LocalLink()  # type: ignore[no-untyped-call]
        self._central: BumbleCentral | None = None
        self.straps: list[EmulatedStrap] = []

    @property
    def central(self) -> BumbleCentral:
        """The central (after :meth:`start`)."""
        if self._central is None:
            raise StrapEmulationError("virtual radio not started")
        return self._central

    @property
    def backend(self) -> BleBackend:
        """bleak backend classes that reach this radio's straps."""
        return self.central.backend()

    async def start(self) -> VirtualRadio:
        """Power the central on."""
        if self._central is None:
            self._central = await BumbleCentral.on_link(self.link)
        return self

    async def add_strap(self, strap: EmulatedStrap) -> EmulatedStrap:
        """Power ``strap`` on this radio; it starts advertising."""
        await strap.start(self.link)
        self.straps.append(strap)
        return strap

    async def close(self) -> None:
        """Stop every strap and the central, then let pending radio events drain."""
        for strap in self.straps:
            await strap.stop()
        if self._central is not None:
            await self._central.close()
        for _ in range(20):
            await asyncio.sleep(0)

    async def __aenter__(self) -> VirtualRadio:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
