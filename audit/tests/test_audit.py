"""The audit trail: appends form a verifiable hash chain; only Release Managers read it."""

import pytest
from django.contrib.auth.models import Group

from audit.actions import AuditAction
from audit.models import AuditEvent
from audit.services import audit_record
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS

pytestmark = pytest.mark.django_db


def _user(django_user_model, name, role=None):
    user = django_user_model.objects.create_user(name, f"{name}@example.com", "pw-123456789")
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def _events(n):
    return [
        audit_record(
            actor="alice",
            action="release.updated",
            object_type="release",
            object_id=f"r{i}",
            changes={"name": [f"old{i}", f"new{i}"]},
        )
        for i in range(n)
    ]


def test_events_chain_by_sequence_and_hash():
    first, second, third = _events(3)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert len({first.hash, second.hash, third.hash}) == 3


def test_verify_reports_intact_chain(api):
    _events(4)
    body = api.get("/api/v1/audit-events/verify").json()
    assert body == {
        "valid": True,
        "events": 4,
        "first_broken": None,
        "problem": None,
        "message": "The chain of 4 events is intact.",
        "checkpoint": None,
    }


def test_verify_finds_event_edited_in_the_database(api):
    _events(5)
    # Tamper directly in the database, bypassing every service.
    AuditEvent.objects.filter(seq=3).update(actor="mallory")
    body = api.get("/api/v1/audit-events/verify").json()
    assert body["valid"] is False
    assert body["first_broken"] == 3


def test_verify_finds_deleted_event(api):
    _events(4)
    AuditEvent.objects.filter(seq=2).delete()
    body = api.get("/api/v1/audit-events/verify").json()
    assert body["valid"] is False
    assert body["first_broken"] == 3
    assert (body["problem"], body["message"]) == ("missing", "Event #2 is missing from the chain.")


def test_list_filters_by_actor_action_object_and_time(api):
    _events(2)
    audit_record(actor="bob", action="release.approved", object_type="release", object_id="r9", changes={})
    assert api.get("/api/v1/audit-events?actor=bob").json()["count"] == 1
    assert api.get("/api/v1/audit-events?action=release.updated").json()["count"] == 2
    assert api.get("/api/v1/audit-events?object_type=release&object_id=r1").json()["count"] == 1
    newest = api.get("/api/v1/audit-events").json()["results"][0]
    assert newest["seq"] == 3 and newest["actor"] == "bob"
    at = newest["at"]
    assert api.get("/api/v1/audit-events", {"at_after": at}).json()["count"] >= 1
    assert api.get("/api/v1/audit-events", {"at_before": "2000-01-01T00:00:00Z"}).json()["count"] == 0


def test_audit_trail_is_read_only_through_the_api(api):
    (event,) = _events(1)
    assert api.delete(f"/api/v1/audit-events/{event.pk}").status_code == 405
    assert api.patch(f"/api/v1/audit-events/{event.pk}", {"actor": "x"}).status_code == 405
    assert api.post("/api/v1/audit-events", {"actor": "x"}).status_code == 405
    assert AuditEvent.objects.get(pk=event.pk).actor == "alice"


def test_only_release_managers_read_the_audit_trail(client, django_user_model):
    from rest_framework.test import APIClient

    _events(1)
    for role, expected in ((None, 403), (ENGINEERS, 403), (RELEASE_MANAGERS, 200)):
        user = _user(django_user_model, f"user-{role or 'none'}".replace(" ", "-").lower(), role)
        api = APIClient()
        api.force_authenticate(user)
        response = api.get("/api/v1/audit-events")
        assert response.status_code == expected, role
        if expected == 403:
            assert "Release Managers" in response.json()["detail"]
    assert APIClient().get("/api/v1/audit-events/verify").status_code in (401, 403)


def test_every_action_comes_from_the_catalogue():
    """Audit action names are constants in one module (issue #16): an unknown name is refused, nothing appended."""
    with pytest.raises(ValueError, match=r"release\.teleported"):
        audit_record(actor="bob", action="release.teleported", object_type="release", object_id="r9")
    assert not AuditEvent.objects.exists()
    event = audit_record(actor="bob", action=AuditAction.RELEASE_APPROVED, object_type="release", object_id="r9")
    assert event.action == "release.approved"
