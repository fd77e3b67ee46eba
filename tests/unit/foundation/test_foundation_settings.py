"""Settings: weak secrets refused in production by estimated strength; generated secret persisted in
development; trusted proxies parsed."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.errors import ConfigError
from api.settings import Environment, Settings


def test_production_refuses_missing_secret(tmp_path: Path) -> None:
    settings = Settings(environment=Environment.production, data_dir=tmp_path, _env_file=None)
    with pytest.raises(ConfigError) as info:
        settings.signing_secret()
    assert info.value.setting == "SOMATRACE_SECRET_KEY"


@pytest.mark.parametrize("placeholder", ["change-me", "changeme", "secret", ""])
def test_production_refuses_placeholder_secret(tmp_path: Path, placeholder: str) -> None:
    settings = Settings(
        environment=Environment.production,
        data_dir=tmp_path,
        secret_key=placeholder,
        _env_file=None,
    )
    with pytest.raises(ConfigError):
        settings.signing_secret()


@pytest.mark.parametrize(
    "weak",
    [
        "change-me-change-me-change-me-change-me",  # issue 14 finding 6: all three started
        "a" * 32,
        " " * 34,
        "k" * 40,
        "somatrace-production-signing-key-2026",
        "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3xx",
        "qwertyuiopasdfghjklzxcvbnm1234567890",
    ],
)
def test_production_refuses_guessable_secrets(tmp_path: Path, weak: str) -> None:
    settings = Settings(
        environment=Environment.production, data_dir=tmp_path, secret_key=weak, _env_file=None
    )
    with pytest.raises(ConfigError) as info:
        settings.signing_secret()
    assert info.value.setting == "SOMATRACE_SECRET_KEY"


@pytest.mark.parametrize(
    "real", [secrets.token_urlsafe(32), secrets.token_hex(32), secrets.token_urlsafe(64)]
)
def test_production_accepts_random_secrets(tmp_path: Path, real: str) -> None:
    settings = Settings(
        environment=Environment.production, data_dir=tmp_path, secret_key=real, _env_file=None
    )
    assert settings.signing_secret() == real


def test_development_accepts_a_long_weak_secret_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    weak = "t" * 48
    assert Settings(data_dir=tmp_path, secret_key=weak, _env_file=None).signing_secret() == weak
    assert "refused in production" in caplog.text


def test_development_generates_and_keeps_secret(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, _env_file=None).signing_secret()
    second = Settings(data_dir=tmp_path, _env_file=None).signing_secret()
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_short_secret_refused_in_development(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        Settings(data_dir=tmp_path, secret_key="short-but-real", _env_file=None).signing_secret()


def test_database_url_must_be_postgres() -> None:
    with pytest.raises(ValidationError):
        Settings(database_url="mysql://x/y", _env_file=None)
    assert Settings(database_url="", _env_file=None).embedded


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SOMATRACE_DATABASE_URL", "postgresql://u@h:5/d")
    monkeypatch.setenv("SOMATRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SOMATRACE_PORT", "9001")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql://u@h:5/d"
    assert settings.data_dir == tmp_path
    assert settings.port == 9001
    assert not settings.embedded


def test_trusted_proxies_default_to_none_and_parse_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings(_env_file=None).trusted_proxies == []
    monkeypatch.setenv("SOMATRACE_TRUSTED_PROXIES", "10.0.0.5, 172.16.0.0/12,::1")
    assert Settings(_env_file=None).trusted_proxies == [
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("::1/128"),
    ]
    monkeypatch.setenv("SOMATRACE_TRUSTED_PROXIES", "not-an-address")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)
