"""Who is calling: the authenticated principal (a user with a role, or a device).

Resolved by the dependencies in ``api.auth.deps``; recorded by ``api.audit``. Kept apart from both so
that neither imports the other to name it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Role = Literal["admin", "therapist", "patient", "researcher", "device"]


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (``user_id``, ``role``; patients also ``patient_id``) or a device."""

    user_id: uuid.UUID | None
    role: Role
    patient_id: uuid.UUID | None = None
    device_id: uuid.UUID | None = None
    client_addr: str | None = None
