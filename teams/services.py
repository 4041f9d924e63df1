"""Writes on teams: create, update, delete (each one write + one audit event)."""

from __future__ import annotations

import copy
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.text import slugify

from audit.services import audit_record, field_changes, jsonable, now_ms
from opsportal.errors import Conflict, Forbidden, NotFound, PreconditionFailed, ValidationFailed
from releases.models import Release
from teams.models import Team

EDITABLE_FIELDS = ("name", "description", "members", "projects")


def _check_manage_permission(actor: Any) -> None:
    """Who may create, change and delete teams.

    For now any active signed-in user; the access-control issue narrows it to release
    managers and administrators (this is the one place to change).
    """
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden("You do not have permission to manage teams.")


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
    errors: dict[str, list[str]] = {}
    if isinstance(candidate.members, list):
        candidate.members = [
            {"role": "", "username": "", **member} if isinstance(member, dict) else member
            for member in candidate.members
        ]
    member_errors = _member_errors(candidate.members)
    if member_errors:
        errors["members"] = member_errors
    try:
        candidate.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)


def _snapshot(team: Team) -> dict[str, Any]:
    return jsonable({field: getattr(team, field) for field in EDITABLE_FIELDS})


def team_create(*, actor: Any, data: dict[str, Any]) -> Team:
    """Create a team; its id defaults to the slug of its name."""
    _check_manage_permission(actor)
    fields = {key: value for key, value in data.items() if key in EDITABLE_FIELDS}
    team = Team(id=data.get("id") or slugify(fields.get("name", ""))[:64], **fields)
    _validate(team)
    team.revision = 1
    try:
        with transaction.atomic():  # a savepoint only, so SQLite stays usable after a collision
            team.save(force_insert=True)
    except IntegrityError as exc:  # a concurrent create took the id or the name
        raise ValidationFailed({"id": [f"A team with id {team.id!r} or this name exists."]}) from exc
    audit_record(
        actor=actor.get_username(),
        action="team.created",
        object_type="team",
        object_id=team.pk,
        changes=field_changes({}, _snapshot(team)),
    )
    return team


def team_update(*, team: Team, actor: Any, data: dict[str, Any], expected_revision: int | None = None) -> Team:
    """Change a team's editable fields (members and projects are replaced whole), conditionally on its revision.

    Two ways to say which revision the client read: `expected_revision` (from `If-Match`;
    differing → 412) and `data["revision"]` (from the body or an admin form; differing → 409
    `stale_revision`). Without either, the revision of the object passed in is used, so a
    concurrent change between the read and this write is still refused (409).
    """
    _check_manage_permission(actor)
    if expected_revision is not None and expected_revision != team.revision:
        raise PreconditionFailed(
            f"Team {team.pk!r} is at revision {team.revision}, not {expected_revision}.",
            revision=team.revision,
        )
    expected = data.get("revision") or team.revision
    if expected != team.revision:
        raise Conflict(
            f"Team {team.pk!r} has changed (revision {team.revision}); reload and retry.",
            code="stale_revision",
            revision=team.revision,
        )
    candidate = copy.copy(team)
    for key, value in data.items():
        if key in EDITABLE_FIELDS:
            setattr(candidate, key, value)
    _validate(candidate)
    changes = field_changes(_snapshot(team), _snapshot(candidate))
    if not changes:
        return team
    updated_at = now_ms()
    values = {field: getattr(candidate, field) for field in changes}
    if not Team.objects.filter(pk=team.pk, revision=expected).update(
        **values, revision=expected + 1, updated_at=updated_at
    ):
        current = Team.objects.filter(pk=team.pk).values_list("revision", flat=True).first()
        if current is None:
            raise NotFound(f"Team {team.pk!r} no longer exists.")
        if expected_revision is not None:
            raise PreconditionFailed(
                f"Team {team.pk!r} is at revision {current}, not {expected_revision}.", revision=current
            )
        raise Conflict(
            f"Team {team.pk!r} has changed (revision {current}); reload and retry.",
            code="stale_revision",
            revision=current,
        )
    candidate.revision, candidate.updated_at = expected + 1, updated_at
    audit_record(
        actor=actor.get_username(), action="team.updated", object_type="team", object_id=team.pk, changes=changes
    )
    return candidate


def team_delete(*, team: Team, actor: Any) -> None:
    """Delete a team that owns no releases (else 409)."""
    _check_manage_permission(actor)
    team_id, snapshot = team.pk, _snapshot(team)
    releases = Release.objects.filter(team=team_id).count()
    try:
        if not releases:
            team.delete()
    except ProtectedError as exc:  # a release was created after the check
        releases = len(exc.protected_objects)
    if releases:
        raise Conflict(
            f"Team {team_id!r} cannot be deleted: {releases} release(s) belong to it.",
            code="protected",
            references={"releases": releases},
        )
    audit_record(
        actor=actor.get_username(),
        action="team.deleted",
        object_type="team",
        object_id=team_id,
        changes={field: [value, None] for field, value in snapshot.items()},
    )
