"""Authentication plumbing, request ids, roles, production settings."""

import json
import logging
import logging.config
import os

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, ROLE_NAMES, VIEWERS
from opsportal.testing.commands import run_python


@pytest.mark.django_db
def test_role_groups_exist_with_permissions():
    perms = {g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()}
    assert set(ROLE_NAMES) <= set(perms)
    assert "view_release" in perms[VIEWERS] and "add_release" not in perms[VIEWERS]
    assert {"add_release", "change_release", "change_deployment"} <= perms[ENGINEERS]
    assert "change_environment" not in perms[ENGINEERS]
    assert {"change_environment", "change_team", "change_workflow", "view_auditevent"} <= perms[RELEASE_MANAGERS]


@pytest.mark.django_db
def test_jwt_token_obtain_refresh_and_use(django_user_model):
    django_user_model.objects.create_user("dana", "dana@example.com", "s3cret-pass-1")
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "dana", "password": "s3cret-pass-1"}, format="json")
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {"access", "refresh"}
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200 and "access" in refreshed.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/audit-events").status_code == 403  # authenticated, but not a release manager
    bad = APIClient().post("/api/v1/auth/token/", {"username": "dana", "password": "wrong"}, format="json")
    assert bad.status_code == 401
    assert set(bad.json()) >= {"code", "detail"}


@pytest.mark.django_db
def test_request_id_is_echoed_or_generated(client):
    given = client.get("/health", HTTP_X_REQUEST_ID="ci-run-42")
    assert given["X-Request-ID"] == "ci-run-42"
    generated = client.get("/health")
    assert len(generated["X-Request-ID"]) == 32
    hostile = client.get("/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert hostile["X-Request-ID"] != "bad id\nwith newline"


@pytest.mark.django_db
def test_access_log_line_has_request_fields(client, caplog):
    with caplog.at_level(logging.INFO, logger="opsportal.access"):
        client.get("/health", HTTP_X_REQUEST_ID="trace-1")
    (record,) = [r for r in caplog.records if r.name == "opsportal.access"]
    assert record.request_id == "trace-1"
    assert record.method == "GET" and record.path == "/health" and record.status == 200
    assert record.duration_ms >= 0


def test_json_log_format_when_debug_off():
    from django.conf import settings

    formatter_name = settings.LOGGING["handlers"]["console"]["formatter"]
    assert formatter_name == "json"
    import pythonjsonlogger.json

    fmt = pythonjsonlogger.json.JsonFormatter("%(levelname)s %(name)s %(message)s")
    record = logging.LogRecord("opsportal.access", logging.INFO, __file__, 1, "request", None, None)
    record.request_id = "abc"
    line = json.loads(fmt.format(record))
    assert line["message"] == "request" and line["request_id"] == "abc"


def test_check_deploy_is_clean_with_production_variables():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "MONGODB_URI"}}
    env.update(
        {
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + "-a-long-and-random-production-secret-key-value",
            "SECURE_SSL_REDIRECT": "true",
            "SESSION_COOKIE_SECURE": "true",
            "CSRF_COOKIE_SECURE": "true",
            "SECURE_HSTS_SECONDS": "31536000",
            "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
            "SECURE_HSTS_PRELOAD": "true",
            "ALLOWED_HOSTS": "ops.example.com",
        }
    )
    result = run_python("manage.py", "check", "--deploy", "--fail-level", "WARNING", env=env, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.django_db
def test_service_events_and_refusals_are_logged_with_ids(api, caplog, django_capture_on_commit_callbacks):
    from opsportal.testing.factories import make_release

    release = make_release()
    # Service events are logged once their unit of work commits.
    with caplog.at_level(logging.INFO), django_capture_on_commit_callbacks(execute=True):
        assert api.post(f"/api/v1/releases/{release.pk}/submit").status_code == 200
        assert api.post(f"/api/v1/releases/{release.pk}/submit").status_code == 409
    (event,) = [r for r in caplog.records if r.name == "opsportal.services"]
    assert event.event == "release.submitted" and event.object_id == release.pk and event.actor == "root"
    (refusal,) = [r for r in caplog.records if r.name == "opsportal.refusals"]
    assert refusal.code == "invalid_transition" and refusal.status == 409 and refusal.object_id == release.pk


@pytest.mark.django_db
def test_server_errors_leak_no_stack_trace_or_settings(monkeypatch, settings):
    from django.test import Client

    settings.ANONYMOUS_READ = True

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals: SECRET_KEY=abc")

    monkeypatch.setattr("dashboard.selectors.database_probe", boom)
    monkeypatch.setattr("opsportal.views.health_payload", boom)
    client = Client(raise_request_exception=False)
    api = client.get("/api/v1/dashboard/health")
    assert api.status_code == 500
    assert api.json() == {"code": "server_error", "detail": "Internal server error."}
    page = client.get("/health")
    assert page.status_code == 500
    for body in (api.content.decode(), page.content.decode()):
        assert "Traceback" not in body and "secret internals" not in body and "SECRET_KEY" not in body
