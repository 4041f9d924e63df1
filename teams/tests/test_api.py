"""`/api/v1/teams`: list, CRUD through the services, members (issue #3)."""

import pytest

from audit.models import AuditEvent
from opsportal.testing.documents import DocumentAPIContract
from opsportal.testing.factories import make_release, make_team
from teams.models import Team
from teams.services import SERVICES

pytestmark = pytest.mark.django_db

URL = "/api/v1/teams"


def member(name, email, **fields):
    return {"name": name, "email": email, **fields}


ALICE = member("Alice", "alice@example.com", role="Lead", username="alice")
BOB = member("Bob", "bob@example.com", role="Release manager", username="bob")


class TestTeamAPIContract(DocumentAPIContract):
    url, what = URL, "teams"
    services = SERVICES
    create_data = {"name": "Mobile Team", "members": [member("Dan", "dan@example.com")], "projects": ["app"]}
    change_data = {"members": [ALICE, BOB]}

    def make(self):
        return make_team(members=[ALICE, BOB], projects=["p"])


def test_list_search_filter_and_ordering(api):
    make_team(id="platform-team", name="Platform Team", description="core")
    make_team(id="security-team", name="Security Team", description="patching")
    assert [t["id"] for t in api.get(URL).json()["results"]] == ["platform-team", "security-team"]
    assert [t["id"] for t in api.get(URL, {"search": "patch"}).json()["results"]] == ["security-team"]
    assert [t["id"] for t in api.get(URL, {"name": "platform"}).json()["results"]] == ["platform-team"]
    assert [t["id"] for t in api.get(URL, {"ordering": "-name"}).json()["results"]] == [
        "security-team",
        "platform-team",
    ]


def test_retrieve(api):
    make_team(id="platform-team", name="Platform Team", members=[ALICE])
    body = api.get(f"{URL}/platform-team").json()
    assert body["members"] == [ALICE]
    assert body["revision"] == 1


