"""Fixtures of the release tests: the standard environments, a workflow, and a second user for four eyes."""

import pytest
from rest_framework.test import APIClient

from opsportal.testing.factories import make_standard_environments, make_workflow


@pytest.fixture
def envs():
    """development → staging → production (production requires one approval)."""
    return make_standard_environments()


@pytest.fixture
def workflow(envs):
    return make_workflow(["development", "staging", "production"])


@pytest.fixture
def alice(django_user_model):
    """A release author."""
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-123")


@pytest.fixture
def carol(django_user_model):
    """A reviewer (someone other than the author)."""
    return django_user_model.objects.create_user("carol", "carol@example.com", "carol-password-123")


@pytest.fixture
def dave(django_user_model):
    """A second reviewer."""
    return django_user_model.objects.create_user("dave", "dave@example.com", "dave-password-123")


@pytest.fixture
def carol_api(carol) -> APIClient:
    client = APIClient()
    client.force_authenticate(carol)
    return client
