"""Filters of `GET /environments`."""

from django_filters import rest_framework as filters

from environments.models import Environment


class EnvironmentFilterSet(filters.FilterSet):
    """`?tier=production&health=healthy&requires_approval=true` (`requires_approval`: the approval policy has rules)."""

    class Meta:
        model = Environment
        fields = ["tier", "health", "requires_approval"]
