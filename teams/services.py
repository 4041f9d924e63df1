"""Writes on teams: create, update, delete (each one write + one audit event).

Managing teams is for Release Managers (and superusers); the generic write, revision and audit
logic is `opsportal.documents`; the rules here are the team's own.
"""

from __future__ import annotations

from typing import Any

from opsportal.documents import (
    DocumentKind,
    document_create,
    document_delete,
    document_update,
    editable_fields,
    model_errors,
    with_defaults,
)
from opsportal.errors import ValidationFailed
from opsportal.roles import require_release_manager
from releases.models import Release
from teams.models import Team

EDITABLE_FIELDS = editable_fields(Team)
MANAGE = "manage teams"


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


def _validate(candidate: Team) -> None:
    """Schema, field and cross-member rules on the team as it would be saved.

    Members get the schema's defaults (`role`, `username` = "") so every member has one shape.
    """
    candidate.members = with_defaults(candidate.members, {"role": "", "username": ""})
    member_errors = _member_errors(candidate.members)
    errors = model_errors(candidate, {"members": member_errors} if member_errors else None)
    if errors:
        raise ValidationFailed(errors)


TEAMS = DocumentKind(Team, EDITABLE_FIELDS, _validate)


def team_create(*, actor: Any, data: dict[str, Any]) -> Team:
    """Create a team; its id defaults to the slug of its name."""
    require_release_manager(actor, what=MANAGE)
    return document_create(TEAMS, actor=actor, data=data)


def team_update(*, team: Team, actor: Any, data: dict[str, Any], expected_revision: int | None = None) -> Team:
    """Change a team's editable fields (members and projects are replaced whole), conditionally on its revision."""
    require_release_manager(actor, what=MANAGE)
    return document_update(TEAMS, document=team, actor=actor, data=data, expected_revision=expected_revision)


def _releases(team: Team) -> dict[str, int]:
    count = Release.objects.filter(team=team.pk).count()
    return {"releases": count} if count else {}


def team_delete(*, team: Team, actor: Any) -> None:
    """Delete a team that owns no releases (else 409)."""
    require_release_manager(actor, what=MANAGE)
    document_delete(
        TEAMS,
        document=team,
        actor=actor,
        references=_releases,
        describe=lambda found: f"{found['releases']} release(s) belong to it",
    )
