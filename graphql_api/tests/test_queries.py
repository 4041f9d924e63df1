"""GraphQL reads: the same data, filters, ordering and pages as REST, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from graphql_api.tests.conftest import graphql
from opsportal.testing.factories import make_release, make_user
from releases import services

pytestmark = pytest.mark.django_db

NESTED_RELEASES = """
query($page_size: Int!) {
  releases(page_size: $page_size) {
    count has_next
    results {
      id name version status allowed_actions deployed_to
      progress { tasks_total tasks_done percent_complete }
      features { name status tasks { title status assignee } }
      approvals { user decision at comment }
      team { id name members { name username } }
      workflow { id stages { environment requires_approval } }
      environments { environment tier health is_current current_release deployment { id status environment } }
      deployments { id environment status kind duration_seconds }
      history { seq action actor }
    }
  }
}
"""


def _deployed_release(manager, manager2, envs, team, n):
    release = make_release(team=team, created_by="someone-else")
    services.release_submit(release=release, actor=manager)
    services.release_approve(release=release, actor=manager2)
    for env in ("development", "staging"):
        services.release_deploy(release=release, environment=envs[env], actor=manager)
    return release


def _count_queries(page_size: int, user) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as captured:
        answer = graphql(NESTED_RELEASES, {"page_size": page_size}, user=user)
    return len(captured), answer.data


def test_a_nested_release_page_takes_the_same_number_of_queries_for_1_and_12_releases(manager, manager2, envs, team):
    for n in range(12):
        _deployed_release(manager, manager2, envs, team, n)
    one, data_one = _count_queries(1, manager)
    many, data_many = _count_queries(12, manager)
    assert len(data_one["releases"]["results"]) == 1 and len(data_many["releases"]["results"]) == 12
    assert many == one, f"{one} queries for one release, {many} for twelve"
    first = data_many["releases"]["results"][0]
    assert first["deployed_to"] == [] or set(first["deployed_to"]) <= {"development", "staging"}
    assert [d["environment"] for d in first["deployments"]] == ["staging", "development"]
    assert first["environments"][1]["deployment"]["status"] == "succeeded"
    assert {h["action"] for h in first["history"]} >= {"release.approved", "deployment.created"}


def test_a_release_reads_as_the_rest_detail(api, manager, manager2, envs, team):
    release = _deployed_release(manager, manager2, envs, team, 0)
    rest = api.get(f"/api/v1/releases/{release.pk}").json()
    data = graphql(
        """query($id: ID!) { release(id: $id) { id name version status revision allowed_actions
            progress { features_total features_done tasks_total tasks_done percent_complete }
            environments { environment name tier health is_current current_release deployment { id sequence } } } }""",
        {"id": release.pk},
        user=manager,
    ).data["release"]
    assert {k: data[k] for k in ("id", "name", "version", "status", "revision", "allowed_actions", "progress")} == {
        k: rest[k] for k in ("id", "name", "version", "status", "revision", "allowed_actions", "progress")
    }
    for mine, theirs in zip(data["environments"], rest["environments"], strict=True):
        assert mine["environment"] == theirs["environment"] and mine["is_current"] == theirs["is_current"]
        assert (mine["deployment"] or {}).get("id") == (theirs["deployment"] or {}).get("id")


def test_release_lists_filter_search_order_and_page_as_rest(api, manager, team):
    for n in range(5):
        make_release(name=f"Shop {n}", version=f"5.{n}.0", team=team if n % 2 else None)
    make_release(name="Billing", version="9.0.0")
    query = """query($f: ReleaseFilter, $s: String, $o: String, $p: Int!, $ps: Int!) {
      releases(filter: $f, search: $s, ordering: $o, page: $p, page_size: $ps) {
        count page has_next results { version } } }"""
    page = graphql(query, {"s": "shop", "o": "version", "p": 2, "ps": 2}, user=manager).data["releases"]
    rest = api.get("/api/v1/releases?search=shop&ordering=version&page=2&page_size=2").json()
    assert page["count"] == rest["count"] == 5
    assert [r["version"] for r in page["results"]] == [r["version"] for r in rest["results"]] == ["5.2.0", "5.3.0"]
    assert page["has_next"] is True
    teams = graphql(query, {"f": {"team": team.pk}, "p": 1, "ps": 20}, user=manager).data["releases"]
    assert sorted(r["version"] for r in teams["results"]) == ["5.1.0", "5.3.0"]


def test_a_bad_filter_or_page_is_refused_with_field_messages(manager):
    answer = graphql('{ releases(filter: {team: "x"}, page: 0) { count } }', user=manager)
    assert answer.error["extensions"]["code"] == "invalid"
    assert answer.error["extensions"]["errors"] == {"page": ["Pages start at 1."]}


def test_an_unknown_release_is_null_with_a_not_found_error(manager):
    answer = graphql('{ release(id: "nope") { id } }', user=manager)
    assert answer.body["data"] == {"release": None}
    assert answer.error["extensions"] == {"code": "not_found", "status": 404}


def test_environments_teams_workflows_deployments_and_dashboard(manager, manager2, envs, team):
    _deployed_release(manager, manager2, envs, team, 0)
    data = graphql(
        """{ environments { count results { id tier health current_release frozen } }
             teams(filter: {name: "Team"}) { results { id members { name email role username } } }
             workflows { count }
             deployments(filter: {environment: "staging"}) { count results { environment status } }
             dashboard_stats }""",
        user=manager,
    ).data
    assert [e["id"] for e in data["environments"]["results"]] == ["development", "staging", "production"]
    assert data["environments"]["results"][1]["current_release"] is not None
    assert data["teams"]["results"][0]["members"][0]["username"] == "erin"
    assert data["deployments"]["count"] == 1
    assert data["dashboard_stats"]["environments"]["total"] == 3


def test_reads_need_a_user_unless_anonymous_reads_are_on(db):
    make_release()
    refused = graphql("{ releases { count } }")
    assert refused.error["extensions"] == {"code": "not_authenticated", "status": 401}
    with override_settings(ANONYMOUS_READ=True):
        assert graphql("{ releases { count } }").data["releases"]["count"] == 1


def test_a_bad_token_is_refused_as_rest_refuses_it(db):
    answer = graphql("{ releases { count } }", bearer="not-a-jwt")
    assert answer.error["extensions"]["code"] == "token_not_valid"
    assert answer.error["extensions"]["status"] == 401


def test_an_inactive_users_token_reads_nothing(db):
    user = make_user("gone")
    from rest_framework_simplejwt.tokens import AccessToken

    token = str(AccessToken.for_user(user))
    user.is_active = False
    user.save()
    assert graphql("{ releases { count } }", bearer=token).error["extensions"]["status"] == 401


def test_a_session_needs_its_csrf_token_as_in_rest(manager):
    """The admin's session works for /graphql (GraphiQL uses it) with the CSRF check REST makes."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    body = '{"query": "{ releases { count } }"}'
    refused = client.post("/graphql", body, content_type="application/json").json()
    assert refused["errors"][0]["extensions"] == {"code": "permission_denied", "status": 403}
    client.get("/admin/login/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    allowed = client.post("/graphql", body, content_type="application/json", HTTP_X_CSRFTOKEN=token).json()
    assert allowed == {"data": {"releases": {"count": 0}}}


ENV_STATUS = """{ environments(page_size: 100) { results { id health status {
    current_release { id version environments { environment is_current } }
    last_deployment { id status } recent_deployments { id release started_at } } } } }"""


def test_environments_with_status_read_as_rest_in_a_constant_number_of_queries(api, manager, envs):
    from opsportal.testing.factories import make_environment

    def count() -> tuple[int, list]:
        with CaptureQueriesContext(connection) as captured:
            results = graphql(ENV_STATUS, user=manager).data["environments"]["results"]
        return len(captured), results

    releases = [make_release() for _ in range(7)]
    for release in releases:
        services.release_deploy(release=release, environment=envs["development"], actor=manager)
    services.release_deploy(release=releases[0], environment=envs["staging"], actor=manager)
    few, results = count()
    for n in range(6):
        extra = make_environment(f"extra-{n}")
        services.release_deploy(release=releases[n], environment=extra, actor=manager)
    many, more = count()
    assert len(more) == len(results) + 6 and many == few, f"{few} queries for 3 environments, {many} for 9"
    for env in results:
        rest = api.get(f"/api/v1/environments/{env['id']}/status").json()
        mine = env["status"]
        assert [d["id"] for d in mine["recent_deployments"]] == [d["id"] for d in rest["recent_deployments"]]
        assert (mine["last_deployment"] or {}).get("id") == (rest["last_deployment"] or {}).get("id")
        assert (mine["current_release"] or {}).get("id") == (rest["current_release"] or {}).get("id")
    development = next(env for env in results if env["id"] == "development")
    assert len(development["status"]["recent_deployments"]) == 5
    assert development["status"]["current_release"]["version"] == releases[-1].version


def test_environments_show_their_approval_policy_as_rest_does(api, manager, envs):
    """Issue #12's approval policy replaced `min_approvals`: GraphQL shows the policy REST shows."""
    from opsportal.testing.factories import set_approval_policy

    set_approval_policy(
        "production", [{"approvals": 2, "group": "Release Managers"}, {"approvals": 1, "team": "security-team"}]
    )
    results = graphql("{ environments { results { id requires_approval approval_policy } } }", user=manager)
    for env in results.data["environments"]["results"]:
        rest = api.get(f"/api/v1/environments/{env['id']}").json()
        assert (env["requires_approval"], env["approval_policy"]) == (
            rest["requires_approval"],
            rest["approval_policy"],
        )
    production = next(env for env in results.data["environments"]["results"] if env["id"] == "production")
    assert [rule.get("team") for rule in production["approval_policy"]["rules"]] == [None, "security-team"]


DORA = """query ($metric: String!, $interval: String, $tiers: [String!]) {
  dora_metrics(metric: $metric, interval: $interval, environment_tiers: $tiers) { date value level }
}"""


def test_dora_metrics_read_as_rest(api, manager, envs):
    """Issue #13's DORA series, the same points over GraphQL as over `GET /api/v1/dora/metrics`."""
    for release in [make_release() for _ in range(3)]:
        services.release_deploy(release=release, environment=envs["development"], actor=manager)
    for metric, interval, tiers in (
        ("deployment_frequency", "daily", ["development"]),
        ("lead_time_for_changes", "monthly", ["development", "staging"]),
        ("change_failure_rate", "all", None),
    ):
        mine = graphql(DORA, {"metric": metric, "interval": interval, "tiers": tiers}, user=manager).data
        query = f"metric={metric}&interval={interval}" + "".join(f"&environment_tiers={t}" for t in tiers or [])
        assert mine["dora_metrics"] == api.get(f"/api/v1/dora/metrics?{query}").json()
    counted = graphql(
        DORA, {"metric": "deployment_frequency", "interval": "all", "tiers": ["development"]}, user=manager
    )
    assert counted.data["dora_metrics"][0]["value"] == 3
    refused = graphql(DORA, {"metric": "mttr"}, user=manager)
    assert refused.error["extensions"]["code"] == "invalid" and "metric" in refused.error["extensions"]["errors"]
