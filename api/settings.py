"""The one place configuration is read: ``Settings`` from ``SOMATRACE_*`` environment variables or a .env file.

No other module reads the environment; everything that needs configuration receives a ``Settings``.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.errors import ConfigError

logger = logging.getLogger(__name__)

#: Values that mark a secret as "fill me in" (the generated one is used instead in development).
PLACEHOLDER_SECRETS = frozenset({"", "change-me", "changeme", "CHANGE_ME", "secret", "placeholder"})
#: Shortest acceptable signing secret, in characters.
MIN_SECRET_LENGTH = 32
#: Least estimated guesses (log10) for a signing secret in production: about 100 bits. zxcvbn
#: estimates 43 for ``secrets.token_urlsafe(32)``, 64 for ``openssl rand -base64 48``, and under 15
#: for repeated words, one repeated character or keyboard walks.
MIN_SECRET_GUESSES_LOG10 = 30.0
#: zxcvbn looks at this many leading characters of a secret (its own limit; a longer secret is at
#: least as strong as its prefix).
SECRET_ESTIMATE_CHARS = 72


def secret_weakness(value: str) -> str | None:
    """Why ``value`` is too weak to sign tokens, or ``None`` when it is strong enough.

    Judged by estimated strength (zxcvbn's guess count: patterns, repeats, dictionary words,
    keyboard walks), not by a list of known placeholders.
    """
    from zxcvbn import zxcvbn  # loaded only when a secret is judged

    if len(value) < MIN_SECRET_LENGTH:
        return f"has {len(value)} characters; at least {MIN_SECRET_LENGTH} are needed"
    if not value.strip():
        return "is only white space"
    estimate = zxcvbn(value[:SECRET_ESTIMATE_CHARS], max_length=SECRET_ESTIMATE_CHARS)
    guesses_log10 = float(estimate["guesses_log10"])
    if guesses_log10 < MIN_SECRET_GUESSES_LOG10:
        return (
            f"is guessable (about 10^{guesses_log10:.0f} guesses; at least "
            f"10^{MIN_SECRET_GUESSES_LOG10:.0f} are needed): use a random value such as "
            "`openssl rand -base64 48`"
        )
    return None


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


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
    invite_ttl_h: int = Field(
        default=72, ge=1, le=24 * 30, description="Hours a patient's invitation link stays valid."
    )
    password_link_ttl_h: int = Field(
        default=24,
        ge=1,
        le=24 * 14,
        description="Hours a link to set a first or new password stays valid.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`json`: one JSON object per log line (for log collectors)."
    )
    trusted_proxies: Annotated[list[ipaddress.IPv4Network | ipaddress.IPv6Network], NoDecode] = (
        Field(
            default_factory=list,
            description="Addresses or networks (comma-separated) of reverse proxies whose "
            "X-Forwarded-For / X-Forwarded-Proto are believed; default none.",
        )
    )
    db_pool_timeout_s: float = Field(
        default=0.5, gt=0, le=30, description="Longest wait for a pooled connection (then 503)."
    )
    ingest_max_in_flight: int = Field(
        default=16,
        ge=1,
        description="Ingest requests one API process handles at once; more answer 503 with "
        "Retry-After (back-pressure).",
    )
    worker_heartbeat_s: float = Field(
        default=10.0, gt=0, description="How often a worker tells the database it is alive."
    )
    worker_stalled_after_s: float = Field(
        default=60.0,
        gt=0,
        description="A job whose worker sent no heartbeat for this long is stalled and retried.",
    )
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

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _parse_proxies(cls, value: object) -> object:
        items = _split_list(value)
        if isinstance(items, list):
            try:
                return [ipaddress.ip_network(str(item), strict=False) for item in items]
            except ValueError as exc:
                raise ValueError(f"not an address or network: {exc}") from None
        return items

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
        """The token signing secret; in production it must be strong (``secret_weakness``).

        In development a configured secret needs ``MIN_SECRET_LENGTH`` characters (a guessable one
        is logged as a warning); with none configured, a random one is generated once and kept in
        ``data_dir/secret_key`` (mode 0600) so tokens survive restarts.
        """
        raw = self.secret_key.get_secret_value() if self.secret_key is not None else None
        if self.environment is Environment.production:
            if raw is None or raw in PLACEHOLDER_SECRETS:
                raise ConfigError(
                    "SOMATRACE_SECRET_KEY",
                    "must be set to a random value in production (e.g. `openssl rand -base64 48`)",
                )
            weakness = secret_weakness(raw)
            if weakness is not None:
                raise ConfigError("SOMATRACE_SECRET_KEY", weakness)
            return raw
        if raw is not None and raw not in PLACEHOLDER_SECRETS:
            if len(raw) < MIN_SECRET_LENGTH:
                raise ConfigError(
                    "SOMATRACE_SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters"
                )
            weakness = secret_weakness(raw)
            if weakness is not None:
                logger.warning("SOMATRACE_SECRET_KEY %s (refused in production)", weakness)
            return raw
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
