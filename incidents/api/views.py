"""`/api/v1/incidents`: thin viewset; writes go through `incidents.services`."""

from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from incidents.api.schema import INCIDENT_VIEWSET_SCHEMA, RESOLVE_SCHEMA
from incidents.api.serializers import (
    IncidentCreateInputSerializer,
    IncidentResolveInputSerializer,
    IncidentSerializer,
    IncidentUpdateInputSerializer,
)
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from incidents.services import incident_create, incident_resolve, incident_update
from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin


def _input(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@INCIDENT_VIEWSET_SCHEMA
class IncidentViewSet(
    IdempotentPostMixin,
    RevisionETagMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Incidents: failures in an environment, linked to the deployment (and release) that caused them.

    Release Managers, Engineers of the teams that deploy to the environment, and API tokens with the
    `report_incidents` scope report, edit and resolve them. They feed the DORA metrics when the failure
    source is `incidents`, and the evidence of the releases they are linked to.
    """

    queryset = Incident.objects.all()
    serializer_class = IncidentSerializer
    filterset_class = IncidentFilterSet
    http_method_names = ["get", "post", "patch", "head", "options"]
    search_fields = ["title", "=external_id", "=id"]
    ordering_fields = ["started_at", "resolved_at", "severity", "created_at", "id"]
    ordering = ["-started_at", "id"]

    def filter_queryset(self, queryset):
        # List filters must not hide the object of a detail request.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def create(self, request: Request) -> Response:
        """Report an incident (audited; sends CDEvents `incident.detected`)."""
        incident = incident_create(actor=request.user, data=_input(IncidentCreateInputSerializer, request))
        location = self.reverse_action("detail", args=[incident.pk])
        return Response(
            IncidentSerializer(incident).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        """Change an incident: title, severity, description, environment, the deployment that caused it,
        `started_at`, external id and URL (audited)."""
        incident = self.get_object()
        data = _input(IncidentUpdateInputSerializer, request)
        incident = incident_update(
            incident=incident, actor=request.user, data=data, expected_revision=self.expected_revision(incident)
        )
        return Response(IncidentSerializer(incident).data)

    @RESOLVE_SCHEMA
    @action(detail=True, methods=["post"])
    def resolve(self, request: Request, pk: str | None = None) -> Response:
        """Resolve an open incident (audited; sends CDEvents `incident.resolved`). Already resolved: 409."""
        incident = self.get_object()
        data = _input(IncidentResolveInputSerializer, request)
        expected = data.get("revision", self.expected_revision(incident))
        incident = incident_resolve(
            incident=incident, actor=request.user, resolved_at=data.get("resolved_at"), expected_revision=expected
        )
        return Response(IncidentSerializer(incident).data)
