"""Reads from `.values()` rows (issue #18): for the same objects, the plain functions render byte for byte the
JSON the serializers render — every shape (release list item, release detail, deployment, audit event),
including the objects of the OpenAPI examples — and the endpoints answer exactly those bytes."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils.dateparse import parse_datetime

from audit.api.rows import AUDIT_EVENT_ROW, audit_event_data
from audit.api.serializers import AuditEventSerializer
from audit.models import AuditEvent
from environments.models import Environment
from opsportal.api.renderers import JSONRenderer
from opsportal.testing.factories import make_release, make_standard_environments, make_team, make_workflow
from releases import services
from releases.api import rows
from releases.api import schema as examples
from releases.api.serializers import DeploymentSerializer, ReleaseListItemSerializer, ReleaseSerializer
from releases.models import Deployment, Release
from releases.shapes import DEPLOYMENT_ROW

pytestmark = pytest.mark.django_db

render = JSONRenderer().render
RELEASES_URL = "/api/v1/releases"


def _at(text: str) -> datetime:
    return parse_datetime(text.replace("Z", "+00:00"))


def _times(hour: str) -> dict[str, datetime]:
    return {"started_at": _at(f"{hour}:00:00Z"), "finished_at": _at(f"{hour}:05:00.250Z")}


@pytest.fixture
def world(superuser):
    """Releases in many states: draft, unicode text, features and approvals, deployed, in progress, rolled back."""
    envs = make_standard_environments()
    team = make_team(id="payments", name="Payments")
    workflow = make_workflow(["development", "staging", "production"])
    plain = make_release(features=[], description="")
    text = make_release(description='ünïcødé 🚀 "quoted" \\ line\u2028sep\u2029para\ttab', target_date="2024-03-31")
    approved = make_release(
        team=team,
        workflow=workflow,
        status="approved",
        approvals=[{"user": "carol", "decision": "approved", "comment": "LGTM", "at": "2024-01-21T08:00:00.000Z"}],
    )
    services.release_deploy(release=approved, environment=envs["development"], actor=superuser, notes="first")
    services.release_deploy(
        release=approved, environment=envs["staging"], actor=superuser, pipeline_url="https://ci.example.com/runs/1"
    )
    other = make_release(status="approved")
    services.release_deploy(release=other, environment=envs["development"], actor=superuser)
    services.release_rollback(release=other, environment=envs["development"], actor=superuser, reason="errors")
    running = make_release(status="approved")
    services.release_deploy(release=running, environment=envs["staging"], actor=superuser, status="in_progress")
    return [plain, text, approved, other, running]


@pytest.fixture
def example_release(db):
    """The release and deployments of the OpenAPI examples, stored as they show them."""
    envs = make_standard_environments()
    make_team(id="platform-team", name="Platform")
    make_workflow(["development", "staging", "production"], id="standard")
    shown = examples.RELEASE_EXAMPLE
    release = Release.objects.create(
        **{key: shown[key] for key in ("id", "name", "version", "description", "status", "features", "approvals")},
        team_id=shown["team"],
        workflow_id=shown["workflow"],
        target_date=shown["target_date"],
        created_by=shown["created_by"],
        created_at=_at(shown["created_at"]),
        updated_at=_at(shown["updated_at"]),
        revision=shown["revision"],
    )
    deployment = examples.DEPLOYMENT_EXAMPLE
    common = {"release": release, "environment": envs["staging"], "deployed_by": deployment["deployed_by"]}
    previous = Deployment.objects.create(
        id=deployment["previous_deployment"], sequence=deployment["sequence"] - 1, **common, **_times("2024-01-21T10")
    )
    shown_fields = ("id", "kind", "status", "sequence", "notes", "pipeline_url", "became_current", "revision")
    Deployment.objects.create(
        **{key: deployment[key] for key in shown_fields},
        started_at=_at(deployment["started_at"]),
        finished_at=_at(deployment["finished_at"]),
        previous_deployment=previous,
        **common,
    )
    Environment.objects.filter(pk="staging").update(current_release=release)
    # Stored behind the services' back: embed the summary as they would have.
    services.release_environments_refresh(release_ids=[release.pk])
    release.refresh_from_db()
    return release


def _release_rows(ids, fields=rows.RELEASE_DETAIL_ROW):
    return list(Release.objects.filter(pk__in=ids).order_by("id").values(*fields))


def test_release_list_items_render_as_the_serializer_renders_them(world):
    releases = list(Release.objects.filter(pk__in=[r.pk for r in world]).order_by("id"))
    assert render(
        rows.release_list_data(_release_rows([r.pk for r in world], rows.RELEASE_ROW), rows.environments_now())
    ) == render(ReleaseListItemSerializer(releases, many=True).data)


def test_release_details_render_as_the_serializer_renders_them(world):
    for release in world:
        release.refresh_from_db()
        (row,) = _release_rows([release.pk])
        assert render(rows.release_detail_data(row, rows.environments_now())) == render(
            ReleaseSerializer(release).data
        ), release.pk


def test_deployments_render_as_the_serializer_renders_them(world):
    deployments = list(Deployment.objects.order_by("id"))
    assert {d.status for d in deployments} >= {"succeeded", "in_progress", "rolled_back"}
    assert any(d.finished_at is None for d in deployments) and any(d.rolled_back_from_id for d in deployments)
    stored = list(Deployment.objects.order_by("id").values(*DEPLOYMENT_ROW))
    assert render([rows.deployment_data(row) for row in stored]) == render(
        DeploymentSerializer(deployments, many=True).data
    )


def test_audit_events_render_as_the_serializer_renders_them(world):
    events = list(AuditEvent.objects.order_by("seq"))
    assert len({event.action for event in events}) >= 3
    stored = list(AuditEvent.objects.order_by("seq").values(*AUDIT_EVENT_ROW))
    assert render([audit_event_data(row) for row in stored]) == render(AuditEventSerializer(events, many=True).data)


def test_the_objects_of_the_openapi_examples_render_alike(example_release):
    (row,) = _release_rows([example_release.pk])
    assert render(rows.release_detail_data(row, rows.environments_now())) == render(
        ReleaseSerializer(example_release).data
    )
    (item,) = _release_rows([example_release.pk], rows.RELEASE_ROW)
    assert render(rows.release_list_data([item], rows.environments_now())) == render(
        ReleaseListItemSerializer([example_release], many=True).data
    )
    detail = rows.release_detail_data(row, rows.environments_now())
    # The stored example is the example: same keys, same values but for how a time is written.
    assert list(detail) == list(examples.RELEASE_EXAMPLE)
    assert detail["environments"][1]["deployment"]["id"] == examples.DEPLOYMENT_EXAMPLE["id"]
    assert detail["progress"] == examples.RELEASE_EXAMPLE["progress"]


def test_the_endpoints_answer_the_serializers_bytes(world, api):
    page = api.get("/api/v1/releases?page_size=3")
    releases = list(Release.objects.order_by("-created_at", "id")[:3])
    expected = {
        "count": len(world),
        "next": "http://testserver/api/v1/releases?page=2&page_size=3",
        "previous": None,
        "results": ReleaseListItemSerializer(releases, many=True).data,
    }
    assert page.content == render(expected)
    for release in world:
        release.refresh_from_db()
        assert api.get(f"/api/v1/releases/{release.pk}").content == render(ReleaseSerializer(release).data)
    deployment = Deployment.objects.order_by("id").first()
    assert api.get(f"/api/v1/deployments/{deployment.pk}").content == render(DeploymentSerializer(deployment).data)
    event = AuditEvent.objects.order_by("-seq").first()
    listed = api.get("/api/v1/audit-events?page_size=1").json()["results"]
    assert render(listed) == render(AuditEventSerializer([event], many=True).data)


def test_an_unknown_release_is_a_404_in_the_error_envelope(api):
    response = api.get("/api/v1/releases/nope")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_the_embedded_summary_follows_reports_and_rollbacks(world, superuser):
    """After each kind of change, the detail read from the release document equals the one computed from the
    deployments (the serializer's)."""
    running = Deployment.objects.get(status="in_progress")
    services.deployment_report_status(deployment=running, actor=superuser, status="succeeded")
    staging = Environment.objects.get(pk="staging")
    replaced = Release.objects.get(pk=staging.current_release_id)
    services.release_rollback(release=replaced, environment=staging, actor=superuser)
    for release in Release.objects.order_by("id"):
        (row,) = _release_rows([release.pk])
        assert render(rows.release_detail_data(row, rows.environments_now())) == render(
            ReleaseSerializer(release).data
        ), release.pk


def test_the_browsable_api_still_draws_the_row_reads(world, api):
    release = world[2]
    for url in (RELEASES_URL, f"{RELEASES_URL}/{release.pk}", "/api/v1/deployments", "/api/v1/audit-events"):
        response = api.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200, url
        assert response["Content-Type"].startswith("text/html")
        assert release.pk.encode() in response.content or url.startswith("/api/v1/audit")
