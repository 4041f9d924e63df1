"""`/api/v1/workflows`: thin viewset; writes go through `workflows.services`."""

from opsportal.api.schema import document_schema_view
from opsportal.api.viewsets import DocumentViewSet
from workflows.api.serializers import WorkflowSerializer, WorkflowUpdateSerializer
from workflows.filtersets import WorkflowFilterSet
from workflows.models import Workflow
from workflows.services import SERVICES, WORKFLOWS

STAGES_EXAMPLE = [
    {"environment": "development", "requires_approval": False},
    {"environment": "staging", "requires_approval": False},
    {"environment": "production", "requires_approval": True},
]
TRIGGERS_EXAMPLE = [{"event": "release.approved", "action": "notify", "params": {"channel": "#releases"}}]
WORKFLOW_EXAMPLE = {
    "id": "standard",
    "name": "Standard",
    "description": "Development → staging → production; production needs an approval.",
    "active": True,
    "stages": STAGES_EXAMPLE,
    "triggers": TRIGGERS_EXAMPLE,
    "revision": 2,
    "created_at": "2026-10-01T09:00:00Z",
    "updated_at": "2026-10-15T08:00:00Z",
}
CREATE_EXAMPLE = {
    "name": "Hotfix",
    "description": "Straight to staging, then production.",
    "stages": STAGES_EXAMPLE[1:],
    "triggers": [],
}


@document_schema_view(
    example=WORKFLOW_EXAMPLE,
    create=CREATE_EXAMPLE,
    change=("Deactivate", {"active": False, "revision": 2}),
    invalid=("Unknown environment", {"stages": ["stages[2].environment: environment 'prod' does not exist."]}),
    protected=WORKFLOWS.refusal("standard", {"releases": 3}),
)
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
