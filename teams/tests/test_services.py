"""Team services called directly (issue #3)."""

import pytest

from audit.models import AuditEvent
from opsportal import documents
from opsportal.errors import Conflict, ValidationFailed
from opsportal.testing.factories import make_release, make_team
from teams.models import Team
from teams.services import team_create, team_delete, team_update

pytestmark = pytest.mark.django_db


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


def test_delete_is_conditional_on_the_revision_read(superuser):
    team = make_team(id="web", name="Web")
    stale = Team.objects.get(pk="web")
    team_update(team=team, actor=superuser, data={"description": "changed meanwhile"})
    with pytest.raises(Conflict) as refused:
        team_delete(team=stale, actor=superuser)
    assert (refused.value.code, refused.value.extra["revision"]) == ("stale_revision", 2)
    assert Team.objects.filter(pk="web").exists()
    assert not AuditEvent.objects.filter(action="team.deleted").exists()


def test_a_release_created_after_the_check_still_blocks_the_delete(superuser, monkeypatch):
    team = make_team(id="web", name="Web")
    make_release(team=team)
    # As if the release landed between the reference check and the delete: the database refuses.
    monkeypatch.setattr(documents, "protected_references", lambda model, pk: {})
    with pytest.raises(Conflict) as refused:
        team_delete(team=team, actor=superuser)
    assert refused.value.code == "protected"
    assert refused.value.extra["references"] == {"releases": 1}
    assert Team.objects.filter(pk="web").exists()
    assert not AuditEvent.objects.filter(action="team.deleted").exists()
