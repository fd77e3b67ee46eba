"""Back-pressure: each API process handles at most ``max_in_flight`` requests of the guarded paths
(beat uploads) at once, and none while its event loop runs late (the process has more work than CPU:
requests are then queueing in front of it, unseen). A request that finds no free slot within
``queue_wait_s``, or arrives while the loop lags more than ``max_loop_lag_s``, is answered 503 with
``Retry-After`` at once instead of queueing for seconds behind the others; collectors keep the batch
and send it again after that delay.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Final

from starlette.types import ASGIApp, Receive, Scope, Send

from api.asgi_errors import json_error_message
from api.metrics import SHED_REQUESTS

logger = logging.getLogger(__name__)

#: Paths guarded by default: beat uploads from collectors and browsers.
GUARDED_PREFIXES: Final[tuple[str, ...]] = ("/v1/ingest/",)
#: Longest wait for a free slot before the request is shed, s.
QUEUE_WAIT_S: Final[float] = 0.05
#: ``Retry-After`` of a shed request, s (clients add their own jitter).
RETRY_AFTER_S: Final[int] = 2
#: Event-loop lag above which uploads are shed, s: a loop this late means requests wait in front of
#: the app for about as long before it even sees them.
MAX_LOOP_LAG_S: Final[float] = 0.25
#: Lag sheds only while at least this many uploads are in flight: a late loop with (almost) nothing
#: to do is a busy machine, not a queue that shedding would shorten.
MIN_IN_FLIGHT_FOR_LAG: Final[int] = 2
#: How often the loop's lag is measured, s.
LAG_PROBE_S: Final[float] = 0.05


class AdmissionMiddleware:
    """Admits at most ``max_in_flight`` guarded requests at once; sheds the rest with 503.

    Parameters
    ----------
    app:
        The ASGI app inside.
    max_in_flight:
        Guarded requests handled at once by this process.
    prefixes:
        Path prefixes that are guarded.
    queue_wait_s:
        How long a request may wait for a slot before it is shed.
    max_loop_lag_s:
        Shed guarded requests while the event loop is this late.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        prefixes: Sequence[str] = GUARDED_PREFIXES,
        queue_wait_s: float = QUEUE_WAIT_S,
        max_loop_lag_s: float = MAX_LOOP_LAG_S,
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.prefixes = tuple(prefixes)
        self.queue_wait_s = queue_wait_s
        self.max_loop_lag_s = max_loop_lag_s
        self.in_flight = 0
        self.shed = 0
        #: The event loop's latest lag, s (how late the probe's sleep ended).
        self.loop_lag_s = 0.0
        self._slots: asyncio.Semaphore | None = None
        self._probe: asyncio.Task[None] | None = None

    async def _probe_lag(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + LAG_PROBE_S
            await asyncio.sleep(LAG_PROBE_S)
            self.loop_lag_s = max(0.0, loop.time() - due)

    async def _refuse(self, send: Send, why: str) -> None:
        self.shed += 1
        SHED_REQUESTS.inc()
        start, body = json_error_message(
            503,
            "overloaded",
            f"the server is busy; send this batch again in {RETRY_AFTER_S} s",
            {"retry_after_s": RETRY_AFTER_S, "in_flight": self.in_flight, "reason": why},
            [(b"retry-after", str(RETRY_AFTER_S).encode())],
        )
        await send(start)
        await send(body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            try:
                await self.app(scope, receive, send)
            finally:  # the app has shut down: so does the lag probe
                if self._probe is not None:
                    self._probe.cancel()
                    self._probe = None
            return
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_in_flight)
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._probe_lag())
        if self.loop_lag_s > self.max_loop_lag_s and self.in_flight >= MIN_IN_FLIGHT_FOR_LAG:
            await self._refuse(send, "event loop behind")
            return
        try:
            await asyncio.wait_for(self._slots.acquire(), timeout=self.queue_wait_s)
        except TimeoutError:
            await self._refuse(send, "all upload slots busy")
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
            self._slots.release()
