"""Shapes of what a subscription and a delivery embed: filter lists, delivery attempts."""

from opsportal.document_models import array_of, closed_object

EVENT_TYPES = array_of(
    {"type": "string", "minLength": 1, "maxLength": 120, "title": "Event name, type or pattern"},
    max_items=50,
    title="Event types",
)
ENVIRONMENTS = array_of({"type": "string", "minLength": 1, "maxLength": 64}, max_items=50, title="Environments")
TEAMS = array_of({"type": "string", "minLength": 1, "maxLength": 64}, max_items=50, title="Teams")

ATTEMPT = closed_object(
    "DeliveryAttempt",
    {
        "n": {"type": "integer", "minimum": 1},
        "round": {"type": "integer", "minimum": 0},
        "at": {"type": "string"},
        "duration_ms": {"type": "number"},
        "status_code": {"type": ["integer", "null"]},
        "response": {"type": "string", "maxLength": 1024},
        "error": {"type": "string"},
        "worker": {"type": "string"},
        "next_attempt_at": {"type": ["string", "null"]},
    },
    required=["n", "at", "duration_ms", "status_code", "error"],
)
ATTEMPTS = array_of(ATTEMPT, max_items=50, title="Attempts")
