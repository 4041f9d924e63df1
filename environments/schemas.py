"""Shapes of the documents embedded in an environment: config, freeze windows."""

CONFIG = {
    "type": "object",
    "title": "Configuration",
    "description": "Free-form settings of the environment (string keys, scalar values).",
    "additionalProperties": {"type": ["string", "number", "boolean", "null"]},
}

FREEZE_WINDOW = {
    "type": "object",
    "title": "Freeze window",
    "properties": {
        "starts_at": {"type": "string", "format": "date-time", "title": "Starts at"},
        "ends_at": {"type": "string", "format": "date-time", "title": "Ends at"},
        "reason": {"type": "string", "maxLength": 500, "title": "Reason", "default": ""},
    },
    "required": ["starts_at", "ends_at"],
    "additionalProperties": False,
}

FREEZE_WINDOWS = {"type": "array", "items": FREEZE_WINDOW, "maxItems": 100, "title": "Freeze windows"}
