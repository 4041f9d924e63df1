"""Shapes of the documents embedded in an environment: config, freeze windows, approval policy."""

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

APPROVAL_RULE = {
    "type": "object",
    "title": "Approval rule",
    "description": "N approvals from members of a role group (`group`) or of a team (`team`): exactly one of the two.",
    "properties": {
        "name": {"type": "string", "maxLength": 100, "title": "Name", "default": ""},
        "approvals": {"type": "integer", "minimum": 1, "maximum": 20, "title": "Approvals needed"},
        "group": {"type": "string", "minLength": 1, "maxLength": 150, "title": "Group"},
        "team": {"type": "string", "minLength": 1, "maxLength": 64, "title": "Team"},
    },
    "required": ["approvals"],
    "additionalProperties": False,
    "oneOf": [{"required": ["group"]}, {"required": ["team"]}],
}

APPROVAL_POLICY = closed_object(
    "Approval policy",
    {
        "rules": array_of(APPROVAL_RULE, max_items=10, title="Rules"),
        "expires_after": {
            "type": "integer",
            "minimum": 0,
            "maximum": 366 * 86400,
            "title": "Expires after (seconds)",
            "description": "How long an approval counts; 0: for ever.",
            "default": 0,
        },
        "warn_before": {
            "type": "integer",
            "minimum": 0,
            "maximum": 366 * 86400,
            "title": "Warn before expiry (seconds)",
            "default": 86400,
        },
        "creator_can_approve": {"type": "boolean", "title": "Creator can approve", "default": False},
        "deployer_four_eyes": {
            "type": "boolean",
            "title": "Deployer cannot be the only approver",
            "default": False,
        },
    },
    required=["rules"],
)

EXDATES = {
    "type": "array",
    "title": "Excluded occurrences",
    "description": "Start times of occurrences left out: local date-times in the freeze's time zone "
    "(`2026-12-26T00:00:00`) or dates (`2026-12-26`).",
    "items": {"type": "string", "minLength": 10, "maxLength": 32},
    "maxItems": 500,
}
SCOPE_IDS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 64}, "maxItems": 100}
# Tier names (checked by the service: one enum component per set of values in the API schema).
SCOPE_TIERS = {"type": "array", "items": {"type": "string", "maxLength": 20}, "maxItems": 3}
