"""Reads on environments beyond a filter: the freeze calendar and freeze state, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from environments.calendar import Occurrence, applies, covering, next_open_at, occurrences
from environments.models import Environment, Freeze
from releases.choices import OUTCOME_STATUSES
from releases.models import Deployment, Release

RECENT_DEPLOYMENTS = 5


def parse_freeze_moment(value: Any) -> datetime | None:
    """A date-time given as an ISO 8601 string with an offset, as an aware UTC datetime (else None)."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class ActiveFreeze:
    """A freeze in force: its occurrence now (the freeze, its start and end), and `until`: the first
    moment no freeze blocks (`next_open_at`; None when the freezes chain beyond the calendar's horizon)."""

    occurrence: Occurrence
    until: datetime | None

    @property
    def reason(self) -> str:
        return self.occurrence.reason

    @property
    def freeze(self) -> str:
        return self.occurrence.freeze


def freezes_for(environment: Environment, *, team: str | None = None, at: datetime | None = None) -> list[Freeze]:
    """The freezes that apply to `environment` (for releases of `team`; None: any release) and may be in
    force from `at` on: one-offs that have not ended, and every recurring one. Freezes are few: the
    scope (embedded lists) is checked on the documents read."""
    at = at or timezone.now()
    candidates = Freeze.objects.filter(Q(rrule="", ends_at__gt=at) | ~Q(rrule="")).order_by("starts_at", "id")
    return [f for f in candidates if applies(f, environment=environment.pk, tier=environment.tier, team=team)]


def environment_active_freeze(
    environment: Environment, at: datetime | None = None, *, team: str | None = None
) -> ActiveFreeze | None:
    """The freeze in force on `environment` at `at` (default now), for releases of `team` (None: any
    team's), or None. The one freeze rule: deploy checks, deploys, scheduled deployments, the environment
    status and the admin all ask this (issue #12: `Freeze` documents, `environments.calendar`).

    Occurrences are half-open; overlapping or back-to-back ones count as one freeze, so `until` is the
    first moment deploys are allowed again. The occurrence named is the one in force now that ends last.
    """
    at = at or timezone.now()
    freezes = freezes_for(environment, team=team, at=at)
    active = covering(freezes, at)
    if not active:
        return None
    return ActiveFreeze(occurrence=max(active, key=lambda o: (o.ends_at, o.freeze)), until=next_open_at(freezes, at))


def environment_freeze_state(environment: Environment, at: datetime | None = None) -> tuple[bool, datetime | None]:
    """Whether `environment` is frozen at `at` (default now), and until when (see `environment_active_freeze`)."""
    freeze = environment_active_freeze(environment, at)
    return freeze is not None, freeze.until if freeze else None


def freeze_occurrences(
    *, start: datetime, end: datetime, environment: Environment | None = None, team: str | None = None
) -> list[dict[str, Any]]:
    """The calendar expanded over `[start, end)`: every occurrence, in order of start, with the environments
    it blocks (in promotion order). `environment`/`team` keep those that block there / that team's releases."""
    environments = [environment] if environment is not None else list(Environment.objects.order_by("order", "id"))
    freezes = Freeze.objects.filter(Q(rrule="", ends_at__gt=start) | ~Q(rrule="")).filter(starts_at__lt=end)
    answer = []
    for freeze in freezes.order_by("starts_at", "id"):
        scope = [e.pk for e in environments if applies(freeze, environment=e.pk, tier=e.tier, team=team)]
        if not scope:
            continue
        for occurrence in occurrences(freeze, start, end):
            answer.append({**occurrence.as_dict(), "environments": scope, "teams": list(freeze.teams or [])})
    return sorted(answer, key=lambda item: (item["starts_at"], item["freeze"]))


def environment_status(environment: Environment) -> dict[str, Any]:
    """What is running in `environment` and how it got there, in a constant number of queries.

    Keys: environment, current_release, last_deployment, health, frozen, frozen_until,
    recent_deployments (newest first, each with `release` loaded): deployments that ran, so not one
    scheduled for later (its `started_at` is its time to come) nor one cancelled before it ran.
    """
    recent = list(
        Deployment.objects.filter(environment=environment.pk, status__in=OUTCOME_STATUSES).order_by(
            "-started_at", "-sequence"
        )[:RECENT_DEPLOYMENTS]
    )
    # One read for every release the answer names, instead of a join per deployment.
    release_ids = ({d.release_id for d in recent} | {environment.current_release_id}) - {None}
    releases = Release.objects.only("id", "name", "version").in_bulk(release_ids) if release_ids else {}
    for deployment in recent:
        deployment.release = releases[deployment.release_id]
    frozen, frozen_until = environment_freeze_state(environment)
    return {
        "environment": environment,
        "current_release": releases.get(environment.current_release_id),
        "last_deployment": recent[0] if recent else None,
        "health": environment.health,
        "frozen": frozen,
        "frozen_until": frozen_until,
        "recent_deployments": recent,
    }
