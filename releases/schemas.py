"""Shapes of the documents embedded in a release: features → tasks, approvals."""

from releases.choices import ApprovalDecision, FeatureStatus, TaskStatus

TASK = {
    "type": "object",
    "title": "Task",
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 200, "title": "Title"},
        "status": {"type": "string", "enum": TaskStatus.values, "default": TaskStatus.TODO, "title": "Status"},
        "assignee": {"type": "string", "maxLength": 150, "title": "Assignee", "default": ""},
    },
    "required": ["title", "status"],
    "additionalProperties": False,
}

FEATURE = {
    "type": "object",
    "title": "Feature",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "title": "Name"},
        "description": {"type": "string", "maxLength": 2000, "title": "Description", "default": ""},
        "status": {
            "type": "string",
            "enum": FeatureStatus.values,
            "default": FeatureStatus.PLANNED,
            "title": "Status",
        },
        "tasks": {"type": "array", "items": TASK, "maxItems": 200, "default": [], "title": "Tasks"},
    },
    "required": ["name", "status"],
    "additionalProperties": False,
}

FEATURES = {"type": "array", "items": FEATURE, "maxItems": 200, "title": "Features"}

APPROVAL = {
    "type": "object",
    "title": "Approval",
    "properties": {
        "user": {"type": "string", "minLength": 1},
        "decision": {"type": "string", "enum": ApprovalDecision.values},
        "comment": {"type": "string", "maxLength": 2000, "default": ""},
        "at": {"type": "string", "format": "date-time"},
        # Issue #12: what was approved, and who the approver was (what policy rules match on).
        "digest": {"type": "string", "maxLength": 100, "description": "Digest of the content approved."},
        "groups": {"type": "array", "items": {"type": "string", "maxLength": 150}, "maxItems": 50},
        "teams": {"type": "array", "items": {"type": "string", "maxLength": 64}, "maxItems": 50},
        "notices": {
            "type": "array",
            "items": {"type": "string", "maxLength": 100},
            "maxItems": 100,
            "description": "Expiry notices already sent, as `expiring:<environment>` / `expired:<environment>`.",
        },
    },
    "required": ["user", "decision", "at"],
    "additionalProperties": False,
}

APPROVALS = {"type": "array", "items": APPROVAL, "title": "Approvals"}
