"""Release analytics (`GET /api/v1/releases/analytics`): counts, monthly trend and the DORA figures.

Every figure is computed by the database with ORM aggregation, a fixed number of small
queries whatever the amount of data (one per figure, plus one per environment for the
median lead time, because neither SQLite nor MongoDB has a portable Median aggregate:
the median is read as the middle row(s) of an ordered, sliced query). Filters on
deployments always name the environments, so they use the `(environment, status,
-finished_at)` index of `Deployment.Meta.indexes`.

DORA definitions used here, per environment, over a window of the last `days` days
(a deployment belongs to the window when it *finished* inside it):
- deployment frequency: successful `deploy` deployments per day;
- lead time for changes: median of release `created_at` → successful deployment `finished_at`;
- change failure rate: `deploy` deployments that failed or were rolled back, as a percentage
  of all finished `deploy` deployments (rollbacks are the remedy, not a change, so they are
  counted in neither);
- mean time to restore: mean of failed/rolled-back deployment `finished_at` → `finished_at` of
  the next succeeded deployment (of either kind, e.g. the rollback) on the same environment;
  failures not yet restored are left out, and it is null when there is nothing to average.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.core.cache import cache
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from audit.models import AuditEvent
from environments.models import Environment
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release
from teams.models import Team

DEFAULT_WINDOW_DAYS = 30
MAX_WINDOW_DAYS = 365
MONTHS = 12
UNASSIGNED = "unassigned"

FINISHED_STATUSES = (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK)
FAILURE_STATUSES = (DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK)


class TeamCount(TypedDict):
    team_id: str | None
    team_name: str
    count: int


class MonthCount(TypedDict):
    month: str
    count: int


class EnvironmentDora(TypedDict):
    environment_id: str
    environment_name: str
    tier: str
    successful_deployments: int
    deployments_per_day: float
    lead_time_median_seconds: float | None
    finished_deployments: int
    failed_deployments: int
    change_failure_rate_percent: float | None
    restored_failures: int
    mean_time_to_restore_seconds: float | None


class ReleaseAnalytics(TypedDict):
    generated_at: datetime
    window_days: int
    window_start: datetime
    by_status: dict[str, int]
    by_team: list[TeamCount]
    created_per_month: list[MonthCount]
    dora: list[EnvironmentDora]


# --- small helpers shared with the dashboard selectors


def as_utc_date(value: datetime | date) -> date:
    """The UTC calendar date of a truncated timestamp (backends return aware or naive UTC values)."""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = value.astimezone(UTC)
        return value.date()
    return value


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def releases_created_per_bucket(*, starts: list[date]) -> dict[date, int]:
    """Releases created in each bucket (from one of `starts`, oldest first, to the next; the last is
    open-ended), zero-filled: bucket start → count. One query of conditional counts over the index
    on `created_at` (no per-row date truncation, which SQLite evaluates in Python)."""
    bounds = [utc_midnight(start) for start in starts]
    buckets = {}
    for index, lower in enumerate(bounds):
        window = Q(created_at__gte=lower)
        if index + 1 < len(bounds):
            window &= Q(created_at__lt=bounds[index + 1])
        buckets[f"b{index}"] = Count("pk", filter=window)
    counts = Release.objects.order_by().filter(created_at__gte=bounds[0]).aggregate(**buckets)
    return {start: counts[f"b{index}"] or 0 for index, start in enumerate(starts)}


def percent(part: int, whole: int) -> float | None:
    """`part` as a percentage of `whole`, two decimals; None when there is nothing to divide."""
    return round(100 * part / whole, 2) if whole else None


def seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def month_starts(*, now: datetime, months: int = MONTHS) -> list[date]:
    """First days of the last `months` calendar months (UTC), oldest first, the current one last."""
    year, month = now.astimezone(UTC).year, now.astimezone(UTC).month
    starts: list[date] = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return starts[::-1]


# --- release counts


def release_counts_by_status() -> dict[str, int]:
    """Number of releases per status, every status present (zero when none). One grouped query."""
    counts = {status: 0 for status in ReleaseStatus.values}
    # Count("*") lets SQLite count from the status index instead of reading every row.
    for row in Release.objects.order_by().values("status").annotate(count=Count("*")):
        counts[row["status"]] = row["count"]
    return counts


def release_counts_by_team() -> list[TeamCount]:
    """Number of releases per team, largest first; releases without a team count as "unassigned".

    Groups by the team key first and looks the (few) team names up afterwards, so the
    database never joins every release to its team.
    """
    rows = list(Release.objects.order_by().values("team").annotate(count=Count("*")))
    team_ids = [row["team"] for row in rows if row["team"] is not None]
    names = dict(Team.objects.filter(pk__in=team_ids).values_list("id", "name")) if team_ids else {}
    result: list[TeamCount] = [
        {
            "team_id": row["team"],
            "team_name": UNASSIGNED if row["team"] is None else names.get(row["team"], row["team"]),
            "count": row["count"],
        }
        for row in rows
    ]
    result.sort(key=lambda item: (-item["count"], item["team_name"]))
    return result


def releases_created_per_month(*, now: datetime | None = None, months: int = MONTHS) -> list[MonthCount]:
    """Releases created in each of the last `months` calendar months (UTC), zero-filled, oldest first."""
    now = now or timezone.now()
    starts = month_starts(now=now, months=months)
    counts = releases_created_per_bucket(starts=starts)
    return [{"month": start.strftime("%Y-%m"), "count": counts[start]} for start in starts]


# --- DORA


def _finished_deploys(*, environment_ids: list[str], since: datetime, until: datetime) -> QuerySet[Deployment]:
    """`deploy` deployments of these environments that finished inside the window."""
    return Deployment.objects.order_by().filter(
        environment__in=environment_ids,
        kind=DeploymentKind.DEPLOY,
        status__in=FINISHED_STATUSES,
        finished_at__gte=since,
        finished_at__lte=until,
    )


def _lead_time_median(deploys: QuerySet[Deployment], *, environment_id: str, count: int) -> timedelta | None:
    """Median lead time of the `count` successful deploys of one environment: the middle row(s)."""
    if count == 0:
        return None
    lead_time = ExpressionWrapper(F("finished_at") - F("release__created_at"), output_field=DurationField())
    middle = list(
        deploys.filter(environment=environment_id, status=DeploymentStatus.SUCCEEDED)
        .annotate(lead_time=lead_time)
        .order_by("lead_time", "id")
        .values_list("lead_time", flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    middle = [value for value in middle if value is not None]
    if not middle:  # rows changed between the count and the slice
        return None
    return sum(middle, timedelta()) / len(middle)


def _time_to_restore(deploys: QuerySet[Deployment]) -> dict[str, dict[str, Any]]:
    """Per environment: mean failure → next success duration and how many failures were restored."""
    next_success = (
        Deployment.objects.filter(
            environment=OuterRef("environment"),
            sequence__gt=OuterRef("sequence"),
            status=DeploymentStatus.SUCCEEDED,
        )
        .order_by("sequence")
        .values("finished_at")[:1]
    )
    rows = (
        deploys.filter(status__in=FAILURE_STATUSES)
        .annotate(restored_at=Subquery(next_success))
        .annotate(restore=ExpressionWrapper(F("restored_at") - F("finished_at"), output_field=DurationField()))
        .values("environment")
        .annotate(mean=Avg("restore"), restored=Count("restored_at"))
    )
    return {row["environment"]: row for row in rows}


def dora_metrics(*, days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> list[EnvironmentDora]:
    """The four DORA figures for every environment (in promotion order) over the last `days` days."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    environments = list(Environment.objects.order_by("order", "id").values("id", "name", "tier"))
    if not environments:
        return []
    environment_ids = [env["id"] for env in environments]
    deploys = _finished_deploys(environment_ids=environment_ids, since=since, until=now)

    counts = {
        row["environment"]: row
        for row in deploys.values("environment").annotate(
            succeeded=Count("id", filter=Q(status=DeploymentStatus.SUCCEEDED)),
            failures=Count("id", filter=Q(status__in=FAILURE_STATUSES)),
            finished=Count("id"),
        )
    }
    restores = _time_to_restore(deploys)

    result: list[EnvironmentDora] = []
    for env in environments:
        row = counts.get(env["id"], {"succeeded": 0, "failures": 0, "finished": 0})
        restore = restores.get(env["id"], {"mean": None, "restored": 0})
        median = _lead_time_median(deploys, environment_id=env["id"], count=row["succeeded"])
        result.append(
            {
                "environment_id": env["id"],
                "environment_name": env["name"],
                "tier": env["tier"],
                "successful_deployments": row["succeeded"],
                "deployments_per_day": round(row["succeeded"] / days, 3),
                "lead_time_median_seconds": seconds(median),
                "finished_deployments": row["finished"],
                "failed_deployments": row["failures"],
                "change_failure_rate_percent": percent(row["failures"], row["finished"]),
                "restored_failures": restore["restored"],
                "mean_time_to_restore_seconds": seconds(restore["mean"]) if restore["restored"] else None,
            }
        )
    return result


