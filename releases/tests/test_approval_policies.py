"""Approval policies per environment (issue #12): rules by group and team, expiry (at the boundary and
by the periodic job), four eyes for creator and deployer, content binding by digest, deploy-check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from environments.models import Environment
from events.models import Event
from opsportal.errors import Conflict, Forbidden
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS
from opsportal.testing.factories import client_for, make_release, make_team, make_user, set_approval_policy
from releases.models import Release
from releases.services import release_approve, release_deploy, release_deploy_check, release_submit, release_update
from releases.services.approvals import approvals_notify_expiry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOURS_72 = 72 * 3600


@pytest.fixture
def clock(db, monkeypatch):
    """`timezone.now()` answers what the test sets (`clock.at`)."""

    class Clock:
        at = T0

        def move(self, **delta) -> None:
            self.at += timedelta(**delta)

    instance = Clock()
    monkeypatch.setattr(timezone, "now", lambda: instance.at)
    return instance


@pytest.fixture
def security(db):
    """The security team: sam is its member (an Engineer, not a Release Manager)."""
    make_team(id="security-team", name="Security", members=[{"name": "Sam", "email": "s@x.org", "username": "sam"}])
    return make_user("sam", ENGINEERS)


@pytest.fixture
def strict(envs, security):
    """Production: 2 from Release Managers and 1 from the security team, expiring after 72 h (warn 24 h
    ahead), deployer four-eyes."""
    rules = [
        {"name": "Release Managers", "approvals": 2, "group": RELEASE_MANAGERS},
        {"name": "Security", "approvals": 1, "team": "security-team"},
    ]
    set_approval_policy("production", rules, expires_after=HOURS_72, warn_before=86400, deployer_four_eyes=True)
    return Environment.objects.get(pk="production")


def _pending(alice) -> Release:
    release = make_release(created_by="alice", status="pending_approval")
    return release


def _blockers(release, environment, deployer: str) -> list[dict]:
    fresh, environment = Release.objects.get(pk=release.pk), Environment.objects.get(pk=environment.pk)
    return release_deploy_check(release=fresh, environment=environment, deployer=deployer)


def _unmet(release, environment, deployer="") -> list[dict]:
    blockers = _blockers(release, environment, deployer)
    return [rule for b in blockers if b["code"] == "approval_required" for rule in b["unmet_rules"]]


def test_each_rule_met_and_unmet(clock, strict, alice, carol, dave, security):
    release = _pending(alice)
    assert {r["rule"]: (r["have"], r["needed"]) for r in _unmet(release, strict)} == {
        "Release Managers": (0, 2),
        "Security": (0, 1),
    }
    release_approve(release=release, actor=carol)
    assert {r["rule"]: r["have"] for r in _unmet(release, strict)} == {"Release Managers": 1, "Security": 0}
    release_approve(release=release, actor=dave)
    # Release Managers met, Security not: still pending, and deploy-check names only the unmet rule.
    assert Release.objects.get(pk=release.pk).status == "pending_approval"
    assert [r["rule"] for r in _unmet(release, strict)] == ["Security"]
    release_approve(release=release, actor=security)  # an Engineer of the security team may approve
    release.refresh_from_db()
    assert release.status == "approved"
    assert _unmet(release, strict) == []
    assert release.approvals[-1]["teams"] == ["security-team"]
    deployment = release_deploy(release=release, environment=strict, actor=carol)
    assert deployment.status == "succeeded"


def test_an_engineer_outside_every_rule_cannot_approve(strict, alice, erin):
    with pytest.raises(Forbidden):
        release_approve(release=_pending(alice), actor=erin)


def test_expiry_at_the_boundary(clock, strict, alice, carol, dave, security):
    release = _pending(alice)
    for approver in (carol, dave, security):
        release_approve(release=release, actor=approver)
    clock.move(seconds=HOURS_72 - 1)
    assert _unmet(release, strict) == []
    clock.move(seconds=1)  # at `at + expires_after` the approvals no longer count (half-open)
    unmet = {r["rule"]: (r["have"], r["expired"]) for r in _unmet(release, strict)}
    assert unmet == {"Release Managers": (0, 2), "Security": (0, 1)}
    blocked = release_deploy_check(release=Release.objects.get(pk=release.pk), environment=strict)
    assert "Release Managers needs 2, has 0 (2 expired)" in blocked[0]["message"]


def test_expiry_notices_by_the_periodic_job(clock, strict, alice, carol, dave, security):
    release = _pending(alice)
    release_approve(release=release, actor=carol)
    approved_at = clock.at
    assert Release.objects.get(pk=release.pk).approval_notice_at == approved_at + timedelta(hours=48)
    clock.move(hours=47, minutes=59)
    assert approvals_notify_expiry() == {"releases": 0, "notices": 0}
    clock.move(minutes=1)
    assert approvals_notify_expiry() == {"releases": 1, "notices": 1}
    assert approvals_notify_expiry()["notices"] == 0  # sent once
    (expiring,) = Event.objects.filter(name="approval.expiring")
    content = expiring.payload["subject"]["content"]
    assert content["environment"] == "production"
    assert content["approvals"] == [
        {"user": "carol", "at": release.approvals[0]["at"], "expires_at": "2026-11-05T09:00:00.000Z"}
    ]
    assert expiring.environment == "production"
    clock.move(hours=24)
    assert approvals_notify_expiry() == {"releases": 1, "notices": 1}
    assert Event.objects.filter(name="approval.expired").count() == 1
    stored = Release.objects.get(pk=release.pk)
    assert stored.approvals[0]["notices"] == ["expiring:production", "expired:production"]
    assert stored.approval_notice_at is None
    assert AuditEvent.objects.filter(action="release.approval_expired", actor="system").count() == 1


def test_a_digest_mismatch_does_not_count(clock, envs, alice, carol):
    set_approval_policy("production", 1)
    release = _pending(alice)
    release_approve(release=release, actor=carol)
    release.refresh_from_db()
    assert release.status == "approved"
    # An edit by a path that skips the lifecycle (admin repair, migration): the approval no longer matches.
    Release.objects.filter(pk=release.pk).update(version="9.9.9")
    (rule,) = _unmet(release, envs["production"])
    assert (rule["have"], rule["stale"]) == (0, 1)
    with pytest.raises(Conflict) as refused:
        release_deploy(release=release, environment=envs["production"], actor=carol)
    assert refused.value.extra["blockers"][0]["code"] == "approval_required"


def test_editing_a_pending_release_makes_earlier_approvals_stale(clock, envs, alice, carol, dave):
    set_approval_policy("production", 2)
    release = _pending(alice)
    release_approve(release=release, actor=carol)
    release_update(release=Release.objects.get(pk=release.pk), actor=alice, data={"description": "same content"})
    release_approve(release=Release.objects.get(pk=release.pk), actor=dave)
    assert Release.objects.get(pk=release.pk).status == "approved"  # description is not approved content
    release2 = make_release(created_by="alice", status="pending_approval")
    release_approve(release=release2, actor=carol)
    release_update(release=Release.objects.get(pk=release2.pk), actor=alice, data={"target_date": "2027-01-15"})
    release_approve(release=Release.objects.get(pk=release2.pk), actor=dave)
    assert Release.objects.get(pk=release2.pk).status == "pending_approval"
    (rule,) = _unmet(release2, envs["production"])
    assert (rule["have"], rule["stale"]) == (1, 1)


def test_creator_cannot_approve_not_even_a_superuser(envs, superuser):
    release = make_release(created_by=superuser.username, status="pending_approval")
    with pytest.raises(Forbidden) as refused:
        release_approve(release=release, actor=superuser)
    assert refused.value.code == "four_eyes"


def test_creator_can_approve_where_every_policy_allows_it(envs, alice):
    set_approval_policy("production", 1, creator_can_approve=True)
    release = _pending(alice)
    release_approve(release=release, actor=alice)
    assert Release.objects.get(pk=release.pk).status == "approved"


def test_the_deployer_cannot_be_the_only_approver(clock, envs, alice, carol, dave):
    set_approval_policy("production", 1, deployer_four_eyes=True)
    release = _pending(alice)
    release_approve(release=release, actor=carol)
    with pytest.raises(Conflict) as refused:
        release_deploy(release=Release.objects.get(pk=release.pk), environment=envs["production"], actor=carol)
    assert [b["code"] for b in refused.value.extra["blockers"]] == ["four_eyes"]
    assert release_deploy(release=Release.objects.get(pk=release.pk), environment=envs["production"], actor=dave)


def test_deploy_check_and_release_detail_over_the_api(clock, strict, alice, carol, dave):
    release = _pending(alice)
    release_approve(release=release, actor=carol)
    assert [b["code"] for b in _blockers(release, strict, "carol")] == ["approval_required", "four_eyes"]
    api = client_for(dave)
    body = api.get(f"/api/v1/releases/{release.pk}/deploy-check", {"environment": "production"}).json()
    (blocker,) = body["blockers"]
    assert blocker["code"] == "approval_required"
    assert blocker["unmet_rules"] == [
        {"rule": "Release Managers", "needed": 2, "have": 1, "expired": 0, "stale": 0},
        {"rule": "Security", "needed": 1, "have": 0, "expired": 0, "stale": 0},
    ]
    detail = api.get(f"/api/v1/releases/{release.pk}").json()
    (production,) = detail["approval_status"]
    assert production["environment"] == "production" and production["met"] is False
    assert [(r["rule"], r["met"], r["approvers"]) for r in production["rules"]] == [
        ("Release Managers", False, ["carol"]),
        ("Security", False, []),
    ]


def test_submitting_starts_without_approvals(envs, alice):
    release = make_release(created_by="alice")
    release_submit(release=release, actor=alice)
    assert Release.objects.get(pk=release.pk).approval_notice_at is None
