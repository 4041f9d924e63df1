"""Hot-path queries use indexes and a fixed number of queries (issue #6).

Each hot-path request runs through the API while every SQL statement it sends is recorded;
each recorded statement on a big table is then explained with SQLite's `EXPLAIN QUERY PLAN`.
A plan fails when it reads a big table without an index (`SCAN releases_release` with no
`USING … INDEX`, or a filtered scan along an index) or sorts every matching row (`USE TEMP
B-TREE FOR ORDER BY`) where the matches are not few by construction. The raw SQL
here is a check on SQLite's planner, not application code. The statistics tables are left
empty (no ANALYZE), so the planner judges by the indexes alone, as it would on a large
database, whatever the size of this test's data.
"""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from django.db import connection

from environments.models import Environment
from opsportal.testing.mongo_compile import allow_raw_sql
from releases.models import Deployment, Release

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="EXPLAIN QUERY PLAN is SQLite's"),
]

BIG_TABLES = ("releases_release", "releases_deployment", "audit_auditevent")
# Searches whose matches stay few however big the table grows, so sorting them is fine: by
# primary key, and one release's own deployments (a handful per environment).
BOUNDED_SEARCHES = (
    re.compile(r"SEARCH \w+ USING (?:COVERING )?INDEX sqlite_autoindex_\w+_1 \(_id=\?\)"),
    re.compile(r"SEARCH releases_deployment USING (?:COVERING )?INDEX \w+ \(release_id=\?\)"),
)
_SCAN = re.compile(r"\bSCAN (\w+)")


@pytest.fixture
def seeded(db):
    call_command("seed_load", releases=300, deployments=1500, seed=3, end="2026-01-01", days=120, verbosity=0)


class Recorder:
    """Collects (sql, params) of every statement sent to the database (`connection.execute_wrapper`)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple]] = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)


def run(api, path: str) -> list[tuple[str, tuple]]:
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        response = api.get(path, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
    return recorder.statements


def plan(sql: str, params: tuple) -> list[str]:
    # SQLite's own EXPLAIN: the one raw SQL the MongoDB compile mode (DESIGN §3) lets through.
    with allow_raw_sql(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return [row[-1] for row in cursor.fetchall()]


def problems(statements: list[tuple[str, tuple]]) -> list[str]:
    found = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith("SELECT") or not any(t in sql for t in BIG_TABLES):
            continue
        steps = plan(sql, params)
        bounded = any(p.search(step) for p in BOUNDED_SEARCHES for step in steps)
        for step in steps:
            scan = _SCAN.search(step)
            # A scan, even along an index, reads the whole table unless nothing filters it (a count,
            # or a page in index order that stops at LIMIT).
            unindexed = scan and scan.group(1) in BIG_TABLES and ("INDEX" not in step or " WHERE " in sql)
            full_sort = step.startswith("USE TEMP B-TREE FOR ORDER BY") and not bounded
            if unindexed or full_sort:
                found.append(f"{step}\n    in: {sql[:400]}\n    plan: {steps}")
    return found


def hot_paths() -> dict[str, str]:
    release = Release.objects.order_by("id").first()
    return {
        "release list page": "/api/v1/releases",
        "release list page of 100": "/api/v1/releases?page_size=100",
        "release list page 3": "/api/v1/releases?page=3",
        "releases by status": "/api/v1/releases?status=approved",
        "releases by team": "/api/v1/releases?team=payments",
        "releases by status and team": "/api/v1/releases?status=deployed&team=platform",
        "release detail": f"/api/v1/releases/{release.pk}",
        "deployments of an environment, newest first": "/api/v1/deployments?environment=production",
        "deployments of a release": f"/api/v1/deployments?release={release.pk}",
        "environment status": "/api/v1/environments/production/status",
    }


@pytest.mark.parametrize(
    "name",
    [
        "release list page",
        "release list page of 100",
        "release list page 3",
        "releases by status",
        "releases by team",
        "releases by status and team",
        "release detail",
        "deployments of an environment, newest first",
        "deployments of a release",
        "environment status",
    ],
)
def test_hot_path_reads_big_tables_through_indexes(seeded, api, name):
    statements = run(api, hot_paths()[name])
    assert any(t in sql for sql, _ in statements for t in BIG_TABLES), "the request read no big table"
    assert problems(statements) == []


def test_the_check_catches_a_query_without_index(seeded):
    """The check itself: filtering on an unindexed column of a big table is reported."""
    sql, params = Release.objects.filter(created_by="alice.platform").query.sql_with_params()
    assert problems([(sql, params)]) != []
    sql, params = Deployment.objects.order_by("deployed_by")[:20].query.sql_with_params()
    assert any("TEMP B-TREE" in p for p in problems([(sql, params)]))


def _count(api, path: str) -> int:
    # Warm first: an unfiltered list counts its rows once per version of its collection (issue #18).
    run(api, path)
    return sum(1 for sql, _ in run(api, path) if sql.lstrip().upper().startswith("SELECT"))


def test_release_list_query_count_does_not_grow_with_page_size(seeded, api):
    assert _count(api, "/api/v1/releases?page_size=5") == _count(api, "/api/v1/releases?page_size=100")


def test_deployment_list_query_count_does_not_grow_with_page_size(seeded, api):
    small = _count(api, "/api/v1/deployments?page_size=5")
    assert small == _count(api, "/api/v1/deployments?page_size=100")


def test_release_detail_query_count_does_not_grow_with_its_deployments(seeded, api):
    releases = Release.objects.order_by("id")
    busy = max(releases[:300], key=lambda r: Deployment.objects.filter(release=r).count())
    idle = next(r for r in releases if not Deployment.objects.filter(release=r).exists())
    assert Deployment.objects.filter(release=busy).count() >= 5
    assert _count(api, f"/api/v1/releases/{busy.pk}") == _count(api, f"/api/v1/releases/{idle.pk}")


def test_environment_status_query_count_does_not_grow_with_history(seeded, api):
    counts = Environment.objects.order_by("id").values_list("id", "deployment_seq")
    assert len({n for _, n in counts}) > 1  # environments with different amounts of history
    assert len({_count(api, f"/api/v1/environments/{env}/status") for env, _ in counts}) == 1
