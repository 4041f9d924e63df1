"""`require_release_manager`: the one role check of the management services (environments, teams, workflows);
the role groups themselves (`ensure_role_groups`)."""

import importlib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command

from opsportal.errors import Forbidden
from opsportal.roles import (
    ENGINEERS,
    RELEASE_MANAGERS,
    ROLE_PERMISSIONS,
    VIEWERS,
    ensure_role_groups,
    require_release_manager,
)
from opsportal.testing.factories import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("what", "message"),
    [
        ("manage environments", "Managing environments needs the Release Managers role."),
        ("approve releases", "Approving releases needs the Release Managers role."),
        ("deploy to production", "Deploying to production needs the Release Managers role."),
        ("read the audit trail", "Reading the audit trail needs the Release Managers role."),
    ],
)
def test_the_refusal_names_the_act_and_the_role(what, message):
    with pytest.raises(Forbidden) as refused:
        require_release_manager(make_user("eng", ENGINEERS), what=what)
    assert refused.value.status_code == 403
    assert (refused.value.message, refused.value.code) == (message, "role_required")
    assert refused.value.extra == {"required_role": "Release Managers"}


def test_release_managers_and_superusers_pass(superuser):
    require_release_manager(make_user("rm", RELEASE_MANAGERS), what="manage teams")
    require_release_manager(make_user("both", VIEWERS, RELEASE_MANAGERS), what="manage teams")
    require_release_manager(superuser, what="manage teams")


@pytest.mark.parametrize("who", ["nobody", "anonymous", "no role", VIEWERS, ENGINEERS, "inactive release manager"])
def test_everyone_else_is_refused(who):
    if who == "nobody":
        actor = None
    elif who == "anonymous":
        actor = AnonymousUser()
    elif who == "no role":
        actor = make_user("plain")
    elif who == "inactive release manager":
        actor = make_user("gone", RELEASE_MANAGERS)
        actor.is_active = False
    else:
        actor = make_user("user", who)
    with pytest.raises(Forbidden):
        require_release_manager(actor, what="manage teams")


# --- the role groups: created by the data migration, recreated after every migrate and flush -----


def role_groups() -> dict[str, set[tuple[str, str]]]:
    from django.contrib.auth.models import Group

    return {
        group.name: set(group.permissions.values_list("content_type__app_label", "codename"))
        for group in Group.objects.filter(name__in=list(ROLE_PERMISSIONS))
    }


EXPECTED = {role: set(perms) for role, perms in ROLE_PERMISSIONS.items()}


def test_the_role_groups_hold_exactly_their_permissions():
    assert role_groups() == EXPECTED


@pytest.mark.django_db(transaction=True)
def test_a_flush_brings_the_role_groups_back():
    """MongoDB flushes every collection between tests (DESIGN §3): the `post_migrate` handler recreates them."""
    from django.contrib.auth.models import Group, Permission

    call_command("flush", interactive=False, verbosity=0)
    assert role_groups() == EXPECTED
    Group.objects.all().delete()
    Permission.objects.all().delete()
    call_command("flush", interactive=False, verbosity=0)
    assert role_groups() == EXPECTED


def test_ensure_role_groups_is_idempotent_and_repairs_the_groups():
    from django.contrib.auth.models import Group

    ensure_role_groups()
    ensure_role_groups()
    assert role_groups() == EXPECTED
    assert Group.objects.filter(name__in=list(ROLE_PERMISSIONS)).count() == 3
    Group.objects.get(name=ENGINEERS).permissions.clear()
    Group.objects.filter(name=VIEWERS).delete()
    ensure_role_groups()
    assert role_groups() == EXPECTED


def test_the_data_migration_uses_the_same_definition(monkeypatch):
    migration = importlib.import_module("opsportal.migrations.0001_roles")
    seen = []
    monkeypatch.setattr("opsportal.roles.ensure_role_groups", lambda apps, using: seen.append((apps, using)))
    migration.create_roles("historical apps", SimpleNamespace(connection=SimpleNamespace(alias="default")))
    assert seen == [("historical apps", "default")]
