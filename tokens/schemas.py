"""Shapes of the lists embedded in an API token: its scopes and its teams."""

from tokens.choices import TokenScope

SCOPES = {
    "type": "array",
    "title": "Scopes",
    "items": {"type": "string", "enum": list(TokenScope.values)},
    "minItems": 1,
    "uniqueItems": True,
}

TEAMS = {
    "type": "array",
    "title": "Teams",
    "items": {"type": "string", "minLength": 1, "maxLength": 64},
    "maxItems": 50,
    "uniqueItems": True,
}
