"""Who may do what to a release (issue #4; roles in `opsportal.roles`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from environments.models import Environment
from opsportal import roles
from opsportal.errors import Forbidden
from releases.choices import ReleaseAction
from releases.models import Release
from tokens.choices import TokenScope
from tokens.permissions import require_token_scope

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser

    Actor = AbstractBaseUser | None

A = ReleaseAction


def _username(actor: Actor) -> str:
    return actor.get_username() if actor is not None else ""


_ACTION_PHRASES = {
    "create": "create releases",
    A.UPDATE: "edit releases",
    A.DELETE: "delete releases",
    A.SUBMIT: "submit releases",
    A.APPROVE: "approve releases",
    A.REJECT: "reject releases",
    A.DEPLOY: "deploy releases",
    A.ROLLBACK: "roll back releases",
    "override_freeze": "override a freeze window",
    "report_status": "report deployment status",
}
_MANAGER_ONLY = {A.APPROVE, A.REJECT, A.ROLLBACK, "override_freeze"}
# What a request made with an API token may do to a release, and the scope each needs (issue #10).
_TOKEN_SCOPES = {A.DEPLOY: TokenScope.DEPLOY, "report_status": TokenScope.REPORT_DEPLOYMENTS}


def _check_permission(
    actor: Actor,
    action: str,
    release: Release | None,
    *,
    environment: Environment | None = None,
    deployed_by: str = "",
) -> None:
    """Who may do what to a release (issue #4; roles in `opsportal.roles`). Refusals are 403 naming
    the role or team needed.

    Release Managers (and superusers) may do everything. Engineers may create, edit, delete,
    submit and deploy the releases of their teams (a release without a team: its creator), deploy
    only to environments that do not require approval, and report the status of their teams'
    deployments — or of one they deployed themselves (`deployed_by`, issue #10). Approve, reject,
    roll back and freeze overrides are for Release Managers; members of a group or team named by an
    environment's approval policy may approve too (issue #12). Viewers only read.

    A request made with an API token may only deploy and report status, with the token's scope, for
    the releases of the token's teams (`tokens.permissions`); its owner's own rights apply as well.
    """
    phrase = _ACTION_PHRASES.get(action, action)
    if actor is None or not getattr(actor, "is_active", False):
        raise Forbidden(f"You must be signed in to {phrase}.", code="not_authenticated")
    team_id = release.team_id if release is not None else None
    require_token_scope(actor, _TOKEN_SCOPES.get(action), team_id=team_id, what=phrase)
    if roles.is_release_manager(actor):
        return
    if action == A.APPROVE and _policy_approver(actor):
        return
    if action in _MANAGER_ONLY:
        roles.require_release_manager(actor, what=phrase)
    if not roles.is_engineer(actor):
        raise Forbidden(
            f"To {phrase} you need the {roles.ENGINEERS} or {roles.RELEASE_MANAGERS} role.",
            code="role_required",
            required_role=roles.ENGINEERS,
        )
    if release is not None and not (deployed_by and deployed_by == _username(actor)):
        _check_ownership(actor, release, phrase)
    if environment is not None and environment.requires_approval:
        raise Forbidden(
            f"Deploying to {environment.name} (it requires approval) needs the {roles.RELEASE_MANAGERS} role.",
            code="role_required",
            required_role=roles.RELEASE_MANAGERS,
        )


def _policy_approver(actor: Actor) -> bool:
    """Whether an environment's approval policy names one of the actor's groups or teams (issue #12):
    such members may approve, though they are not Release Managers."""
    from environments.policies import policy_eligible

    policies = Environment.objects.filter(requires_approval=True).values_list("approval_policy", flat=True)
    groups, teams = sorted(roles.user_roles(actor)), sorted(roles.user_team_ids(actor))
    return any(policy_eligible(policy, groups=groups, teams=teams) for policy in policies)


def _check_ownership(actor: Actor, release: Release, phrase: str) -> None:
    """An Engineer acts on the releases of their teams; a release without a team is its creator's."""
    if release.team_id is None:
        if release.created_by and release.created_by != _username(actor):
            raise Forbidden(
                f"This release has no team: only its creator ({release.created_by}) or a Release Manager may {phrase}.",
                code="team_required",
            )
        return
    if release.team_id not in roles.user_team_ids(actor):
        raise Forbidden(
            f"To {phrase} of team '{release.team_id}' you must be a member of that team or a Release Manager.",
            code="team_required",
            required_team=release.team_id,
        )


def _fk_id(value: Any) -> Any:
    """A team/workflow given as an instance, an id or None → its id (or None)."""
    if value is None or value == "":
        return None
    return getattr(value, "pk", value)


def _default_team(actor: Actor, data: dict[str, Any]) -> dict[str, Any]:
    """A release created without a team gets the creator's team when they belong to exactly one."""
    if _fk_id(data.get("team")) is not None or actor is None or roles.is_release_manager(actor):
        return data
    teams = roles.user_team_ids(actor)
    return {**data, "team": next(iter(teams))} if len(teams) == 1 else data
