"""Shapes of the documents embedded in a workflow: ordered stages, triggers."""

STAGE = {
    "type": "object",
    "title": "Stage",
    "properties": {
        "environment": {"type": "string", "minLength": 1, "maxLength": 64, "title": "Environment id"},
        "requires_approval": {"type": "boolean", "default": False, "title": "Requires approval"},
    },
    "required": ["environment"],
    "additionalProperties": False,
}

STAGES = {"type": "array", "items": STAGE, "maxItems": 20, "title": "Stages"}

TRIGGER = {
    "type": "object",
    "title": "Trigger",
    "properties": {
        "event": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Event"},
        "action": {"type": "string", "minLength": 1, "maxLength": 100, "title": "Action"},
        "params": {"type": "object", "title": "Parameters", "default": {}},
    },
    "required": ["event", "action"],
    "additionalProperties": False,
}

TRIGGERS = {"type": "array", "items": TRIGGER, "maxItems": 50, "title": "Triggers"}
