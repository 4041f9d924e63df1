"""`require_release_manager`: the one role check of the management services (environments, teams, workflows)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from opsportal.errors import Forbidden
from opsportal.roles import ENGINEERS, RELEASE_MANAGERS, VIEWERS, require_release_manager
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
