"""Schemathesis against the live schema of a running gunicorn (issue #4): every operation,
authenticated as a release manager, a bounded number of examples each. No 5xx, and every
response conforms to the documented schema (status code, content type, body).

Schema-valid requests that break a business rule (an unknown environment id, a version that
already exists) are rightly refused with a documented 4xx, so schemathesis's
"positive data acceptance" and "negative data rejection" heuristics are not applied."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

MAX_EXAMPLES = int(os.environ.get("OPSPORTAL_FUZZ_EXAMPLES", "15"))


@pytest.fixture(scope="session")
def live_schema(live_gunicorn):
    return schemathesis.openapi.from_url(f"{live_gunicorn.base_url}/api/schema/?format=json")


schema = schemathesis.pytest.from_fixture("live_schema")


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_schema(case, live_gunicorn):
    token = live_gunicorn.token("rm1")
    case.call_and_validate(base_url=live_gunicorn.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
