"""Response shapes of the dashboard and analytics endpoints (read-only; they document the OpenAPI schema).

Names carry an `Analytics`/`Dashboard` prefix: serializer names are OpenAPI component names and
must be unique across the project.
"""

from rest_framework import serializers

from environments.choices import Health, Tier
from releases.analytics import DEFAULT_WINDOW_DAYS, MAX_WINDOW_DAYS
from releases.choices import OUTCOME_STATUSES, ReleaseStatus
from releases.dora import FAILURE_SOURCES, LEVELS, METRICS, UNIT_NAMES


def _counts_serializer(name: str, keys: list[str], doc: str, extra: dict | None = None) -> type[serializers.Serializer]:
    """A serializer with one integer field per choice value (all present, zero when none)."""
    fields = {key: serializers.IntegerField(min_value=0) for key in keys}
    return type(name, (serializers.Serializer,), {"__doc__": doc, **fields, **(extra or {})})


AnalyticsReleaseStatusCountsSerializer = _counts_serializer(
    "AnalyticsReleaseStatusCountsSerializer", ReleaseStatus.values, "Number of releases in each status."
)
DashboardEnvironmentHealthCountsSerializer = _counts_serializer(
    "DashboardEnvironmentHealthCountsSerializer",
    Health.values,
    "Number of environments in each health state, and their total.",
    {"total": serializers.IntegerField(min_value=0)},
)


# --- GET /api/v1/releases/analytics


class AnalyticsQuerySerializer(serializers.Serializer):
    """Query parameters of the analytics endpoint."""

    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WINDOW_DAYS,
        default=DEFAULT_WINDOW_DAYS,
        help_text=f"Window of the DORA figures, in days (1..{MAX_WINDOW_DAYS}).",
    )


class AnalyticsTeamCountSerializer(serializers.Serializer):
    team_id = serializers.CharField(allow_null=True, help_text="Null for releases without a team.")
    team_name = serializers.CharField(help_text='"unassigned" for releases without a team.')
    count = serializers.IntegerField(min_value=0)


class AnalyticsMonthCountSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="Calendar month (UTC), YYYY-MM.")
    count = serializers.IntegerField(min_value=0)


class AnalyticsEnvironmentDoraSerializer(serializers.Serializer):
    """The four DORA figures of one environment over the window."""

    environment_id = serializers.CharField()
    environment_name = serializers.CharField()
    tier = serializers.CharField()
    successful_deployments = serializers.IntegerField(help_text="Successful deploys that finished in the window.")
    deployments_per_day = serializers.FloatField(help_text="Deployment frequency: successful deploys per day.")
    lead_time_median_seconds = serializers.FloatField(
        allow_null=True, help_text="Median of release created → successful deploy finished; null without deploys."
    )
    finished_deployments = serializers.IntegerField(help_text="Deploys that finished in the window (any outcome).")
    failed_deployments = serializers.IntegerField(help_text="Of those, failed or rolled back.")
    change_failure_rate_percent = serializers.FloatField(
        allow_null=True, help_text="failed_deployments / finished_deployments * 100; null when nothing finished."
    )
    restored_failures = serializers.IntegerField(help_text="Failures followed by a succeeded deployment.")
    mean_time_to_restore_seconds = serializers.FloatField(
        allow_null=True, help_text="Mean of failure finished → next succeeded deployment finished; null if none."
    )


class AnalyticsReleaseSerializer(serializers.Serializer):
    """Release analytics: counts, monthly trend, DORA figures per environment."""

    generated_at = serializers.DateTimeField()
    window_days = serializers.IntegerField()
    window_start = serializers.DateTimeField()
    by_status = AnalyticsReleaseStatusCountsSerializer()
    by_team = AnalyticsTeamCountSerializer(many=True)
    created_per_month = AnalyticsMonthCountSerializer(many=True, help_text="Last 12 months, oldest first.")
    dora = AnalyticsEnvironmentDoraSerializer(many=True, help_text="One entry per environment, promotion order.")


