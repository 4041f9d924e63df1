"""`/api/v1/workflows`: list/filter, CRUD through the services, stage rules (issue #3)."""

import pytest

from audit.models import AuditEvent
from opsportal.testing.documents import DocumentAPIContract
from opsportal.testing.factories import make_release, make_standard_environments, make_workflow
from workflows.models import Workflow
from workflows.services import SERVICES

pytestmark = pytest.mark.django_db

URL = "/api/v1/workflows"


def stages(*environments):
    return [{"environment": env, "requires_approval": env == "production"} for env in environments]


@pytest.fixture
def envs():
    return make_standard_environments()


class TestWorkflowAPIContract(DocumentAPIContract):
    url, what = URL, "workflows"
    services = SERVICES
    create_data = {"name": "Hotfix", "stages": stages("staging", "production")}
    change_data = {"active": False}

    @pytest.fixture(autouse=True)
    def _environments(self, envs):
        """Stages name existing environments."""

    def make(self):
        return make_workflow()


def test_list_filters_by_active_and_searches(api, envs):
    make_workflow(id="standard", name="Standard", description="the usual path")
    make_workflow(id="legacy", name="Legacy", active=False)
    assert [w["id"] for w in api.get(URL).json()["results"]] == ["legacy", "standard"]
    assert [w["id"] for w in api.get(URL, {"active": "true"}).json()["results"]] == ["standard"]
    assert [w["id"] for w in api.get(URL, {"active": "false"}).json()["results"]] == ["legacy"]
    assert [w["id"] for w in api.get(URL, {"search": "usual"}).json()["results"]] == ["standard"]
    assert [w["id"] for w in api.get(URL, {"ordering": "-name"}).json()["results"]] == ["standard", "legacy"]


def test_retrieve(api, envs):
    make_workflow(id="standard", name="Standard")
    body = api.get(f"{URL}/standard").json()
    assert [s["environment"] for s in body["stages"]] == ["development", "staging", "production"]


def test_create_sets_location_defaults_and_audits(api, envs):
    response = api.post(
        URL,
        {
            "name": "Hotfix Path",
            "stages": [{"environment": "staging"}, {"environment": "production", "requires_approval": True}],
            "triggers": [{"event": "release.approved", "action": "notify"}],
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == "hotfix-path"
    assert body["active"] is True
    assert response["Location"].endswith("/api/v1/workflows/hotfix-path")
    assert body["stages"] == stages("staging", "production")
    assert body["triggers"] == [{"event": "release.approved", "action": "notify", "params": {}}]
    (event,) = AuditEvent.objects.filter(action="workflow.created")
    assert (event.actor, event.object_id) == ("root", "hotfix-path")


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        (
            {"stages": stages("development", "staging", "prod")},
            "stages",
            "stages[2].environment: environment 'prod' does not exist.",
        ),
        (
            {"stages": stages("development", "staging", "development")},
            "stages",
            "stages[2].environment: environment 'development' is already stages[0].",
        ),
        ({"stages": [{"requires_approval": True}]}, "stages", "stages[0]: 'environment' is a required property"),
        (
            {"stages": [{"environment": "staging", "requires_approval": "yes"}]},
            "stages",
            "stages[0].requires_approval: 'yes' is not of type 'boolean'",
        ),
        ({"triggers": [{"event": "x"}]}, "triggers", "triggers[0]: 'action' is a required property"),
        (
            {"triggers": [{"event": "x", "action": "y", "params": []}]},
            "triggers",
            "triggers[0].params: [] is not of type 'object'",
        ),
    ],
)
def test_create_refuses_invalid_stages_and_triggers_with_400_naming_the_path(api, envs, payload, field, message):
    response = api.post(URL, {"name": "Broken", **payload})
    assert response.status_code == 400, response.json()
    assert message in response.json()["errors"][field]
    assert not Workflow.objects.exists()


def test_create_refuses_a_duplicate_id(api, envs):
    make_workflow(id="standard", name="Standard")
    response = api.post(URL, {"id": "standard", "name": "Another"})
    assert response.status_code == 400
    assert "id" in response.json()["errors"]


def test_patch_deactivates_and_audits(api, envs):
    make_workflow(id="standard", name="Standard")
    response = api.patch(f"{URL}/standard", {"active": False, "revision": 1})
    assert response.status_code == 200
    assert (response.json()["active"], response.json()["revision"]) == (False, 2)
    (event,) = AuditEvent.objects.filter(action="workflow.updated")
    assert event.changes == {"active": [True, False]}


def test_put_replaces_stages(api, envs):
    make_workflow(id="standard", name="Standard")
    response = api.put(
        f"{URL}/standard", {"name": "Standard", "description": "", "active": True, "stages": stages("staging")}
    )
    assert response.status_code == 200, response.json()
    assert Workflow.objects.get(pk="standard").stages == stages("staging")


def test_update_refuses_unknown_stage_environment(api, envs):
    make_workflow(id="standard", name="Standard")
    response = api.patch(f"{URL}/standard", {"stages": stages("development", "qa")})
    assert response.status_code == 400
    assert response.json()["errors"]["stages"] == ["stages[1].environment: environment 'qa' does not exist."]
    assert [s["environment"] for s in Workflow.objects.get(pk="standard").stages] == [
        "development",
        "staging",
        "production",
    ]


def test_update_with_stale_revision_is_409(api, envs):
    make_workflow(id="standard", name="Standard")
    api.patch(f"{URL}/standard", {"description": "first"})
    response = api.patch(f"{URL}/standard", {"description": "second", "revision": 1})
    assert response.status_code == 409
    assert response.json()["revision"] == 2


def test_delete_unused_workflow(api, envs):
    make_workflow(id="standard", name="Standard")
    assert api.delete(f"{URL}/standard").status_code == 204
    assert not Workflow.objects.exists()
    assert AuditEvent.objects.filter(action="workflow.deleted", object_id="standard").count() == 1


def test_delete_is_409_while_releases_follow_it(api, envs):
    workflow = make_workflow(id="standard", name="Standard")
    make_release(workflow=workflow)
    response = api.delete(f"{URL}/standard")
    assert response.status_code == 409
    assert response.json()["references"] == {"releases": 1}
    assert "active=false" in response.json()["detail"]
    assert Workflow.objects.filter(pk="standard").exists()


def test_anonymous_cannot_write(api_client, envs):
    make_workflow(id="standard", name="Standard")
    assert api_client.post(URL, {"name": "X"}, format="json").status_code == 401
    assert api_client.patch(f"{URL}/standard", {"active": False}, format="json").status_code == 401
    assert api_client.delete(f"{URL}/standard").status_code == 401
    assert Workflow.objects.get(pk="standard").active is True


def test_if_match_and_idempotency_key(api, envs):
    first = api.post(URL, {"name": "Fast", "stages": stages("staging")}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (
        api.post(URL, {"name": "Fast", "stages": stages("staging")}, HTTP_IDEMPOTENCY_KEY="k-1").json() == first.json()
    )
    assert first["ETag"] == '"fast-1"'
    assert api.patch(f"{URL}/fast", {"active": False}, HTTP_IF_MATCH='"fast-7"').status_code == 412
    assert api.patch(f"{URL}/fast", {"active": False}, HTTP_IF_MATCH='"fast-1"').status_code == 200
    assert Workflow.objects.get(pk="fast").active is False
    assert AuditEvent.objects.filter(action="workflow.created").count() == 1
