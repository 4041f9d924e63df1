"""Writes on teams: create, update, delete (each one write + one audit event, through
`opsportal.documents`). Only Release Managers (and superusers) manage teams."""

from __future__ import annotations

from typing import Any

from opsportal.documents import DocumentKind, DocumentServices, Errors, editable_fields, model_errors, with_defaults
from teams.models import Team

EDITABLE_FIELDS = editable_fields(Team)


def _member_errors(members: Any) -> list[str]:
    """Emails (case-insensitively) and non-empty usernames appear once per team."""
    if not isinstance(members, list):
        return []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for index, member in enumerate(members):
        if not isinstance(member, dict):
            continue
        for key in ("email", "username"):
            value = member.get(key)
            if not isinstance(value, str) or not value:
                continue
            first = seen.setdefault((key, value.lower()), index)
            if first != index:
                errors.append(f"members[{index}].{key}: {value!r} is already used by members[{first}].")
    return errors


def _validate(candidate: Team) -> Errors:
    """Schema, field and cross-member rules on the team as it would be saved.

    Members get the schema's defaults (`role`, `username` = "") so every member has one shape.
    """
    candidate.members = with_defaults(candidate.members, {"role": "", "username": ""})
    return model_errors(candidate, {"members": _member_errors(candidate.members)})


TEAMS = DocumentKind(
    Team, EDITABLE_FIELDS, _validate, describe="{releases} release(s) belong to it", manage="manage teams"
)


def team_create(*, actor: Any, data: dict[str, Any]) -> Team:
    """Create a team; its id defaults to the slug of its name. A member's `username` links them to
    a Django user (the teams an Engineer may release for)."""
    return TEAMS.create(actor=actor, data=data)


def team_update(*, team: Team, actor: Any, data: dict[str, Any], expected_revision: int | None = None) -> Team:
    """Change a team's editable fields (members and projects are replaced whole), conditionally on its revision."""
    return TEAMS.update(document=team, actor=actor, data=data, expected_revision=expected_revision)


def team_delete(*, team: Team, actor: Any) -> None:
    """Delete a team that owns no releases (else 409)."""
    TEAMS.delete(document=team, actor=actor)


SERVICES = DocumentServices(team_create, team_update, team_delete, manage=TEAMS.manage)
