"""One query cannot cost more than the documented budget: refused before anything runs."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from graphql_api.limits import MAX_ALIASES, MAX_COMPLEXITY, MAX_PAGE_SIZE
from graphql_api.tests.conftest import graphql
from opsportal.testing.factories import make_release

pytestmark = pytest.mark.django_db


def _refused_before_running(query: str, user, variables: dict | None = None) -> dict:
    with CaptureQueriesContext(connection) as captured:
        answer = graphql(query, variables, user=user)
    # Authentication reads the user; nothing of the portal's data is read.
    assert not [q for q in captured.captured_queries if "releases_" in q["sql"] or "environments_" in q["sql"]]
    assert answer.body.get("data") is None, answer.body
    return answer.error


def test_an_abusive_nested_query_is_refused_for_its_complexity(manager):
    make_release()
    query = """{ releases(page_size: 100) { results {
        deployments(limit: 100) { id status environment }
        history(limit: 100) { seq action } } } }"""
    error = _refused_before_running(query, manager)
    assert error["extensions"]["code"] == "query_too_complex"
    assert error["extensions"]["complexity"] > MAX_COMPLEXITY


def test_a_variable_page_size_is_costed_at_its_value(manager):
    query = "query($n: Int!) { releases(page_size: $n) { results { deployments(limit: 100) { id environment } } } }"
    assert graphql(query, {"n": 2}, user=manager).data["releases"]["results"] == []
    assert _refused_before_running(query, manager, {"n": 100})["extensions"]["code"] == "query_too_complex"


def test_a_page_over_the_cap_is_refused(manager):
    error = _refused_before_running(f"{{ releases(page_size: {MAX_PAGE_SIZE + 1}) {{ count }} }}", manager)
    assert error["extensions"]["code"] == "page_size_too_large"
    nested = _refused_before_running('{ release(id: "x") { deployments(limit: 1000) { id } } }', manager)
    assert nested["extensions"]["code"] == "page_size_too_large"


def test_a_too_deep_query_is_refused_also_through_fragments(manager, monkeypatch):
    # Our types nest 5 levels at most (no cycles): lower the limit to see the rule refuse.
    monkeypatch.setattr("graphql_api.limits.MAX_DEPTH", 3)
    query = '{ release(id: "x") { ...F } } fragment F on Release { environments { deployment { id } } }'
    assert _refused_before_running(query, manager)["extensions"]["code"] == "query_too_deep"
    assert (
        graphql('{ release(id: "x") { ...F } } fragment F on Release { id }', user=manager).error["extensions"]["code"]
        == "not_found"
    )


def test_too_many_aliases_are_refused(manager):
    query = "{ " + " ".join(f"a{i}: releases {{ count }}" for i in range(MAX_ALIASES + 1)) + " }"
    assert _refused_before_running(query, manager)["extensions"]["code"] == "too_many_aliases"


def test_a_huge_document_is_refused_while_parsing(manager):
    query = "{ releases { count " + "count " * 6000 + "} }"
    answer = graphql(query, user=manager)
    assert answer.body.get("data") is None
    assert "token" in answer.error["message"].lower()


def test_a_body_over_the_size_limit_and_broken_json_are_refused_without_a_500(manager):
    client = Client()
    big = client.post("/graphql", json.dumps({"query": "{ releases { count } }", "x": "a" * 3_000_000}),
                      content_type="application/json")  # fmt: skip
    assert big.status_code in (400, 413)
    broken = client.post("/graphql", "{not json", content_type="application/json")
    assert broken.status_code == 400
    for bad in ("\ud800", "a\x00b"):
        refused = graphql("query($id: ID!) { release(id: $id) { id } }", {"id": bad}, user=manager)
        assert refused.status == 400 and refused.error["extensions"] == {"code": "invalid", "status": 400}
    literal = graphql('{ release(id: "\\ud800") { id } }', user=manager)
    assert literal.body["data"] is None and "Unicode" in literal.error["message"]
    nested: dict = {}
    for _ in range(40):
        nested = {"x": nested}
    deep = graphql("query($v: JSON) { releases { count } }", {"v": nested}, user=manager)
    assert deep.status == 400 and "nested" in deep.error["message"]


def test_graphql_shares_the_rest_throttle_budget(manager, monkeypatch):
    from django.core.cache import cache
    from rest_framework.test import APIClient
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "3/min"})
    cache.clear()
    try:
        rest = APIClient()
        rest.force_authenticate(manager)
        assert rest.get("/api/v1/teams").status_code == 200
        assert [graphql("{ teams { count } }", user=manager).status for _ in range(3)] == [200, 200, 429]
        throttled = graphql("{ teams { count } }", user=manager)
        assert throttled.error["extensions"] == {"code": "throttled", "status": 429}
        # queries spend the read budget, as REST's GETs do; a mutation spends the write budget (shared by
        # every worker), which the reads have not touched
        submitted = graphql('mutation { submit_release(id: "no-such-release") { id } }', user=manager)
        assert submitted.status == 200 and submitted.error["extensions"]["code"] == "not_found"
        assert [graphql("{ teams { count } }", bearer="forged").status for _ in range(3)][-1] == 429
    finally:
        cache.clear()
