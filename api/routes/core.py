"""The accounts-and-records routers (auth, users, assignments, patients, devices, sessions, journal,
questionnaires, safety alerts, notifications, mail, audit, forms, invites, links, cohort, imports,
readings), included by ``api.app`` in this order; data, ingest and export routers are included
separately."""

from __future__ import annotations

from fastapi import FastAPI

from api.routes import (
    assignments,
    audit,
    auth,
    cohort,
    devices,
    forms,
    imports,
    invites,
    journal,
    links,
    mail,
    notifications,
    patients,
    questionnaires,
    readings,
    safety,
    sessions,
    users,
)

ROUTERS = (
    auth.router,
    users.router,
    assignments.router,
    patients.router,
    devices.router,
    sessions.router,
    journal.router,
    questionnaires.router,
    safety.router,
    notifications.router,
    mail.router,
    audit.router,
    forms.router,
    invites.router,
    links.router,
    cohort.router,
    imports.router,
    readings.router,
)


def include_core_routers(app: FastAPI) -> None:
    """Include every router of this group in ``app``."""
    for router in ROUTERS:
        app.include_router(router)
