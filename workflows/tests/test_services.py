"""Workflow services called directly (issue #3)."""

import pytest

from opsportal.errors import Conflict, ValidationFailed
from opsportal.testing.factories import make_standard_environments, make_workflow
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_update

pytestmark = pytest.mark.django_db


def test_update_loses_to_a_concurrent_change(superuser):
    make_standard_environments()
    workflow = make_workflow(id="standard", name="Standard")
    stale = Workflow.objects.get(pk="standard")
    workflow_update(workflow=workflow, actor=superuser, data={"active": False})
    with pytest.raises(Conflict):
        workflow_update(workflow=stale, actor=superuser, data={"description": "late"})
    assert Workflow.objects.get(pk="standard").description == ""


def test_every_unknown_and_repeated_stage_is_reported(superuser):
    make_standard_environments()
    stages = [{"environment": env} for env in ("qa", "staging", "uat", "staging")]
    with pytest.raises(ValidationFailed) as refused:
        workflow_create(actor=superuser, data={"name": "W", "stages": stages})
    assert refused.value.extra["errors"] == {
        "stages": [
            "stages[0].environment: environment 'qa' does not exist.",
            "stages[2].environment: environment 'uat' does not exist.",
            "stages[3].environment: environment 'staging' is already stages[1].",
        ]
    }


def test_a_workflow_without_stages_is_allowed(superuser):
    workflow = workflow_create(actor=superuser, data={"name": "Empty"})
    assert (workflow.stages, workflow.triggers) == ([], [])
