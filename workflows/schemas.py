"""Shapes of the documents embedded in a workflow: ordered stages, triggers."""

from opsportal.document_models import array_of, closed_object

STAGE = closed_object(
    "Stage",
    {
        "environment": {"type": "string", "minLength": 1, "maxLength": 64, "title": "Environment id"},
        "requires_approval": {"type": "boolean", "default": False, "title": "Requires approval"},
    },
    required=["environment"],
)

STAGES = array_of(STAGE, max_items=20, title="Stages")

TRIGGER = closed_object(
    "Trigger",
    {
        "event": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Event"},
        "action": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Action"},
        "params": {"type": "object", "title": "Parameters", "default": {}, "maxProperties": 50},
    },
    required=["event", "action"],
)

TRIGGERS = array_of(TRIGGER, max_items=50, title="Triggers")
