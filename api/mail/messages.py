"""The texts of every e-mail Somatrace sends. By construction they hold no health or identifying
information: no names, pseudonyms, instruments, answers, scores or diagnoses; only a sign-in link.

Pure: the clinic's public address comes in, subject and body go out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MailKind = Literal[
    "safety_alert", "unassigned_alert", "questionnaire_reminder", "morning_reminder", "test"
]

_SIGN_OFF = "Somatrace at your clinic\n(an automatic message; replies are not read)"
_URGENT = (
    "If you need help urgently, do not wait for an e-mail: contact your local emergency "
    "services or go to the nearest emergency department."
)


@dataclass(frozen=True)
class Message:
    kind: MailKind
    subject: str
    body: str


def _link(public_url: str | None, page: str) -> str:
    if public_url is None:
        return "Sign in to Somatrace at your clinic's usual address."
    return f"Sign in here: {public_url}/{page}"


def safety_alert(public_url: str | None) -> Message:
    """To each therapist assigned to a patient whose answer raised a safety alert."""
    return Message(
        "safety_alert",
        "Somatrace: please sign in soon",
        "Hello,\n\n"
        "Something in Somatrace needs your prompt attention. "
        f"{_link(public_url, '#/patients')}\n\n"
        "This message leaves out every detail on purpose; you will see what it is about after "
        "signing in.\n\n" + _SIGN_OFF + "\n",
    )


def unassigned_alert(public_url: str | None) -> Message:
    """To the admins when an alert has no assigned therapist to notify."""
    return Message(
        "unassigned_alert",
        "Somatrace: a therapist assignment is needed now",
        "Hello,\n\n"
        "Something in Somatrace needs a therapist's prompt attention, but no active therapist is "
        "assigned to the person concerned. Please sign in and assign one. "
        f"{_link(public_url, '#/')}\n\n"
        "This message leaves out every detail on purpose.\n\n" + _SIGN_OFF + "\n",
    )


def questionnaire_reminder(public_url: str | None) -> Message:
    """To a patient who asked for reminders, when something is waiting for them."""
    return Message(
        "questionnaire_reminder",
        "Somatrace: a reminder",
        "Hello,\n\n"
        "Something is waiting for you in Somatrace. "
        f"{_link(public_url, '#/me')}\n\n"
        "You asked for these reminders; you can turn them off on your page in Somatrace.\n\n"
        + _URGENT
        + "\n\n"
        + _SIGN_OFF
        + "\n",
    )


def morning_reminder(public_url: str | None) -> Message:
    """To a patient who asked to be reminded of their morning reading."""
    return Message(
        "morning_reminder",
        "Somatrace: your morning reminder",
        "Good morning,\n\n"
        "This is the reminder you asked for: your morning reading in Somatrace. "
        f"{_link(public_url, '#/me')}\n\n"
        "You can turn these reminders off on your page in Somatrace.\n\n" + _SIGN_OFF + "\n",
    )


def test_message(public_url: str | None) -> Message:
    """The admin's test of the mail settings."""
    return Message(
        "test",
        "Somatrace: test message",
        "Hello,\n\nThis is a test of Somatrace's e-mail settings. It arrived, so they work. "
        f"{_link(public_url, '#/')}\n\n" + _SIGN_OFF + "\n",
    )


BUILDERS = {
    "safety_alert": safety_alert,
    "unassigned_alert": unassigned_alert,
    "questionnaire_reminder": questionnaire_reminder,
    "morning_reminder": morning_reminder,
    "test": test_message,
}
