"""Uploader: sends spooled batches to the API's ingest endpoint and marks them sent after a 2xx.

Retries with exponential backoff and jitter while the server or network is down; the server's
idempotency (per batch id and beat time) makes re-sending after a crash safe. A batch refused with a
4xx is quarantined in the spool with the server's reason and later batches flow on. Every answer's
``Date`` header feeds the clock check (``collector.clock``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from collector.clock import ClockCheck
from collector.errors import CollectorError
from collector.spool import Spool, SpoolBatch, SpoolError
from wire import INGEST_PATH, MAX_BEATS_PER_BATCH, BatchDoc, encode_batch

__all__ = [
    "DEFAULT_RETENTION_S",
    "INGEST_PATH",
    "DeviceTokenRejected",
    "UploadError",
    "UploadResult",
    "Uploader",
    "batch_payload",
]

logger = logging.getLogger(__name__)

#: Uploaded beats stay in the local spool this long (seconds) before ``prune`` deletes them.
DEFAULT_RETENTION_S = 7 * 24 * 3600.0

_RETRYABLE_4XX = frozenset({408, 425, 429})


class UploadError(CollectorError):
    """Uploading failed in a way that retrying will not fix."""


class DeviceTokenRejected(UploadError):
    """The server refused the device token (401/403): pair the collector again."""


@dataclass(frozen=True, slots=True)
class UploadResult:
    """Outcome of one ``upload_pending`` round.

    Attributes
    ----------
    batches_sent:
        Batches acknowledged with a 2xx in this round.
    accepted:
        Beats the server reported as newly stored.
    duplicates:
        Beats the server already had (re-sent batches after a crash).
    pending:
        Beats still waiting in the spool after the round (quarantined ones included).
    error:
        Why the round stopped early on a retryable failure (network, 5xx, 429, full disk), else
        ``None``.
    quarantined:
        Batches the server refused in this round (set aside with its reason).
    quarantined_pending:
        Beats waiting in quarantine after the round.
    """

    batches_sent: int
    accepted: int
    duplicates: int
    pending: int
    error: str | None = None
    quarantined: int = 0
    quarantined_pending: int = 0

    @property
    def complete(self) -> bool:
        """Whether everything spooled has been acknowledged."""
        return self.error is None and self.pending == 0


def batch_payload(batch: SpoolBatch) -> BatchDoc:
    """The wire contract's document for a spooled batch (``wire.encode_batch``)."""
    return encode_batch(
        batch.batch_id,
        ((b.t_ms, b.rr_ticks) for b in batch.beats),
        ((g.start_ms, g.end_ms) for g in batch.gaps),
        batch.strap,
    )


