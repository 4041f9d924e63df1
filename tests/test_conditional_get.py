"""Conditional GET (issue #18): details carry their revision's ETag, lists a weak ETag from the versions of
what they show; `If-None-Match` answers 304 without a body while nothing changed, and any change to what a
response shows — and only a committed one — gives it a new ETag."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from opsportal.models import CollectionVersion
from opsportal.testing.factories import make_release, make_standard_environments
from opsportal.testing.faults import InjectedFault, fail_at_write
from releases import services
from releases.models import Release

pytestmark = pytest.mark.django_db

RELEASES = "/api/v1/releases"


@pytest.fixture
def envs(db):
    return make_standard_environments()


def get(api, url, etag=None):
    return api.get(url, **({"HTTP_IF_NONE_MATCH": etag} if etag else {}))


def assert_not_modified(api, url, etag, current=None):
    response = get(api, url, etag)
    assert response.status_code == 304, response.content
    assert response.content == b""
    assert response["ETag"] == (current or etag)
    assert response["Cache-Control"] == "private, no-cache"


def create(api, version="1.0.0"):
    response = api.post(RELEASES, {"name": "Checkout", "version": version}, format="json")
    assert response.status_code == 201
    return response.json()


def test_a_detail_answers_304_while_its_revision_is_current(api, envs):
    release = create(api)
    url = f"{RELEASES}/{release['id']}"
    first = get(api, url)
    assert first["ETag"].startswith(f'"{release["id"]}-1~')  # the revision, stamped with what else it shows
    assert first["Cache-Control"] == "private, no-cache"
    assert_not_modified(api, url, first["ETag"])
    assert_not_modified(api, url, f'"other", W/{first["ETag"]}', first["ETag"])  # weak comparison, several tags
    assert api.post(f"{url}/submit", {}, format="json").status_code == 200
    changed = get(api, url, first["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"].startswith(f'"{release["id"]}-2~') and changed.json()["status"] == "pending_approval"
    # If-Match takes the ETag as it came (the revision part decides).
    response = api.patch(url, {"description": "x"}, format="json", HTTP_IF_MATCH=changed["ETag"])
    assert response.status_code == 200
    stale = api.patch(url, {"description": "y"}, format="json", HTTP_IF_MATCH=changed["ETag"])
    assert stale.status_code == 412


def test_a_detail_polled_while_nothing_changed_answers_304_though_others_deployed_before(api, superuser, envs):
    older = make_release(status="approved")
    services.release_deploy(release=older, environment=envs["development"], actor=superuser)
    shown = make_release()  # older than the last deployment, and unchanged since
    url = f"{RELEASES}/{shown.pk}"
    assert_not_modified(api, url, get(api, url)["ETag"])


def test_a_detail_is_sent_again_when_its_environments_changed(api, superuser, envs):
    shown = make_release(status="approved")
    url = f"{RELEASES}/{shown.pk}"
    services.release_deploy(release=shown, environment=envs["development"], actor=superuser)
    etag = get(api, url)["ETag"]
    assert_not_modified(api, url, etag)
    # Another release replaces it on development: its revision did not move, what its detail shows did.
    other = make_release(status="approved")
    services.release_deploy(release=other, environment=envs["development"], actor=superuser)
    again = get(api, url, etag)
    assert again.status_code == 200
    assert again.json()["environments"][0]["is_current"] is False


def test_a_list_answers_304_without_reading_the_releases(api, envs):
    create(api)
    first = get(api, f"{RELEASES}?page_size=5")
    assert first["ETag"].startswith('W/"') and first["Cache-Control"] == "private, no-cache"
    with CaptureQueriesContext(connection) as queries:
        assert_not_modified(api, f"{RELEASES}?page_size=5", first["ETag"])
    assert not [q for q in queries.captured_queries if "releases_release" in q["sql"]]
    # Another page, another filter or another representation is another list.
    assert get(api, f"{RELEASES}?page_size=6", first["ETag"]).status_code == 200
    assert get(api, f"{RELEASES}?page_size=5&status=draft", first["ETag"]).status_code == 200


@pytest.mark.parametrize(
    ("url", "write"),
    [
        (RELEASES, "create"),
        (RELEASES, "submit"),
        (RELEASES, "deploy"),
        ("/api/v1/deployments", "deploy"),
        ("/api/v1/deployments", "report"),
        ("/api/v1/audit-events", "submit"),
        ("/api/v1/audit-events", "team"),
    ],
)
def test_any_write_to_a_listed_collection_changes_the_lists_etag(api, superuser, envs, url, write):
    release = make_release(status="approved")
    running = services.release_deploy(
        release=release, environment=envs["development"], actor=superuser, status="in_progress"
    )
    etag = get(api, url)["ETag"]
    assert_not_modified(api, url, etag)
    if write == "create":
        create(api, "9.9.9")
    elif write == "submit":
        draft = create(api, "9.9.8")
        assert api.post(f"{RELEASES}/{draft['id']}/submit", {}, format="json").status_code == 200
    elif write == "deploy":
        body = {"environment": "staging"}
        assert api.post(f"{RELEASES}/{release.pk}/deploy", body, format="json").status_code == 201
    elif write == "report":
        response = api.patch(f"/api/v1/deployments/{running.pk}", {"status": "succeeded"}, format="json")
        assert response.status_code == 200
    else:
        assert api.post("/api/v1/teams", {"name": "Web"}, format="json").status_code == 201
    changed = get(api, url, etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert_not_modified(api, url, changed["ETag"])


def test_a_refused_or_crashed_write_leaves_the_etag_alone(api, superuser, envs):
    release = create(api)
    etag = get(api, RELEASES)["ETag"]
    # Refused (409: a draft cannot be deployed to production), then crashed between two writes.
    response = api.post(f"{RELEASES}/{release['id']}/deploy", {"environment": "production"}, format="json")
    assert response.status_code == 409
    with fail_at_write(2) as fault, pytest.raises(InjectedFault):
        services.release_submit(release=Release.objects.get(pk=release["id"]), actor=superuser)
    assert fault.fired
    assert_not_modified(api, RELEASES, etag)


def test_the_versions_move_inside_the_unit_of_work(api, envs):
    create(api)
    versions = dict(CollectionVersion.objects.values_list("id", "version"))
    assert versions["release"] == 1 and versions["audit"] >= 1
    create(api, "1.0.1")
    assert CollectionVersion.objects.get(pk="release").version == 2


# --------------------------------------------------------------------------- no work the request doesn't ask for


def test_an_unfiltered_list_is_counted_once_per_version_of_its_collection(api, envs):
    for n in range(3):
        create(api, f"2.0.{n}")
    assert get(api, RELEASES).json()["count"] == 3
    with CaptureQueriesContext(connection) as queries:
        page = get(api, f"{RELEASES}?page_size=2").json()
    assert page["count"] == 3 and len(page["results"]) == 2
    assert not [q for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    # A change to the collection counts again; a filtered list always counts.
    create(api, "2.0.9")
    assert get(api, RELEASES).json()["count"] == 4
    assert get(api, f"{RELEASES}?status=draft").json()["count"] == 4
    assert get(api, f"{RELEASES}?status=approved").json()["count"] == 0


def test_an_unfiltered_list_keeps_the_default_order_without_running_the_filters(api, envs):
    for n in range(4):
        create(api, f"3.0.{n}")
    plain = [r["id"] for r in get(api, RELEASES).json()["results"]]
    ordered = [r["id"] for r in get(api, f"{RELEASES}?ordering=-created_at").json()["results"]]
    expected = list(Release.objects.order_by("-created_at", "id").values_list("id", flat=True))
    assert plain == ordered == expected
