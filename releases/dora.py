"""The DORA metrics in GitLab's shape (`GET /api/v1/dora/metrics`, issue #13), with their performance levels.

One metric per request, as a series `[{date, value, level}]`: one point per UTC day (`daily`), per calendar
month (`monthly`, dated the 1st) or one for the whole range (`all`, dated `start_date`), zero-filled for
counts and `null` for ratios and times with nothing to measure. Units follow GitLab's DORA API: a count
for deployment frequency, seconds for lead time and time to restore (medians, as GitLab reports them),
a ratio (0..1) for change failure rate and deployment rework rate.

The deployments measured are the `deploy` deployments (rollbacks are the remedy, not a change) to the
environments of the chosen tiers (default `production`), of the chosen team's releases if any, that
*finished* in the range; each counts in the bucket of its `finished_at`.

- deployment_frequency: how many of them succeeded (status `succeeded`).
- lead_time_for_changes: median of release `created_at` → deployment `finished_at` over the succeeded ones
  (a release is our unit of change: we hold no commits).
- change_failure_rate: failed ones / finished ones. What is a failure is the *failure source*
  (setting `OPSPORTAL_DORA_FAILURE_SOURCE`, or `failure_source=` per request):
  `deployments` — the deployment failed or was rolled back (status `failed` or `rolled_back`);
  `incidents` — an incident is linked to the deployment (whatever its status).
- time_to_restore_service: median time from a failure to its restoration, in the bucket in which the
  failure began. `deployments`: a failed or rolled-back deployment's `finished_at` → `finished_at` of the
  next succeeded deployment (either kind) on its environment. `incidents`: an incident's `started_at` →
  `resolved_at`, for the incidents in those environments (of the team's releases, with `team=`).
  Failures not restored yet are left out.
- deployment_rework_rate (DORA 2024): the share of the finished deployments that were unplanned fixes:
  deployments of a release whose workflow is `hotfix`, or that started within
  `OPSPORTAL_DORA_REWORK_WINDOW_HOURS` (default 24) after a failure (per the failure source, of any team)
  in the same environment.

Levels: `dora_level`, thresholds from the Accelerate State of DevOps Report 2023.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypedDict

from django.conf import settings
from django.db.models import OuterRef, Subquery

from environments.models import Environment
from releases.choices import DeploymentKind, DeploymentStatus
from releases.models import Deployment

DEPLOYMENT_FREQUENCY = "deployment_frequency"
LEAD_TIME = "lead_time_for_changes"
TIME_TO_RESTORE = "time_to_restore_service"
CHANGE_FAILURE_RATE = "change_failure_rate"
REWORK_RATE = "deployment_rework_rate"
METRICS = (DEPLOYMENT_FREQUENCY, LEAD_TIME, TIME_TO_RESTORE, CHANGE_FAILURE_RATE, REWORK_RATE)
UNIT_NAMES = ("count", "seconds", "ratio")
UNITS = {
    DEPLOYMENT_FREQUENCY: "count",
    LEAD_TIME: "seconds",
    TIME_TO_RESTORE: "seconds",
    CHANGE_FAILURE_RATE: "ratio",
    REWORK_RATE: "ratio",
}
INTERVALS = ("daily", "monthly", "all")
FAILURE_SOURCES = ("deployments", "incidents")
HOTFIX_WORKFLOW = "hotfix"
DEFAULT_RANGE_DAYS = 90  # GitLab's default: the last three months
MAX_RANGE_DAYS = 366

FINISHED = (DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK)
FAILED = (DeploymentStatus.FAILED, DeploymentStatus.ROLLED_BACK)

# --- performance levels
#
# Accelerate State of DevOps Report 2023 (DORA, Google Cloud), "Software delivery performance" clusters:
#   elite:  on demand (many deploys a day) | lead time < 1 day            | 5% change failures | recovery < 1 hour
#   high:   daily to weekly                | 1 day to 1 week             | 10%                | < 1 day
#   medium: weekly to monthly              | 1 week to 1 month           | 15%                | 1 day to 1 week
#   low:    weekly to monthly (sic)        | 1 week to 1 month (sic)     | 64%                | 1 to 6 months
# The cut points below turn those clusters into thresholds: a value gets the best level whose bound it
# meets. The report publishes no clusters for rework rate (2024 introduced it as a second instability
# measure beside change failure rate): it is graded with the change-failure-rate bounds.
DAY = 86_400.0
LEVELS = ("elite", "high", "medium", "low")
# metric → ((bound, level), …) best first; frequency is graded per day, higher is better; the rest, lower.
THRESHOLDS: dict[str, tuple[tuple[float, str], ...]] = {
    DEPLOYMENT_FREQUENCY: ((1.0, "elite"), (1 / 7, "high"), (1 / 30, "medium")),
    LEAD_TIME: ((DAY, "elite"), (7 * DAY, "high"), (30 * DAY, "medium")),
    TIME_TO_RESTORE: ((3_600.0, "elite"), (DAY, "high"), (7 * DAY, "medium")),
    CHANGE_FAILURE_RATE: ((0.05, "elite"), (0.10, "high"), (0.15, "medium")),
    REWORK_RATE: ((0.05, "elite"), (0.10, "high"), (0.15, "medium")),
}


def dora_level(metric: str, value: float | None, *, days: int = 1) -> str | None:
    """The DORA performance level of `value` (None when there is no value). Deployment frequency is a count
    over `days` days, graded as deployments per day (elite: at least one a day); times are graded below
    their bound (strictly: a lead time of exactly one day is `high`), ratios at or below it."""
    if value is None:
        return None
    if metric == DEPLOYMENT_FREQUENCY:
        per_day = value / max(days, 1)
        return next((level for bound, level in THRESHOLDS[metric] if per_day >= bound), "low")
    strict = metric in (LEAD_TIME, TIME_TO_RESTORE)
    for bound, level in THRESHOLDS[metric]:
        if value < bound or (not strict and value <= bound):
            return level
    return "low"


# --- the query


@dataclass(frozen=True)
class DoraQuery:
    """What a request asks for: `start_date`..`end_date` (UTC days, both included)."""

    metric: str
    start_date: date
    end_date: date
    interval: str = "daily"
    environment_tiers: tuple[str, ...] = ("production",)
    team: str | None = None
    failure_source: str = field(default_factory=lambda: settings.OPSPORTAL_DORA_FAILURE_SOURCE)
    rework_window: timedelta = field(
        default_factory=lambda: timedelta(hours=settings.OPSPORTAL_DORA_REWORK_WINDOW_HOURS)
    )

    @property
    def since(self) -> datetime:
        return datetime(self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC)

    @property
    def until(self) -> datetime:
        """The end of the range (exclusive): midnight after `end_date`."""
        return datetime(self.end_date.year, self.end_date.month, self.end_date.day, tzinfo=UTC) + timedelta(days=1)


class DoraPoint(TypedDict):
    date: str
    value: float | int | None
    level: str | None


def _buckets(query: DoraQuery) -> dict[date, int]:
    """Bucket start → the number of days of the range inside it, oldest first."""
    buckets: dict[date, int] = defaultdict(int)
    day = query.start_date
    while day <= query.end_date:
        buckets[_bucket_of(query, day)] += 1
        day += timedelta(days=1)
    return dict(buckets)


def _bucket_of(query: DoraQuery, moment: datetime | date) -> date:
    day = moment.astimezone(UTC).date() if isinstance(moment, datetime) else moment
    if query.interval == "monthly":
        return date(day.year, day.month, 1)
    if query.interval == "all":
        return query.start_date
    return day


def _environment_ids(tiers: Iterable[str]) -> list[str]:
    return list(Environment.objects.filter(tier__in=list(tiers)).order_by("id").values_list("id", flat=True))


# --- what is measured


def _deploys(query: DoraQuery, environment_ids: list[str], *, since: datetime, team: str | None) -> list[dict]:
    """Finished `deploy` deployments to these environments, finished in [since, until)."""
    deploys = Deployment.objects.order_by().filter(
        environment_id__in=environment_ids,
        kind=DeploymentKind.DEPLOY,
        status__in=FINISHED,
        finished_at__gte=since,
        finished_at__lt=query.until,
    )
    if team:
        deploys = deploys.filter(release__team_id=team)
    return list(
        deploys.values(
            "id",
            "environment_id",
            "status",
            "sequence",
            "started_at",
            "finished_at",
            "release__created_at",
            "release__workflow_id",
        )
    )


def _incidents(
    query: DoraQuery, environment_ids: list[str], *, since: datetime, team: str | None
) -> list[dict[str, Any]]:
    from incidents.models import Incident

    incidents = Incident.objects.order_by().filter(
        environment_id__in=environment_ids, started_at__gte=since, started_at__lt=query.until
    )
    if team:
        incidents = incidents.filter(release__team_id=team)
    return list(incidents.values("id", "environment_id", "deployment_id", "started_at", "resolved_at"))


def _failed_ids(query: DoraQuery, deploys: list[dict]) -> set[str]:
    """The deployments that count as failures, per the failure source."""
    if query.failure_source == "incidents":
        from incidents.models import Incident

        ids = [row["id"] for row in deploys]
        return set(Incident.objects.filter(deployment_id__in=ids).values_list("deployment_id", flat=True))
    return {row["id"] for row in deploys if row["status"] in FAILED}


def _restores(query: DoraQuery, environment_ids: list[str]) -> list[tuple[datetime, float]]:
    """(when the failure began, seconds to restore) of every restored failure that began in the range."""
    if query.failure_source == "incidents":
        return [
            (row["started_at"], (row["resolved_at"] - row["started_at"]).total_seconds())
            for row in _incidents(query, environment_ids, since=query.since, team=query.team)
            if row["resolved_at"] is not None
        ]
    next_success = (
        Deployment.objects.filter(
            environment=OuterRef("environment"), sequence__gt=OuterRef("sequence"), status=DeploymentStatus.SUCCEEDED
        )
        .order_by("sequence")
        .values("finished_at")[:1]
    )
    failures = Deployment.objects.order_by().filter(
        environment_id__in=environment_ids,
        kind=DeploymentKind.DEPLOY,
        status__in=FAILED,
        finished_at__gte=query.since,
        finished_at__lt=query.until,
    )
    if query.team:
        failures = failures.filter(release__team_id=query.team)
    rows = failures.annotate(restored_at=Subquery(next_success)).values("finished_at", "restored_at")
    return [
        (row["finished_at"], (row["restored_at"] - row["finished_at"]).total_seconds())
        for row in rows
        if row["restored_at"] is not None
    ]


def _failure_times(query: DoraQuery, environment_ids: list[str]) -> dict[str, list[datetime]]:
    """Per environment: when each failure (of any team) of the rework look-back happened, oldest first."""
    since = query.since - query.rework_window
    if query.failure_source == "incidents":
        moments = [
            (r["environment_id"], r["started_at"]) for r in _incidents(query, environment_ids, since=since, team=None)
        ]
    else:
        moments = [
            (row["environment_id"], row["finished_at"])
            for row in _deploys(query, environment_ids, since=since, team=None)
            if row["status"] in FAILED
        ]
    times: dict[str, list[datetime]] = defaultdict(list)
    for environment_id, moment in sorted(moments, key=lambda item: item[1]):
        times[environment_id].append(moment)
    return times


def _is_rework(row: dict, failures: list[datetime], window: timedelta) -> bool:
    if row["release__workflow_id"] == HOTFIX_WORKFLOW:
        return True
    started = row["started_at"]
    return any(started - window <= moment < started for moment in failures)


# --- the series


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _by_bucket(query: DoraQuery, rows: Iterable[Any], moment: Callable[[Any], datetime]) -> dict[date, list[Any]]:
    grouped: dict[date, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[_bucket_of(query, moment(row))].append(row)
    return grouped


def dora_metric_series(query: DoraQuery) -> list[DoraPoint]:
    """`GET /api/v1/dora/metrics`: one point per bucket of the range, oldest first (module docstring)."""
    buckets = _buckets(query)
    environment_ids = _environment_ids(query.environment_tiers)
    values: dict[date, float | int | None]
    if query.metric == TIME_TO_RESTORE:
        grouped = _by_bucket(query, _restores(query, environment_ids), lambda item: item[0])
        values = {bucket: _median([seconds for _, seconds in grouped.get(bucket, [])]) for bucket in buckets}
    else:
        deploys = _deploys(query, environment_ids, since=query.since, team=query.team)
        grouped = _by_bucket(query, deploys, lambda row: row["finished_at"])
        values = _deployment_values(query, grouped, buckets, environment_ids, deploys)
    return [
        {
            "date": bucket.isoformat(),
            "value": values[bucket],
            "level": dora_level(query.metric, values[bucket], days=days),
        }
        for bucket, days in buckets.items()
    ]


def _deployment_values(
    query: DoraQuery,
    grouped: dict[date, list[dict]],
    buckets: dict[date, int],
    environment_ids: list[str],
    deploys: list[dict],
) -> dict[date, float | int | None]:
    succeeded = {bucket: [r for r in grouped.get(bucket, []) if r["status"] == "succeeded"] for bucket in buckets}
    if query.metric == DEPLOYMENT_FREQUENCY:
        return {bucket: len(rows) for bucket, rows in succeeded.items()}
    if query.metric == LEAD_TIME:
        return {
            bucket: _median([(r["finished_at"] - r["release__created_at"]).total_seconds() for r in rows])
            for bucket, rows in succeeded.items()
        }
    if query.metric == CHANGE_FAILURE_RATE:
        failed = _failed_ids(query, deploys)
        return {
            bucket: _ratio(sum(r["id"] in failed for r in grouped.get(bucket, [])), len(grouped.get(bucket, [])))
            for bucket in buckets
        }
    failures = _failure_times(query, environment_ids)
    return {
        bucket: _ratio(
            sum(
                _is_rework(r, failures.get(r["environment_id"], []), query.rework_window)
                for r in grouped.get(bucket, [])
            ),
            len(grouped.get(bucket, [])),
        )
        for bucket in buckets
    }


class DoraFigure(TypedDict):
    metric: str
    value: float | int | None
    unit: str
    level: str | None


def dora_summary(
    *, environment_tier: str, days: int, today: date, failure_source: str | None = None, team: str | None = None
) -> dict[str, Any]:
    """The four keys and rework over the last `days` UTC days up to `today`, for one tier (the dashboard)."""
    start = today - timedelta(days=days - 1)
    source = failure_source or settings.OPSPORTAL_DORA_FAILURE_SOURCE
    figures: list[DoraFigure] = []
    for metric in METRICS:
        query = DoraQuery(
            metric=metric,
            start_date=start,
            end_date=today,
            interval="all",
            environment_tiers=(environment_tier,),
            team=team,
            failure_source=source,
        )
        point = dora_metric_series(query)[0]
        figures.append({"metric": metric, "value": point["value"], "unit": UNITS[metric], "level": point["level"]})
    return {
        "environment_tier": environment_tier,
        "failure_source": source,
        "start_date": start,
        "end_date": today,
        "metrics": figures,
    }
