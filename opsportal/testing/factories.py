"""Factories for tests: unique values, no hard-coded primary keys beyond slugs the test names."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from environments.choices import Tier
from environments.models import Environment
from releases.examples import SAMPLE_FEATURES
from releases.models import Release
from teams.models import Team
from workflows.models import Workflow

_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


def make_team(**fields: Any) -> Team:
    n = _n()
    defaults = {"id": f"team-{n}", "name": f"Team {n}", "members": [], "projects": []}
    return Team.objects.create(**{**defaults, **fields})


def make_environment(id: str | None = None, **fields: Any) -> Environment:
    """`requires_approval=True, min_approvals=N` (the old flags) give the policy "N from Release Managers";
    `approval_policy` sets one directly (`requires_approval` follows it); `freeze_windows` become freezes."""
    from environments.policies import default_policy, policy_requires_approval, policy_with_defaults

    windows = fields.pop("freeze_windows", [])
    legacy_required, legacy_count = fields.pop("requires_approval", None), fields.pop("min_approvals", None)
    if legacy_required:
        fields.setdefault("approval_policy", default_policy(legacy_count or 1))
    if "approval_policy" in fields:
        fields["approval_policy"] = policy_with_defaults(fields["approval_policy"])
        fields["requires_approval"] = policy_requires_approval(fields["approval_policy"])
    n = _n()
    defaults = {"id": id or f"env-{n}", "name": (id or f"env-{n}").title(), "tier": Tier.DEVELOPMENT, "order": n}
    environment = Environment.objects.create(**{**defaults, **fields})
    _freezes_from_windows(environment, windows)
    return environment


def _freezes_from_windows(environment: Environment, windows: list[dict[str, Any]]) -> None:
    """`freeze_windows=[{starts_at, ends_at, reason}]` (the embedded windows before issue #12): one-off
    freezes on the environment, as migration 0007 makes them; windows that are not valid are left out."""
    from environments.selectors import parse_freeze_moment

    for window in windows:
        starts, ends = parse_freeze_moment(window.get("starts_at")), parse_freeze_moment(window.get("ends_at"))
        if starts and ends and starts < ends:
            make_freeze(environment.pk, starts_at=starts, ends_at=ends, reason=window.get("reason", ""))


def make_standard_environments() -> dict[str, Environment]:
    """development → staging → production; production requires one approval."""
    return {
        "development": make_environment("development", name="Development", tier=Tier.DEVELOPMENT, order=1),
        "staging": make_environment("staging", name="Staging", tier=Tier.STAGING, order=2),
        "production": make_environment(
            "production", name="Production", tier=Tier.PRODUCTION, order=3, requires_approval=True, min_approvals=1
        ),
    }


def make_workflow(stages: list[str] | None = None, **fields: Any) -> Workflow:
    n = _n()
    stages = stages if stages is not None else ["development", "staging", "production"]
    defaults = {
        "id": f"workflow-{n}",
        "name": f"Workflow {n}",
        "stages": [{"environment": env, "requires_approval": env == "production"} for env in stages],
    }
    return Workflow.objects.create(**{**defaults, **fields})


def make_release(**fields: Any) -> Release:
    n = _n()
    defaults = {
        "name": f"Release {n}",
        "version": f"0.{n}.0",
        "description": "",
        "features": copy.deepcopy(SAMPLE_FEATURES),
    }
    release = Release(**{**defaults, **fields})
    if release.status in ("approved", "deployed") and "approvals" not in fields:
        # An approved release as the approve service leaves it: one Release Manager's approval of its content.
        release.approvals = [factory_approval(release)]
    release.save(force_insert=True)
    return release


def factory_approval(release: Release, user: str = "factory-approver", **fields: Any) -> dict[str, Any]:
    """An approval of `release`'s current content by a Release Manager (`fields` override)."""
    from opsportal.clock import now_ms
    from releases.approvals import release_content_digest

    at = fields.pop("at", None) or now_ms().isoformat().replace("+00:00", "Z")
    entry = {"user": user, "decision": "approved", "comment": "", "at": at, "groups": ["Release Managers"]}
    return {**entry, "teams": [], "digest": release_content_digest(release), **fields}


def make_user(username: str, *roles: str, **fields: Any) -> Any:
    """An active user in the given role groups (a data migration creates them, `post_migrate` recreates them)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    password = f"{username}-password-123"
    user = get_user_model().objects.create_user(username, f"{username}@example.com", password, **fields)
    if roles:
        user.groups.set([Group.objects.get(name=role) for role in roles])
    return user


def client_for(user: Any) -> Any:
    """An API client authenticated as `user`."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def set_approval_policy(environment_id: str, rules: list[dict[str, Any]] | int, **policy: Any) -> None:
    """Give an environment an approval policy directly (`rules` as a list, or N for "N from Release
    Managers"); `requires_approval` follows it as the services keep it."""
    from environments.policies import policy_requires_approval, policy_with_defaults, release_managers_rule

    if isinstance(rules, int):
        rules = [release_managers_rule(rules)] if rules else []
    full = policy_with_defaults({**policy, "rules": [{"name": "", **rule} for rule in rules]})
    Environment.objects.filter(pk=environment_id).update(
        approval_policy=full, requires_approval=policy_requires_approval(full)
    )


def make_freeze(*environments: str, starts_at: Any, ends_at: Any = None, **fields: Any) -> Any:
    """A freeze in the calendar (issue #12) on these environments (none: every environment): one-off from
    `starts_at` to `ends_at` (datetimes or ISO strings), or recurring with `rrule` and `duration_minutes`."""
    from django.utils.dateparse import parse_datetime

    from environments.models import Freeze

    def moment(value: Any) -> Any:
        return parse_datetime(value) if isinstance(value, str) else value

    n = _n()
    defaults = {"id": f"freeze-{n}", "name": f"Freeze {n}", "reason": "", "environments": list(environments)}
    return Freeze.objects.create(**{**defaults, "starts_at": moment(starts_at), "ends_at": moment(ends_at), **fields})
