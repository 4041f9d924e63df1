"""Workflows in the backoffice (issue #5): stages and triggers edited through form UI, saved by the services."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from opsportal.testing.admin import change_form_data, change_url
from opsportal.testing.factories import make_environment, make_workflow
from workflows.admin import stages_widget_schema
from workflows.models import Workflow

pytestmark = pytest.mark.django_db


def form_data(workflow: Workflow, **overrides) -> dict:
    active = "on" if workflow.active else ""
    return change_form_data(workflow, ["name", "description"], ["stages", "triggers"], active=active, **overrides)


def test_stage_environments_are_picked_from_the_existing_ones():
    make_environment("dev", name="Dev", order=1)
    make_environment("prod", name="Prod", order=2)
    schema = stages_widget_schema()
    choices = schema["items"]["properties"]["environment"]["choices"]
    assert choices == [{"title": "Dev (dev)", "value": "dev"}, {"title": "Prod (prod)", "value": "prod"}]


def test_stages_and_triggers_saved_through_the_form(client, superuser):
    make_environment("dev", order=1)
    make_environment("prod", order=2)
    workflow = make_workflow(["dev"])
    client.force_login(superuser)
    assert client.get(change_url(workflow)).content.decode().count('data-django-jsonform-container="true"') == 2
    stages = [{"environment": "dev", "requires_approval": False}, {"environment": "prod", "requires_approval": True}]
    triggers = [{"event": "release.approved", "action": "notify", "params": {"channel": "#rel", "retries": 3}}]

    response = client.post(
        change_url(workflow), form_data(workflow, stages=json.dumps(stages), triggers=json.dumps(triggers))
    )

    assert response.status_code == 302
    workflow.refresh_from_db()
    assert workflow.stages == stages
    assert workflow.triggers == triggers
    assert AuditEvent.objects.filter(action="workflow.updated", object_id=workflow.pk, actor="root").exists()


def test_a_stage_on_an_unknown_environment_is_a_form_error(client, superuser):
    make_environment("dev")
    workflow = make_workflow(["dev"])
    client.force_login(superuser)
    stages = [{"environment": "nowhere", "requires_approval": False}]

    response = client.post(change_url(workflow), form_data(workflow, stages=json.dumps(stages)))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["stages"]
    assert errors == ["stages[0].environment: environment 'nowhere' does not exist."]
    workflow.refresh_from_db()
    assert workflow.stages == [{"environment": "dev", "requires_approval": False}]


def test_list_shows_the_promotion_path(client, superuser):
    make_environment("dev", order=1)
    make_environment("production", order=2)
    make_workflow(["dev", "production"], name="Standard")
    client.force_login(superuser)
    html = client.get(reverse("admin:workflows_workflow_changelist")).content.decode()
    assert "dev → production (approval)" in html
