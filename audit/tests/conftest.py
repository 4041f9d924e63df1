"""Fixtures of the audit tests."""

import pytest

from audit.models import AuditEvent


@pytest.fixture
def api(api):
    """A superuser's API client on an empty trail: creating that user was audited (issue #10), and these
    tests count events and sequence numbers from 1."""
    AuditEvent.objects.all().delete()
    return api
