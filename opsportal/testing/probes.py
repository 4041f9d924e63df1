"""Test helpers for the health probes."""

from __future__ import annotations

from contextlib import AbstractContextManager
from unittest import mock

from django.db.utils import OperationalError


def database_unreachable() -> AbstractContextManager:
    """While active, the probes' database round trip fails as it does when the database file is gone."""
    return mock.patch(
        "django.contrib.contenttypes.models.ContentType.objects.order_by",
        side_effect=OperationalError("unable to open database file"),
    )
