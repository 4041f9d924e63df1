"""`GET /health`: liveness plus a database ping."""

import pytest
from django.db import connection

from opsportal.testing.probes import database_unreachable

pytestmark = pytest.mark.django_db


def test_health_reports_database_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["backend"] == connection.vendor
    assert body["database_version"]
    assert body["version"]


def test_health_is_503_when_database_unreachable(client):
    with database_unreachable():
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["database"] == "error"
    assert response.json()["status"] == "error"
