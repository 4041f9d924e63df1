"""Shapes of the documents embedded in an environment: config, freeze windows."""

from opsportal.document_models import array_of, closed_object

CONFIG = {
    "type": "object",
    "title": "Configuration",
    "description": "Free-form settings of the environment (string keys, scalar values).",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"], "maxLength": 2000},
    "maxProperties": 100,
}

FREEZE_WINDOW = closed_object(
    "Freeze window",
    {
        "starts_at": {"type": "string", "format": "date-time", "title": "Starts at"},
        "ends_at": {"type": "string", "format": "date-time", "title": "Ends at"},
        "reason": {"type": "string", "maxLength": 500, "title": "Reason", "default": ""},
    },
    required=["starts_at", "ends_at"],
)

FREEZE_WINDOWS = array_of(FREEZE_WINDOW, max_items=100, title="Freeze windows")