# --- GET /api/v1/dashboard/stats


class DashboardReleaseTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status = AnalyticsReleaseStatusCountsSerializer()


class DashboardPendingReleaseSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    version = serializers.CharField()
    created_at = serializers.DateTimeField()


class DashboardPendingApprovalsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    releases = DashboardPendingReleaseSerializer(many=True, help_text="The five waiting longest, oldest first.")


class DashboardDeploymentCountsSerializer(serializers.Serializer):
    today = serializers.IntegerField(help_text="Deployments started today (UTC).")
    last_7_days = serializers.IntegerField()
    last_30_days = serializers.IntegerField()
    succeeded_30_days = serializers.IntegerField()
    finished_30_days = serializers.IntegerField()
    success_rate_30_days_percent = serializers.FloatField(
        allow_null=True, help_text="succeeded / finished * 100 over 30 days; null when nothing finished."
    )


class DashboardStatsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    releases = DashboardReleaseTotalsSerializer()
    pending_approvals = DashboardPendingApprovalsSerializer()
    deployments = DashboardDeploymentCountsSerializer()
    environments = DashboardEnvironmentHealthCountsSerializer()


# --- GET /api/v1/dashboard/metrics

DashboardDayStatusCountsSerializer = _counts_serializer(
    "DashboardDayStatusCountsSerializer",
    [str(status) for status in OUTCOME_STATUSES],
    "Deployments started on one UTC day, per status.",
    {"date": serializers.DateField(), "total": serializers.IntegerField(min_value=0)},
)


class DashboardWeekCountSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="Monday of the ISO week (UTC).")
    count = serializers.IntegerField(min_value=0)


class DashboardDoraFigureSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=METRICS, help_text="GitLab's name of the metric.")
    value = serializers.FloatField(allow_null=True, help_text="Null when there is nothing to measure.")
    unit = serializers.ChoiceField(choices=UNIT_NAMES)
    level = serializers.ChoiceField(choices=LEVELS, allow_null=True, help_text="DORA performance level.")


class DashboardDoraSerializer(serializers.Serializer):
    environment_tier = serializers.ChoiceField(choices=Tier.choices)
    failure_source = serializers.ChoiceField(choices=FAILURE_SOURCES)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    metrics = DashboardDoraFigureSerializer(many=True, help_text="The four keys, then deployment rework rate.")


class DashboardMetricsQuerySerializer(serializers.Serializer):
    environment_tier = serializers.ChoiceField(
        choices=Tier.choices, required=False, help_text="Tier of the DORA figures (default `production`)."
    )
    failure_source = serializers.ChoiceField(
        choices=FAILURE_SOURCES, required=False, help_text="What counts as a failure (default: the setting)."
    )


class DashboardMetricsSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    deployments_per_day = DashboardDayStatusCountsSerializer(many=True, help_text="Last 30 days, oldest first.")
    releases_per_week = DashboardWeekCountSerializer(many=True, help_text="Last 12 weeks, oldest first.")
    dora = DashboardDoraSerializer(help_text="DORA metrics of the last 30 days for the chosen tier (issue #13).")


# --- GET /api/v1/dashboard/health


class DashboardDatabaseHealthSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    backend = serializers.CharField()
    version = serializers.CharField(allow_null=True)
    round_trip_ms = serializers.FloatField()
    error = serializers.CharField(allow_null=True)


class DashboardHealthSerializer(serializers.Serializer):
    status = serializers.CharField(help_text='"ok" when the database answers, "error" otherwise.')
    database = DashboardDatabaseHealthSerializer()
    version = serializers.CharField()
    uptime_seconds = serializers.FloatField()
    environments = DashboardEnvironmentHealthCountsSerializer(allow_null=True)
    checked_at = serializers.DateTimeField()
