"""OpenAPI of the workflow endpoints: examples and the decorator `workflows.api.views` applies."""

from opsportal.api.schema import document_schema_view
from workflows.services import WORKFLOWS

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
    "reference_seq": 3,
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

WORKFLOW_VIEWSET_SCHEMA = document_schema_view(
    example=WORKFLOW_EXAMPLE,
    create=CREATE_EXAMPLE,
    change=("Deactivate", {"active": False, "revision": 2}),
    invalid=("Unknown environment", {"stages": ["stages[2].environment: environment 'prod' does not exist."]}),
    protected=WORKFLOWS.refusal("standard", {"releases": 3}),
)