def release_analytics(*, days: int = DEFAULT_WINDOW_DAYS, now: datetime | None = None) -> ReleaseAnalytics:
    """Everything `GET /api/v1/releases/analytics` answers, with `days` (1..365) as the DORA window."""
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_WINDOW_DAYS}")
    now = now or timezone.now()
    return {
        "generated_at": now,
        "window_days": days,
        "window_start": now - timedelta(days=days),
        "by_status": release_counts_by_status(),
        "by_team": release_counts_by_team(),
        "created_per_month": releases_created_per_month(now=now),
        "dora": dora_metrics(days=days, now=now),
    }


ANALYTICS_CACHE_SECONDS = 60


def release_analytics_cached(*, days: int = DEFAULT_WINDOW_DAYS) -> ReleaseAnalytics:
    """`release_analytics` through the cache shared by all workers.

    Every write appends an audit event, so the newest audit sequence number is the version of
    the data: a write makes the next request recompute. Without writes a report is reused for
    at most `ANALYTICS_CACHE_SECONDS`, since its windows move with the clock.
    """
    version = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    key = f"opsportal:release-analytics:{days}:{version}"
    report = cache.get(key)
    if report is None:
        report = release_analytics(days=days)
        cache.set(key, report, ANALYTICS_CACHE_SECONDS)
    return report
