"""Incidents in the backoffice (issue #13): reported, changed and resolved through the services, audited."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from environments.choices import Tier
from incidents.models import Incident
from incidents.services import incident_create
from opsportal import roles
from opsportal.testing.admin import messages_of
from opsportal.testing.factories import make_environment, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = make_user("rita", roles.RELEASE_MANAGERS, is_staff=True)
    client.force_login(user)
    make_environment("production", name="Production", tier=Tier.PRODUCTION)
    return user


def test_add_change_and_resolve_in_the_admin(client, staff):
    add = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Queue backlog",
            "severity": "medium",
            "environment": "production",
            "started_at_0": "2026-11-20",
            "started_at_1": "10:00:00",
            "description": "",
            "external_id": "",
            "url": "",
        },
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    incident = Incident.objects.get()
    assert (incident.title, incident.reported_by, incident.external_id) == ("Queue backlog", "rita", None)
    assert AuditEvent.objects.filter(action="incident.created", object_id=incident.pk).exists()

    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    assert page.status_code == 200 and "Queue backlog" in page.content.decode()

    resolved = client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "resolve_selected", "_selected_action": [incident.pk]},
        follow=True,
    )
    assert "Resolved 1 incident(s)." in messages_of(resolved)
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_by == "rita"


def test_a_refused_report_shows_the_reason_on_the_form(client, staff):
    incident_create(actor=staff, data={"title": "First", "environment": "production", "external_id": "PD-1"})
    response = client.post(
        reverse("admin:incidents_incident_add"),
        {
            "title": "Again",
            "severity": "high",
            "environment": "production",
            "started_at_0": "2026-11-20",
            "started_at_1": "10:00:00",
            "external_id": "PD-1",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "already exists" in page or "already reported" in page, page[
        page.find("errorlist") - 200 : page.find("errorlist") + 400
    ]
    assert Incident.objects.count() == 1
