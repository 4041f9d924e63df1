"""`GET /api/v1/dora/metrics` (issue #13): the DORA metrics in GitLab's shape; the figures come from `releases.dora`."""

from __future__ import annotations

from datetime import timedelta

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from environments.choices import Tier
from opsportal.api.schema import invalid_response
from releases.dora import (
    DEFAULT_RANGE_DAYS,
    FAILURE_SOURCES,
    INTERVALS,
    LEVELS,
    MAX_RANGE_DAYS,
    METRICS,
    DoraPoint,
    DoraQuery,
    dora_metric_series,
)
from teams.models import Team


class DoraMetricsQuerySerializer(serializers.Serializer):
    """Query parameters of `GET /api/v1/dora/metrics` (GitLab's names)."""

    metric = serializers.ChoiceField(choices=METRICS, help_text="The metric (one per request, as in GitLab).")
    interval = serializers.ChoiceField(
        choices=INTERVALS, required=False, help_text="Buckets of the series (default `daily`)."
    )
    start_date = serializers.DateField(required=False, help_text="First UTC day (default: 90 days before the end).")
    end_date = serializers.DateField(required=False, help_text="Last UTC day, included (default: today).")
    environment_tiers = serializers.ListField(
        child=serializers.ChoiceField(choices=Tier.choices),
        required=False,
        max_length=len(Tier.choices),
        help_text="Tiers of the environments measured (default `production`); repeat or comma-separate. "
        "GitLab's spelling `environment_tiers[]` is accepted too.",
    )
    team = serializers.CharField(required=False, max_length=64, help_text="Only the releases of this team (id).")
    failure_source = serializers.ChoiceField(
        choices=FAILURE_SOURCES, required=False, help_text="What counts as a failure (default: the setting)."
    )

    def to_internal_value(self, data):
        # `environment_tiers=production,staging`, `environment_tiers=a&environment_tiers=b` or GitLab's
        # `environment_tiers[]=a`.
        raw = (
            data.getlist("environment_tiers") + data.getlist("environment_tiers[]") if hasattr(data, "getlist") else []
        )
        values = {key: data.get(key) for key in data if key not in ("environment_tiers", "environment_tiers[]")}
        if raw:
            values["environment_tiers"] = [tier.strip() for item in raw for tier in item.split(",") if tier.strip()]
        return super().to_internal_value(values)

    def validate_team(self, value: str) -> str:
        if not Team.objects.filter(pk=value).exists():
            raise serializers.ValidationError(f"No team has the id '{value}'.")
        return value

    def validate(self, attrs):
        today = timezone.now().date()
        end = attrs.get("end_date") or today
        start = attrs.get("start_date") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"start_date": ["The start date is after the end date."]})
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise serializers.ValidationError({"start_date": [f"The range is at most {MAX_RANGE_DAYS} days."]})
        return {**attrs, "start_date": start, "end_date": end}


class DoraPointSerializer(serializers.Serializer):
    """One point of a DORA series: GitLab's `{date, value}` plus our `level`."""

    date = serializers.DateField(help_text="The bucket: a UTC day, the 1st of a month, or `start_date` for `all`.")
    value = serializers.FloatField(
        allow_null=True,
        help_text="A count (deployment_frequency), seconds (lead time, time to restore: medians) or a ratio 0..1 "
        "(change failure rate, rework rate); null when there is nothing to measure.",
    )
    level = serializers.ChoiceField(
        choices=LEVELS, allow_null=True, help_text="DORA performance level (State of DevOps Report 2023)."
    )


_EXAMPLES = {
    "deployment_frequency": {"date": "2026-10-01", "value": 14, "level": "high"},
    "lead_time_for_changes": {"date": "2026-11-02", "value": 52380.0, "level": "elite"},
    "change_failure_rate": {"date": "2026-11-02", "value": 0.125, "level": "medium"},
}

DORA_METRICS_SCHEMA = extend_schema(
    operation_id="dora_metrics",
    summary="DORA metrics",
    description="One metric as a series of `{date, value, level}`, as GitLab's `GET /dora/metrics` "
    '(definitions: README, "DORA metrics").',
    parameters=[DoraMetricsQuerySerializer],
    responses={
        200: OpenApiResponse(DoraPointSerializer(many=True), description="Oldest first, every bucket present."),
        400: invalid_response("Unknown metric", {"metric": ['"mttr" is not a valid choice.']}),
    },
    examples=[
        OpenApiExample(
            f"{metric} ({'monthly' if metric.startswith('dep') else 'daily'})", value=value, response_only=True
        )
        for metric, value in _EXAMPLES.items()
    ],
)


def dora_series(params: QueryDict) -> list[DoraPoint]:
    """The series `params` ask for (`DoraMetricsQuerySerializer`: 400 `invalid` naming a bad parameter), as REST
    and GraphQL answer it."""
    query = DoraMetricsQuerySerializer(data=params)
    query.is_valid(raise_exception=True)
    data = query.validated_data
    options = {key: data[key] for key in ("team", "failure_source") if data.get(key)}
    return dora_metric_series(
        DoraQuery(
            metric=data["metric"],
            start_date=data["start_date"],
            end_date=data["end_date"],
            interval=data.get("interval") or "daily",
            environment_tiers=tuple(data.get("environment_tiers") or (Tier.PRODUCTION,)),
            **options,
        )
    )


class DoraMetricsViewSet(viewsets.ViewSet):
    """The DORA metrics (`/api/v1/dora/metrics`)."""

    @DORA_METRICS_SCHEMA
    def list(self, request: Request) -> Response:
        """Deployment frequency, lead time for changes, time to restore service, change failure rate or
        deployment rework rate, daily, monthly or over the whole range, for the chosen tiers and team."""
        series = dora_series(request.query_params)
        return Response(DoraPointSerializer(series, many=True).data)
