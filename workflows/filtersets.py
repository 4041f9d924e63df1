"""Filters of `GET /workflows`."""

from django_filters import rest_framework as filters

from workflows.models import Workflow


class WorkflowFilterSet(filters.FilterSet):
    """`?active=true`."""

    class Meta:
        model = Workflow
        fields = ["active"]
