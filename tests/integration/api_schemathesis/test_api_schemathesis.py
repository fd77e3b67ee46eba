"""schemathesis against the live OpenAPI schema: no server error and no response that breaks the
schema (status code, content type, headers, body), for every operation, with real credentials."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import LiveServer

#: Examples generated per operation (each a real request against the real database).
MAX_EXAMPLES = 30

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def role_for(method: str, path: str) -> str:
    """The role whose token reaches deepest into the operation (past authorization)."""
    if (
        path.startswith(("/v1/users", "/v1/assignments", "/v1/audit", "/v1/mail"))
        and path != "/v1/users/me"
    ):
        return "admin"
    if path.startswith("/v1/ingest"):
        return "device"
    if path.startswith(("/v1/exports", "/v1/cohort")):
        return "researcher"
    if method == "PUT" and path.endswith(("/consent", "/notifications")):
        return "patient"
    return "therapist"


def _is_uuid(value: object) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def _check_operation(operation: Any, mode: GenerationMode, live_server: LiveServer) -> None:
    role = role_for(operation.method.upper(), operation.path)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],
        database=None,
    )
    def run(case: Any) -> None:
        path_parameters = case.path_parameters or {}
        if _is_uuid(path_parameters.get("patient_id")):
            # aim valid ids at the seeded patient so requests get past authorization
            path_parameters["patient_id"] = str(live_server.patient_id)
        case.call_and_validate(
            base_url=live_server.base_url, headers=live_server.headers[role], checks=CHECKS
        )

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(live_server: LiveServer, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/openapi.json")
    failures: list[str] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        checked += 1
        try:
            _check_operation(operation, mode, live_server)
        except Unsatisfiable:
            continue  # nothing to make invalid (no parameters, no body) in negative mode
        except (Exception, BaseExceptionGroup) as exc:  # collect each operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {exc!s:.1500}")
    assert checked >= 25, f"only {checked} operations in the schema"
    assert not failures, "\n\n".join(failures)
