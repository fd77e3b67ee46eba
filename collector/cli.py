"""``somatrace scan | pair | record | upload | status | service | strap-emulator``: the collector's
commands.

Pairing (server URL, device token, strap) is JSON in the user config dir; the spool is in the user
data dir; the status file in the user runtime dir. The work is done by ``collector.ble``,
``collector.recorder``, ``collector.unattended``, ``collector.uploader`` and ``collector.systemd``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs
import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from collector.ble import BleBackend, LinkState, StrapClient, scan
from collector.clock import describe_offset
from collector.errors import CollectorError
from collector.journal import log_to_journal
from collector.recorder import LiveState, Recorder, RecordingSummary
from collector.spool import Spool
from collector.status import (
    SpoolView,
    default_status_path,
    find_status,
    read_spool,
    status_json,
    status_lines,
)
from collector.systemd import UNIT_NAME, UnitOptions, install_unit, unit_dir, unit_text
from collector.unattended import UnattendedRecorder
from collector.uploader import Uploader
from collector.verdict import MorningVerdict, morning_verdict
from collector.writer import SpoolWriter

if TYPE_CHECKING:
    from collector.emulation.backend import BumbleCentral

MORNING_READING_S = 300.0
CONFIG_FILE = "collector.json"
SPOOL_FILE = "spool.sqlite3"

console = Console()


class ConfigError(CollectorError):
    """The pairing config is missing, unreadable or incomplete."""


@dataclass(frozen=True)
class PairingConfig:
    """What ``somatrace pair`` stores."""

    server_url: str | None = None
    device_token: str | None = None
    strap: str | None = None


def default_config_path() -> Path:
    """``<user config dir>/somatrace/collector.json``."""
    return Path(platformdirs.user_config_dir("somatrace")) / CONFIG_FILE


def default_spool_path() -> Path:
    """``<user data dir>/somatrace/spool.sqlite3``."""
    return Path(platformdirs.user_data_dir("somatrace")) / SPOOL_FILE


def load_config(path: Path) -> PairingConfig:
    """Read the pairing config (an empty one when the file does not exist).

    Raises
    ------
    ConfigError
        When the file is not a JSON object of strings.
    """
    if not path.exists():
        return PairingConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read pairing config {path}: {exc}", path=str(path)) from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"pairing config {path} is not a JSON object", path=str(path))
    values: dict[str, str | None] = {}
    for key in ("server_url", "device_token", "strap"):
        value = raw.get(key)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"pairing config {path}: {key} must be a string", path=str(path))
        values[key] = value
    return PairingConfig(**values)


def save_config(path: Path, config: PairingConfig) -> None:
    """Write the pairing config readable by the user only (it holds the device token)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(config), indent=2) + "\n", encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(path)


def _emulation() -> None:
    """Fail with the install command when bumble (``somatrace[emulator]``) is missing."""
    try:
        import bumble  # noqa: F401
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "the emulated strap needs the emulator packages: pip install 'somatrace[emulator]'",
            missing=exc.name,
        ) from None


async def _open_backend(
    transport: str | None,
) -> tuple[BleBackend | None, BumbleCentral | None]:
    """No transport: the platform's bleak backend. Otherwise a bumble central over ``transport``
    (imported only then: bumble is for the emulator)."""
    if transport is None:
        return None, None
    _emulation()
    from collector.emulation.backend import BumbleCentral

    central = await BumbleCentral.over_transport(transport)
    return central.backend(), central


async def _close_backend(central: BumbleCentral | None) -> None:
    if central is not None:
        await central.close()


_CONFIG_OPTION = typer.Option(
    None, "--config", metavar="FILE", help="Pairing config file (JSON; default: user config dir)."
)
_SPOOL_OPTION = typer.Option(
    None, "--spool", metavar="FILE", help="Spool file (default: user data dir)."
)
_TRANSPORT_OPTION = typer.Option(
    None,
    "--transport",
    metavar="TRANSPORT",
    help="Talk to an emulated strap instead of this computer's Bluetooth adapter: the bumble HCI "
    "transport `somatrace strap-emulator` prints (e.g. tcp-client:127.0.0.1:9001).",
)


