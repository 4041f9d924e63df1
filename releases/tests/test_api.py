"""`/api/v1/releases` and `/api/v1/deployments`: what a REST client sees."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from audit.models import AuditEvent
from audit.services import now_ms
from environments.models import Environment
from opsportal.testing.factories import make_freeze, make_release, make_team, set_approval_policy
from releases.models import Deployment, Release

pytestmark = pytest.mark.django_db

URL = "/api/v1/releases"


def create(api, **body) -> dict:
    response = api.post(URL, {"name": "Checkout", "version": "1.0.0", "description": "Test", **body}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def post(api, release_id: str, action: str, body: dict | None = None):
    return api.post(f"{URL}/{release_id}/{action}", body or {}, format="json")


def approved(api, carol_api, **body) -> dict:
    release = create(api, **body)
    assert post(api, release["id"], "submit").status_code == 200
    response = post(carol_api, release["id"], "approve", {"comment": "LGTM"})
    assert response.status_code == 200, response.json()
    return response.json()


# --------------------------------------------------------------------------- CRUD


def test_create_with_the_minimal_body(api):
    response = api.post(URL, {"name": "New Release", "version": "1.0.0", "description": "Test release"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["id"], str) and body["id"]
    assert response["Location"].endswith(f"/api/v1/releases/{body['id']}")
    assert body["status"] == "draft"
    assert body["created_by"] == "root"
    assert body["revision"] == 1
    assert body["features"] == [] and body["approvals"] == []
    assert body["allowed_actions"] == ["update", "delete", "submit", "approve", "reject", "deploy", "rollback"]
    assert body["created_at"].endswith("Z")
    assert AuditEvent.objects.filter(action="release.created", object_id=body["id"]).count() == 1


def test_create_ignores_read_only_fields(api):
    body = create(api, id="chosen", status="approved", revision=7, created_by="mallory", approvals=[{"user": "x"}])
    assert body["id"] != "chosen"
    assert (body["status"], body["revision"], body["created_by"], body["approvals"]) == ("draft", 1, "root", [])


def test_create_invalid_nested_data_names_the_path(api):
    features = [
        {"name": "Cart", "status": "planned"},
        {"name": "Pay", "status": "planned", "tasks": [{"title": "API", "status": "finished"}]},
    ]
    response = api.post(URL, {"name": "R", "version": "1.0.0", "features": features}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    (message,) = body["errors"]["features"]
    assert message.startswith("features[1].tasks[0].status: 'finished' is not one of")
    assert not Release.objects.exists()


def test_create_duplicate_version_and_missing_fields(api):
    create(api)
    duplicate = api.post(URL, {"name": "Other", "version": "1.0.0"}, format="json")
    assert duplicate.status_code == 400 and "version" in duplicate.json()["errors"]
    missing = api.post(URL, {"description": "no name"}, format="json")
    assert missing.status_code == 400 and set(missing.json()["errors"]) == {"name", "version"}


def test_writes_need_authentication(api_client):
    assert api_client.post(URL, {"name": "R", "version": "1"}, format="json").status_code == 401
    assert not Release.objects.exists()


def test_retrieve_shows_lifecycle_and_environments(api, envs):
    release = create(api, features=[{"name": "Cart", "status": "done", "tasks": [{"title": "UI", "status": "done"}]}])
    post(api, release["id"], "deploy", {"environment": "development"})
    response = api.get(f"{URL}/{release['id']}")
    assert response.status_code == 200
    # The deploy wrote the release too (issue #9: the unit writes what decided it), so its ETag
    # moved with the environments summary it shows; its stamp names the deployments' and environments'
    # versions (issue #18: what a poll's If-None-Match is compared with).
    assert response["ETag"].startswith(f'"{release["id"]}-2~')
    body = response.json()
    assert body["features"][0]["tasks"] == [{"title": "UI", "status": "done", "assignee": ""}]
    assert body["progress"] == {
        "features_total": 1,
        "features_done": 1,
        "tasks_total": 1,
        "tasks_done": 1,
        "percent_complete": 100.0,
    }
    summary = {row["environment"]: row for row in body["environments"]}
    assert list(summary) == ["development", "staging", "production"]
    assert summary["development"]["is_current"] is True
    assert summary["development"]["deployment"]["status"] == "succeeded"
    assert summary["staging"] == {
        "environment": "staging",
        "name": "Staging",
        "tier": "staging",
        "health": "unknown",
        "is_current": False,
        "current_release": None,
        "deployment": None,
    }


@pytest.mark.parametrize("path", [f"{URL}/nope", f"{URL}/carol@example.com/submit", "/api/v1/deployments/1.2.3"])
def test_unknown_ids_are_404_envelopes(api, path):
    response = api.post(path) if path.endswith("submit") else api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) >= {"code", "detail"}


def test_put_and_patch_update_editable_fields_only(api):
    release = create(api)
    team = make_team()
    response = api.put(
        f"{URL}/{release['id']}",
        {"name": "Renamed", "version": "1.0.1", "team": team.pk, "status": "approved", "revision": 50},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["version"], body["team"]) == ("Renamed", "1.0.1", team.pk)
    assert (body["status"], body["revision"]) == ("draft", 2)
    patched = api.patch(f"{URL}/{release['id']}", {"description": "Now with SSO"}, format="json")
    assert patched.status_code == 200
    assert patched.json()["description"] == "Now with SSO" and patched.json()["name"] == "Renamed"
    assert patched["ETag"].startswith(f'"{release["id"]}-3~')


def test_patch_invalid_nested_data_names_the_path(api):
    release = create(api)
    features = [{"name": "Cart", "status": "planned", "tasks": [{"title": "", "status": "todo"}]}]
    response = api.patch(f"{URL}/{release['id']}", {"features": features}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["features"][0].startswith("features[0].tasks[0].title:")


def test_update_outside_editable_states_is_409_with_allowed_actions(api, carol_api, envs):
    release = approved(api, carol_api)
    response = api.patch(f"{URL}/{release['id']}", {"name": "Changed"}, format="json")
    assert response.status_code == 409
    assert response.json() == {
        "code": "invalid_transition",
        "detail": "Cannot update a release in status 'approved'.",
        "status": "approved",
        "allowed_actions": ["reject", "deploy", "rollback"],
    }
    assert Release.objects.get(pk=release["id"]).name == "Checkout"


def test_if_match_makes_writes_conditional(api):
    release = create(api)
    etag = api.get(f"{URL}/{release['id']}")["ETag"]
    api.patch(f"{URL}/{release['id']}", {"name": "Someone else"}, format="json")
    stale = api.patch(f"{URL}/{release['id']}", {"name": "A"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert Release.objects.get(pk=release["id"]).name == "Someone else"
    assert api.delete(f"{URL}/{release['id']}", HTTP_IF_MATCH=etag).status_code == 412
    fresh_etag = api.get(f"{URL}/{release['id']}")["ETag"]
    fresh = api.patch(f"{URL}/{release['id']}", {"name": "A"}, format="json", HTTP_IF_MATCH=fresh_etag)
    assert fresh.status_code == 200 and fresh.json()["revision"] == 3


def test_idempotency_key_makes_a_retried_action_run_once(api, envs):
    release = create(api)
    headers = {"HTTP_IDEMPOTENCY_KEY": "deploy-dev-1"}
    first = api.post(f"{URL}/{release['id']}/deploy", {"environment": "development"}, format="json", **headers)
    retry = api.post(f"{URL}/{release['id']}/deploy", {"environment": "development"}, format="json", **headers)
    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"] and retry["Location"] == first["Location"]
    assert Deployment.objects.count() == 1


def test_idempotent_create_and_submit_replay_the_first_response_byte_for_byte(api, envs):
    """Write responses are built from rows (datetimes until rendered): the stored response is the JSON sent."""
    body = {"name": "Replayed", "version": "4.2.0", "target_date": "2026-12-24"}
    first = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = api.post(URL, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    assert first.status_code == again.status_code == 201, first.json()
    assert again["Idempotent-Replayed"] == "true" and again.content == first.content
    assert first.json()["created_at"].endswith("Z") and first.json()["target_date"] == "2026-12-24"
    submit = f"{URL}/{first.json()['id']}/submit"
    submitted = api.post(submit, {}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    resubmitted = api.post(submit, {}, format="json", HTTP_IDEMPOTENCY_KEY="submit-1")
    assert submitted.status_code == resubmitted.status_code == 200, submitted.json()
    assert resubmitted.content == submitted.content and submitted.json()["status"] == "pending_approval"
    assert Release.objects.filter(version="4.2.0").count() == 1


def test_delete_draft_and_refuse_approved(api, carol_api, envs):
    draft = create(api, version="0.1.0")
    assert api.delete(f"{URL}/{draft['id']}").status_code == 204
    assert not Release.objects.filter(pk=draft["id"]).exists()
    release = approved(api, carol_api)
    response = api.delete(f"{URL}/{release['id']}")
    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert Release.objects.filter(pk=release["id"]).exists()


def test_delete_draft_with_deployments_is_409(api, envs):
    release = create(api)
    post(api, release["id"], "deploy", {"environment": "development"})
    response = api.delete(f"{URL}/{release['id']}")
    assert response.status_code == 409 and response.json()["code"] == "protected"


# --------------------------------------------------------------------------- list


def test_list_filters_search_and_ordering(api, envs):
    team = make_team()
    a = create(api, name="Alpha", version="1.0.0", team=team.pk, target_date="2024-03-01")
    b = create(api, name="Beta", version="2.0.0", description="SSO login", target_date="2024-01-01")
    c = create(api, name="Gamma", version="3.0.0")
    post(api, b["id"], "submit")
    post(api, c["id"], "deploy", {"environment": "development"})

    def ids(query: str) -> list[str]:
        response = api.get(f"{URL}?{query}")
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    page = api.get(URL).json()
    assert set(page) == {"count", "next", "previous", "results"} and page["count"] == 3
    assert ids("status=pending_approval") == [b["id"]]
    assert ids(f"team={team.pk}") == [a["id"]]
    assert ids("environment=development") == [c["id"]]
    assert ids("environment=staging") == []
    assert ids("search=sso") == [b["id"]]
    assert ids("search=3.0") == [c["id"]]
    assert ids("ordering=name") == [a["id"], b["id"], c["id"]]
    assert ids("ordering=-version") == [c["id"], b["id"], a["id"]]
    assert ids("ordering=-target_date") == [a["id"], b["id"], c["id"]]
    assert ids("ordering=created_at") == [a["id"], b["id"], c["id"]]
    assert api.get(f"{URL}?status=bogus").status_code == 400


def test_list_by_workflow(api, envs, workflow):
    with_workflow = create(api, workflow=workflow.pk)
    create(api, version="2.0.0")
    response = api.get(f"{URL}?workflow={workflow.pk}")
    assert [row["id"] for row in response.json()["results"]] == [with_workflow["id"]]


def test_list_queries_do_not_grow_with_page_size(api, envs, django_assert_max_num_queries):
    for n in range(50):
        make_release(version=f"9.{n}.0")
    for release in Release.objects.all()[:10]:
        post(api, release.pk, "deploy", {"environment": "development"})
        post(api, release.pk, "rollback", {"environment": "development"})
    with django_assert_max_num_queries(12) as small:
        assert len(api.get(f"{URL}?page_size=5").json()["results"]) == 5
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(api.get(f"{URL}?page_size=50").json()["results"]) == 50
    with django_assert_max_num_queries(10) as small:
        api.get("/api/v1/deployments?page_size=5")
    with django_assert_max_num_queries(len(small.captured_queries)):
        api.get("/api/v1/deployments?page_size=50")


# --------------------------------------------------------------------------- approval actions


def test_submit_approve_reject_flow(api, carol_api, envs):
    release = create(api)
    submitted = post(api, release["id"], "submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "pending_approval"
    again = post(api, release["id"], "submit")
    assert again.status_code == 409
    assert again.json()["status"] == "pending_approval"
    assert again.json()["allowed_actions"] == ["update", "approve", "reject", "deploy", "rollback"]
    approval = post(carol_api, release["id"], "approve", {"comment": "LGTM"})
    assert approval.status_code == 200
    assert approval.json()["status"] == "approved"
    assert approval.json()["approvals"][0]["user"] == "carol"
    rejection = post(carol_api, release["id"], "reject", {"reason": "Missing rollback plan"})
    assert rejection.status_code == 200
    assert rejection.json()["status"] == "rejected"
    assert rejection.json()["approvals"][-1] == {
        **rejection.json()["approvals"][-1],
        "decision": "rejected",
        "comment": "Missing rollback plan",
    }


def test_approve_own_release_is_403_four_eyes(api, envs):
    release = create(api)
    response = post(api, release["id"], "approve")
    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes"
    assert Release.objects.get(pk=release["id"]).approvals == []


def test_approve_twice_is_409(api, carol_api, envs):
    set_approval_policy("production", 2)
    release = create(api)
    assert post(carol_api, release["id"], "approve").status_code == 200
    second = post(carol_api, release["id"], "approve")
    assert second.status_code == 409 and second.json()["code"] == "already_approved"


def test_reject_needs_a_reason(api, carol_api):
    release = create(api)
    response = post(carol_api, release["id"], "reject", {})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reason"]
    assert Release.objects.get(pk=release["id"]).status == "draft"


# --------------------------------------------------------------------------- deploy / rollback


def test_deploy_creates_a_deployment_with_location(api, envs):
    release = create(api)
    response = post(
        api,
        release["id"],
        "deploy",
        {"environment": "development", "notes": "first", "pipeline_url": "https://ci.example.com/1"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/deployments/{body['id']}")
    assert body["release"] == release["id"] and body["environment"] == "development"
    assert (body["kind"], body["status"], body["sequence"], body["deployed_by"]) == ("deploy", "succeeded", 1, "root")
    assert body["duration_seconds"] == 0.0
    assert api.get(response["Location"]).status_code == 200


def test_second_deploy_is_409_and_only_one_deployment_exists(api, envs):
    release = create(api)
    assert post(api, release["id"], "deploy", {"environment": "development"}).status_code == 201
    response = post(api, release["id"], "deploy", {"environment": "development"})
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "deploy_blocked"
    assert [b["code"] for b in body["blockers"]] == ["already_deployed"]
    assert Deployment.objects.count() == 1


def test_deploy_blocked_body_matches_deploy_check(api, envs, workflow):
    release = create(api, workflow=workflow.pk)
    check = api.get(f"{URL}/{release['id']}/deploy-check?environment=production")
    assert check.status_code == 200
    assert check.json()["allowed"] is False
    response = post(api, release["id"], "deploy", {"environment": "production"})
    assert response.status_code == 409
    assert response.json()["blockers"] == check.json()["blockers"]
    assert [b["code"] for b in response.json()["blockers"]] == ["approval_required", "workflow_order"]
    assert response.json()["status"] == "draft"


def test_deploy_during_a_freeze_and_its_override(api, envs):
    now = now_ms()
    ends = now + timedelta(hours=1)
    make_freeze("development", starts_at=now - timedelta(hours=1), ends_at=ends, reason="Holidays")
    release = create(api)
    blocked = post(api, release["id"], "deploy", {"environment": "development"})
    assert blocked.status_code == 409
    (blocker,) = blocked.json()["blockers"]
    assert blocker["code"] == "freeze_window"
    assert blocker["until"] == ends.isoformat().replace("+00:00", "Z")
    no_reason = post(api, release["id"], "deploy", {"environment": "development", "override_freeze": True})
    assert no_reason.status_code == 400 and list(no_reason.json()["errors"]) == ["reason"]
    forced = post(
        api, release["id"], "deploy", {"environment": "development", "override_freeze": True, "reason": "Fix"}
    )
    assert forced.status_code == 201


def test_deploy_input_errors(api, envs):
    release = create(api)
    unknown = post(api, release["id"], "deploy", {"environment": "mars"})
    assert unknown.status_code == 400 and list(unknown.json()["errors"]) == ["environment"]
    bad_status = post(api, release["id"], "deploy", {"environment": "development", "status": "failed"})
    assert bad_status.status_code == 400 and list(bad_status.json()["errors"]) == ["status"]
    bad_url = post(api, release["id"], "deploy", {"environment": "development", "pipeline_url": "not a url"})
    assert bad_url.status_code == 400 and list(bad_url.json()["errors"]) == ["pipeline_url"]
    assert not Deployment.objects.exists()


def test_deploy_to_production_and_rollback(api, carol_api, envs):
    old = approved(api, carol_api, version="1.0.0")
    assert post(api, old["id"], "deploy", {"environment": "production"}).status_code == 201
    assert api.get(f"{URL}/{old['id']}").json()["status"] == "deployed"
    new = approved(api, carol_api, version="1.1.0")
    assert post(api, new["id"], "deploy", {"environment": "production"}).status_code == 201

    wrong = post(api, old["id"], "rollback", {"environment": "production"})
    assert wrong.status_code == 409 and wrong.json()["code"] == "not_current_release"

    response = post(api, new["id"], "rollback", {"environment": "production", "reason": "Errors up"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert response["Location"].endswith(f"/api/v1/deployments/{body['id']}")
    assert (body["kind"], body["release"], body["rolled_back_from"]) == ("rollback", old["id"], new["id"])
    assert api.get(f"{URL}/{new['id']}").json()["status"] == "rolled_back"
    assert api.get(f"{URL}?environment=production").json()["results"][0]["id"] == old["id"]


def test_rollback_with_nothing_to_return_to_is_409(api, envs):
    release = create(api)
    post(api, release["id"], "deploy", {"environment": "development"})
    response = post(api, release["id"], "rollback", {"environment": "development"})
    assert response.status_code == 409
    assert response.json()["code"] == "nothing_to_roll_back_to"
    assert "Nothing to roll back to" in response.json()["detail"]


def test_deploy_check_parameters(api, envs):
    release = create(api)
    ok = api.get(f"{URL}/{release['id']}/deploy-check?environment=development")
    assert ok.status_code == 200 and ok.json() == {"allowed": True, "blockers": []}
    missing = api.get(f"{URL}/{release['id']}/deploy-check")
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["environment"]
    unknown = api.get(f"{URL}/{release['id']}/deploy-check?environment=mars")
    assert unknown.status_code == 400 and list(unknown.json()["errors"]) == ["environment"]
    blocked = api.get(f"{URL}/{release['id']}/deploy-check?environment=production").json()
    assert blocked["allowed"] is False and blocked["blockers"][0]["code"] == "approval_required"


# --------------------------------------------------------------------------- metrics / history


def test_metrics(api, carol_api, envs):
    release = approved(
        api, carol_api, features=[{"name": "A", "status": "done", "tasks": [{"title": "t", "status": "done"}]}]
    )
    rid = release["id"]
    post(api, rid, "deploy", {"environment": "development"})
    pending = post(api, rid, "deploy", {"environment": "staging", "status": "in_progress"}).json()
    api.patch(f"/api/v1/deployments/{pending['id']}", {"status": "failed"}, format="json")
    post(api, rid, "deploy", {"environment": "staging"})
    post(api, rid, "deploy", {"environment": "production"})
    response = api.get(f"{URL}/{rid}/metrics")
    assert response.status_code == 200
    body = response.json()
    assert body["deployments_total"] == 4
    assert body["deployments_by_status"] == {"in_progress": 0, "succeeded": 3, "failed": 1, "rolled_back": 0}
    staging = next(row for row in body["deployments_by_environment"] if row["environment"] == "staging")
    assert (staging["total"], staging["succeeded"], staging["failed"]) == (2, 1, 1)
    assert body["success_rate"] == 0.75
    assert body["mean_deployment_duration_seconds"] is not None and body["mean_deployment_duration_seconds"] >= 0
    assert body["lead_time_seconds"] is not None and body["lead_time_seconds"] >= 0
    assert body["first_production_deployment_at"].endswith("Z")
    assert body["progress"]["tasks_done"] == 1 and body["progress"]["percent_complete"] == 100.0


def test_metrics_of_a_release_never_deployed(api):
    body = api.get(f"{URL}/{create(api)['id']}/metrics").json()
    assert body["deployments_total"] == 0
    assert body["success_rate"] is None and body["lead_time_seconds"] is None
    assert body["mean_deployment_duration_seconds"] is None


def test_history_lists_release_and_deployment_events_newest_first(api, carol_api, envs):
    release = create(api)
    rid = release["id"]
    api.patch(f"{URL}/{rid}", {"description": "More"}, format="json")
    post(api, rid, "submit")
    post(carol_api, rid, "approve")
    deployment = post(api, rid, "deploy", {"environment": "production"}).json()
    create(api, version="9.9.9")  # someone else's event: not in this history
    response = api.get(f"{URL}/{rid}/history")
    assert response.status_code == 200
    body = response.json()
    actions = [event["action"] for event in body["results"]]
    assert actions == [
        "release.deployed",
        "deployment.created",
        "release.approved",
        "release.submitted",
        "release.updated",
        "release.created",
    ]
    assert body["count"] == 6
    assert body["results"][1]["object_type"] == "deployment" and body["results"][1]["object_id"] == deployment["id"]
    first = body["results"][0]
    assert set(first) == {"seq", "at", "actor", "action", "object_type", "object_id", "changes"}
    assert body["results"][2]["actor"] == "carol"
    assert body["results"][4]["changes"]["description"] == ["Test", "More"]
    page = api.get(f"{URL}/{rid}/history?page_size=2").json()
    assert [e["action"] for e in page["results"]] == actions[:2] and page["next"]


def deploy_two_and_roll_back_the_second(api) -> tuple[dict, dict]:
    """Releases 1.0.0 and 1.1.0 deployed to development in turn, then 1.1.0 rolled back."""
    first = create(api, version="1.0.0")
    second = create(api, version="1.1.0")
    post(api, first["id"], "deploy", {"environment": "development"})
    post(api, second["id"], "deploy", {"environment": "development"})
    post(api, second["id"], "rollback", {"environment": "development"})
    return first, second


def test_history_of_a_rolled_back_release_shows_the_rollback(api, envs):
    _, second = deploy_two_and_roll_back_the_second(api)
    actions = [e["action"] for e in api.get(f"{URL}/{second['id']}/history").json()["results"]]
    assert actions[0] == "deployment.rolled_back"


# --------------------------------------------------------------------------- deployments


def test_deployments_list_filters_and_retrieve(api, envs):
    a, b = deploy_two_and_roll_back_the_second(api)
    post(api, a["id"], "deploy", {"environment": "staging", "status": "in_progress"})

    def rows(query: str = "") -> list[dict]:
        response = api.get(f"/api/v1/deployments?{query}")
        assert response.status_code == 200
        return response.json()["results"]

    assert len(rows()) == 4
    assert {r["environment"] for r in rows("environment=staging")} == {"staging"}
    assert [r["kind"] for r in rows("kind=rollback")] == ["rollback"]
    assert [r["status"] for r in rows("status=rolled_back")] == ["rolled_back"]
    assert {r["release"] for r in rows(f"release={b['id']}")} == {b["id"]}
    ordered = rows("ordering=started_at")
    assert [r["sequence"] for r in ordered if r["environment"] == "development"] == [1, 2, 3]
    one = rows("kind=rollback")[0]
    assert api.get(f"/api/v1/deployments/{one['id']}").json() == one


def test_deployment_status_report(api, envs):
    release = create(api)
    pending = post(api, release["id"], "deploy", {"environment": "development", "status": "in_progress"}).json()
    assert pending["finished_at"] is None and pending["duration_seconds"] is None
    url = f"/api/v1/deployments/{pending['id']}"
    invalid = api.patch(url, {"status": "rolled_back"}, format="json")
    assert invalid.status_code == 400
    reported = api.patch(url, {"status": "succeeded", "notes": "green"}, format="json")
    assert reported.status_code == 200
    assert reported.json()["status"] == "succeeded" and reported.json()["notes"] == "green"
    assert Environment.objects.get(pk="development").current_release_id == release["id"]
    again = api.patch(url, {"status": "failed"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition" and again.json()["status"] == "succeeded"


def test_deployments_cannot_be_created_replaced_or_deleted_directly(api, envs):
    release = create(api)
    deployment = post(api, release["id"], "deploy", {"environment": "development"}).json()
    assert api.post("/api/v1/deployments", {"release": release["id"]}, format="json").status_code == 405
    assert api.put(f"/api/v1/deployments/{deployment['id']}", {}, format="json").status_code == 405
    assert api.delete(f"/api/v1/deployments/{deployment['id']}").status_code == 405
    assert Deployment.objects.count() == 1


def test_anonymous_reads_follow_the_setting(settings, api, envs):
    release = create(api)
    anonymous = APIClient()
    settings.ANONYMOUS_READ = False
    assert anonymous.get(URL).status_code == 401
    settings.ANONYMOUS_READ = True
    assert anonymous.get(f"{URL}/{release['id']}").status_code == 200
    assert anonymous.post(f"{URL}/{release['id']}/submit").status_code == 401


def test_routes_answer_with_and_without_trailing_slash(api):
    assert api.post(f"{URL}/", {"name": "R", "version": "1.0.0"}, format="json").status_code == 201
    release = Release.objects.get()
    assert api.get(f"{URL}/{release.pk}/").status_code == 200
    assert api.post(f"{URL}/{release.pk}/submit/").status_code == 200


def test_list_items_name_where_the_release_is_live_and_the_detail_has_the_summaries(api, envs):
    release = make_release(version="6.6.6")
    post(api, release.pk, "deploy", {"environment": "development"})
    post(api, release.pk, "deploy", {"environment": "staging"})
    (item,) = api.get(f"{URL}?search=6.6.6").json()["results"]
    assert item["deployed_to"] == ["development", "staging"]
    assert "environments" not in item
    detail = api.get(f"{URL}/{release.pk}").json()
    assert [row["environment"] for row in detail["environments"] if row["is_current"]] == ["development", "staging"]
    assert detail["environments"][0]["deployment"]["status"] == "succeeded"


def test_timestamps_are_stored_to_the_millisecond_as_on_mongodb(api, envs):
    from datetime import datetime

    body = create(api, version="8.8.8")
    for field in ("created_at", "updated_at"):
        moment = datetime.fromisoformat(body[field].replace("Z", "+00:00"))
        assert moment.microsecond % 1000 == 0, body[field]
    assert api.get(f"{URL}/{body['id']}").json()["created_at"] == body["created_at"]


def test_search_finds_releases_by_their_features_and_tasks(api, envs):
    """Issue #9: search looks inside the embedded features through a text field the services keep up to date
    (MongoDB cannot match a regex inside sub-documents)."""
    cart = create(
        api,
        version="1.0.0",
        features=[{"name": "Shopping Cart", "status": "done", "tasks": [{"title": "Payment UI", "status": "todo"}]}],
    )
    other = create(api, version="2.0.0")
    ids = lambda query: [row["id"] for row in api.get(f"{URL}?search={query}").json()["results"]]  # noqa: E731
    assert ids("shopping") == [cart["id"]]
    assert ids("payment%20ui") == [cart["id"]]
    response = api.patch(
        f"{URL}/{other['id']}", {"features": [{"name": "Wishlist", "status": "planned"}]}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert ids("wishlist") == [other["id"]]
    assert ids("nothing-like-this") == []
