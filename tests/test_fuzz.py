"""Schemathesis against the live schema of a running gunicorn (issue #4): every operation,
authenticated as a release manager, a bounded number of examples each. No 5xx, and every
response conforms to the documented schema."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

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
    case.call_and_validate(base_url=live_gunicorn.base_url, headers={"Authorization": f"Bearer {token}"})
