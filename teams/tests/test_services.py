"""Team services called directly (issue #3)."""

import pytest
from django.contrib.auth.models import AnonymousUser

from opsportal.errors import Conflict, Forbidden, ValidationFailed
from opsportal.testing.factories import make_team
from teams.models import Team
from teams.services import team_create, team_delete, team_update

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("actor", [None, AnonymousUser()])
def test_writes_refuse_anonymous_actors(actor):
    team = make_team(id="web", name="Web")
    with pytest.raises(Forbidden):
        team_create(actor=actor, data={"name": "X"})
    with pytest.raises(Forbidden):
        team_update(team=team, actor=actor, data={"name": "Y"})
    with pytest.raises(Forbidden):
        team_delete(team=team, actor=actor)
    assert Team.objects.get(pk="web").name == "Web"


def test_update_loses_to_a_concurrent_change(superuser):
    team = make_team(id="web", name="Web")
    stale = Team.objects.get(pk="web")
    team_update(team=team, actor=superuser, data={"projects": ["a"]})
    with pytest.raises(Conflict):
        team_update(team=stale, actor=superuser, data={"projects": ["b"]})
    assert Team.objects.get(pk="web").projects == ["a"]


def test_same_email_may_be_in_two_teams(superuser):
    alice = {"name": "Alice", "email": "alice@example.com"}
    team_create(actor=superuser, data={"name": "One", "members": [alice]})
    team_create(actor=superuser, data={"name": "Two", "members": [alice]})
    assert Team.objects.count() == 2


def test_members_without_username_do_not_collide(superuser):
    members = [{"name": "A", "email": "a@example.com"}, {"name": "B", "email": "b@example.com"}]
    team = team_create(actor=superuser, data={"name": "Web", "members": members})
    assert [m["username"] for m in team.members] == ["", ""]


def test_schema_errors_are_reported_for_direct_calls(superuser):
    with pytest.raises(ValidationFailed) as refused:
        team_create(actor=superuser, data={"name": "Web", "projects": [""]})
    assert refused.value.extra["errors"]["projects"] == ["projects[0]: '' should be non-empty"]
