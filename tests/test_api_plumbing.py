"""Shared `/api/v1` plumbing (DESIGN §7): root, optional trailing slash, pagination, who may read and write.

`/api/v1/teams` stands in for every list route: they all share the router, paginator and
default permission.
"""

import pytest

from opsportal.testing.factories import make_team
from teams.models import Team

pytestmark = pytest.mark.django_db


def test_api_root_lists_the_routes(api):
    response = api.get("/api/v1/")
    assert response.status_code == 200
    routes = response.json()
    assert "teams" in routes
    assert routes["teams"].endswith("/api/v1/teams")


def test_api_root_follows_the_anonymous_read_setting(api_client, settings):
    settings.ANONYMOUS_READ = False
    assert api_client.get("/api/v1/").status_code == 401
    settings.ANONYMOUS_READ = True
    assert api_client.get("/api/v1/").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/teams", "/api/v1/teams/"])
def test_list_answers_with_and_without_trailing_slash(api, path):
    make_team(id="platform", name="Platform")
    response = api.get(path)
    assert response.status_code == 200  # no redirect either way
    assert [team["id"] for team in response.json()["results"]] == ["platform"]


@pytest.mark.parametrize("path", ["/api/v1/teams/platform", "/api/v1/teams/platform/"])
def test_detail_answers_with_and_without_trailing_slash(api, path):
    make_team(id="platform", name="Platform")
    response = api.get(path)
    assert response.status_code == 200
    assert response.json()["id"] == "platform"


def test_post_without_trailing_slash_creates(api):
    """The predecessor's clients POST to `/api/v1/teams` (no slash): a redirect would lose the body."""
    response = api.post("/api/v1/teams", {"id": "web", "name": "Web"}, format="json")
    assert response.status_code == 201, response.content
    assert Team.objects.filter(pk="web").exists()


def test_pagination_envelope_and_pages(api):
    for n in range(25):
        make_team(id=f"team-{n:02d}", name=f"Team {n:02d}")
    first = api.get("/api/v1/teams").json()
    assert set(first) >= {"count", "next", "previous", "results"}
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert "page=2" in first["next"]

    second = api.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None
    assert second["previous"] is not None
    ids = [t["id"] for t in first["results"]] + [t["id"] for t in second["results"]]
    assert sorted(ids) == [f"team-{n:02d}" for n in range(25)]


def test_page_size_is_honoured_and_capped_at_100(api):
    Team.objects.bulk_create([Team(id=f"team-{n:03d}", name=f"Team {n:03d}") for n in range(105)])
    assert len(api.get("/api/v1/teams?page_size=7").json()["results"]) == 7
    capped = api.get("/api/v1/teams?page_size=500").json()
    assert capped["count"] == 105
    assert len(capped["results"]) == 100
    assert capped["next"] is not None


def test_page_past_the_end_is_404_with_the_error_envelope(api):
    make_team()
    response = api.get("/api/v1/teams?page=9")
    assert response.status_code == 404
    assert set(response.json()) >= {"code", "detail"}


def test_anonymous_reads_refused_when_setting_off(api_client, settings):
    settings.ANONYMOUS_READ = False
    make_team(id="platform", name="Platform")
    for path in ("/api/v1/teams", "/api/v1/teams/platform"):
        response = api_client.get(path)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"


def test_anonymous_reads_allowed_when_setting_on(api_client, settings):
    settings.ANONYMOUS_READ = True
    make_team(id="platform", name="Platform")
    assert api_client.get("/api/v1/teams").json()["count"] == 1
    assert api_client.get("/api/v1/teams/platform").status_code == 200


@pytest.mark.parametrize("anonymous_read", [False, True])
def test_anonymous_writes_refused(api_client, settings, anonymous_read):
    settings.ANONYMOUS_READ = anonymous_read
    make_team(id="platform", name="Platform")
    attempts = [
        api_client.post("/api/v1/teams", {"id": "web", "name": "Web"}, format="json"),
        api_client.put("/api/v1/teams/platform", {"id": "platform", "name": "Renamed"}, format="json"),
        api_client.patch("/api/v1/teams/platform", {"name": "Renamed"}, format="json"),
        api_client.delete("/api/v1/teams/platform"),
    ]
    assert [r.status_code for r in attempts] == [401, 401, 401, 401]
    assert list(Team.objects.values_list("id", "name")) == [("platform", "Platform")]
