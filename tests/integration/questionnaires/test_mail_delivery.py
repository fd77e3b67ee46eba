"""Delivery against real SMTP servers on loopback (aiosmtpd): login, refused logins and recipients,
STARTTLS with certificate checks, and no configuration; each outcome lands in the outbox as the
admin sees it, and only transient failures are retried."""

from __future__ import annotations

import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from api.mail.tasks import MailRetryLater, deliver
from api.settings import Settings

from ..conftest import free_port
from .conftest import Inbox, World, questionnaire_settings

# aiosmtpd warns about AUTH without TLS; these tests run on loopback on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")


class Rejecting(Inbox):
    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 no such mailbox"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login == b"somatrace"
        and data.password == b"mail-pass"
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def controller_factory() -> Iterator[Any]:
    started: list[Controller] = []

    def start(handler: Inbox, **kwargs: Any) -> int:
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


async def queue_test_mail(world: World) -> int:
    r = await world.api.client.post("/v1/mail/test", json={}, headers=world.admin.headers)
    assert r.status_code == 202, r.text
    return int(r.json()["outbox_id"])


def row(world: World, outbox_id: int) -> dict[str, Any]:
    return world.api.sql("SELECT * FROM mail_outbox WHERE id = %(i)s", {"i": outbox_id})[0]


def settings_for(world: World, tmp_path: Path, port: int, **extra: Any) -> Settings:
    return questionnaire_settings(world.api.db_url, tmp_path, port, **extra)


async def test_login_then_send(world: World, tmp_path: Path, controller_factory: Any) -> None:
    inbox = Inbox()
    port = controller_factory(
        inbox, authenticator=authenticator, auth_require_tls=False, auth_required=True
    )
    outbox_id = await queue_test_mail(world)
    settings = settings_for(
        world, tmp_path, port, smtp_username="somatrace", smtp_password="mail-pass"
    )
    assert await deliver(world.api.db_url, settings, outbox_id) == "sent"
    [message] = inbox.to("admin@clinic.example")
    assert message["Subject"] == "Somatrace: test message"
    assert row(world, outbox_id)["sent_at"] is not None
    # delivering again is a no-op: a message is sent once
    assert await deliver(world.api.db_url, settings, outbox_id) == "sent"
    assert len(inbox.messages) == 1


async def test_a_refused_login_fails_without_retrying(
    world: World, tmp_path: Path, controller_factory: Any
) -> None:
    port = controller_factory(
        Inbox(), authenticator=authenticator, auth_require_tls=False, auth_required=True
    )
    outbox_id = await queue_test_mail(world)
    settings = settings_for(world, tmp_path, port, smtp_username="somatrace", smtp_password="wrong")
    assert await deliver(world.api.db_url, settings, outbox_id) == "failed"
    assert "refused the SMTP login" in row(world, outbox_id)["last_error"]


async def test_a_refused_recipient_fails_without_retrying(
    world: World, tmp_path: Path, controller_factory: Any
) -> None:
    port = controller_factory(Rejecting())
    outbox_id = await queue_test_mail(world)
    assert (
        await deliver(world.api.db_url, settings_for(world, tmp_path, port), outbox_id) == "failed"
    )
    assert "refused the recipient: [550]" in row(world, outbox_id)["last_error"]


def self_signed(tmp_path: Path) -> ssl.SSLContext:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def test_starttls_checks_the_certificate(
    world: World, tmp_path: Path, controller_factory: Any
) -> None:
    inbox = Inbox()
    port = controller_factory(inbox, tls_context=self_signed(tmp_path), require_starttls=True)
    outbox_id = await queue_test_mail(world)
    settings = settings_for(world, tmp_path, port, smtp_starttls=True)
    with pytest.raises(MailRetryLater):
        await deliver(world.api.db_url, settings, outbox_id)
    stored = row(world, outbox_id)
    assert stored["status"] == "retrying" and "certificate verify failed" in stored["last_error"]
    assert inbox.messages == []


async def test_starttls_asked_of_a_server_without_it(
    world: World, tmp_path: Path, controller_factory: Any
) -> None:
    port = controller_factory(Inbox())
    outbox_id = await queue_test_mail(world)
    settings = settings_for(world, tmp_path, port, smtp_starttls=True)
    assert await deliver(world.api.db_url, settings, outbox_id) == "failed"
    assert "STARTTLS" in row(world, outbox_id)["last_error"]


async def test_without_smtp_settings_messages_wait_as_not_configured(
    world: World, tmp_path: Path
) -> None:
    outbox_id = await queue_test_mail(world)
    bare = Settings(database_url=world.api.db_url, data_dir=tmp_path, _env_file=None)
    assert await deliver(world.api.db_url, bare, outbox_id) == "not_configured"
    assert row(world, outbox_id)["status"] == "not_configured"
    r = await world.api.client.post(
        f"/v1/mail/outbox/{outbox_id}/retry", headers=world.admin.headers
    )
    assert r.status_code == 202 and row(world, outbox_id)["status"] == "queued"