def scan_command(
    timeout: float = typer.Option(
        5.0, "--timeout", min=0.1, metavar="SECONDS", help="Seconds to scan."
    ),
    transport: str | None = _TRANSPORT_OPTION,
) -> None:
    """List nearby heart-rate straps: name, address, signal strength."""

    async def run() -> list[tuple[str, str, int]]:
        backend, central = await _open_backend(transport)
        try:
            adverts = await scan(timeout, backend=backend)
        finally:
            await _close_backend(central)
        return [(a.name or "?", a.address, a.rssi_dbm) for a in adverts]

    rows = asyncio.run(run())
    if not rows:
        console.print("No heart-rate strap found. Wet the strap's electrodes and put it on.")
        raise typer.Exit(1)
    table = Table(title="Heart-rate straps")
    table.add_column("name")
    table.add_column("address")
    table.add_column("RSSI (dBm)", justify="right")
    for name, address, rssi in rows:
        table.add_row(name, address, str(rssi))
    console.print(table)


def pair_command(
    server: str | None = typer.Option(None, "--server", help="Somatrace server URL."),
    token: str | None = typer.Option(None, "--token", help="Device token from the server."),
    strap: str | None = typer.Option(None, "--strap", help="Strap address or name."),
    timeout: float = typer.Option(
        5.0, "--timeout", min=0.1, metavar="SECONDS", help="Seconds to scan."
    ),
    config: Path | None = _CONFIG_OPTION,
    transport: str | None = _TRANSPORT_OPTION,
) -> None:
    """Store the server URL, device token and strap (scans for the strap when none is given)."""
    path = config or default_config_path()
    current = load_config(path)
    if server is not None and not server.startswith(("http://", "https://")):
        raise ConfigError(f"server URL must start with http:// or https://, got {server!r}")
    chosen = strap
    if chosen is None:

        async def find() -> str | None:
            backend, central = await _open_backend(transport)
            try:
                adverts = await scan(timeout, backend=backend)
            finally:
                await _close_backend(central)
            return adverts[0].address if adverts else None

        chosen = asyncio.run(find())
        if chosen is None:
            raise ConfigError("no heart-rate strap found; pass --strap ADDRESS or wear the strap")
    new = PairingConfig(
        server_url=server or current.server_url,
        device_token=token or current.device_token,
        strap=chosen,
    )
    save_config(path, new)
    console.print(f"Paired strap {chosen} (config {path}).")


def _render(state: LiveState, title: str, remaining_s: float | None) -> Group:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()

    def fmt(value: float | int | None, unit: str, digits: int = 0) -> str:
        return "—" if value is None else f"{value:.{digits}f} {unit}"

    contact = {True: "yes", False: "NO — wet the electrodes", None: "not reported"}[state.contact]
    strap = state.strap.name or state.strap.address if state.strap else "—"
    rows = [
        ("connection", f"{state.link_state.value}  {strap}"),
        ("heart rate", fmt(state.heart_rate_bpm, "bpm")),
        ("last RR", fmt(state.last_rr_ms, "ms")),
        ("RMSSD (30 beats)", fmt(state.rmssd_ms, "ms", 1)),
        ("sensor contact", contact),
        ("battery", fmt(state.battery_pct, "%")),
        ("beats spooled / uploaded", f"{state.beats_spooled} / {state.beats_uploaded}"),
        ("gaps / dropped / malformed", f"{state.gaps} / {state.dropped} / {state.malformed}"),
    ]
    if state.ecg_samples or state.ecg_note:
        rows.append(("ECG samples", state.ecg_note or str(state.ecg_samples)))
    if state.upload_error:
        rows.append(("upload", state.upload_error))
    if remaining_s is not None:
        hint = " — sit still, breathe normally" if "Morning" in title else ""
        rows.append(("remaining", f"{max(0.0, remaining_s):.0f} s{hint}"))
    for key, value in rows:
        table.add_row(key, value)
    return Group(Text(title, style="bold cyan"), table)


def _print_summary(summary: RecordingSummary) -> None:
    console.print(
        f"Recorded {summary.beats_spooled} beats in {summary.duration_s:.0f} s "
        f"({summary.connections} connection(s), {summary.gaps} gap(s), "
        f"{summary.dropped} impossible RR dropped, {summary.malformed} malformed packets)."
    )
    console.print(
        f"Spool: {summary.beats_uploaded} uploaded, {summary.beats_pending} waiting for upload."
    )
    if summary.ecg_path is not None:
        console.print(f"ECG: {summary.ecg_samples} samples in {summary.ecg_path}")


