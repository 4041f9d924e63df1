"""Filters of `GET /teams`."""

from django_filters import rest_framework as filters

from teams.models import Team


class TeamFilterSet(filters.FilterSet):
    """`?name=platform` (case-insensitive, part of the name)."""

    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Team
        fields = ["name"]
