"""The MongoDB compile mode (DESIGN §3) compiles our ORM operations and catches what MongoDB can't run."""

import os

import pytest
from django.db import connection, transaction
from django.db.models import Count, Q

from opsportal.testing.mongo_compile import allow_raw_sql, mongo_compile
from releases.models import Release
from teams.models import Team

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        bool(os.environ.get("MONGODB_URI")),
        reason="needs the SQLite leg: with MONGODB_URI set the suite runs on a real MongoDB server instead",
    ),
]


def test_update_across_collections_is_caught():
    Team.objects.create(id="platform", name="Platform")
    with mongo_compile() as recorder:
        Release.objects.filter(team__name="Platform").update(description="changed")
    assert len(recorder.failures) == 1
    assert "multiple collections" in recorder.failures[0].error
    assert recorder.failures[0].model == "releases.Release"


def test_extra_is_caught():
    with mongo_compile() as recorder:
        list(Release.objects.extra(select={"one": "1"}))
    assert [f.error for f in recorder.failures] == ["NotSupportedError: QuerySet.extra() is not supported on MongoDB."]


def test_supported_operations_compile_to_mql():
    with mongo_compile() as recorder:
        team = Team.objects.create(id="web", name="Web")
        release = Release.objects.create(name="R", version="9.9.9", team=team)
        Release.objects.filter(pk=release.pk, revision=1).update(revision=2)
        list(Release.objects.filter(team__name="Web").values("status").annotate(n=Count("id")))
        Release.objects.filter(pk=release.pk).delete()
    assert recorder.failures == []
    ops = [(collection, op) for collection, op, _ in recorder.operations]
    assert ("teams_team", "insert_many") in ops
    assert ("releases_release", "update_many") in ops
    assert ("releases_release", "delete_many") in ops
    pipelines = [payload for collection, op, payload in recorder.operations if op == "aggregate"]
    assert any(any("$lookup" in stage for stage in pipeline) for pipeline in pipelines)
    update = next(payload for c, op, payload in recorder.operations if op == "update_many")
    assert update[0] == {"$and": [{"_id": release.pk}, {"revision": 1}]} or "revision" in str(update[0])


def test_bulk_create_ignore_conflicts_is_caught():
    with mongo_compile() as recorder:
        Team.objects.bulk_create([Team(id="web", name="Web")], ignore_conflicts=True)
    assert len(recorder.failures) == 1
    assert recorder.failures[0].model == "teams.Team"
    assert "bulk_create(ignore_conflicts=True)" in recorder.failures[0].error


def test_select_for_update_is_caught():
    with mongo_compile() as recorder, transaction.atomic():
        list(Release.objects.select_for_update().filter(status="draft"))
    assert len(recorder.failures) == 1
    assert recorder.failures[0].model == "releases.Release"
    assert "select_for_update()" in recorder.failures[0].error


@pytest.mark.parametrize(
    ("lookups", "path"),
    [
        ({"features__icontains": "login"}, "releases.Release.features__icontains"),
        ({"features__0__name__icontains": "login"}, "releases.Release.features__0__name__icontains"),
        ({"features__0__name__startswith": "Log"}, "releases.Release.features__0__name__startswith"),
        ({"approvals__iregex": "^ann"}, "releases.Release.approvals__iregex"),
        ({"features__iexact": "[]"}, "releases.Release.features__iexact"),
    ],
)
def test_pattern_lookups_on_json_are_caught(lookups, path):
    with mongo_compile() as recorder:
        list(Release.objects.filter(**lookups))
    assert [f.error.split(":")[1].strip() for f in recorder.failures] == [path]


def test_pattern_lookups_on_json_in_subqueries_and_annotations_are_caught():
    with mongo_compile() as recorder:
        members = Team.objects.filter(members__0__username__regex="^a")
        list(Release.objects.filter(team__in=members))
        list(Team.objects.annotate(n=Count("releases", filter=Q(releases__features__icontains="x"))))
    assert [f.error.split(":")[1].strip() for f in recorder.failures] == [
        "teams.Team.members__0__username__regex",
        "releases.Release.features__icontains",
    ]


def test_raw_sql_through_a_cursor_is_caught():
    with mongo_compile() as recorder, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM releases_release")
    [failure] = recorder.failures
    assert failure.operation == "raw SQL through connection.cursor()"
    assert "SELECT count(*) FROM releases_release" in failure.error
    assert "test_mongo_compile.py:" in failure.where
    assert failure.where.endswith(" in test_raw_sql_through_a_cursor_is_caught")


def test_raw_queryset_is_caught():
    with mongo_compile() as recorder:
        list(Release.objects.raw("SELECT * FROM releases_release"))
    [failure] = recorder.failures
    assert (failure.operation, failure.model) == ("Model.objects.raw()", "releases.Release")
    assert "SELECT * FROM releases_release" in failure.error
    assert "in test_raw_queryset_is_caught" in failure.where


def test_allow_raw_sql_lets_a_sqlite_only_check_through():
    with mongo_compile() as recorder, allow_raw_sql(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN SELECT * FROM releases_release")
    assert recorder.failures == []


def test_ordinary_queries_and_django_machinery_are_not_flagged():
    with mongo_compile() as recorder:
        with transaction.atomic():  # savepoints: raw SQL sent by Django itself
            team = Team.objects.create(id="web", name="Web", members=[{"username": "ann"}])
            Team.objects.bulk_create([Team(id="ops", name="Ops")])
        Release.objects.create(name="Login", version="1.0.0", team=team, features=[{"name": "Login"}])
        list(Release.objects.filter(name__icontains="log", search_text__contains="login"))
        list(Release.objects.filter(features__0__name="Login", approvals=[], team__members__0__username="ann"))
        list(Team.objects.filter(members__0__username__isnull=False).order_by("name"))
        Release.objects.update_or_create(version="1.0.0", defaults={"description": "d"})
    assert recorder.failures == []
