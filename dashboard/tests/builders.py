"""Hand-built rows with explicit timestamps for the dashboard and analytics tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from environments.models import Environment
from opsportal.testing.factories import make_release
from releases.choices import DeploymentKind, DeploymentStatus
from releases.models import Deployment, Release

NOW = datetime(2025, 3, 31, 12, 0, tzinfo=UTC)  # a Monday


def release_created(at: datetime, **fields: Any) -> Release:
    """A release whose `created_at` is `at`."""
    return make_release(created_at=at, **fields)


def deployment(
    environment: Environment,
    release: Release,
    *,
    finished: datetime | None,
    status: str = DeploymentStatus.SUCCEEDED,
    kind: str = DeploymentKind.DEPLOY,
    started: datetime | None = None,
) -> Deployment:
    """The next deployment of `environment` (sequence = previous + 1), started 5 minutes before it finished."""
    last = Deployment.objects.filter(environment=environment).order_by("-sequence").first()
    if started is None:
        started = (finished or NOW) - timedelta(minutes=5)
    return Deployment.objects.create(
        release=release,
        environment=environment,
        kind=kind,
        status=status,
        sequence=(last.sequence + 1) if last else 1,
        started_at=started,
        finished_at=finished,
    )
