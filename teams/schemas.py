"""Shapes of the documents embedded in a team: members, projects."""

MEMBER = {
    "type": "object",
    "title": "Member",
    "properties": {
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
    "required": ["name", "email"],
    "additionalProperties": False,
}

MEMBERS = {"type": "array", "items": MEMBER, "maxItems": 500, "title": "Members"}

PROJECTS = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 200},
    "maxItems": 200,
    "title": "Projects",
}
