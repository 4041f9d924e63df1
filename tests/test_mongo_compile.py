"""The MongoDB compile mode (DESIGN §3) compiles our ORM operations and catches what MongoDB can't run."""

import os

import pytest
from django.db.models import Count

from opsportal.testing.mongo_compile import mongo_compile
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
