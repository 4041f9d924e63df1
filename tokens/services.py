"""Writes on API tokens (issue #10): create, revoke, and the last-used time.

Create and revoke are each one unit of work with their audit event (`api_token.created`,
`api_token.revoked`), from the API and the admin alike. A token is made for its owner by the owner,
or by a Release Manager for anyone (e.g. a pipeline's service user). An API token itself can create
or revoke nothing (`tokens.permissions`).

The secret is `opt_` + 32 random bytes (URL-safe base64, 43 characters), from `secrets`. Only its
sha256 is stored: with 256 bits of entropy nobody can guess it, however fast the hash, so a slow
password hash (PBKDF2, bcrypt) would buy nothing and cost every API request its time; and an
unsalted hash can be looked up by an index, one query per request.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError

from audit.actions import AuditAction
from audit.services import audit_record, iso_ms
from opsportal import roles
from opsportal.clock import now_ms
from opsportal.errors import Forbidden, NotFound, ValidationFailed
from opsportal.uow import Transient, run_in_unit, unit_of_work
from teams.models import Team
from tokens.choices import TEAM_SCOPES
from tokens.models import SECRET_PREFIX, ApiToken
from tokens.permissions import actor_token

log = logging.getLogger("opsportal.services")

# `last_used_at` is written at most this often per token: not a write on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)
PREFIX_LENGTH = len(SECRET_PREFIX) + 6


def secret_hash(secret: str) -> str:
    """What is stored of a secret (and looked up by): its sha256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _require_person(actor: Any, what: str) -> None:
    """Signed in, active and not using an API token (a token cannot mint or revoke tokens)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "is_active", False):
        raise Forbidden(f"You must be signed in to {what}.", code="not_authenticated")
    if actor_token(actor) is not None:
        raise Forbidden(f"An API token cannot {what}; sign in as a person.", code="token_scope")


def _resolve_owner(actor: Any, owner: Any) -> Any:
    """The token's owner: `actor` by default; another user (given as a user or a username) needs a Release Manager."""
    name = owner if isinstance(owner, str) else _username(owner)
    if not name or name == _username(actor):
        return actor
    roles.require_release_manager(actor, what="create API tokens for other users")
    if isinstance(owner, str):
        owner = get_user_model()._default_manager.filter(username=owner).first()
        if owner is None:
            raise ValidationFailed({"owner": [f"No user is named '{name}'."]})
    return owner


def _check_scopes(*, owner: Any, scopes: list[str], teams: list[str], expires_at: datetime | None) -> dict:
    errors: dict[str, list[str]] = {}
    acts_on_releases = bool(TEAM_SCOPES & set(scopes))
    if acts_on_releases and not teams:
        errors["teams"] = ["Name the teams whose releases this token may report on or deploy."]
    if not acts_on_releases and teams:
        errors["teams"] = [
            "Teams limit only the 'report_deployments', 'deploy' and 'report_incidents' scopes; leave them out."
        ]
    known = set(Team.objects.filter(pk__in=teams).values_list("pk", flat=True))
    unknown = [team for team in teams if team not in known]
    if unknown:
        errors.setdefault("teams", []).append(f"Unknown team(s): {', '.join(unknown)}.")
    elif acts_on_releases and not roles.is_release_manager(owner):
        if not roles.is_engineer(owner):
            errors["scopes"] = [f"'{_username(owner)}' may not report on or deploy releases (needs Engineers)."]
        others = sorted(set(teams) - roles.user_team_ids(owner))
        if others:
            errors.setdefault("teams", []).append(f"'{_username(owner)}' is not a member of: {', '.join(others)}.")
    if expires_at is not None and expires_at <= now_ms():
        errors["expires_at"] = ["The expiry must be in the future."]
    return errors


@unit_of_work
def api_token_create(
    *,
    actor: Any,
    name: str,
    scopes: list[str],
    teams: list[str] | None = None,
    expires_at: datetime | None = None,
    owner: Any = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown this once and never stored.

    `owner` (a user or a username) defaults to `actor`; another owner needs a Release Manager.
    `scopes` ⊆ {read, report_deployments, deploy, report_incidents}; all but `read` need `teams`,
    which must exist and, unless the owner is a Release Manager, be teams the owner (an Engineer)
    belongs to. `expires_at`, optional, must be in the future. One unit of work with `api_token.created`.
    """
    _require_person(actor, "create API tokens")
    owner = _resolve_owner(actor, owner)
    scopes = list(dict.fromkeys(scopes or []))
    teams = list(dict.fromkeys(teams or []))
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=(name or "").strip(),
        owner=owner,
        scopes=scopes,
        teams=teams,
        expires_at=expires_at,
        secret_hash=secret_hash(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_at=now_ms(),
        created_by=_username(actor),
    )
    errors = _check_scopes(owner=owner, scopes=scopes, teams=teams, expires_at=expires_at)
    try:
        token.full_clean(exclude=["owner", "secret_hash"])
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    token.save(force_insert=True)
    audit_record(
        actor=_username(actor),
        action=AuditAction.API_TOKEN_CREATED,
        object_type="api_token",
        object_id=token.pk,
        changes={
            "name": [None, token.name],
            "owner": [None, _username(owner)],
            "scopes": [None, token.scopes],
            "teams": [None, token.teams],
            "expires_at": [None, iso_ms(token.expires_at)],
            "prefix": [None, token.prefix],
        },
    )
    return token, secret


@unit_of_work
def api_token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revoke a token (by its owner or a Release Manager): it stops working at once and stays listed.
    Revoking a revoked token changes nothing. One unit of work with `api_token.revoked`."""
    _require_person(actor, "revoke API tokens")
    current = ApiToken.objects.filter(pk=token.pk).first()
    if current is None:
        raise NotFound("This API token no longer exists.")
    if current.owner_id != actor.pk:
        roles.require_release_manager(actor, what="revoke other users' API tokens")
    if current.revoked_at is None:
        now = now_ms()
        revoked = ApiToken.objects.filter(pk=current.pk, revoked_at__isnull=True).update(
            revoked_at=now, revoked_by=_username(actor)
        )
        if not revoked:
            raise Transient("the token was revoked since this unit read it")
        current.revoked_at, current.revoked_by = now, _username(actor)
        audit_record(
            actor=_username(actor),
            action=AuditAction.API_TOKEN_REVOKED,
            object_type="api_token",
            object_id=current.pk,
            changes={"revoked_at": [None, iso_ms(now)], "name": current.name, "owner": _username(current.owner)},
        )
    for field in ("revoked_at", "revoked_by"):
        setattr(token, field, getattr(current, field))
    return current


def api_token_touch(*, token: ApiToken, now: datetime) -> None:
    """Record that `token` was used at `now`, at most once per `LAST_USED_GRANULARITY`: a small unit of
    its own, conditional on the value read, so concurrent requests write it once. Not audited: using a
    token changes nothing. A database that refuses the write (locked, read-only) costs the request
    nothing: the time is recorded by a later one."""
    previous = token.last_used_at
    if previous is not None and now - previous < LAST_USED_GRANULARITY:
        return
    try:
        run_in_unit(lambda: ApiToken.objects.filter(pk=token.pk, last_used_at=previous).update(last_used_at=now))
    except DatabaseError as error:
        log.warning("last_used_at not recorded", extra={"token": token.pk, "error": type(error).__name__})
        return
    token.last_used_at = now
