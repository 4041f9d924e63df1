"""The freeze calendar (issue #12): recurring freezes on the wall clock of a time zone across both
daylight-saving changes, EXDATEs, scope, next_open_at across back-to-back freezes, the occurrences API,
deploy-check and the override of one occurrence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from environments.choices import Tier
from environments.models import Freeze
from environments.selectors import environment_active_freeze, freeze_occurrences
from opsportal.errors import Conflict, Forbidden
from opsportal.roles import ENGINEERS
from opsportal.testing.factories import client_for, make_environment, make_freeze, make_release, make_team, make_user
from releases.services import release_deploy, release_deploy_check

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def weekend(environment: str, zone: str, first_saturday_utc: datetime, **fields) -> Freeze:
    """Every Saturday 00:00 local for 48 hours (to Monday 00:00 local)."""
    return make_freeze(
        environment, starts_at=first_saturday_utc, rrule="FREQ=WEEKLY;BYDAY=SA", duration_minutes=48 * 60,
        timezone=zone, **fields,
    )  # fmt: skip


# Weekends as (UTC start, UTC end) around both changes, with the UTC hours of local midnight. Berlin:
# forward on Sunday 29 March (Saturday starts at UTC+1, Monday at UTC+2: 47 real hours), back on Sunday
# 25 October (49 hours). New York: forward on Sunday 8 March, back on Sunday 1 November.
BERLIN = {((2026, 3, 27, 23), (2026, 3, 29, 22)), ((2026, 4, 3, 22), (2026, 4, 5, 22))}
BERLIN |= {((2026, 10, 23, 22), (2026, 10, 25, 23)), ((2026, 10, 30, 23), (2026, 11, 1, 23))}
NEW_YORK = {((2026, 3, 7, 5), (2026, 3, 9, 4)), ((2026, 3, 14, 4), (2026, 3, 16, 4))}
NEW_YORK |= {((2026, 10, 31, 4), (2026, 11, 2, 5)), ((2026, 11, 7, 5), (2026, 11, 9, 5))}


@pytest.mark.parametrize(
    ("zone", "first", "weekends"),
    [("Europe/Berlin", utc(2026, 1, 2, 23), BERLIN), ("America/New_York", utc(2026, 1, 3, 5), NEW_YORK)],
)
def test_a_recurring_freeze_keeps_its_wall_clock_across_both_daylight_saving_changes(zone, first, weekends):
    """`first`: Saturday 3 January 00:00 local."""
    expected = {(utc(*starts), utc(*ends)) for starts, ends in weekends}
    environment = make_environment("production", tier=Tier.PRODUCTION)
    weekend("production", zone, first)
    found = {(o["starts_at"], o["ends_at"]) for o in freeze_occurrences(start=utc(2026, 3, 1), end=utc(2026, 12, 1))}
    assert expected <= found
    assert len(found) == 40  # every weekend from the one under way on 1 March to the one starting 28 November
    for starts, ends in expected:
        assert environment_active_freeze(environment, starts).until == ends
        assert environment_active_freeze(environment, starts - timedelta(milliseconds=1)) is None
        assert environment_active_freeze(environment, ends) is None  # half-open


def test_exdates_leave_out_occurrences_by_local_start_or_by_date():
    environment = make_environment("production", tier=Tier.PRODUCTION)
    weekend("production", "Europe/Berlin", utc(2026, 1, 2, 23), exdates=["2026-12-26", "2026-12-19T00:00:00"])
    starts = [o["starts_at"] for o in freeze_occurrences(start=utc(2026, 12, 5), end=utc(2027, 1, 10))]
    assert starts == [utc(2026, 12, 4, 23), utc(2026, 12, 11, 23), utc(2027, 1, 1, 23), utc(2027, 1, 8, 23)]
    assert environment_active_freeze(environment, utc(2026, 12, 26, 12)) is None
    assert environment_active_freeze(environment, utc(2026, 12, 12, 12)) is not None


def test_next_open_at_follows_back_to_back_freezes():
    environment = make_environment("production", tier=Tier.PRODUCTION)
    make_freeze("production", starts_at=utc(2026, 12, 18, 9), ends_at=utc(2026, 12, 19, 0), reason="release train")
    weekend("production", "UTC", utc(2026, 1, 3))  # Saturday 19 00:00 → Monday 21 00:00
    make_freeze("production", starts_at=utc(2026, 12, 21), ends_at=utc(2026, 12, 21, 6), reason="maintenance")
    make_freeze("production", starts_at=utc(2026, 12, 21, 6, 1), ends_at=utc(2026, 12, 22), reason="after a gap")
    freeze = environment_active_freeze(environment, utc(2026, 12, 18, 10), team=None)
    assert freeze.reason == "release train" and freeze.until == utc(2026, 12, 21, 6)
    assert freeze.occurrence.ends_at == utc(2026, 12, 19)


def test_deploy_check_names_the_freeze_its_occurrence_and_next_open_at(monkeypatch):
    environment = make_environment("production", tier=Tier.PRODUCTION)
    first = make_freeze("production", starts_at=utc(2026, 12, 18, 9), ends_at=utc(2026, 12, 19), reason="train")
    weekend("production", "Europe/Berlin", utc(2026, 1, 2, 23))  # Saturday 19 December 00:00 CET = Friday 23:00 UTC
    monkeypatch.setattr(timezone, "now", lambda: utc(2026, 12, 18, 12))
    (blocker,) = release_deploy_check(release=make_release(), environment=environment)
    assert blocker["code"] == "freeze_window" and blocker["freeze"] == first.pk
    assert blocker["occurrence"] == {"starts_at": "2026-12-18T09:00:00Z", "ends_at": "2026-12-19T00:00:00Z"}
    assert blocker["next_open_at"] == blocker["until"] == "2026-12-20T23:00:00Z"  # Monday 00:00 Berlin


def test_scope_by_tier_and_team():
    production = make_environment("production", tier=Tier.PRODUCTION)
    staging = make_environment("staging", tier=Tier.STAGING)
    make_team(id="payments")
    make_freeze(starts_at=utc(2026, 12, 1), ends_at=utc(2026, 12, 2), tiers=[Tier.PRODUCTION], teams=["payments"])
    moment = utc(2026, 12, 1, 12)
    assert environment_active_freeze(production, moment, team="payments") is not None
    assert environment_active_freeze(production, moment, team="checkout") is None
    assert environment_active_freeze(staging, moment, team="payments") is None
    assert freeze_occurrences(start=utc(2026, 12, 1), end=utc(2026, 12, 3), team="checkout") == []
    (occurrence,) = freeze_occurrences(start=utc(2026, 12, 1), end=utc(2026, 12, 3), environment=production)
    assert occurrence["environments"] == ["production"] and occurrence["teams"] == ["payments"]


def test_an_override_covers_the_occurrence_in_force_only(superuser, monkeypatch):
    environment = make_environment("production", tier=Tier.PRODUCTION)
    freeze = weekend("production", "UTC", utc(2026, 1, 3), reason="weekend")
    release, other = make_release(), make_release()
    monkeypatch.setattr(timezone, "now", lambda: utc(2026, 12, 5, 10))
    deployment = release_deploy(
        release=release, environment=environment, actor=superuser, override_freeze=True, reason="hotfix"
    )
    event = AuditEvent.objects.get(action="deployment.created", object_id=deployment.pk)
    assert event.changes["freeze_overridden"] == {
        "reason": "hotfix",
        "freeze": freeze.pk,
        "occurrence": {"starts_at": "2026-12-05T00:00:00Z", "ends_at": "2026-12-07T00:00:00Z"},
        "until": "2026-12-07T00:00:00Z",
    }
    monkeypatch.setattr(timezone, "now", lambda: utc(2026, 12, 12, 10))  # the next weekend blocks again
    with pytest.raises(Conflict) as refused:
        release_deploy(release=other, environment=environment, actor=superuser)
    assert refused.value.extra["blockers"][0]["occurrence"]["starts_at"] == "2026-12-12T00:00:00Z"


# --------------------------------------------------------------------------- API


def test_freezes_api_creates_validates_and_expands(api):
    make_environment("production", tier=Tier.PRODUCTION)
    weekly = {
        "name": "Weekend freeze",
        "reason": "No weekend changes",
        "timezone": "Europe/Berlin",
        "starts_at": "2026-01-03T00:00:00+01:00",
        "rrule": "FREQ=WEEKLY;BYDAY=SA",
        "duration_minutes": 2880,
        "environments": ["production"],
    }
    created = api.post("/api/v1/freezes", weekly, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["created_by"] == "root"
    assert AuditEvent.objects.filter(action="freeze.created", object_id="weekend-freeze").exists()
    body = api.get("/api/v1/freezes/occurrences", {"from": "2026-03-27T00:00:00Z", "to": "2026-03-31T00:00:00Z"}).json()
    assert body == [
        {
            "freeze": "weekend-freeze",
            "name": "Weekend freeze",
            "reason": "No weekend changes",
            "starts_at": "2026-03-27T23:00:00Z",
            "ends_at": "2026-03-29T22:00:00Z",
            "environments": ["production"],
            "teams": [],
        }
    ]
    patched = api.patch("/api/v1/freezes/weekend-freeze", {"exdates": ["2026-03-28"]}, format="json")
    assert patched.status_code == 200
    assert api.get("/api/v1/freezes/occurrences", {"from": "2026-03-27T00:00Z", "to": "2026-03-31T00:00Z"}).json() == []


BAD_FREEZES = [
    pytest.param({"timezone": "Mars/Olympus"}, "timezone", "IANA", id="timezone"),
    pytest.param({"timezone": "Europe/Berlin\x00"}, "timezone", "", id="timezone"),
    pytest.param({"rrule": "FREQ=SOMETIMES"}, "rrule", "RRULE", id="rrule"),
    pytest.param({"rrule": "DTSTART:20260101T000000\nFREQ=DAILY"}, "rrule", "rule only", id="rrule"),
    pytest.param({"rrule": "FREQ=DAILY"}, "duration_minutes", "length", id="duration_minutes"),
    pytest.param({"ends_at": "2026-01-01T00:00:00Z"}, "ends_at", "after starts_at", id="ends_at"),
    pytest.param({"ends_at": None}, "ends_at", "needs ends_at", id="ends_at"),
    pytest.param({"environments": ["nowhere"]}, "environments", "no environment 'nowhere'", id="environments"),
    pytest.param({"teams": ["ghosts"]}, "teams", "no team 'ghosts'", id="teams"),
    pytest.param({"tiers": ["moon"]}, "tiers", "no tier 'moon'", id="tiers"),
    pytest.param({"starts_at": "tomorrow"}, "starts_at", "", id="starts_at"),
    pytest.param({"exdates": [{"deep": [[[]]]}]}, "exdates", "", id="exdates"),
]


@pytest.mark.parametrize(("payload", "field", "fragment"), BAD_FREEZES)
def test_freezes_api_refuses_bad_input_with_400(api, payload, field, fragment):
    base = {"name": "Bad", "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-03T00:00:00Z"}
    response = api.post("/api/v1/freezes", {**base, **payload}, format="json")
    assert response.status_code == 400, response.content
    assert any(fragment in message for message in response.json()["errors"][field]), response.json()
    assert not Freeze.objects.exists()


def test_freezes_api_refuses_a_lone_surrogate_and_a_nul_byte(api):
    body = '{"name": "\\ud800", "starts_at": "2026-01-02T00:00:00Z", "ends_at": "2026-01-03T00:00:00Z"}'
    response = api.generic("POST", "/api/v1/freezes", body, content_type="application/json")
    assert response.status_code == 400
    response = api.post("/api/v1/freezes", {"name": "N\x00", "starts_at": "2026-01-02T00:00Z"}, format="json")
    assert response.status_code == 400
    assert not Freeze.objects.exists()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2028-01-01T00:00:00Z"}, "to"),
        ({"from": "2026-01-01T00:00:00", "to": "2026-01-02T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z", "environment": "nowhere"}, "environment"),
        ({"from": "2026-01-01T00:00:00Z\x00", "to": "2026-01-02T00:00:00Z"}, "from"),
    ],
)
def test_occurrences_api_refuses_bad_ranges(api, query, field):
    response = api.get("/api/v1/freezes/occurrences", query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_only_release_managers_manage_freezes(db):
    make_team(id="payments", members=[{"name": "Erin", "email": "e@x.org", "username": "erin"}])
    erin = client_for(make_user("erin", ENGINEERS))
    refused = erin.post("/api/v1/freezes", {"name": "Mine", "starts_at": "2026-01-01T00:00:00Z"}, format="json")
    assert refused.status_code == 403
    query = {"from": "2026-01-01T00:00Z", "to": "2026-02-01T00:00Z"}
    assert erin.get("/api/v1/freezes/occurrences", query).status_code == 200
    with pytest.raises(Forbidden):
        from environments.services import freeze_create

        freeze_create(actor=make_user("viewer"), data={"name": "X", "starts_at": utc(2026, 1, 1)})


# --------------------------------------------------------------------------- holiday import (.ics)

HOLIDAYS_DE = "fixtures/holidays/de-2026-2027.ics"


def test_a_public_holiday_calendar_is_imported_as_freezes(api):
    environment = make_environment("production", tier=Tier.PRODUCTION)
    with open(HOLIDAYS_DE, encoding="utf-8") as calendar:
        body = {"calendar": calendar.read(), "timezone": "Europe/Berlin", "tiers": ["production"]}
    response = api.post("/api/v1/freezes/import", body, format="json")
    assert response.status_code == 200, response.json()
    assert (len(response.json()["created"]), response.json()["updated"]) == (18, [])  # 9 holidays a year
    christmas = environment_active_freeze(environment, utc(2026, 12, 25, 10))
    assert christmas.reason == "1. Weihnachtstag"
    # Midnight to midnight in Berlin, the two days of Christmas back to back, then Saturday's Sunday is free.
    assert christmas.occurrence.starts_at == utc(2026, 12, 24, 23)
    assert christmas.until == utc(2026, 12, 26, 23)
    assert environment_active_freeze(environment, utc(2026, 12, 24, 22, 59)) is None
    # Easter 2027 (5 April 2026 → 28 March 2027): Good Friday and Easter Monday, not the weekend between.
    days = {o["starts_at"] for o in freeze_occurrences(start=utc(2027, 3, 25), end=utc(2027, 3, 31))}
    assert days == {utc(2027, 3, 25, 23), utc(2027, 3, 28, 22)}  # CET before, CEST after the change
    again = api.post("/api/v1/freezes/import", body, format="json").json()
    assert (again["created"], len(again["updated"])) == ([], 18)
    assert Freeze.objects.count() == 18


def test_a_broken_calendar_imports_nothing(api):
    make_environment("production", tier=Tier.PRODUCTION)
    with open(HOLIDAYS_DE, encoding="utf-8") as calendar:
        text = calendar.read()
    broken = text.replace("DTSTART;VALUE=DATE:20271225", "DTSTART;VALUE=DATE:2027-12-XX")
    for body in ({"calendar": broken}, {"calendar": "hello"}, {"calendar": text, "timezone": "Nowhere"}):
        response = api.post("/api/v1/freezes/import", body, format="json")
        assert response.status_code == 400, response.json()
    assert not Freeze.objects.exists()
    engineer = client_for(make_user("erin", ENGINEERS))
    assert engineer.post("/api/v1/freezes/import", {"calendar": text}, format="json").status_code == 403


def test_the_worker_announces_each_edge_once(monkeypatch):
    """`freeze.started` / `freeze.ended` at each occurrence's edges (issue #12), however often the job runs."""
    from environments.services import freezes_announce_edges
    from events.models import Event

    make_environment("production", tier=Tier.PRODUCTION)
    weekend("production", "Europe/Berlin", utc(2026, 1, 2, 23), reason="weekend")
    now = {"at": utc(2026, 3, 27, 22, 58)}
    monkeypatch.setattr(timezone, "now", lambda: now["at"])
    assert freezes_announce_edges()["edges"] == 0  # first look: the last 5 minutes
    for minutes in (1, 1, 2, 60 * 47):  # 22:59, 23:00 (Saturday 00:00 Berlin), 23:02, Sunday 22:02
        now["at"] += timedelta(minutes=minutes)
        freezes_announce_edges()
    assert freezes_announce_edges()["edges"] == 0
    started, ended = Event.objects.filter(name__startswith="freeze.").order_by("seq")
    assert (started.name, ended.name) == ("freeze.started", "freeze.ended")
    assert started.environment == "production"
    assert started.payload["subject"]["content"]["freeze"]["occurrence"] == {
        "starts_at": "2026-03-27T23:00:00.000Z",
        "ends_at": "2026-03-29T22:00:00.000Z",  # Monday 00:00 Berlin, summer time
    }


@pytest.mark.parametrize("write", [1, 7, 40])
def test_a_crash_during_an_import_leaves_no_freeze(superuser, write):
    from environments.services import freezes_import_ics
    from opsportal.testing.faults import InjectedFault, fail_at_write

    make_environment("production", tier=Tier.PRODUCTION)
    with open(HOLIDAYS_DE, "rb") as calendar:
        content = calendar.read()
    with fail_at_write(write) as fault, pytest.raises(InjectedFault):
        freezes_import_ics(actor=superuser, content=content, timezone="Europe/Berlin")
    assert fault.fired and not Freeze.objects.exists()
    assert not AuditEvent.objects.filter(action="freeze.created").exists()
    assert len(freezes_import_ics(actor=superuser, content=content, timezone="Europe/Berlin")["created"]) == 18
