"""Fixtures of the release tests: the standard environments, a workflow, and a second user for four eyes."""

import pytest
from rest_framework.test import APIClient

from opsportal.roles import RELEASE_MANAGERS
from opsportal.testing.factories import make_standard_environments, make_user, make_workflow


@pytest.fixture
def envs():
    """development → staging → production (production requires one approval)."""
    return make_standard_environments()


@pytest.fixture
def workflow(envs):
    return make_workflow(["development", "staging", "production"])


@pytest.fixture
def alice(db):
    """A release author, a Release Manager."""
    return make_user("alice", RELEASE_MANAGERS)


@pytest.fixture
def carol(db):
    """A reviewer (someone other than the author), a Release Manager."""
    return make_user("carol", RELEASE_MANAGERS)


@pytest.fixture
def dave(db):
    """A second reviewer, a Release Manager."""
    return make_user("dave", RELEASE_MANAGERS)


@pytest.fixture
def carol_api(carol) -> APIClient:
    client = APIClient()
    client.force_authenticate(carol)
    return client
