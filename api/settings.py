"""The one place configuration is read: ``Settings`` from ``SOMATRACE_*`` environment variables or a .env file.

No other module reads the environment; everything that needs configuration receives a ``Settings``.
"""

from __future__ import annotations

import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.errors import ConfigError

#: Values that mark a secret as "fill me in"; refused outside development.
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "CHANGE_ME", "secret", "placeholder"})
#: Shortest acceptable signing secret, in bytes of text.
MIN_SECRET_LENGTH = 32


class Environment(StrEnum):
    development = "development"
    production = "production"


def _default_data_dir() -> Path:
    """Per-user data dir; root gets /var/lib/somatrace (embedded PostgreSQL must not live under /root)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/somatrace")
    from platformdirs import user_data_dir

    return Path(user_data_dir("somatrace", appauthor=False))


class Settings(BaseSettings):
    """Somatrace server configuration (environment variables ``SOMATRACE_<FIELD>``)."""

    model_config = SettingsConfigDict(
        env_prefix="SOMATRACE_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Environment = Environment.development
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL; unset means an embedded PostgreSQL in data_dir.",
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs access tokens. Required in production; generated and kept in data_dir in development.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    access_token_ttl_s: int = Field(default=3600, ge=60, le=86400 * 7)
    db_pool_min: int = Field(default=1, ge=1)
    db_pool_max: int = Field(default=10, ge=1)
    worker_in_process: bool | None = Field(
        default=None,
        description="Run the analysis worker inside `serve`; default: only with the embedded database.",
    )
    log_level: str = "INFO"
    # --- questionnaires and e-mail (issue 12) ---
    instruments_dir: Path | None = Field(
        default=None,
        description="Folder of the clinic's own instrument definition files (and protocols/ templates).",
    )
    questionnaire_template: str | None = Field(
        default=None, description="Protocol template new patients get; default: standard."
    )
    crisis_message: str | None = Field(
        default=None,
        max_length=2000,
        description="What a patient sees at once when an answer raises a safety alert; "
        "default: contact local emergency services now.",
    )
    public_url: str | None = Field(
        default=None, description="Address patients and therapists open, for links in e-mails."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str | None = Field(default=None, description="From address of Somatrace's e-mails.")
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(default=True, description="Upgrade the connection with STARTTLS.")
    smtp_timeout_s: float = Field(default=20.0, gt=0, le=300)

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// or postgres://")
        return value

    @field_validator("public_url")
    @classmethod
    def _check_public_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (or http:// for local use)")
        return value.rstrip("/")

    @field_validator("smtp_host", "smtp_from", "smtp_username", "crisis_message")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return None if value is None or value.strip() == "" else value.strip()

    @property
    def embedded(self) -> bool:
        """True when no database URL is configured and an embedded PostgreSQL is used."""
        return self.database_url is None

    def signing_secret(self) -> str:
        """The token signing secret; refuses placeholders outside development.

        In development with no secret configured, a random one is generated once and kept in
        ``data_dir/secret_key`` (mode 0600) so tokens survive restarts.
        """
        raw = self.secret_key.get_secret_value() if self.secret_key is not None else None
        if raw is not None and raw not in PLACEHOLDER_SECRETS and len(raw) >= MIN_SECRET_LENGTH:
            return raw
        if self.environment is Environment.production:
            raise ConfigError(
                "SOMATRACE_SECRET_KEY",
                f"must be set to a random value of at least {MIN_SECRET_LENGTH} characters in production",
            )
        if raw is not None and raw not in PLACEHOLDER_SECRETS:
            raise ConfigError(
                "SOMATRACE_SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters"
            )
        path = self.data_dir / "secret_key"
        try:
            if path.exists():
                return path.read_text().strip()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            value = secrets.token_urlsafe(48)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(value)
            return value
        except OSError as exc:
            raise ConfigError(
                "SOMATRACE_DATA_DIR", f"cannot keep the secret key in {path}: {exc}"
            ) from exc


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process (tests build their own ``Settings`` instead)."""
    return Settings()
