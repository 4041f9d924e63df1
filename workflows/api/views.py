"""`/api/v1/workflows`: thin viewset; writes go through `workflows.services`."""

from opsportal.api.viewsets import DocumentViewSet
from workflows.api.schema import WORKFLOW_VIEWSET_SCHEMA
from workflows.api.serializers import WorkflowSerializer, WorkflowUpdateSerializer
from workflows.filtersets import WorkflowFilterSet
from workflows.models import Workflow
from workflows.services import SERVICES


@WORKFLOW_VIEWSET_SCHEMA
class WorkflowViewSet(DocumentViewSet):
    """Promotion paths: ordered stages (environments) a release goes through, and triggers.

    A release may deploy to stage N only after succeeding in stage N-1. A workflow that releases
    follow is deactivated (`active=false`) rather than deleted.
    """

    queryset = Workflow.objects.all()
    serializer_class = WorkflowSerializer
    update_serializer_class = WorkflowUpdateSerializer
    services = SERVICES
    filterset_class = WorkflowFilterSet