def test_create_defaults_member_fields_sets_location_and_audits(api):
    response = api.post(
        URL,
        {"name": "Mobile Team", "members": [member("Dan", "dan@example.com")], "projects": ["mobile-app"]},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == "mobile-team"
    assert response["Location"].endswith("/api/v1/teams/mobile-team")
    assert body["members"] == [{"name": "Dan", "email": "dan@example.com", "role": "", "username": ""}]
    (event,) = AuditEvent.objects.filter(action="team.created")
    assert (event.actor, event.object_id) == ("root", "mobile-team")
    assert event.changes["projects"] == [None, ["mobile-app"]]


@pytest.mark.parametrize(
    ("members", "message"),
    [
        (
            [ALICE, member("Alice Again", "ALICE@example.com")],
            "members[1].email: 'ALICE@example.com' is already used by members[0].",
        ),
        (
            [ALICE, member("Other", "other@example.com", username="alice")],
            "members[1].username: 'alice' is already used by members[0].",
        ),
        ([ALICE, {"name": "No email"}], "members[1]: 'email' is a required property"),
        ([ALICE, member("Bad", "not-an-email")], "members[1].email: 'not-an-email' is not a 'email'"),
        ([{**ALICE, "age": 3}], "members[0]: Additional properties are not allowed ('age' was unexpected)"),
    ],
)
def test_create_refuses_invalid_members_with_400_naming_the_path(api, members, message):
    response = api.post(URL, {"name": "Web", "members": members})
    assert response.status_code == 400, response.json()
    assert message in response.json()["errors"]["members"]
    assert not Team.objects.exists()


def test_create_refuses_duplicate_id_and_name(api):
    make_team(id="web", name="Web")
    assert "id" in api.post(URL, {"id": "web", "name": "Other"}).json()["errors"]
    assert "name" in api.post(URL, {"name": "Web"}).json()["errors"]
    assert Team.objects.count() == 1


def test_patch_replaces_members_and_audits(api):
    make_team(id="web", name="Web", members=[ALICE])
    response = api.patch(f"{URL}/web", {"members": [ALICE, BOB], "revision": 1})
    assert response.status_code == 200, response.json()
    assert response.json()["revision"] == 2
    assert Team.objects.get(pk="web").members == [ALICE, BOB]
    (event,) = AuditEvent.objects.filter(action="team.updated")
    assert event.changes == {"members": [[ALICE], [ALICE, BOB]]}


def test_put_replaces_the_team(api):
    make_team(id="web", name="Web", members=[ALICE], projects=["a"])
    response = api.put(f"{URL}/web", {"name": "Web Team", "description": "d", "members": [BOB], "projects": []})
    assert response.status_code == 200
    team = Team.objects.get(pk="web")
    assert (team.name, team.members, team.projects) == ("Web Team", [BOB], [])


def test_update_with_stale_revision_is_409(api):
    make_team(id="web", name="Web")
    api.patch(f"{URL}/web", {"description": "first"})
    response = api.patch(f"{URL}/web", {"description": "second", "revision": 1})
    assert response.status_code == 409
    assert response.json()["code"] == "stale_revision"
    assert Team.objects.get(pk="web").description == "first"


def test_update_refuses_duplicate_emails(api):
    make_team(id="web", name="Web", members=[ALICE])
    response = api.patch(f"{URL}/web", {"members": [ALICE, {**BOB, "email": "Alice@Example.com"}]})
    assert response.status_code == 400
    assert Team.objects.get(pk="web").members == [ALICE]


def test_delete_unused_team(api):
    make_team(id="web", name="Web")
    assert api.delete(f"{URL}/web").status_code == 204
    assert not Team.objects.exists()
    assert AuditEvent.objects.filter(action="team.deleted", object_id="web").count() == 1


def test_delete_is_409_while_releases_belong_to_it(api):
    team = make_team(id="web", name="Web")
    make_release(team=team)
    make_release(team=team)
    response = api.delete(f"{URL}/web")
    assert response.status_code == 409
    assert response.json()["code"] == "protected"
    assert response.json()["references"] == {"releases": 2}
    assert Team.objects.filter(pk="web").exists()
    assert not AuditEvent.objects.filter(action="team.deleted").exists()


def test_members_endpoint(api):
    make_team(id="web", name="Web", members=[ALICE, BOB])
    response = api.get(f"{URL}/web/members")
    assert response.status_code == 200
    assert response.json() == {"team": "web", "count": 2, "members": [ALICE, BOB]}
    assert api.get(f"{URL}/nobody/members").status_code == 404


def test_members_endpoint_is_not_affected_by_list_filters(api):
    make_team(id="web", name="Web", members=[ALICE])
    assert api.get(f"{URL}/web/members", {"search": "zzz", "name": "zzz"}).json()["count"] == 1


def test_anonymous_cannot_write_and_reads_follow_the_setting(api_client, settings):
    make_team(id="web", name="Web", members=[ALICE])
    settings.ANONYMOUS_READ = False
    assert api_client.get(f"{URL}/web/members").status_code == 401
    settings.ANONYMOUS_READ = True
    assert api_client.get(f"{URL}/web/members").status_code == 200
    assert api_client.post(URL, {"name": "X"}, format="json").status_code == 401
    assert api_client.delete(f"{URL}/web").status_code == 401
    assert Team.objects.count() == 1


def test_if_match_and_idempotency_key(api):
    first = api.post(URL, {"name": "Web"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert api.post(URL, {"name": "Web"}, HTTP_IDEMPOTENCY_KEY="k-1").json() == first.json()
    assert first["ETag"] == '"web-1"'
    assert api.patch(f"{URL}/web", {"description": "x"}, HTTP_IF_MATCH='"web-0"').status_code == 412
    assert api.patch(f"{URL}/web", {"description": "x"}, HTTP_IF_MATCH='"web-1"').status_code == 200
    assert Team.objects.get(pk="web").revision == 2
    assert AuditEvent.objects.filter(action="team.created").count() == 1