def _detail(response: httpx.Response) -> str:
    """The server's explanation: the API's ``{"error": {"message", "fields"}}`` envelope, a
    FastAPI ``{"detail": ...}`` body, or the raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "message" in error:
            fields = error.get("fields")
            extra = f" {json.dumps(fields)[:400]}" if fields else ""
            return f"{error['message']}{extra}"[:500]
        if "detail" in body:
            return str(body["detail"])[:500]
    return str(body)[:500]


class Uploader:
    """Sends the spool's batches to ``{server_url}/v1/ingest/beats`` with the device token.

    Parameters
    ----------
    spool:
        The spool to drain.
    server_url:
        Base URL of the Somatrace API (``http://`` or ``https://``).
    device_token:
        Bearer token issued when the device was paired.
    max_batch_beats:
        Beats per batch; halved on 413 (payload too large).
    timeout_s:
        Per-request timeout.
    backoff_initial_s, backoff_max_s:
        Exponential backoff bounds for retries (each delay is jittered in [d/2, d]).
    poll_interval_s:
        How often ``run`` looks for new beats when everything is uploaded.
    min_interval_s:
        Shortest spacing of upload rounds when ``wake`` is called after every notification, so a
        recording is sent in batches of several seconds, not one request per heartbeat.
    prune_interval_s:
        How often ``run`` prunes acknowledged beats older than ``retention_s``.
    retention_s:
        Uploaded beats older than this are pruned by ``run``; ``None`` keeps them.
    transport:
        Optional httpx transport (tests, proxies).
    rng:
        Source of jitter.
    clock:
        Wall clock (Unix seconds) compared with the server's ``Date`` header.
    retry_rejected_token:
        ``run`` keeps going after 401/403 (every ``backoff_max_s``; the unattended service, where
        re-pairing replaces the token) instead of raising.

    Raises
    ------
    UploadError
        When the server URL is not an http(s) URL or the token is empty.
    """

    def __init__(
        self,
        spool: Spool,
        server_url: str,
        device_token: str,
        *,
        max_batch_beats: int = 5000,
        timeout_s: float = 30.0,
        backoff_initial_s: float = 1.0,
        backoff_max_s: float = 300.0,
        poll_interval_s: float = 30.0,
        min_interval_s: float = 5.0,
        prune_interval_s: float = 600.0,
        retention_s: float | None = DEFAULT_RETENTION_S,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.time,
        retry_rejected_token: bool = False,
    ) -> None:
        parts = urlsplit(server_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UploadError(f"server URL must be http(s)://host[:port], got {server_url!r}")
        if not device_token:
            raise UploadError("device token is empty; pair the collector first")
        if not 1 <= max_batch_beats <= MAX_BEATS_PER_BATCH:
            raise UploadError(
                f"max_batch_beats must be 1-{MAX_BEATS_PER_BATCH}, got {max_batch_beats}"
            )
        self.spool = spool
        self.ingest_url = server_url.rstrip("/") + INGEST_PATH
        self._token = device_token
        self.max_batch_beats = max_batch_beats
        self._timeout_s = timeout_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._poll_interval_s = poll_interval_s
        self._min_interval_s = min_interval_s
        self._prune_interval_s = prune_interval_s
        self._last_round = float("-inf")
        self._last_prune = float("-inf")
        self._retention_s = retention_s
        self._transport = transport
        self._rng = rng or random.Random()  # noqa: S311 - retry jitter, not cryptography
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        #: Consecutive failed rounds (0 after a successful one), for status displays.
        self.failures = 0
        #: Last retryable or rejection error, for status displays.
        self.last_error: str | None = None
        self._clock = clock
        self.retry_rejected_token = retry_rejected_token
        #: This computer's clock against the server's (``Date`` header of every answer).
        self.clock_check = ClockCheck()
        #: When the server last acknowledged a batch (Unix seconds, this process), or None.
        self.last_upload_s: float | None = None
        #: Whether the server refused the device token on the last attempt.
        self.token_rejected = False

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                timeout=self._timeout_s,
                transport=self._transport,
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "User-Agent": "somatrace-collector",
                },
            )
        return self._client

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        """Ask a running ``run`` loop to look for new beats soon: at most ``min_interval_s`` after
        its previous round (ignored while backing off after a failure)."""
        self._wake.set()

    def backoff_s(self, attempt: int) -> float:
        """Delay before retry number ``attempt`` (1-based): ``d = min(max, initial·2^(n-1))``,
        jittered uniformly in [d/2, d]."""
        exp = min(self._backoff_max_s, self._backoff_initial_s * 2.0 ** max(0, attempt - 1))
        return exp / 2 + self._rng.uniform(0, exp / 2)

    async def upload_pending(self) -> UploadResult:
        """Send batches until the spool is drained or a retryable failure stops the round.

        A batch refused with a 4xx other than 401/403/408/425/429 (and 413 for a batch of more than
        one beat, which is split) is quarantined with the server's reason, and the round goes on.

        Returns
        -------
        UploadResult
            Counts of this round; ``error`` is set when the network, the server or the spool's disk
            failed (retry later).

        Raises
        ------
        DeviceTokenRejected
            On 401/403.
        """
        sent = accepted = duplicates = quarantined = 0
        error: str | None = None
        while True:
            try:
                batch = await asyncio.to_thread(self.spool.next_batch, self.max_batch_beats)
            except SpoolError as exc:
                error = f"cannot read the next batch from the spool: {exc}"
                break
            if batch is None:
                break
            try:
                response = await self._http().post(self.ingest_url, json=batch_payload(batch))
            except httpx.TransportError as exc:
                error = f"cannot reach {self.ingest_url}: {type(exc).__name__}: {exc}"
                break
            self.clock_check.observe(response.headers.get("date"), self._clock())
            status = response.status_code
            if 200 <= status < 300:
                # Acknowledged: from here on the server has the batch, whatever the body says.
                self.token_rejected = False
                self.last_upload_s = self._clock()
                sent += 1
                got_accepted, got_duplicates = self._counts(response, batch)
                accepted += got_accepted
                duplicates += got_duplicates
                try:
                    await asyncio.to_thread(self.spool.mark_sent, batch.batch_id)
                except SpoolError as exc:
                    # Re-sent later and answered as duplicates: nothing is lost.
                    error = (
                        f"the server has batch {batch.batch_id} but the spool cannot note it: {exc}"
                    )
                    break
                continue
            if status in (401, 403):
                self.token_rejected = True
                self.last_error = f"device token rejected ({status}): {_detail(response)}"
                raise DeviceTokenRejected(self.last_error, status=status, url=self.ingest_url)
            if status == 413 and len(batch.beats) > 1:
                await asyncio.to_thread(self.spool.release_batch, batch.batch_id)
                self.max_batch_beats = max(1, len(batch.beats) // 2)
                logger.warning(
                    "server says batch of %d beats is too large; retrying with %d",
                    len(batch.beats),
                    self.max_batch_beats,
                )
                continue
            if status >= 500 or status in _RETRYABLE_4XX:
                error = f"server answered {status}: {_detail(response)}"
                break
            detail = _detail(response)
            self.last_error = f"server refused batch {batch.batch_id} ({status}): {detail}"
            try:
                await asyncio.to_thread(self.spool.quarantine, batch.batch_id, status, detail)
            except SpoolError as exc:
                error = f"{self.last_error}; cannot quarantine it: {exc}"
                break
            quarantined += 1
        try:
            stats = await asyncio.to_thread(self.spool.stats)
        except SpoolError as exc:  # pragma: no cover - reading counters needs no disk space
            raise UploadError(f"cannot read the spool: {exc}") from exc
        if error is not None:
            self.last_error = error
            logger.warning("upload interrupted, will retry: %s", error)
        return UploadResult(
            batches_sent=sent,
            accepted=accepted,
            duplicates=duplicates,
            pending=stats.pending,
            error=error,
            quarantined=quarantined,
            quarantined_pending=stats.quarantined_beats,
        )

    @staticmethod
    def _counts(response: httpx.Response, batch: SpoolBatch) -> tuple[int, int]:
        try:
            body = response.json()
            return int(body["accepted"]), int(body["duplicates"])
        except (ValueError, KeyError, TypeError):
            logger.warning("2xx without accepted/duplicates counts for batch %s", batch.batch_id)
            return len(batch.beats), 0

    async def run(self, stop: asyncio.Event) -> None:
        """Upload until ``stop`` is set: poll, retry with backoff and jitter, prune old beats.

        Raises
        ------
        DeviceTokenRejected
            Retrying cannot help; the caller should ask the user to pair again. With
            ``retry_rejected_token`` the loop logs it and tries again every ``backoff_max_s``.

        Notes
        -----
        A refused batch is quarantined (``upload_pending``) and the loop goes on with the next;
        quarantined beats are never deleted and are retried on demand (``somatrace upload
        --retry-quarantined``).
        """
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                self._last_round = loop.time()
                try:
                    result = await self.upload_pending()
                except DeviceTokenRejected:
                    if not self.retry_rejected_token:
                        raise
                    logger.error("%s; pair again (`somatrace pair --token ...`)", self.last_error)
                    self.failures += 1
                    delay = self._backoff_max_s
                else:
                    if result.error is None:
                        self.failures = 0
                        if not result.quarantined:
                            self.last_error = None
                        delay = self._poll_interval_s
                        if (
                            self._retention_s is not None
                            and loop.time() - self._last_prune >= self._prune_interval_s
                        ):
                            self._last_prune = loop.time()
                            await asyncio.to_thread(self.spool.prune, self._retention_s)
                    else:
                        self.failures += 1
                        delay = self.backoff_s(self.failures)
                await self._sleep(stop, delay)
        finally:
            await self.aclose()

    async def _sleep(self, stop: asyncio.Event, delay_s: float) -> None:
        """Wait ``delay_s`` or until stopped. ``wake`` shortens an idle poll (never a backoff) to
        ``min_interval_s`` after the previous round."""
        self._wake.clear()
        woken = await self._wait(stop, delay_s, wakeable=self.failures == 0)
        if woken and not stop.is_set():
            elapsed = asyncio.get_running_loop().time() - self._last_round
            if elapsed < self._min_interval_s:
                await self._wait(stop, self._min_interval_s - elapsed, wakeable=False)

    async def _wait(self, stop: asyncio.Event, delay_s: float, *, wakeable: bool) -> bool:
        """Wait up to ``delay_s`` for ``stop`` (or ``wake``); return whether ``wake`` fired."""
        stop_task = asyncio.ensure_future(stop.wait())
        tasks = {stop_task}
        wake_task = asyncio.ensure_future(self._wake.wait()) if wakeable else None
        if wake_task is not None:
            tasks.add(wake_task)
        try:
            await asyncio.wait(tasks, timeout=delay_s, return_when="FIRST_COMPLETED")
            return wake_task is not None and wake_task.done() and not wake_task.cancelled()
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