def _print_verdict(verdict: MorningVerdict) -> None:
    rmssd = "—" if verdict.rmssd_ms is None else f"{verdict.rmssd_ms:.1f} ms"
    console.print(
        f"Morning reading: {verdict.grade.upper()} — {verdict.beats} beats "
        f"(about {verdict.expected_beats} expected), {verdict.artifact_share:.1%} artifacts, "
        f"RMSSD {rmssd}. Not a diagnosis."
    )
    for reason in verdict.reasons:
        console.print(f"  · {reason}")


def record_command(
    morning: bool = typer.Option(False, "--morning", help="Guided 5-minute still reading."),
    ecg: bool = typer.Option(False, "--ecg", help="Also record Polar ECG next to the beats."),
    duration: float | None = typer.Option(
        None, "--duration", min=0.5, metavar="SECONDS", help="Stop after this many seconds."
    ),
    strap: str | None = typer.Option(
        None, "--strap", metavar="ADDRESS|NAME", help="Strap address or name (else the paired one)."
    ),
    no_upload: bool = typer.Option(False, "--no-upload", help="Only spool; upload later."),
    unattended: bool = typer.Option(
        False,
        "--unattended",
        help="Run for ever without a terminal (a service): wait for the strap, record whenever it "
        "is worn, upload in the background, log to stderr for the journal.",
    ),
    status_file: Path | None = typer.Option(
        None,
        "--status-file",
        metavar="FILE",
        help="Where --unattended writes its state for `somatrace status` (default: runtime dir).",
    ),
    low_space_mb: float = typer.Option(
        100.0,
        "--low-space-mb",
        min=0.0,
        metavar="MB",
        help="Warn when the spool's disk has less free space than this (MB).",
    ),
    config: Path | None = _CONFIG_OPTION,
    spool_path: Path | None = _SPOOL_OPTION,
    transport: str | None = _TRANSPORT_OPTION,
) -> None:
    """Record heartbeats with a live view until Ctrl-C (or --duration, or the morning reading);
    with --unattended, as a service until stopped."""
    settings = load_config(config or default_config_path())
    target = strap or settings.strap
    if not target:
        raise ConfigError("no strap paired: run `somatrace pair` or pass --strap")
    path = spool_path or default_spool_path()
    if unattended:
        if morning or duration is not None or ecg:
            raise ConfigError("--unattended runs until stopped: drop --morning, --duration, --ecg")
        log_to_journal()
        asyncio.run(
            _record_unattended(
                target,
                settings,
                path,
                status_file or default_status_path(),
                int(low_space_mb * 1e6),
                no_upload,
                transport,
            )
        )
        return
    length_s = duration if duration is not None else (MORNING_READING_S if morning else None)
    summary = asyncio.run(
        _record(target, settings, path, length_s, morning, ecg, no_upload, transport)
    )
    _print_summary(summary)
    if morning:
        _print_verdict(
            morning_verdict(
                summary.session_rr_ms, summary.session_breaks, length_s or MORNING_READING_S
            )
        )


