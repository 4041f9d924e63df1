"""API tokens for CI/CD (issue #10): created and revoked by their owner or a Release Manager, stored
hashed, shown once, recognisable, scoped (actions and teams), expiring, with a last-used time."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from audit.models import AuditEvent
from opsportal.clock import now_ms
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS
from opsportal.testing.factories import client_for, make_release, make_team, make_user
from releases.choices import ReleaseStatus
from releases.models import Deployment
from releases.services import release_deploy
from tokens.models import ApiToken
from tokens.services import api_token_create

pytestmark = pytest.mark.django_db

SECRET = re.compile(r"^opt_[A-Za-z0-9_-]{43}$")


@pytest.fixture
def payments(team):
    return team


@pytest.fixture
def rita(db):
    return make_user("rita", RELEASE_MANAGERS)


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def create(client: APIClient, **body):
    return client.post("/api/v1/tokens", {"name": "pipeline", "scopes": ["read"], **body}, format="json")


def in_progress(release, rm, environment: str) -> Deployment:
    from environments.models import Environment

    return release_deploy(
        release=release, environment=Environment.objects.get(pk=environment), actor=rm, status="in_progress"
    )


# --------------------------------------------------------------------------- create, store, show once


def test_a_token_is_shown_once_recognisable_and_stored_hashed(erin):
    response = create(client_for(erin), scopes=["read", "report_deployments"], teams=["payments"])
    assert response.status_code == 201, response.json()
    body = response.json()
    secret = body["token"]
    assert SECRET.match(secret), secret
    assert body["prefix"] == secret[:10] and body["owner"] == "erin" and body["state"] == "active"
    assert response["Location"].endswith(f"/api/v1/tokens/{body['id']}")

    stored = ApiToken.objects.get(pk=body["id"])
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str([getattr(stored, f.attname) for f in ApiToken._meta.concrete_fields])
    # Never shown again, nor recorded in the trail.
    listed = client_for(erin).get("/api/v1/tokens").json()["results"]
    assert [token["id"] for token in listed] == [body["id"]] and "token" not in listed[0]
    assert "token" not in client_for(erin).get(f"/api/v1/tokens/{body['id']}").json()
    (event,) = AuditEvent.objects.filter(action="api_token.created")
    assert (event.actor, event.object_type, event.object_id) == ("erin", "api_token", body["id"])
    assert event.changes["scopes"] == [None, ["read", "report_deployments"]]
    assert secret not in str(event.changes) and stored.secret_hash not in str(event.changes)


def test_creation_is_validated(erin, payments):
    make_team(id="billing", name="Billing")
    api = client_for(erin)
    cases = [
        ({"scopes": ["deploy"]}, "teams"),  # deploy needs teams
        ({"scopes": ["deploy"], "teams": ["billing"]}, "teams"),  # not erin's team
        ({"scopes": ["deploy"], "teams": ["nowhere"]}, "teams"),
        ({"scopes": ["admin"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": ""}, "name"),
    ]
    for body, field in cases:
        response = create(api, **body)
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid" and field in response.json()["errors"], response.json()
    assert not ApiToken.objects.exists()
    viewer = make_user("vic", VIEWERS)
    refused = create(client_for(viewer), scopes=["deploy"], teams=["payments"])
    assert refused.status_code == 400 and "scopes" in refused.json()["errors"]


def test_tokens_for_other_users_only_by_a_release_manager(erin, rita):
    dan = make_user("dan", ENGINEERS)
    refused = create(client_for(dan), owner="erin")
    assert refused.status_code == 403 and refused.json()["code"] == "role_required"
    made = create(client_for(rita), owner="erin", scopes=["report_deployments"], teams=["payments"])
    assert made.status_code == 201, made.json()
    assert (made.json()["owner"], made.json()["created_by"]) == ("erin", "rita")
    # Owners list their own; Release Managers every token.
    assert client_for(erin).get("/api/v1/tokens").json()["count"] == 1
    assert client_for(dan).get("/api/v1/tokens").json()["count"] == 0
    assert client_for(dan).get(f"/api/v1/tokens/{made.json()['id']}").status_code == 404
    assert client_for(rita).get("/api/v1/tokens").json()["count"] == 1
    assert APIClient().get("/api/v1/tokens").status_code == 401


# --------------------------------------------------------------------------- using a token


def test_a_token_authenticates_beside_jwt(erin, settings):
    settings.ANONYMOUS_READ = False
    secret = create(client_for(erin)).json()["token"]
    assert bearer(secret).get("/api/v1/releases").status_code == 200
    # JWT keeps working, and a Bearer that is neither is refused by JWT.
    jwt = APIClient().post("/api/v1/auth/token/", {"username": "erin", "password": "erin-password-123"}).json()
    assert bearer(jwt["access"]).get("/api/v1/releases").status_code == 200
    assert bearer("not-a-token").get("/api/v1/releases").status_code == 401
    unknown = bearer("opt_" + "x" * 43).get("/api/v1/releases")
    assert unknown.status_code == 401
    assert unknown.json() == {"code": "token_invalid", "detail": "This API token is not valid."}
    assert unknown["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_read_only_token_cannot_write(erin, payments, envs):
    release = make_release(team=payments)
    secret = create(client_for(erin)).json()["token"]
    client = bearer(secret)
    assert client.get(f"/api/v1/releases/{release.pk}").status_code == 200
    for response in (
        client.post("/api/v1/releases", {"name": "X", "version": "9.9.9"}, format="json"),
        client.patch(f"/api/v1/releases/{release.pk}", {"description": "x"}, format="json"),
        client.post(f"/api/v1/releases/{release.pk}/deploy", {"environment": "development"}, format="json"),
        client.post("/api/v1/tokens", {"name": "more", "scopes": ["read"]}, format="json"),
    ):
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "token_scope", body
        assert body["detail"].startswith(("API tokens cannot", "This API token may not"))
    assert not Deployment.objects.exists() and ApiToken.objects.count() == 1


def test_a_write_token_without_read_cannot_read(erin):
    secret = create(client_for(erin), scopes=["report_deployments"], teams=["payments"]).json()["token"]
    refused = bearer(secret).get("/api/v1/releases")
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == "This API token may not read: it needs the 'read' scope (it has report_deployments)."
    )


def test_a_report_deployments_token_reports_only_its_teams_deployments(erin, rita, payments, envs):
    other = make_team(id="billing", name="Billing")
    ours = in_progress(make_release(team=payments, status=ReleaseStatus.APPROVED), rita, "staging")
    theirs = in_progress(make_release(team=other, status=ReleaseStatus.APPROVED), rita, "development")
    client = bearer(create(client_for(erin), scopes=["report_deployments"], teams=["payments"]).json()["token"])

    refused = client.patch(f"/api/v1/deployments/{theirs.pk}", {"status": "succeeded"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "token_scope"
    assert "only for teams payments; this release has team 'billing'" in refused.json()["detail"]
    release = make_release(team=payments, status=ReleaseStatus.APPROVED)
    deploy = client.post(f"/api/v1/releases/{release.pk}/deploy", {"environment": "staging"}, format="json")
    assert deploy.status_code == 403 and "'deploy' scope" in deploy.json()["detail"]

    reported = client.patch(f"/api/v1/deployments/{ours.pk}", {"status": "succeeded"}, format="json")
    assert reported.status_code == 200, reported.json()
    assert Deployment.objects.get(pk=ours.pk).status == "succeeded"
    event = AuditEvent.objects.get(action="deployment.status_reported")
    assert event.actor == "erin"  # the token acts as its owner


def test_a_deploy_token_deploys_its_teams_releases(erin, payments, envs):
    other = make_release(team=make_team(id="billing", name="Billing"))
    ours = make_release(team=payments)
    client = bearer(create(client_for(erin), scopes=["deploy"], teams=["payments"]).json()["token"])
    refused = client.post(f"/api/v1/releases/{other.pk}/deploy", {"environment": "development"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "token_scope"
    deployed = client.post(f"/api/v1/releases/{ours.pk}/deploy", {"environment": "development"}, format="json")
    assert deployed.status_code == 201, deployed.json()
    assert deployed.json()["deployed_by"] == "erin"
    # The owner's own rules still apply: an Engineer does not deploy where approval is required.
    production = client.post(f"/api/v1/releases/{ours.pk}/deploy", {"environment": "production"}, format="json")
    assert production.status_code == 403 and production.json()["code"] == "role_required"


def test_an_expired_token_is_refused(erin):
    secret = create(client_for(erin)).json()["token"]
    ApiToken.objects.update(expires_at=now_ms() - timedelta(seconds=1))
    response = bearer(secret).get("/api/v1/releases")
    assert response.status_code == 401
    assert response.json() == {"code": "token_expired", "detail": "This API token has expired."}
    assert client_for(erin).get("/api/v1/tokens").json()["results"][0]["state"] == "expired"


def test_a_token_of_an_inactive_owner_is_refused(erin):
    secret = create(client_for(erin)).json()["token"]
    erin.is_active = False
    erin.save()
    assert bearer(secret).get("/api/v1/releases").status_code == 401


def test_last_used_is_recorded_at_most_once_a_minute(erin):
    secret = create(client_for(erin)).json()["token"]
    token = ApiToken.objects.get()
    assert token.last_used_at is None
    client = bearer(secret)
    client.get("/api/v1/teams")
    first = ApiToken.objects.get().last_used_at
    assert first is not None and now_ms() - first < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/teams")
    assert not [q for q in queries if q["sql"].startswith("UPDATE") and "tokens_apitoken" in q["sql"]]
    assert ApiToken.objects.get().last_used_at == first
    ApiToken.objects.update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/teams")
    assert ApiToken.objects.get().last_used_at > first - timedelta(seconds=1)


def test_a_database_that_refuses_the_last_used_write_does_not_fail_the_request(erin, monkeypatch):
    from django.db import OperationalError

    import tokens.services

    secret = create(client_for(erin)).json()["token"]

    def locked(func):
        raise OperationalError("database is locked")

    monkeypatch.setattr(tokens.services, "run_in_unit", locked)
    assert bearer(secret).get("/api/v1/teams").status_code == 200
    assert ApiToken.objects.get().last_used_at is None


# --------------------------------------------------------------------------- revoking


def test_revoking_stops_a_token_at_once(erin, rita):
    first = create(client_for(erin)).json()
    second = create(client_for(erin)).json()
    assert client_for(erin).delete(f"/api/v1/tokens/{first['id']}").status_code == 204
    refused = bearer(first["token"]).get("/api/v1/releases")
    assert refused.status_code == 401
    assert refused.json() == {"code": "token_revoked", "detail": "This API token was revoked."}
    # Kept, for the record; revoking again changes nothing.
    assert client_for(erin).get(f"/api/v1/tokens/{first['id']}").json()["state"] == "revoked"
    assert client_for(erin).delete(f"/api/v1/tokens/{first['id']}").status_code == 204
    (event,) = AuditEvent.objects.filter(action="api_token.revoked")
    assert (event.actor, event.object_id) == ("erin", first["id"])

    # Someone else's token: only a Release Manager.
    dan = make_user("dan", ENGINEERS)
    assert client_for(dan).post(f"/api/v1/tokens/{second['id']}/revoke").status_code == 404  # not visible to dan
    revoked = client_for(rita).post(f"/api/v1/tokens/{second['id']}/revoke")
    assert revoked.status_code == 200
    assert (revoked.json()["state"], revoked.json()["revoked_by"]) == ("revoked", "rita")
    assert bearer(second["token"]).get("/api/v1/releases").status_code == 401


def test_a_token_cannot_revoke_tokens(erin):
    made = create(client_for(erin)).json()
    response = bearer(made["token"]).delete(f"/api/v1/tokens/{made['id']}")
    assert response.status_code == 403 and response.json()["code"] == "token_scope"
    assert ApiToken.objects.get().revoked_at is None


def test_services_refuse_other_owners_and_tokens(erin, rita):
    dan = make_user("dan", ENGINEERS)
    token, _ = api_token_create(actor=rita, owner=erin, name="ci", scopes=["read"])
    from opsportal.errors import Forbidden
    from tokens.services import api_token_revoke

    with pytest.raises(Forbidden):
        api_token_revoke(token=token, actor=dan)
    erin.api_token = token  # as `tokens.authentication` marks a token's requests
    with pytest.raises(Forbidden, match="An API token cannot create API tokens"):
        api_token_create(actor=erin, name="more", scopes=["read"])


def test_the_schema_documents_the_token_scheme():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    scheme = schema["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "opt_…")
    (path,) = [path for path in schema["paths"] if path.rstrip("/") == "/api/v1/deployments/{id}"]
    assert {"apiToken": []} in schema["paths"][path]["patch"]["security"]
