"""Writes on environments: create, update, delete (each one write + one audit event, through
`opsportal.documents`). Only Release Managers (and superusers) manage environments; the
deployment services alone move `current_release`, `current_deployment` and `deployment_seq`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from environments.models import Environment
from environments.policies import POLICY_DEFAULTS, policy_requires_approval
from environments.selectors import parse_freeze_moment
from opsportal.documents import DocumentKind, DocumentServices, Errors, editable_fields, model_errors
from opsportal.schemas import schema_errors
from teams.models import Team
from workflows.models import Workflow

DERIVED_FIELDS = ("current_release", "current_deployment", "deployment_seq", "requires_approval")
EDITABLE_FIELDS = editable_fields(Environment, exclude=DERIVED_FIELDS)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _clean_freeze_windows(windows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Windows with bounds normalized to UTC `…Z`, and the messages of the invalid ones."""
    cleaned: list[dict[str, Any]] = []
    errors: list[str] = []
    for index, window in enumerate(windows):
        path = f"freeze_windows[{index}]"
        starts = parse_freeze_moment(window.get("starts_at"))
        ends = parse_freeze_moment(window.get("ends_at"))
        for key, moment in (("starts_at", starts), ("ends_at", ends)):
            if moment is None:
                errors.append(
                    f"{path}.{key}: must be an ISO 8601 date-time with a time zone, e.g. 2026-12-20T00:00:00Z."
                )
        if starts and ends and ends <= starts:
            errors.append(f"{path}.ends_at: must be after starts_at ({_iso(starts)}).")
        if starts and ends:
            cleaned.append({"reason": "", **window, "starts_at": _iso(starts), "ends_at": _iso(ends)})
    return cleaned, errors


def _validate(candidate: Environment) -> Errors:
    """Schema, field and cross-field rules on the environment as it would be saved; freeze
    windows are normalized to UTC once they are all valid."""
    errors: Errors = {}
    if isinstance(candidate.freeze_windows, list) and all(isinstance(w, dict) for w in candidate.freeze_windows):
        windows, errors["freeze_windows"] = _clean_freeze_windows(candidate.freeze_windows)
        if not errors["freeze_windows"]:
            candidate.freeze_windows = windows
    if isinstance(candidate.approval_policy, dict):
        # Every key stored (the defaults of those not given); the schema then checks the whole policy.
        policy = {**POLICY_DEFAULTS, **candidate.approval_policy}
        if isinstance(policy["rules"], list):
            policy["rules"] = [{"name": "", **rule} if isinstance(rule, dict) else rule for rule in policy["rules"]]
        candidate.approval_policy = policy
        if not schema_errors("environments.schemas.APPROVAL_POLICY", "approval_policy", candidate.approval_policy):
            errors["approval_policy"] = _policy_errors(candidate.approval_policy)
    candidate.requires_approval = policy_requires_approval(candidate.approval_policy)
    return model_errors(candidate, errors, exclude=DERIVED_FIELDS)


def _policy_errors(policy: dict[str, Any]) -> list[str]:
    """Rules that name a team that does not exist, or a role group that does not exist."""
    from django.contrib.auth.models import Group

    rules = [rule for rule in policy.get("rules") or [] if isinstance(rule, dict)]
    teams = {rule["team"] for rule in rules if isinstance(rule.get("team"), str)}
    groups = {rule["group"] for rule in rules if isinstance(rule.get("group"), str)}
    known_teams = set(Team.objects.filter(pk__in=teams).values_list("id", flat=True)) if teams else set()
    known_groups = set(Group.objects.filter(name__in=groups).values_list("name", flat=True)) if groups else set()
    errors = []
    for index, rule in enumerate(rules):
        if isinstance(rule.get("team"), str) and rule["team"] not in known_teams:
            errors.append(f"rules[{index}].team: no team '{rule['team']}'.")
        if isinstance(rule.get("group"), str) and rule["group"] not in known_groups:
            errors.append(f"rules[{index}].group: no group '{rule['group']}'.")
    return errors


def _references(environment: Environment) -> dict[str, Any]:
    """What refers to the environment besides its deployments: the release deployed there, workflow stages."""
    blockers: dict[str, Any] = {}
    if environment.current_release_id:
        blockers["current_release"] = environment.current_release_id
    # Stages are embedded documents and workflows are few: read them whole rather than
    # rely on a JSON containment lookup SQLite lacks.
    workflows = [
        workflow_id
        for workflow_id, stages in Workflow.objects.values_list("id", "stages")
        if any(isinstance(stage, dict) and stage.get("environment") == environment.pk for stage in stages or [])
    ]
    if workflows:
        blockers["workflows"] = workflows
    return blockers


def _describe_blockers(blockers: dict[str, Any]) -> str:
    parts = []
    if "deployments" in blockers:
        parts.append(f"{blockers['deployments']} deployment(s) refer to it")
    if "current_release" in blockers:
        parts.append(f"release {blockers['current_release']!r} is deployed there")
    if "workflows" in blockers:
        parts.append(f"workflow(s) {', '.join(blockers['workflows'])} have a stage there")
    return "; ".join(parts)


ENVIRONMENTS = DocumentKind(
    Environment,
    EDITABLE_FIELDS,
    _validate,
    _describe_blockers,
    _references,
    manage="manage environments",
    derived=("requires_approval",),
)


def environment_create(*, actor: Any, data: dict[str, Any]) -> Environment:
    """Create an environment; its id defaults to the slug of its name, derived fields start empty."""
    return ENVIRONMENTS.create(actor=actor, data=data)


def environment_update(
    *, environment: Environment, actor: Any, data: dict[str, Any], expected_revision: int | None = None
) -> Environment:
    """Change an environment's editable fields, conditionally on its revision (see `DocumentKind.update`).

    Changing the approval policy or the freeze windows takes effect on the next deploy check.
    """
    return ENVIRONMENTS.update(document=environment, actor=actor, data=data, expected_revision=expected_revision)


def environment_delete(*, environment: Environment, actor: Any) -> None:
    """Delete an environment nothing refers to: no deployments, no current release, in no workflow (else 409)."""
    ENVIRONMENTS.delete(document=environment, actor=actor)


SERVICES = DocumentServices(environment_create, environment_update, environment_delete, manage=ENVIRONMENTS.manage)
