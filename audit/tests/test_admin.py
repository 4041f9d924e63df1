"""The audit trail in the backoffice (issue #5): readable, filterable, never changed or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit_record(
        actor="rm1",
        action="release.updated",
        object_type="release",
        object_id="rel-1",
        changes={
            "features": [
                [{"name": "Login", "status": "in_progress", "tasks": [{"title": "API", "status": "todo"}]}],
                [{"name": "Login", "status": "in_progress", "tasks": [{"title": "API", "status": "done"}]}],
            ],
            "revision": [1, 2],
        },
    )


def test_changes_read_as_sentences_not_json(client, superuser, event):
    client.force_login(superuser)
    html = client.get(reverse("admin:audit_auditevent_changelist")).content.decode()
    assert "<strong>features \u203a Login \u203a tasks \u203a API \u203a status</strong>: todo → done" in html
    assert "<strong>revision</strong>: 1 → 2" in html
    assert '{"' not in html.split('id="result_list"')[1]


def test_filters_by_action_and_searches_actor(client, superuser, event):
    audit_record(actor="eng", action="team.created", object_type="team", object_id="t", changes={})
    client.force_login(superuser)
    listed = client.get(reverse("admin:audit_auditevent_changelist") + "?action=release.updated").context["cl"]
    assert [e.action for e in listed.result_list] == ["release.updated"]
    listed = client.get(reverse("admin:audit_auditevent_changelist") + "?q=eng").context["cl"]
    assert [e.actor for e in listed.result_list] == ["eng"]


def test_events_are_read_only(client, superuser, event):
    client.force_login(superuser)
    change = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"actor": "x"}).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    assert AuditEvent.objects.get(pk=event.pk).actor == "rm1"
