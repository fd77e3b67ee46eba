"""A systemd unit for the unattended collector (``somatrace record --unattended``), and installing it.

The text is built here; ``systemctl`` is run by ``install_unit`` only. Recording is
``collector.unattended``.
"""

from __future__ import annotations

import getpass
import logging
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import platformdirs

from collector.errors import CollectorError

logger = logging.getLogger(__name__)

UNIT_NAME: Final[str] = "somatrace-collector.service"
SYSTEM_UNIT_DIR: Final[Path] = Path("/etc/systemd/system")


class ServiceError(CollectorError):
    """The unit cannot be written or systemd refused to enable it."""


@dataclass(frozen=True)
class UnitOptions:
    """What the unit runs: which config and spool, as which user, where the status file goes."""

    user_unit: bool
    config: Path
    spool: Path
    run_as: str | None = None
    executable: tuple[str, ...] = ()


def command_line(options: UnitOptions) -> list[str]:
    """``ExecStart``: this interpreter running the command root, with absolute paths."""
    exe = list(options.executable) or [sys.executable, "-m", "somatrace.cli"]
    return [
        *exe,
        "record",
        "--unattended",
        "--config",
        str(options.config.resolve()),
        "--spool",
        str(options.spool.resolve()),
        "--status-file",
        "%t/somatrace/collector-status.json",
    ]


def unit_text(options: UnitOptions) -> str:
    """The unit file: starts at boot (system) or login (user), restarts on failure, logs to the
    journal; ``%t`` is the runtime directory (``/run`` or ``$XDG_RUNTIME_DIR``)."""
    exec_start = " ".join(
        shlex.quote(a) if not a.startswith("%t") else a for a in command_line(options)
    )
    lines = [
        "[Unit]",
        "Description=Somatrace collector: records the paired heart-rate strap whenever it is worn",
        "After=bluetooth.target network-online.target",
        "Wants=bluetooth.target network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"ExecStart={exec_start}",
        "Restart=always",
        "RestartSec=10",
        "RuntimeDirectory=somatrace",
        "RuntimeDirectoryPreserve=yes",
        "Environment=PYTHONUNBUFFERED=1",
        "SyslogIdentifier=somatrace-collector",
        "# SIGTERM lets the recorder close the link and write what it holds before it exits.",
        "KillSignal=SIGTERM",
        "TimeoutStopSec=30",
    ]
    if not options.user_unit:
        lines.append(f"User={options.run_as or getpass.getuser()}")
    lines += [
        "",
        "[Install]",
        f"WantedBy={'default.target' if options.user_unit else 'multi-user.target'}",
        "",
    ]
    return "\n".join(lines)


def unit_dir(user_unit: bool) -> Path:
    """Where the unit is installed: ``~/.config/systemd/user`` or ``/etc/systemd/system``."""
    if user_unit:
        return Path(platformdirs.user_config_dir("systemd")) / "user"
    return SYSTEM_UNIT_DIR


def install_unit(options: UnitOptions, directory: Path, *, enable: bool = True) -> Path:
    """Write the unit into ``directory`` and (with ``enable``) ``systemctl daemon-reload`` and
    ``enable --now`` it.

    Raises
    ------
    ServiceError
        When the file cannot be written, ``systemctl`` is missing, or it fails.
    """
    path = directory / UNIT_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(unit_text(options), encoding="utf-8")
    except OSError as exc:
        raise ServiceError(f"cannot write {path}: {exc}", path=str(path)) from exc
    if not enable:
        return path
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        raise ServiceError(
            f"wrote {path}, but systemctl is not installed here: start "
            f"`{' '.join(command_line(options))}` by other means",
            path=str(path),
        )
    scope = ["--user"] if options.user_unit else []
    for args in (["daemon-reload"], ["enable", "--now", UNIT_NAME]):
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            [systemctl, *scope, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ServiceError(
                f"wrote {path}, but `systemctl {' '.join([*scope, *args])}` failed: "
                f"{done.stderr.strip() or done.stdout.strip()}",
                path=str(path),
                returncode=done.returncode,
            )
    logger.info("installed and started %s", path)
    return path
