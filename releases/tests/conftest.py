"""Fixtures of the release tests: the standard environments, a workflow, a team with its Engineer, and a
second user for four eyes."""

import pytest
from rest_framework.test import APIClient

from opsportal.roles import ENGINEERS, RELEASE_MANAGERS
from opsportal.testing.factories import client_for, make_standard_environments, make_team, make_user, make_workflow
from opsportal.testing.fixtures import user_fixture


@pytest.fixture
def envs():
    """development → staging → production (production requires one approval)."""
    return make_standard_environments()


@pytest.fixture
def workflow(envs):
    return make_workflow(["development", "staging", "production"])


@pytest.fixture
def team(db):
    """The payments team; erin is its member."""
    return make_team(
        id="payments",
        name="Payments",
        members=[{"name": "Erin", "email": "erin@example.com", "role": "dev", "username": "erin"}],
    )


@pytest.fixture
def erin(team):
    """An Engineer in the payments team."""
    return make_user("erin", ENGINEERS)


alice = user_fixture("alice", RELEASE_MANAGERS, doc="A release author, a Release Manager.")
carol = user_fixture("carol", RELEASE_MANAGERS, doc="A reviewer (someone other than the author), a Release Manager.")
dave = user_fixture("dave", RELEASE_MANAGERS, doc="A second reviewer, a Release Manager.")


@pytest.fixture
def carol_api(carol) -> APIClient:
    return client_for(carol)
