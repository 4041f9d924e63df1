"""`/api/v1/environments`: thin viewset; writes go through `environments.services`."""

from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from environments.api.schema import ENVIRONMENT_VIEWSET_SCHEMA, STATUS_SCHEMA
from environments.api.serializers import (
    EnvironmentSerializer,
    EnvironmentStatusSerializer,
    EnvironmentUpdateSerializer,
)
from environments.filtersets import EnvironmentFilterSet
from environments.models import Environment
from environments.selectors import environment_status
from environments.services import SERVICES
from opsportal.api.viewsets import DocumentViewSet


@ENVIRONMENT_VIEWSET_SCHEMA
class EnvironmentViewSet(DocumentViewSet):
    """Deployment targets (development → staging → production).

    `GET …/status` shows the release running there, the latest deployments, health and any freeze.
    """

    queryset = Environment.objects.all()
    serializer_class = EnvironmentSerializer
    update_serializer_class = EnvironmentUpdateSerializer
    services = SERVICES
    filterset_class = EnvironmentFilterSet
    ordering_fields = ["order", "name", "tier", "id", "updated_at"]
    ordering = ["order", "id"]

    @STATUS_SCHEMA
    @action(detail=True, methods=["get"], url_path="status")
    def status(self, request: Request, pk: str | None = None) -> Response:
        """The release running in the environment, its last and 5 most recent deployments, health and freeze state."""
        return Response(EnvironmentStatusSerializer(environment_status(self.get_object())).data)
