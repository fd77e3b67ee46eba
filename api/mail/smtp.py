"""Delivers one message over SMTP (``smtplib``), with STARTTLS and login as configured.

Failures become ``MailError``s that say whether trying again can help; queuing and retrying are
``outbox``'s and ``tasks``'s.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate

from api.errors import SomatraceError
from api.settings import Settings

#: Hosts where a password may be sent without TLS (the message never leaves the machine).
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


class MailError(SomatraceError):
    """E-mail could not be sent; ``transient`` says whether a later attempt may succeed."""

    status = 502
    code = "mail_error"
    transient = True


class MailNotConfigured(MailError):
    """The SMTP settings are missing or unsafe; trying again will not help."""

    code = "mail_not_configured"
    transient = False


class MailRejected(MailError):
    """The server refused the message or recipient for good (a 5xx answer)."""

    code = "mail_rejected"
    transient = False


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str
    username: str | None
    password: str | None
    starttls: bool
    timeout_s: float


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP settings, or None when ``SOMATRACE_SMTP_HOST`` is unset (no e-mail).

    Raises
    ------
    MailNotConfigured
        When the host is set but the sender is not, or a password would cross the network in clear.
    """
    if settings.smtp_host is None:
        return None
    if settings.smtp_from is None:
        raise MailNotConfigured("SOMATRACE_SMTP_FROM must be set when SOMATRACE_SMTP_HOST is")
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    if (
        settings.smtp_username
        and not settings.smtp_starttls
        and not _is_loopback(settings.smtp_host)
    ):
        raise MailNotConfigured(
            "SOMATRACE_SMTP_STARTTLS is off: the SMTP password would cross the network unencrypted"
        )
    return SmtpConfig(
        host=settings.smtp_host,
        port=settings.smtp_port,
        sender=settings.smtp_from,
        username=settings.smtp_username,
        password=password,
        starttls=settings.smtp_starttls,
        timeout_s=settings.smtp_timeout_s,
    )


def build_message(config: SmtpConfig, to_address: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = to_address
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = config.sender.rpartition("@")[2] or "somatrace.invalid"
    message["Message-ID"] = f"<{uuid.uuid4().hex}@{domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)
    return message


def send(config: SmtpConfig, to_address: str, subject: str, body: str) -> None:
    """Send one plain-text message (blocking; the worker runs it in a thread).

    Raises
    ------
    MailRejected
        The server refused sender, recipient or message permanently (5xx).
    MailError
        Anything else (connection, timeout, TLS, 4xx): a later attempt may succeed.
    """
    message = build_message(config, to_address, subject, body)
    where = f"{config.host}:{config.port}"
    try:
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as client:
            client.ehlo()
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if config.username:
                client.login(config.username, config.password or "")
            client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise MailNotConfigured(
            f"{where} refused the SMTP login: {exc.smtp_code} {_text(exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = {code for code, _ in exc.recipients.values()}
        error = MailRejected if all(c >= 500 for c in codes) else MailError
        raise error(f"{where} refused the recipient: {sorted(codes)}") from exc
    except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        error = MailRejected if exc.smtp_code >= 500 else MailError
        raise error(
            f"{where} refused the message: {exc.smtp_code} {_text(exc.smtp_error)}"
        ) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailNotConfigured(
            f"{where} does not support what the settings ask for: {exc}"
        ) from exc
    except ssl.SSLError as exc:
        raise MailError(f"TLS with {where} failed: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"cannot send through {where}: {type(exc).__name__}: {exc}") from exc


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
