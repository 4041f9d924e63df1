"""Reads on environments beyond a filter: freeze state, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from environments.models import Environment
from releases.models import Deployment, Release

RECENT_DEPLOYMENTS = 5


def parse_freeze_moment(value: Any) -> datetime | None:
    """A freeze-window bound as an aware UTC datetime, or None when it is not an ISO 8601 date-time with offset."""
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
class Freeze:
    """An environment's freeze in force: when deploys are allowed again, and why it is frozen."""

    until: datetime
    reason: str


def environment_active_freeze(environment: Environment, at: datetime | None = None) -> Freeze | None:
    """The freeze in force on `environment` at `at` (default now), or None. The one freeze-window rule:
    deploy checks, deploys, the environment status and the admin all ask this.

    Windows are half-open `[starts_at, ends_at)`. Overlapping or back-to-back windows count as one
    freeze, so `until` is the first moment deploys are allowed again (10-12 + 12-15 → 15:00; a gap
    of one minute ends the freeze). `reason` is that of the latest-ending window in force at `at`.
    """
    at = at or timezone.now()
    windows = sorted(
        (starts, ends, str(window.get("reason") or ""))
        for window in environment.freeze_windows or []
        if isinstance(window, dict)
        for starts, ends in [(parse_freeze_moment(window.get("starts_at")), parse_freeze_moment(window.get("ends_at")))]
        if starts and ends and starts < ends
    )
    active = [(ends, reason) for starts, ends, reason in windows if starts <= at < ends]
    if not active:
        return None
    until, reason = max(active, key=lambda item: item[0])
    for starts, ends, _ in windows:
        if starts <= until < ends:
            until = ends
    return Freeze(until=until, reason=reason)


def environment_freeze_state(environment: Environment, at: datetime | None = None) -> tuple[bool, datetime | None]:
    """Whether `environment` is frozen at `at` (default now), and until when (see `environment_active_freeze`)."""
    freeze = environment_active_freeze(environment, at)
    return freeze is not None, freeze.until if freeze else None


def environment_status(environment: Environment) -> dict[str, Any]:
    """What is running in `environment` and how it got there, in a constant number of queries.

    Keys: environment, current_release, last_deployment, health, frozen, frozen_until,
    recent_deployments (newest first, each with `release` loaded).
    """
    recent = list(
        Deployment.objects.filter(environment=environment.pk).order_by("-started_at", "-sequence")[:RECENT_DEPLOYMENTS]
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
