"""Teams in the backoffice (issue #5): members and projects edited through form UI, saved by the services."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from opsportal.testing.admin import change_form_data, change_url
from opsportal.testing.factories import make_team
from teams.models import Team

pytestmark = pytest.mark.django_db

ALICE = {"name": "Alice", "email": "alice@example.com", "role": "Lead", "username": "alice"}


def form_data(team: Team, **overrides) -> dict:
    return change_form_data(team, ["name", "description"], ["members", "projects"], **overrides)


def test_members_are_edited_through_form_ui_and_saved_by_the_service(client, superuser):
    team = make_team(name="Payments")
    client.force_login(superuser)
    page = client.get(change_url(team)).content.decode()
    assert page.count('data-django-jsonform-container="true"') == 2

    response = client.post(change_url(team), form_data(team, members=json.dumps([ALICE]), projects='["checkout"]'))

    assert response.status_code == 302
    team.refresh_from_db()
    assert team.members == [ALICE]
    assert team.projects == ["checkout"]
    assert team.revision == 2
    event = AuditEvent.objects.get(action="team.updated", object_id=team.pk)
    assert event.actor == "root" and set(event.changes) == {"members", "projects"}


def test_a_member_listed_twice_is_a_form_error(client, superuser):
    team = make_team()
    client.force_login(superuser)
    response = client.post(change_url(team), form_data(team, members=json.dumps([ALICE, {**ALICE, "name": "A2"}])))
    assert response.status_code == 200
    assert "members" in response.context["adminform"].form.errors
    team.refresh_from_db()
    assert team.members == []


def test_list_names_the_members(client, superuser):
    make_team(name="Payments", members=[ALICE], projects=["checkout"])
    client.force_login(superuser)
    html = client.get(reverse("admin:teams_team_changelist")).content.decode()
    assert "Alice" in html and "checkout" in html
