"""Stored data can never make a renderer fail (issue #10).

Rows written before the input limits may hold a lone UTF-16 surrogate (which has no UTF-8 form) or a
NUL character. The API, the browsable API and the admin draw them with U+FFFD; `check_integrity`
reports them (invariant `text`) and `--repair` replaces them, one audit event per repair.

Such rows can only exist on SQLite (BSON refuses a lone surrogate), where SQLite stores a JSON
field as escaped text: that is how they got in.
"""

from __future__ import annotations

import io
import os

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from audit.services import audit_record
from opsportal.testing.admin import change_url
from opsportal.testing.factories import make_release, make_team
from releases.integrity import integrity_violations
from releases.models import Release
from teams.models import Team

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(bool(os.environ.get("MONGODB_URI")), reason="MongoDB cannot store a lone surrogate at all"),
]

LONE = "\ud83d"


@pytest.fixture
def broken_release() -> Release:
    """A release whose features hold a lone surrogate, and the audit event that recorded it."""
    features = [{"name": f"Smile {LONE}", "status": "planned", "description": "", "tasks": []}]
    release = make_release(features=features)
    audit_record(
        actor="root",
        action=AuditAction.RELEASE_UPDATED,
        object_type="release",
        object_id=release.pk,
        changes={"features": [[], features]},
    )
    return release


@pytest.fixture
def api(api):
    api.raise_request_exception = False
    return api


def test_the_api_renders_a_stored_lone_surrogate_as_u_fffd(api, broken_release):
    """issue #10: the release list, detail and history and the audit-events list answered 500."""
    make_release(name="Fine")
    for path in (
        "/api/v1/releases",
        f"/api/v1/releases/{broken_release.pk}",
        f"/api/v1/releases/{broken_release.pk}/history",
        "/api/v1/audit-events",
    ):
        response = api.get(path)
        assert response.status_code == 200, (path, response.content[:300])
        assert "Smile \ufffd" in response.content.decode("utf-8"), path
    listed = api.get("/api/v1/releases").json()["results"]
    assert {release["name"] for release in listed} >= {"Fine", broken_release.name}  # the rest still renders


def test_the_browsable_api_renders_it_too(api, broken_release):
    response = api.get(f"/api/v1/releases/{broken_release.pk}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert "Smile \ufffd" in response.content.decode("utf-8")


def test_the_admin_renders_it(client, superuser, broken_release):
    client.raise_request_exception = False
    client.force_login(superuser)
    event = AuditEvent.objects.get(object_id=broken_release.pk, action=AuditAction.RELEASE_UPDATED)
    for url in (
        reverse("admin:releases_release_changelist"),
        change_url(broken_release),
        reverse("admin:releases_release_history", args=[broken_release.pk]),
        reverse("admin:audit_auditevent_changelist"),
        change_url(event),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)


def test_check_integrity_reports_and_repairs_stored_text(broken_release):
    team = make_team(id="nul-team", name="Nul team", projects=["web\x00site"])
    found = {(v.invariant, v.object_type, v.object_id): v.message for v in integrity_violations()}
    assert found[("text", "release", broken_release.pk)] == "a lone surrogate or a NUL character in features[0].name"
    assert found[("text", "team", team.pk)] == "a lone surrogate or a NUL character in projects[0]"
    with pytest.raises(CommandError, match="repairable"):
        call_command("check_integrity", stdout=io.StringIO())

    out = io.StringIO()
    call_command("check_integrity", "--repair", stdout=out)
    assert "All invariants hold." in out.getvalue()
    broken_release.refresh_from_db()
    assert broken_release.features[0]["name"] == "Smile \ufffd"
    assert broken_release.search_text == "smile \ufffd"
    assert Team.objects.get(pk=team.pk).projects == ["web\ufffdsite"]
    for object_type, pk in (("release", broken_release.pk), ("team", team.pk)):
        (event,) = AuditEvent.objects.filter(action=f"{object_type}.repaired", object_id=pk)
        assert event.changes["invariant"] == "text"
        assert LONE not in str(event.changes) and "\x00" not in str(event.changes)  # paths, never the text
    # The audit event that recorded the surrogate is kept as it was: the chain stays valid.
    assert audit_chain_verify()["valid"]
    assert not [v for v in integrity_violations() if v.invariant == "text"]
