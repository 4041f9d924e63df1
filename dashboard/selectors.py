"""Reads behind `/api/v1/dashboard/*` (and the admin dashboard): small, fixed numbers of aggregate queries.

Time buckets are UTC calendar days and ISO weeks (Monday first); series are zero-filled
and oldest first. Deployment windows filter on `started_at` (the `-started_at` index),
release windows on `created_at` (the `-created_at` index).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import Count, Q
from django.db.models.functions import TruncDay
from django.utils import timezone

from environments.choices import Health
from environments.models import Environment
from opsportal.health import database_probe, uptime_seconds
from releases.analytics import (
    FINISHED_STATUSES,
    as_utc_date,
    percent,
    release_counts_by_status,
    releases_created_per_bucket,
    utc_midnight,
)
from releases.choices import OUTCOME_STATUSES, DeploymentStatus, ReleaseStatus
from releases.dora import dora_summary
from releases.models import Deployment, Release

PENDING_PREVIEW = 5
METRICS_DAYS = 30
METRICS_WEEKS = 12
SUCCESS_RATE_DAYS = 30


class PendingRelease(TypedDict):
    id: str
    name: str
    version: str
    created_at: datetime


class DeploymentWindowCounts(TypedDict):
    today: int
    last_7_days: int
    last_30_days: int
    succeeded_30_days: int
    finished_30_days: int
    success_rate_30_days_percent: float | None


def _utc_today(now: datetime) -> date:
    return now.astimezone(UTC).date() if timezone.is_aware(now) else now.date()


def environment_health_counts() -> dict[str, Any]:
    """Environments per health value (every value present) and their total. One grouped query."""
    counts: dict[str, Any] = {health: 0 for health in Health.values}
    for row in Environment.objects.order_by().values("health").annotate(count=Count("id")):
        counts[row["health"]] = row["count"]
    counts["total"] = sum(counts[health] for health in Health.values)
    return counts


def pending_approval_preview(*, limit: int = PENDING_PREVIEW) -> list[PendingRelease]:
    """The releases waiting longest for approval (oldest first), at most `limit`."""
    return list(
        Release.objects.filter(status=ReleaseStatus.PENDING_APPROVAL)
        .order_by("created_at", "id")
        .values("id", "name", "version", "created_at")[:limit]
    )


def latest_deployments(*, limit: int = 10) -> list[dict[str, Any]]:
    """The newest deployments (both kinds), newest first, with their release's name and version. Two queries."""
    rows = list(
        Deployment.objects.order_by("-started_at", "id").values(
            "id", "release_id", "environment_id", "kind", "status", "started_at", "deployed_by"
        )[:limit]
    )
    releases = {
        row["id"]: row
        for row in Release.objects.filter(pk__in={row["release_id"] for row in rows}).values("id", "name", "version")
    }
    for row in rows:
        release = releases.get(row["release_id"], {})
        row.update(release_name=release.get("name", row["release_id"]), release_version=release.get("version", ""))
    return rows


def deployment_window_counts(*, now: datetime | None = None) -> DeploymentWindowCounts:
    """Deployments (both kinds) started today (UTC), in the last 7 and 30 days, and the 30-day success rate.

    The success rate is succeeded / finished (succeeded, failed, rolled back) among the
    deployments started in the last 30 days; in-progress ones are left out. One query.
    """
    now = now or timezone.now()
    today = utc_midnight(_utc_today(now))
    week_ago = now - timedelta(days=7)
    month_ago = now - timedelta(days=SUCCESS_RATE_DAYS)
    in_month = Q(started_at__gte=month_ago)
    counts = (
        Deployment.objects.order_by()
        .filter(started_at__gte=min(today, month_ago), started_at__lte=now)
        .aggregate(
            today=Count("id", filter=Q(started_at__gte=today)),
            last_7_days=Count("id", filter=Q(started_at__gte=week_ago)),
            last_30_days=Count("id", filter=in_month),
            succeeded_30_days=Count("id", filter=in_month & Q(status=DeploymentStatus.SUCCEEDED)),
            finished_30_days=Count("id", filter=in_month & Q(status__in=FINISHED_STATUSES)),
        )
    )
    return {
        "today": counts["today"],
        "last_7_days": counts["last_7_days"],
        "last_30_days": counts["last_30_days"],
        "succeeded_30_days": counts["succeeded_30_days"],
        "finished_30_days": counts["finished_30_days"],
        "success_rate_30_days_percent": percent(counts["succeeded_30_days"], counts["finished_30_days"]),
    }


