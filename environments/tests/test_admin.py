"""Environments in the backoffice (issue #5): state at a glance, config and freeze windows through form UI,
saves and deletes through the services."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from environments.models import Environment
from opsportal.roles import VIEWERS
from opsportal.testing.admin import change_form_data, change_url, messages_of
from opsportal.testing.factories import make_environment, make_release, make_workflow
from opsportal.testing.fixtures import user_fixture
from releases.services import release_deploy

pytestmark = pytest.mark.django_db


viewer = user_fixture("viewer", VIEWERS, is_staff=True)


def form_data(env: Environment, **overrides) -> dict:
    data = change_form_data(
        env,
        ["name", "tier", "order", "url", "description", "health"],
        ["config", "approval_policy"],
        **overrides,
    )
    return data


def test_change_page_shows_current_release_health_and_recent_deployments(client, superuser):
    env = make_environment("qa", name="QA", config={"replicas": 2})
    release = make_release(name="Checkout", version="1.0.0")
    release_deploy(release=release, environment=env, actor=superuser)

    client.force_login(superuser)
    response = client.get(change_url(env))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Current release:</strong> <a" in html and "Checkout (1.0.0)" in html
    assert 'data-status="healthy"' in html
    assert "Recent deployments" in html and 'data-status="succeeded"' in html
    # config and the approval policy as forms
    assert html.count('data-django-jsonform-container="true"') == 2


def test_config_keeps_numbers_and_booleans(client, superuser):
    env = make_environment("qa", config={"replicas": 2})
    client.force_login(superuser)
    config = {"replicas": 3, "debug": False, "region": "eu-west-1"}
    client.post(change_url(env), form_data(env, config=json.dumps(config)))
    env.refresh_from_db()
    assert env.config == config


def test_adding_without_an_id_uses_the_slug_of_the_name(client, superuser):
    client.force_login(superuser)
    data = {
        "id": "",
        "name": "Load Test",
        "tier": "staging",
        "order": 5,
        "url": "",
        "description": "",
        "health": "unknown",
        "config": "{}",
        "approval_policy": '{"rules": []}',
    }
    response = client.post(reverse("admin:environments_environment_add"), data)
    assert response.status_code == 302
    assert Environment.objects.get(pk="load-test").name == "Load Test"
    assert AuditEvent.objects.filter(action="environment.created", object_id="load-test").exists()


def test_deleting_an_environment_with_deployments_is_refused(client, superuser):
    env = make_environment("qa")
    release_deploy(release=make_release(), environment=env, actor=superuser)
    client.force_login(superuser)

    response = client.post(reverse("admin:environments_environment_delete", args=["qa"]), {"post": "yes"})

    assert response.status_code == 200
    assert "Cannot delete environment" in response.content.decode()
    assert Environment.objects.filter(pk="qa").exists()


def test_deleting_an_environment_a_workflow_uses_shows_the_services_reason(client, superuser):
    env = make_environment("qa")
    make_workflow(["qa"], name="QA flow")
    client.force_login(superuser)

    response = client.post(reverse("admin:environments_environment_delete", args=["qa"]), {"post": "yes"}, follow=True)

    assert response.redirect_chain[-1][0] == change_url(env)
    assert any("cannot be deleted" in note and "have a stage there" in note for note in messages_of(response))
    assert Environment.objects.filter(pk="qa").exists()
    assert not AuditEvent.objects.filter(action="environment.deleted").exists()


def test_deleting_an_unused_environment_goes_through_the_service(client, superuser):
    make_environment("qa")
    client.force_login(superuser)
    response = client.post(reverse("admin:environments_environment_delete", args=["qa"]), {"post": "yes"}, follow=True)
    assert not Environment.objects.filter(pk="qa").exists()
    assert AuditEvent.objects.filter(action="environment.deleted", object_id="qa", actor="root").exists()
    assert any("deleted successfully" in message for message in messages_of(response))


def test_list_shows_health_current_release_and_freeze(client, superuser):
    env = make_environment(
        "qa",
        name="QA",
        freeze_windows=[{"starts_at": "2020-01-01T00:00:00Z", "ends_at": "2999-01-01T00:00:00Z", "reason": "x"}],
    )
    release_deploy(
        release=make_release(name="Checkout", version="1.0.0"),
        environment=env,
        actor=superuser,
        override_freeze=True,
        reason="test setup",
    )
    client.force_login(superuser)
    html = client.get(reverse("admin:environments_environment_changelist")).content.decode()
    assert "Checkout (1.0.0)" in html
    assert 'data-status="healthy"' in html
    assert 'data-status="frozen"' in html and "until 2999-01-01" in html


def test_viewers_see_config_and_policy_as_tables(client, viewer):
    env = make_environment(
        "qa", config={"replicas": 2}, approval_policy={"rules": [{"name": "Holidays", "approvals": 1, "group": "G"}]}
    )
    client.force_login(viewer)

    response = client.get(change_url(env))

    html = response.content.decode()
    assert response.status_code == 200
    assert "django-jsonform-container" not in html and 'name="_save"' not in html
    assert "<td>replicas</td><td>2</td>" in html
    assert "<td>Holidays</td>" in html
    assert '"starts_at"' not in html


def test_the_freeze_calendar_shows_a_month_of_occurrences_per_environment(client, superuser):  # issue #12
    from opsportal.testing.factories import make_freeze

    make_environment("production", name="Production", tier="production", order=3)
    make_environment("dev", name="Dev", order=1)
    make_freeze(
        "production", starts_at="2026-12-19T00:00:00Z", rrule="FREQ=WEEKLY;BYDAY=SA", duration_minutes=2880,
        name="Weekend freeze", reason="No weekend changes",
    )  # fmt: skip
    client.force_login(superuser)
    html = client.get(reverse("admin:freeze_calendar"), {"month": "2026-12"}).content.decode()
    assert "Freeze calendar: December 2026" in html
    frozen = {int(day) for day in re.findall(r'data-frozen="production-(\d+)"', html)}
    assert frozen == {19, 20, 26, 27}  # Saturdays and Sundays from the 19th (UTC days)
    assert 'data-frozen="dev-' not in html
    assert "No weekend changes" in html
    assert client.get(reverse("admin:freeze_calendar"), {"month": "garbage"}).status_code == 200


def test_viewers_without_the_permission_cannot_see_the_calendar(client, db):
    from opsportal.testing.factories import make_user

    client.force_login(make_user("nobody", is_staff=True))
    assert client.get(reverse("admin:freeze_calendar")).status_code == 403
