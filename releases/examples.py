"""A sample of the features embedded in a release: one feature, in progress, with one of its two tasks
done. Shared by the OpenAPI examples, the test factories and the admin tests (copy it before changing it)."""

from __future__ import annotations

SAMPLE_FEATURES = [
    {
        "name": "Login",
        "description": "",
        "status": "in_progress",
        "tasks": [
            {"title": "Form", "status": "done", "assignee": "alice"},
            {"title": "API", "status": "todo", "assignee": ""},
        ],
    }
]
