"""The collector-only install: ``pip install 'somatrace[collector]'`` in a fresh virtual environment
gives working collector commands without the server, analysis or emulator packages.

The wheel is built from a copy of this checkout; pip takes its dependencies from its usual indexes
and its wheel cache (a second run needs no network). The environment's size is printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
SOURCES = ("collector", "analysis", "api", "somatrace", "wire")
META = ("pyproject.toml", "README.md", "LICENSE")
#: Must not be importable in the collector-only environment.
SERVER_MODULES = ("fastapi", "psycopg", "pyarrow", "procrastinate", "numpy", "scipy", "bumble")


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))}
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, env=env, timeout=900
    )


def tree_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.fixture(scope="module")
def lean_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("collector-install")
    src = root / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info")
    for name in SOURCES:
        shutil.copytree(REPO / name, src / name, ignore=ignore)
    for name in META:
        shutil.copy2(REPO / name, src / name)
    wheels = root / "wheels"
    built = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, src)
    assert built.returncode == 0, built.stderr
    (wheel,) = wheels.glob("somatrace-*.whl")
    venv = root / "venv"
    made = run(sys.executable, "-m", "venv", venv)
    assert made.returncode == 0, made.stderr
    installed = run(venv / "bin" / "python", "-m", "pip", "install", "-q", f"{wheel}[collector]")
    assert installed.returncode == 0, installed.stderr
    return venv


def test_collector_commands_work_without_the_server_packages(lean_venv: Path) -> None:
    somatrace = lean_venv / "bin" / "somatrace"
    help_out = run(somatrace, "record", "--help")
    assert help_out.returncode == 0, help_out.stderr
    for option in ("--unattended", "--transport", "--strap", "--spool", "--morning"):
        assert option in help_out.stdout
    for command in ("scan", "pair", "upload", "status"):
        done = run(somatrace, command, "--help")
        assert done.returncode == 0, done.stderr
    status = run(somatrace, "status", "--spool", lean_venv / "no-spool.sqlite3")
    assert status.returncode == 0 and "not running" in status.stdout, status.stderr
    unit = run(somatrace, "service", "unit", "--user")
    assert unit.returncode == 0 and "record --unattended" in unit.stdout
    probe = (
        "import importlib.util, sys\n"
        f"names = {SERVER_MODULES!r}\n"
        "print(','.join(n for n in names if importlib.util.find_spec(n) is not None))\n"
    )
    found = run(lean_venv / "bin" / "python", "-c", probe)
    assert found.returncode == 0 and found.stdout.strip() == "", found.stdout


def test_server_commands_say_what_to_install(lean_venv: Path) -> None:
    somatrace = lean_venv / "bin" / "somatrace"
    for command, extra in (("serve", "server"), ("demo", "demo"), ("analyze", "analysis")):
        done = run(somatrace, command, "--port", "1")
        assert done.returncode == 2
        assert f"pip install 'somatrace[{extra}]'" in done.stderr, done.stderr
    emulator = run(somatrace, "strap-emulator", "--port", "9001")
    assert emulator.returncode == 1 and "somatrace[emulator]" in emulator.stderr
    top = run(somatrace, "--help")
    assert top.returncode == 0 and "not installed" in top.stdout


def test_environment_size_is_reported(lean_venv: Path) -> None:
    size_mb = tree_bytes(lean_venv) / 1e6
    packages = run(lean_venv / "bin" / "python", "-m", "pip", "list", "--format=freeze")
    names = sorted(line.split("==")[0].lower() for line in packages.stdout.split())
    print(
        f"\ncollector-only environment: {size_mb:.1f} MB, {len(names)} packages: {', '.join(names)}"
    )
    assert "fastapi" not in names and "numpy" not in names
    assert size_mb < 100
