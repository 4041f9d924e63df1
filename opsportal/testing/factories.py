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
    n = _n()
    defaults = {"id": id or f"env-{n}", "name": (id or f"env-{n}").title(), "tier": Tier.DEVELOPMENT, "order": n}
    return Environment.objects.create(**{**defaults, **fields})


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
    return Release.objects.create(**{**defaults, **fields})


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