async def _record(
    target: str,
    settings: PairingConfig,
    spool_path: Path,
    length_s: float | None,
    morning: bool,
    ecg: bool,
    no_upload: bool,
    transport: str | None,
) -> RecordingSummary:
    backend, central = await _open_backend(transport)
    spool = Spool(spool_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        uploader = None
        if settings.server_url and settings.device_token and not no_upload:
            uploader = Uploader(spool, settings.server_url, settings.device_token)
        client = StrapClient(target, backend=backend, ecg=ecg)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        ecg_path = spool_path.parent / "ecg" / f"ecg-{stamp}.csv" if ecg else None
        recorder = Recorder(spool, client, uploader=uploader, ecg_path=ecg_path)
        title = "Morning reading" if morning else "Recording — Ctrl-C to stop"
        started = time.monotonic()
        reading_started: float | None = None

        def remaining() -> float | None:
            nonlocal reading_started
            if length_s is None:
                return None
            if morning:
                if reading_started is None and recorder.state.link_state is LinkState.CONNECTED:
                    reading_started = time.monotonic()
                return (
                    length_s
                    if reading_started is None
                    else length_s - (time.monotonic() - reading_started)
                )
            return length_s - (time.monotonic() - started)

        async def timer() -> None:
            while not stop.is_set():
                left = remaining()
                if left is not None and left <= 0:
                    stop.set()
                    return
                await asyncio.sleep(0.1)

        timer_task = asyncio.create_task(timer())
        run_task = asyncio.create_task(recorder.run(stop))
        with Live(
            _render(recorder.state, title, remaining()), console=console, refresh_per_second=4
        ) as live:
            while not run_task.done():
                await asyncio.wait({run_task}, timeout=0.25)
                live.update(_render(recorder.state, title, remaining()))
        if not console.is_terminal:
            console.print()
        timer_task.cancel()
        return run_task.result()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
        spool.close()
        await _close_backend(central)


async def _record_unattended(
    target: str,
    settings: PairingConfig,
    spool_path: Path,
    status_path: Path,
    low_space_bytes: int,
    no_upload: bool,
    transport: str | None,
) -> None:
    backend, central = await _open_backend(transport)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    spool = Spool(spool_path)
    try:
        uploader = None
        if settings.server_url and settings.device_token and not no_upload:
            uploader = Uploader(
                spool, settings.server_url, settings.device_token, retry_rejected_token=True
            )
        elif not no_upload:
            logging.getLogger(__name__).warning(
                "no server paired: recording only (`somatrace pair --server URL --token TOKEN`)"
            )
        runner = UnattendedRecorder(
            spool,
            target,
            uploader=uploader,
            writer=SpoolWriter(spool, low_space_bytes=low_space_bytes),
            status_path=status_path,
            backend=backend,
        )
        await runner.run(stop)
    finally:
        spool.close()
        await _close_backend(central)


def upload_command(
    show_status: bool = typer.Option(
        False, "--status", help="Only show what waits for upload and what the server refused."
    ),
    retry_quarantined: bool = typer.Option(
        False,
        "--retry-quarantined",
        help="Send the batches the server refused (quarantined) again, then everything else.",
    ),
    config: Path | None = _CONFIG_OPTION,
    spool_path: Path | None = _SPOOL_OPTION,
) -> None:
    """Send every spooled beat to the server now (--status: only show the spool's state)."""
    if show_status:
        path = spool_path or default_spool_path()
        view = read_spool(path)
        if view is None:
            console.print(f"No spool at {path} yet.")
            return
        _print_quarantine(view)
        return
    settings = load_config(config or default_config_path())
    if not settings.server_url or not settings.device_token:
        raise ConfigError("no server paired: run `somatrace pair --server URL --token TOKEN`")
    spool = Spool(spool_path or default_spool_path())
    if retry_quarantined:
        released = spool.release_quarantine()
        console.print(f"Retrying {released} quarantined batch(es).")

    async def run() -> None:
        assert settings.server_url is not None and settings.device_token is not None
        uploader = Uploader(spool, settings.server_url, settings.device_token)
        try:
            result = await uploader.upload_pending()
        finally:
            await uploader.aclose()
        console.print(
            f"Uploaded {result.batches_sent} batch(es): {result.accepted} new beats, "
            f"{result.duplicates} already on the server, {result.pending} still pending."
        )
        if uploader.clock_check.offset_s is not None and not uploader.clock_check.agrees:
            console.print(f"Clock: {describe_offset(uploader.clock_check.offset_s)}")
        if result.error:
            raise CollectorError(f"upload incomplete: {result.error}")
        if result.quarantined_pending:
            raise CollectorError(
                f"{result.quarantined_pending} beats are quarantined (the server refused them): "
                "see `somatrace upload --status`, retry with `somatrace upload --retry-quarantined`"
            )

    try:
        asyncio.run(run())
    finally:
        spool.close()


def _print_quarantine(view: SpoolView) -> None:
    st = view.stats
    console.print(
        f"Spool {view.path}: {st.pending} beats pending, {st.uploaded} uploaded, "
        f"{st.quarantined_batches} batch(es) quarantined ({st.quarantined_beats} beats)."
    )
    if not view.quarantined:
        return
    table = Table(title="Quarantined batches (refused by the server)")
    for column in ("batch", "beats", "first beat (UTC)", "HTTP", "server's reason"):
        table.add_column(column)
    for q in view.quarantined:
        first = (
            datetime.fromtimestamp(q.first_t_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
            if q.first_t_ms is not None
            else "—"
        )
        table.add_row(str(q.batch_id), str(q.beats), first, str(q.status), q.reason)
    console.print(table)
    console.print("Retry them with `somatrace upload --retry-quarantined`.")


def status_command(
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    status_file: Path | None = typer.Option(
        None, "--status-file", metavar="FILE", help="Status file of the recorder to show."
    ),
    spool_path: Path | None = _SPOOL_OPTION,
) -> None:
    """Show the collector's state: strap, last beat, spool, quarantine, disk, last upload, errors."""
    path, status = find_status(status_file)
    spool_file = spool_path or (Path(status.spool_path) if status else default_spool_path())
    view = read_spool(spool_file)
    now_s = time.time()
    if as_json:
        typer.echo(json.dumps(status_json(path, status, view, now_s), indent=2))
        return
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for label, text in status_lines(path, status, view, now_s):
        table.add_row(label, text)
    console.print(table)


service_app = typer.Typer(
    help="Run the collector as a systemd service (unattended, starts at boot or login).",
    no_args_is_help=True,
)
_USER_UNIT_OPTION = typer.Option(
    False,
    "--user",
    help="A user unit (~/.config/systemd/user; starts at login) instead of a system one.",
)


def _unit_options(user_unit: bool, config: Path | None, spool_path: Path | None) -> UnitOptions:
    return UnitOptions(
        user_unit=user_unit,
        config=config or default_config_path(),
        spool=spool_path or default_spool_path(),
    )


@service_app.command("unit")
def service_unit_command(
    user_unit: bool = _USER_UNIT_OPTION,
    config: Path | None = _CONFIG_OPTION,
    spool_path: Path | None = _SPOOL_OPTION,
) -> None:
    """Print the systemd unit that runs `somatrace record --unattended`."""
    typer.echo(unit_text(_unit_options(user_unit, config, spool_path)), nl=False)


@service_app.command("install")
def service_install_command(
    user_unit: bool = _USER_UNIT_OPTION,
    unit_dir_path: Path | None = typer.Option(
        None,
        "--unit-dir",
        metavar="DIR",
        help="Write the unit here instead of systemd's directory.",
    ),
    enable: bool = typer.Option(
        True, "--enable/--no-enable", help="Run systemctl daemon-reload and enable --now."
    ),
    config: Path | None = _CONFIG_OPTION,
    spool_path: Path | None = _SPOOL_OPTION,
) -> None:
    """Write the unit and enable it (systemctl [--user] enable --now somatrace-collector)."""
    options = _unit_options(user_unit, config, spool_path)
    if not options.config.exists():
        raise ConfigError(
            f"no pairing config at {options.config}: run `somatrace pair` first",
            path=str(options.config),
        )
    path = install_unit(options, unit_dir_path or unit_dir(user_unit), enable=enable)
    scope = " --user" if user_unit else ""
    console.print(f"Wrote {path}.")
    if enable:
        console.print(
            f"Enabled and started. Check it with `somatrace status` or "
            f"`journalctl{scope} -u {UNIT_NAME}`."
        )


def strap_emulator_command(
    port: int = typer.Option(..., "--port", min=1, max=65535, help="TCP port for the central."),
    host: str = typer.Option("127.0.0.1", "--host"),
    rr_csv: Path | None = typer.Option(None, "--rr-csv", help="t_offset_ms,rr_ms,hr_bpm CSV."),
    ecg_npz: Path | None = typer.Option(None, "--ecg-npz", help="Polar ECG source (.npz)."),
    name: str = typer.Option("Polar H10 7E3A1F2B", "--name", help="Advertised name."),
) -> None:
    """Run an emulated strap; record from it with `--transport tcp-client:HOST:PORT`."""
    _emulation()
    from collector.emulation.server import serve_strap

    console.print(
        f"Emulated strap {name!r}: somatrace record --strap {name!r} "
        f"--transport tcp-client:{host}:{port}   (Ctrl-C stops)"
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_strap(port, host=host, rr_csv=rr_csv, ecg_npz=ecg_npz, name=name))


def register(app: typer.Typer) -> None:
    """Add the collector's commands to the ``somatrace`` app."""
    app.command("scan")(scan_command)
    app.command("pair")(pair_command)
    app.command("record")(record_command)
    app.command("upload")(upload_command)
    app.command("status")(status_command)
    app.add_typer(service_app, name="service")
    app.command("strap-emulator")(strap_emulator_command)