def dashboard_stats(*, now: datetime | None = None) -> dict[str, Any]:
    """`GET /api/v1/dashboard/stats`: releases by status, pending approvals, deployment counts, environments."""
    now = now or timezone.now()
    by_status = release_counts_by_status()
    return {
        "generated_at": now,
        "releases": {"total": sum(by_status.values()), "by_status": by_status},
        "pending_approvals": {
            "count": by_status[ReleaseStatus.PENDING_APPROVAL],
            "releases": pending_approval_preview(),
        },
        "deployments": deployment_window_counts(now=now),
        "environments": environment_health_counts(),
    }


def deployments_per_day(*, now: datetime | None = None, days: int = METRICS_DAYS) -> list[dict[str, Any]]:
    """Deployments started on each of the last `days` UTC days (today included), per status, zero-filled."""
    now = now or timezone.now()
    last = _utc_today(now)
    dates = [last - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    series: dict[date, dict[str, Any]] = {
        day: {"date": day, "total": 0, **dict.fromkeys(OUTCOME_STATUSES, 0)} for day in dates
    }
    rows = (
        Deployment.objects.order_by()
        .filter(started_at__gte=utc_midnight(dates[0]), started_at__lte=now)
        .annotate(day=TruncDay("started_at"))
        .values("day", "status")
        .annotate(count=Count("id"))
    )
    for row in rows:
        bucket = series.get(as_utc_date(row["day"]))
        if bucket is not None and row["status"] in bucket:
            bucket[row["status"]] += row["count"]
            bucket["total"] += row["count"]
    return [series[day] for day in dates]


def releases_per_week(*, now: datetime | None = None, weeks: int = METRICS_WEEKS) -> list[dict[str, Any]]:
    """Releases created in each of the last `weeks` ISO weeks (Monday, UTC), current week last, zero-filled."""
    now = now or timezone.now()
    today = _utc_today(now)
    this_monday = today - timedelta(days=today.weekday())
    mondays = [this_monday - timedelta(weeks=offset) for offset in range(weeks - 1, -1, -1)]
    counts = releases_created_per_bucket(starts=mondays)
    return [{"week_start": monday, "count": counts[monday]} for monday in mondays]


def dashboard_metrics(
    *, now: datetime | None = None, environment_tier: str = "production", failure_source: str | None = None
) -> dict[str, Any]:
    """`GET /api/v1/dashboard/metrics`: deployments per day (30 days, by status), releases per week (12 weeks),
    and the four DORA keys plus rework rate with their levels for one tier over the last 30 days
    (`releases.dora.dora_summary`; failures per the setting unless `failure_source` is given)."""
    now = now or timezone.now()
    return {
        "generated_at": now,
        "deployments_per_day": deployments_per_day(now=now),
        "releases_per_week": releases_per_week(now=now),
        "dora": dora_summary(
            environment_tier=environment_tier, days=METRICS_DAYS, today=_utc_today(now), failure_source=failure_source
        ),
    }


def dashboard_health() -> dict[str, Any]:
    """`GET /api/v1/dashboard/health`: database reachability and round trip, version, uptime, environments."""
    database = database_probe()
    environments: dict[str, Any] | None
    try:
        environments = environment_health_counts() if database["ok"] else None
    except Exception:  # noqa: BLE001 - the health report must answer even when the database stops mid-way
        environments = None
    return {
        "status": "ok" if database["ok"] else "error",
        "database": {
            "ok": database["ok"],
            "backend": database["backend"],
            "version": database["version"],
            "round_trip_ms": database["round_trip_ms"],
            "error": database["error"],
        },
        "version": settings.APP_VERSION,
        "uptime_seconds": uptime_seconds(),
        "environments": environments,
        "checked_at": timezone.now(),
    }
