"""List filters of releases and deployments (django-filter)."""

from __future__ import annotations

import django_filters

from environments.models import Environment
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus
from releases.models import Deployment, Release


class ReleaseFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ReleaseStatus.choices, help_text="Lifecycle status.")
    team = django_filters.CharFilter(field_name="team_id", help_text="Team id.")
    workflow = django_filters.CharFilter(field_name="workflow_id", help_text="Workflow id.")
    environment = django_filters.CharFilter(
        method="filter_environment", help_text="Environment id: the release currently deployed there."
    )

    class Meta:
        model = Release
        fields = ["status", "team", "workflow", "environment"]

    def filter_environment(self, queryset, name, value):
        current = Environment.objects.filter(pk=value, current_release__isnull=False).values("current_release_id")
        return queryset.filter(pk__in=current)


class DeploymentFilterSet(django_filters.FilterSet):
    release = django_filters.CharFilter(field_name="release_id", help_text="Release id.")
    environment = django_filters.CharFilter(field_name="environment_id", help_text="Environment id.")
    status = django_filters.ChoiceFilter(choices=DeploymentStatus.choices)
    kind = django_filters.ChoiceFilter(choices=DeploymentKind.choices)

    class Meta:
        model = Deployment
        fields = ["release", "environment", "status", "kind"]
