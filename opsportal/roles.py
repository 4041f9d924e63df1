"""Roles (Django groups) and what they may do: the one place services ask "may this user…?".

- Viewers: read everything.
- Engineers: create, edit, delete and submit releases of the teams they belong to (a team's
  `members[].username`); deploy to environments that do not require approval; report deployment status;
  report, edit and resolve incidents in the environments their teams deploy to (`incidents.services`).
- Release Managers: everything Engineers can, for every team; approve, reject, deploy anywhere, roll
  back, override freeze windows; manage environments, teams and workflows; read the audit trail.
- Superusers: everything.
"""

from __future__ import annotations

import contextvars
from typing import Any

from opsportal.errors import Forbidden

VIEWERS = "Viewers"
ENGINEERS = "Engineers"
RELEASE_MANAGERS = "Release Managers"
ROLE_NAMES = (VIEWERS, ENGINEERS, RELEASE_MANAGERS)

_VIEW = ["view_release", "view_deployment", "view_environment", "view_team", "view_workflow"]
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    VIEWERS: [("releases", c) for c in _VIEW[:2]]
    + [("environments", _VIEW[2]), ("teams", _VIEW[3]), ("workflows", _VIEW[4])]
    + [("incidents", "view_incident")],
    ENGINEERS: [
        ("releases", c) for c in (*_VIEW[:2], "add_release", "change_release", "delete_release", "change_deployment")
    ]
    + [("environments", _VIEW[2]), ("teams", _VIEW[3]), ("workflows", _VIEW[4])]
    # Their teams' webhooks (the admin and the services show and allow those only).
    + [("events", f"{verb}_webhooksubscription") for verb in ("add", "change", "delete", "view")]
    + [("events", "view_delivery")]
    # Incidents in the environments their teams deploy to (the services check the teams).
    + [("incidents", f"{verb}_incident") for verb in ("add", "change", "view")],
    RELEASE_MANAGERS: [
        (app, f"{verb}_{model}")
        for app, model in (
            ("releases", "release"),
            ("releases", "deployment"),
            ("environments", "environment"),
            ("teams", "team"),
            ("workflows", "workflow"),
        )
        for verb in ("add", "change", "delete", "view")
    ]
    + [("audit", "view_auditevent")]
    + [("events", f"{verb}_webhooksubscription") for verb in ("add", "change", "delete", "view")]
    + [("events", "view_delivery"), ("events", "view_event"), ("events", "view_periodicjob")]
    + [("incidents", f"{verb}_incident") for verb in ("add", "change", "view")],
}


_provisioning: contextvars.ContextVar[bool] = contextvars.ContextVar("opsportal_role_provisioning", default=False)


def provisioning_roles() -> bool:
    """Whether `ensure_role_groups` is writing the role groups right now. The audit trail leaves those
    writes out (`audit.auth_signals`): they restore the definition above after a migrate or flush,
    nobody changes anything (and `migrate` itself writes them through historical models, unaudited)."""
    return _provisioning.get()


def ensure_role_groups(apps: Any = None, using: str = "default") -> None:
    """Create or update the role groups and their permissions (idempotent): the one definition used by
    the data migration `opsportal/0001_roles` and by the `post_migrate` handler (`OpsPortalConfig.ready`),
    which recreates them after every `migrate` and every `flush` (tests on MongoDB flush between tests).

    `apps`: the migration state's registry (a migration, `post_migrate`), or the project's."""
    token = _provisioning.set(True)
    try:
        _ensure_role_groups(apps, using)
    finally:
        _provisioning.reset(token)


def _ensure_role_groups(apps: Any, using: str) -> None:
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:  # auth is not migrated (yet) in this state
        return
    labels = sorted({label for perms in ROLE_PERMISSIONS.values() for label, _ in perms})
    # Django creates permissions after migrate, app by app, and our app comes before the ones we need:
    # create those now (idempotent). The project's app config only names the app; models come from `apps`.
    for label in labels:
        create_permissions(global_apps.get_app_config(label), verbosity=0, using=using, apps=apps)
    available = {
        (app_label, codename): pk
        for app_label, codename, pk in Permission.objects.using(using)
        .filter(content_type__app_label__in=labels)
        .values_list("content_type__app_label", "codename", "pk")
    }
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set([available[perm] for perm in perms if perm in available])


def create_role_groups(sender: Any, *, using: str = "default", apps: Any = None, **kwargs: Any) -> None:
    """`post_migrate` handler (connected for the opsportal app): `ensure_role_groups`."""
    ensure_role_groups(apps, using)


def _cached(user: Any, key: str, compute):
    cache = user.__dict__.setdefault("_opsportal_roles_cache", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def user_roles(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return _cached(user, "roles", lambda: frozenset(user.groups.values_list("name", flat=True)))


def is_release_manager(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_superuser", False)) or RELEASE_MANAGERS in user_roles(user)


def is_engineer(user: Any) -> bool:
    """Engineers and everyone above them."""
    return is_release_manager(user) or ENGINEERS in user_roles(user)


def user_team_ids(user: Any) -> frozenset[str]:
    """Teams that list this user among their members (teams are few: read them whole)."""
    from teams.models import Team

    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    username = user.get_username()

    def compute() -> frozenset[str]:
        return frozenset(
            team_id
            for team_id, members in Team.objects.values_list("id", "members")
            if any(member.get("username") == username for member in members or [])
        )

    return _cached(user, "teams", compute)


def _gerund(verb_phrase: str) -> str:
    """`manage environments` → `Managing environments` (regular verbs: a final silent e is dropped)."""
    verb, _, rest = verb_phrase.partition(" ")
    if verb.endswith("e") and not verb.endswith(("ee", "ye", "oe")):
        verb = verb[:-1]
    return " ".join(filter(None, (f"{verb}ing".capitalize(), rest)))


def release_manager_required(what: str) -> Forbidden:
    """The 403 `role_required` refusal of `what`, a verb phrase such as `"manage environments"`:
    "Managing environments needs the Release Managers role." """
    return Forbidden(
        f"{_gerund(what)} needs the {RELEASE_MANAGERS} role.", code="role_required", required_role=RELEASE_MANAGERS
    )


def require_release_manager(actor: Any, *, what: str) -> None:
    """Refuse `what` (403 `role_required`) unless `actor` is an active Release Manager or superuser."""
    if not (getattr(actor, "is_active", False) and is_release_manager(actor)):
        raise release_manager_required(what)
