"""Environment services and selectors called directly (as the admin and other services do) — issue #3."""

from datetime import UTC, datetime, timedelta

import pytest

from audit.models import AuditEvent
from environments.models import Environment
from environments.selectors import environment_freeze_state
from environments.services import environment_create, environment_update
from opsportal.errors import Conflict, PreconditionFailed, ValidationFailed
from opsportal.testing.factories import make_environment, make_release, make_team

pytestmark = pytest.mark.django_db


def at(day, hour=0):
    return datetime(2026, 12, day, hour, tzinfo=UTC)


def window(starts, ends, reason=""):
    return {"starts_at": starts, "ends_at": ends, "reason": reason}


def test_update_loses_to_a_concurrent_change(superuser):
    environment = make_environment("qa")
    stale = Environment.objects.get(pk="qa")
    environment_update(environment=environment, actor=superuser, data={"description": "first"})
    with pytest.raises(Conflict) as refused:
        environment_update(environment=stale, actor=superuser, data={"description": "second"})
    assert refused.value.code == "stale_revision"
    assert refused.value.extra["revision"] == 2
    assert Environment.objects.get(pk="qa").description == "first"
    assert AuditEvent.objects.filter(action="environment.updated").count() == 1


def test_update_validates_the_policy_and_derives_requires_approval(superuser):  # issue #12
    environment = make_environment("qa")
    rule = {"approvals": 1, "team": "security-team"}
    with pytest.raises(ValidationFailed) as refused:
        environment_update(environment=environment, actor=superuser, data={"approval_policy": {"rules": [rule]}})
    assert refused.value.extra["errors"] == {"approval_policy": ["rules[0].team: no team 'security-team'."]}
    make_team(id="security-team")
    updated = environment_update(environment=environment, actor=superuser, data={"approval_policy": {"rules": [rule]}})
    assert (updated.requires_approval, updated.revision) == (True, 2)
    stored = Environment.objects.get(pk="qa")
    assert stored.requires_approval is True and stored.approval_policy["rules"] == [{"name": "", **rule}]
    cleared = environment_update(environment=updated, actor=superuser, data={"approval_policy": {"rules": []}})
    assert cleared.requires_approval is False and Environment.objects.get(pk="qa").requires_approval is False


def test_create_refuses_a_name_without_a_slug(superuser):
    with pytest.raises(ValidationFailed) as refused:
        environment_create(actor=superuser, data={"name": "!!!"})
    assert "id" in refused.value.extra["errors"]


# --------------------------------------------------------------------------- freeze state


def test_not_frozen_without_windows():
    assert environment_freeze_state(make_environment()) == (False, None)


def test_frozen_inside_a_window_half_open():
    environment = make_environment(freeze_windows=[window("2026-12-10T00:00:00Z", "2026-12-12T00:00:00Z")])
    assert environment_freeze_state(environment, at=at(9, 23)) == (False, None)
    assert environment_freeze_state(environment, at=at(10)) == (True, at(12))
    assert environment_freeze_state(environment, at=at(11, 12)) == (True, at(12))
    assert environment_freeze_state(environment, at=at(12)) == (False, None)


def test_overlapping_and_adjacent_windows_extend_the_freeze():
    environment = make_environment(
        freeze_windows=[
            window("2026-12-20T00:00:00Z", "2026-12-25T00:00:00Z"),  # later, separate
            window("2026-12-10T00:00:00Z", "2026-12-12T00:00:00Z"),
            window("2026-12-11T00:00:00Z", "2026-12-14T00:00:00Z"),  # overlaps
            window("2026-12-14T00:00:00Z", "2026-12-15T00:00:00Z"),  # back to back
        ]
    )
    assert environment_freeze_state(environment, at=at(10, 6)) == (True, at(15))
    assert environment_freeze_state(environment, at=at(16)) == (False, None)
    assert environment_freeze_state(environment, at=at(21)) == (True, at(25))


def test_freeze_state_handles_offsets_and_ignores_broken_windows():
    environment = make_environment(
        freeze_windows=[
            window("2026-12-10T02:00:00+02:00", "2026-12-11T00:00:00+00:00"),
            {"starts_at": "garbage", "ends_at": "2026-12-31T00:00:00Z"},
            window("2026-12-10T00:00:00Z", "2026-12-09T00:00:00Z"),
        ]
    )
    assert environment_freeze_state(environment, at=at(10)) == (True, at(11))
    assert environment_freeze_state(environment, at=at(20)) == (False, None)


def test_freeze_state_defaults_to_now():
    environment = make_environment(freeze_windows=[window("2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z")])
    assert environment_freeze_state(environment) == (True, datetime(2999, 1, 1, tzinfo=UTC))


def test_update_with_an_expected_revision_is_a_precondition(superuser):
    environment = make_environment("qa")
    with pytest.raises(PreconditionFailed):
        environment_update(environment=environment, actor=superuser, data={"description": "x"}, expected_revision=5)
    stale = Environment.objects.get(pk="qa")
    environment_update(environment=environment, actor=superuser, data={"description": "first"})
    with pytest.raises(PreconditionFailed) as refused:
        environment_update(environment=stale, actor=superuser, data={"description": "late"}, expected_revision=1)
    assert refused.value.extra["revision"] == 2
    assert Environment.objects.get(pk="qa").description == "first"


def test_create_that_loses_a_race_for_the_id_is_a_400(superuser, monkeypatch):
    make_environment("qa", name="QA")
    # As if the other create landed between our validation and our insert.
    monkeypatch.setattr(Environment, "full_clean", lambda self, **kwargs: None)
    with pytest.raises(ValidationFailed) as refused:
        environment_create(actor=superuser, data={"id": "qa", "name": "QA 2"})
    assert "id" in refused.value.extra["errors"]
    assert Environment.objects.get(pk="qa").name == "QA"  # the database is still usable


# One freeze rule (issue #16): deploy-check, the status endpoint and the selector agree.


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("windows", "now", "until"),
    [
        pytest.param([(10, 12), (12, 15)], 11, 15, id="back-to-back 10-12 + 12-15"),
        pytest.param([(10, 13), (12, 15)], 11, 15, id="overlapping"),
        pytest.param([(12, 15), (10, 12)], 12, 15, id="inside the second, listed first"),
        pytest.param([(10, 12), (12 + 1 / 60, 15)], 11, 12, id="a gap of one minute ends the freeze"),
    ],
)
def test_deploy_check_and_status_share_one_freeze_rule(api, windows, now, until):
    # Hours of a day whose hour `now` is the present hour, to the minute.
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=now)

    def moment(hours: float) -> str:
        return _iso(base + timedelta(minutes=round(hours * 60)))

    make_environment("qa", freeze_windows=[window(moment(a), moment(b)) for a, b in windows])
    release = make_release()
    expected = moment(until)

    status = api.get("/api/v1/environments/qa/status").json()
    check = api.get(f"/api/v1/releases/{release.pk}/deploy-check", {"environment": "qa"}).json()
    blockers = [b for b in check["blockers"] if b["code"] == "freeze_window"]

    assert status["frozen"] is True
    assert status["frozen_until"] == expected
    assert [b["until"] for b in blockers] == [expected]
    refused = api.post(f"/api/v1/releases/{release.pk}/deploy", {"environment": "qa"}, format="json")
    assert refused.status_code == 409
    assert [b["until"] for b in refused.json()["blockers"] if b["code"] == "freeze_window"] == [expected]
