"""Shapes of the documents embedded in a team: members, projects."""

from opsportal.document_models import array_of, closed_object

MEMBER = closed_object(
    "Member",
    {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "title": "Name"},
        "email": {"type": "string", "format": "email", "maxLength": 254, "title": "Email"},
        "role": {"type": "string", "maxLength": 100, "title": "Role", "default": ""},
        "username": {
            "type": "string",
            "maxLength": 150,
            "title": "Username",
            "description": "The Django user this member signs in as.",
            "default": "",
        },
    },
    required=["name", "email"],
)

MEMBERS = array_of(MEMBER, max_items=500, title="Members")

PROJECTS = array_of({"type": "string", "minLength": 1, "maxLength": 200}, max_items=200, title="Projects")
