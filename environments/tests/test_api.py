"""`/api/v1/environments`: list/filter, CRUD through the services, status (issue #3)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditEvent
from environments.models import Environment
from environments.services import SERVICES
from opsportal.testing.documents import DocumentAPIContract, model_queries
from opsportal.testing.factories import make_environment, make_release, make_standard_environments, make_workflow
from releases.models import Deployment

pytestmark = pytest.mark.django_db

URL = "/api/v1/environments"


def deploy(environment, release, *, hours_ago=0, **fields):
    """A deployment row as the deployment services leave it (this app only reads them)."""
    environment.refresh_from_db()
    started = datetime(2026, 11, 26, 12, tzinfo=UTC) - timedelta(hours=hours_ago)
    values = {"kind": "deploy", "status": "succeeded", "deployed_by": "alice", **fields}
    deployment = Deployment.objects.create(
        **values,
        release=release,
        environment=environment,
        sequence=environment.deployment_seq + 1,
        started_at=started,
        finished_at=started + timedelta(minutes=5),
    )
    pointers = {"deployment_seq": deployment.sequence}
    if deployment.status == "succeeded":
        pointers |= {"current_release": release, "current_deployment": deployment}
    Environment.objects.filter(pk=environment.pk).update(**pointers)
    return deployment


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


class TestEnvironmentAPIContract(DocumentAPIContract):
    url, what = URL, "environments"
    services = SERVICES
    create_data = {"name": "QA", "tier": "staging"}
    change_data = {"health": "degraded", "config": {"replicas": 2}}

    def make(self):
        return make_environment(config={"replicas": 1})


# --------------------------------------------------------------------------- list


def test_list_is_in_promotion_order(api):
    make_environment("zeta", order=3)
    make_environment("alpha", order=2)
    make_environment("beta", order=1)
    response = api.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [e["id"] for e in response.json()["results"]] == ["beta", "alpha", "zeta"]


def test_list_filters_by_tier_health_and_approval(api):
    envs = make_standard_environments()
    Environment.objects.filter(pk="staging").update(health="degraded")
    assert [e["id"] for e in api.get(URL, {"tier": "production"}).json()["results"]] == ["production"]
    assert [e["id"] for e in api.get(URL, {"health": "degraded"}).json()["results"]] == ["staging"]
    assert [e["id"] for e in api.get(URL, {"requires_approval": "true"}).json()["results"]] == ["production"]
    assert [e["id"] for e in api.get(URL, {"requires_approval": "false"}).json()["results"]] == [
        "development",
        "staging",
    ]
    assert len(envs) == 3


def test_list_search_and_ordering(api):
    make_standard_environments()
    assert [e["id"] for e in api.get(URL, {"search": "stag"}).json()["results"]] == ["staging"]
    assert [e["id"] for e in api.get(URL, {"ordering": "-order"}).json()["results"]] == [
        "production",
        "staging",
        "development",
    ]


def test_list_refuses_an_unknown_filter_value_with_400(api):
    response = api.get(URL, {"tier": "moon"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "tier" in response.json()["errors"]


def test_reads_need_authentication_unless_anonymous_reads_are_on(api_client, settings):
    make_standard_environments()
    settings.ANONYMOUS_READ = False
    assert api_client.get(URL).status_code == 401
    settings.ANONYMOUS_READ = True
    assert api_client.get(URL).status_code == 200
    assert api_client.get(f"{URL}/production/status").status_code == 200
    assert api_client.post(URL, {"name": "QA"}, format="json").status_code == 401


# --------------------------------------------------------------------------- retrieve


def test_retrieve_with_and_without_trailing_slash(api):
    make_standard_environments()
    for url in (f"{URL}/production", f"{URL}/production/"):
        response = api.get(url)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == "production"
        assert body["requires_approval"] is True
        assert body["approval_policy"]["rules"] == [
            {"name": "Release Managers", "approvals": 1, "group": "Release Managers"}
        ]
        assert body["current_release"] is None


def test_list_filters_do_not_hide_the_object_of_a_detail_request(api):
    make_standard_environments()
    assert api.get(f"{URL}/production", {"tier": "development"}).status_code == 200
    assert api.get(f"{URL}/production/status", {"search": "zzz"}).status_code == 200
    assert api.patch(f"{URL}/production?health=degraded", {"description": "x"}).status_code == 200


# --------------------------------------------------------------------------- create


def test_create_defaults_id_to_slug_sets_location_and_audits(api):
    response = api.post(
        URL,
        {
            "name": "QA Cluster",
            "tier": "staging",
            "order": 2,
            "config": {"replicas": 2, "debug": False, "region": "eu", "note": None},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == "qa-cluster"
    assert response["Location"].endswith("/api/v1/environments/qa-cluster")
    assert body["revision"] == 1
    assert api.get(response["Location"]).json()["name"] == "QA Cluster"
    (event,) = events("environment.created")
    assert event.actor == "root"
    assert event.object_id == "qa-cluster"
    assert event.changes["name"] == [None, "QA Cluster"]


def test_create_with_explicit_id(api):
    response = api.post(URL, {"id": "qa", "name": "Quality"})
    assert response.status_code == 201
    assert Environment.objects.get(pk="qa").name == "Quality"


def _rules(*rules: dict) -> dict:
    return {"rules": list(rules)}


@pytest.mark.parametrize(
    ("payload", "field", "fragment"),
    [
        ({"id": "development", "name": "Other"}, "id", "already exists"),
        ({"name": "Development"}, "name", "already exists"),
        ({"id": "not a slug", "name": "X"}, "id", "slug"),
        ({"name": "X", "tier": "moon"}, "tier", "valid choice"),
        ({"name": "X", "config": {"nested": {"a": 1}}}, "config", "config.nested"),
        (
            {"name": "X", "approval_policy": {"rules": [{"approvals": 0, "group": "Release Managers"}]}},
            "approval_policy",
            "minimum",
        ),
        ({"name": "X", "approval_policy": {"rules": [{"approvals": 1}]}}, "approval_policy", "rules[0]"),
        (
            {"name": "X", "approval_policy": {"rules": [{"approvals": 1, "team": "ghosts"}]}},
            "approval_policy",
            "no team",
        ),
        (
            {"name": "X", "approval_policy": {"rules": [{"approvals": 1, "group": "Nobody"}]}},
            "approval_policy",
            "no group",
        ),
        ({"name": ""}, "name", "blank"),
    ],
)
def test_create_refuses_invalid_input_with_400_naming_the_path(api, payload, field, fragment):
    make_standard_environments()
    before = Environment.objects.count()
    response = api.post(URL, payload)
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "invalid"
    assert any(fragment in message for message in body["errors"][field]), body
    assert Environment.objects.count() == before
    assert events("environment.created") == []


def test_create_ignores_derived_fields(api):
    release = make_release()
    response = api.post(URL, {"name": "QA", "current_release": release.pk, "deployment_seq": 9, "revision": 7})
    assert response.status_code == 201
    environment = Environment.objects.get(pk="qa")
    assert (environment.current_release_id, environment.deployment_seq, environment.revision) == (None, 0, 1)


# --------------------------------------------------------------------------- update


def test_patch_changes_fields_bumps_revision_and_audits_the_changes(api):
    make_standard_environments()
    response = api.patch(f"{URL}/staging", {"health": "degraded", "config": {"replicas": 3}, "revision": 1})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["health"], body["config"], body["revision"]) == ("degraded", {"replicas": 3}, 2)
    assert Environment.objects.get(pk="staging").revision == 2
    (event,) = events("environment.updated")
    assert event.changes == {"health": ["unknown", "degraded"], "config": [{}, {"replicas": 3}]}
    assert event.actor == "root"


def test_put_replaces_editable_fields(api):
    make_standard_environments()
    payload = {
        "name": "Prod",
        "tier": "production",
        "order": 9,
        "url": "https://prod.example.com",
        "description": "Live",
        "config": {},
        "approval_policy": {"rules": [{"approvals": 2, "group": "Release Managers"}], "expires_after": 3600},
        "health": "healthy",
    }
    response = api.put(f"{URL}/production", payload)
    assert response.status_code == 200, response.json()
    environment = Environment.objects.get(pk="production")
    assert (environment.name, environment.order, environment.requires_approval) == ("Prod", 9, True)
    assert environment.approval_policy == {
        "rules": [{"name": "", "approvals": 2, "group": "Release Managers"}],
        "expires_after": 3600,
        "warn_before": 86400,
        "creator_can_approve": False,
        "deployer_four_eyes": False,
    }


def test_update_with_a_stale_revision_is_409_and_changes_nothing(api):
    make_standard_environments()
    assert api.patch(f"{URL}/staging", {"description": "first"}).status_code == 200
    response = api.patch(f"{URL}/staging", {"description": "second", "revision": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "stale_revision"
    assert response.json()["revision"] == 2
    assert Environment.objects.get(pk="staging").description == "first"


def test_update_cannot_change_id_or_derived_fields(api):
    make_standard_environments()
    release = make_release()
    response = api.patch(f"{URL}/staging", {"id": "other", "current_release": release.pk, "deployment_seq": 5})
    assert response.status_code == 200
    environment = Environment.objects.get(pk="staging")
    assert (environment.current_release_id, environment.deployment_seq) == (None, 0)
    assert not Environment.objects.filter(pk="other").exists()


def test_update_without_changes_writes_nothing(api):
    make_standard_environments()
    response = api.patch(f"{URL}/staging", {"name": "Staging"})
    assert response.status_code == 200
    assert response.json()["revision"] == 1
    assert events("environment.updated") == []


def test_update_refuses_name_of_another_environment(api):
    make_standard_environments()
    response = api.patch(f"{URL}/staging", {"name": "Production"})
    assert response.status_code == 400
    assert "name" in response.json()["errors"]


def test_writes_need_authentication(api_client):
    make_standard_environments()
    assert api_client.patch(f"{URL}/staging", {"health": "degraded"}, format="json").status_code == 401
    assert api_client.delete(f"{URL}/staging").status_code == 401
    assert Environment.objects.get(pk="staging").health == "unknown"


def test_inactive_user_token_cannot_write(django_user_model):
    user = django_user_model.objects.create_user("ghost", password="x-password-123", is_active=False)
    client = APIClient()
    client.force_authenticate(user)
    response = client.post(URL, {"name": "QA"}, format="json")
    assert response.status_code == 403
    assert not Environment.objects.exists()


# --------------------------------------------------------------------------- delete


def test_delete_unused_environment(api):
    make_environment("scratch")
    response = api.delete(f"{URL}/scratch")
    assert response.status_code == 204
    assert not Environment.objects.filter(pk="scratch").exists()
    (event,) = events("environment.deleted")
    assert event.object_id == "scratch"
    assert event.changes["name"] == ["Scratch", None]


def test_delete_is_409_while_deployments_refer_to_it(api):
    envs = make_standard_environments()
    release = make_release()
    deploy(envs["development"], release, status="failed")
    response = api.delete(f"{URL}/development")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "protected"
    assert body["references"] == {"deployments": 1}
    assert "1 deployment(s)" in body["detail"]
    assert Environment.objects.filter(pk="development").exists()
    assert events("environment.deleted") == []


def test_delete_is_409_while_a_release_is_deployed_there(api):
    make_standard_environments()
    release = make_release()
    Environment.objects.filter(pk="staging").update(current_release=release)
    response = api.delete(f"{URL}/staging")
    assert response.status_code == 409
    assert response.json()["references"]["current_release"] == release.pk


def test_delete_is_409_while_a_workflow_has_a_stage_there(api):
    make_standard_environments()
    workflow = make_workflow(["development", "staging"])
    response = api.delete(f"{URL}/staging")
    assert response.status_code == 409
    assert response.json()["references"] == {"workflows": [workflow.pk]}


# --------------------------------------------------------------------------- status


def test_status_of_an_environment_without_deployments(api):
    make_standard_environments()
    response = api.get(f"{URL}/development/status")
    assert response.status_code == 200
    assert response.json() == {
        "environment": api.get(f"{URL}/development").json(),
        "current_release": None,
        "last_deployment": None,
        "health": "unknown",
        "frozen": False,
        "frozen_until": None,
        "recent_deployments": [],
    }


def test_status_shows_current_release_and_five_newest_deployments(api):
    envs = make_standard_environments()
    production = envs["production"]
    old, current, broken = make_release(version="1.0.0"), make_release(version="1.1.0"), make_release(version="1.2.0")
    for hours_ago in (30, 29, 28, 27):
        deploy(production, old, hours_ago=hours_ago)
    deploy(production, current, hours_ago=3, pipeline_url="https://ci.example.com/1")
    deploy(production, broken, status="failed", hours_ago=1, notes="smoke tests failed")
    Environment.objects.filter(pk="production").update(health="degraded")

    body = api.get(f"{URL}/production/status").json()
    assert body["current_release"] == {"id": current.pk, "name": current.name, "version": "1.1.0"}
    assert body["health"] == "degraded"
    assert [d["sequence"] for d in body["recent_deployments"]] == [6, 5, 4, 3, 2]
    assert body["last_deployment"] == body["recent_deployments"][0]
    last = body["last_deployment"]
    assert last["status"] == "failed"
    assert last["notes"] == "smoke tests failed"
    assert last["release"] == {"id": broken.pk, "name": broken.name, "version": "1.2.0"}
    assert last["started_at"] == "2026-11-26T11:00:00Z"
    assert body["recent_deployments"][1]["pipeline_url"] == "https://ci.example.com/1"


def test_status_reports_an_active_freeze(api):
    now = datetime.now(UTC)
    ends = (now + timedelta(days=2)).replace(microsecond=0)
    make_environment(
        "frozen-env",
        freeze_windows=[
            {"starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": ends.isoformat(), "reason": "Holidays"}
        ],
    )
    body = api.get(f"{URL}/frozen-env/status").json()
    assert body["frozen"] is True
    assert body["frozen_until"] == ends.isoformat().replace("+00:00", "Z")


def test_status_query_count_is_constant(api):
    envs = make_standard_environments()
    releases = [make_release() for _ in range(6)]
    deploy(envs["staging"], releases[0])
    with CaptureQueriesContext(connection) as one:
        assert api.get(f"{URL}/staging/status").status_code == 200
    for hours_ago, release in enumerate(releases[1:], start=1):
        deploy(envs["staging"], release, hours_ago=-hours_ago)
    with CaptureQueriesContext(connection) as many:
        body = api.get(f"{URL}/staging/status").json()
    assert len(body["recent_deployments"]) == 5
    assert len(model_queries(one)) == len(model_queries(many)) == 4  # + the freeze calendar (issue #12)


def test_status_of_unknown_environment_is_404(api):
    assert api.get(f"{URL}/nowhere/status").status_code == 404


# --------------------------------------------------------------------------- ETag, If-Match, Idempotency-Key


def test_detail_and_writes_carry_an_etag_and_if_match_guards_updates(api):
    make_standard_environments()
    response = api.get(f"{URL}/staging")
    assert response["ETag"] == '"staging-1"'
    response = api.patch(f"{URL}/staging", {"health": "healthy"}, HTTP_IF_MATCH='"staging-1"')
    assert response.status_code == 200
    assert response["ETag"] == '"staging-2"'
    stale = api.patch(f"{URL}/staging", {"health": "degraded"}, HTTP_IF_MATCH='"staging-1"')
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert Environment.objects.get(pk="staging").health == "healthy"


def test_delete_with_a_stale_if_match_is_412(api):
    make_environment("scratch")
    api.patch(f"{URL}/scratch", {"description": "changed"})
    assert api.delete(f"{URL}/scratch", HTTP_IF_MATCH='"scratch-1"').status_code == 412
    assert Environment.objects.filter(pk="scratch").exists()
    assert api.delete(f"{URL}/scratch", HTTP_IF_MATCH='"scratch-2"').status_code == 204


def test_create_with_an_idempotency_key_runs_once(api):
    first = api.post(URL, {"name": "QA"}, HTTP_IDEMPOTENCY_KEY="create-qa-1")
    again = api.post(URL, {"name": "QA"}, HTTP_IDEMPOTENCY_KEY="create-qa-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert len(events("environment.created")) == 1
