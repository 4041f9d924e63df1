"""Filters of `GET /api/v1/incidents`."""

import django_filters

from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident


class IncidentFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    environment = django_filters.CharFilter(field_name="environment_id", help_text="Environment id.")
    deployment = django_filters.CharFilter(field_name="deployment_id", help_text="Id of the deployment that caused it.")
    release = django_filters.CharFilter(field_name="release_id", help_text="Id of the release that caused it.")
    team = django_filters.CharFilter(field_name="release__team_id", help_text="Team of the release that caused it.")
    external_id = django_filters.CharFilter(help_text="The id in the incident tool (PagerDuty, Opsgenie, Jira…).")
    started_after = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="gte", help_text="Started at or after (ISO 8601)."
    )
    started_before = django_filters.IsoDateTimeFilter(
        field_name="started_at", lookup_expr="lt", help_text="Started before (ISO 8601)."
    )

    class Meta:
        model = Incident
        fields = ["status", "severity", "environment", "deployment", "release", "team", "external_id"]
