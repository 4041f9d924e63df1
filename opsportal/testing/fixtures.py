"""Shared pytest fixtures (registered by the root conftest)."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-password-123")


@pytest.fixture
def api(superuser) -> APIClient:
    """An API client authenticated as a superuser (writes need a user)."""
    client = APIClient()
    client.force_authenticate(superuser)
    return client
