"""MongoDB indexes serve the hot queries (DESIGN §3), checked without a server.

The index definitions are the ones django-mongodb-backend's schema editor creates for each of
our models (`schema_editor.create_model(model)` on a connection whose collections record
`create_index(es)` instead of sending them). The hot queries are the real ORM querysets,
compiled to their MQL pipeline by the backend's own compiler on the compile-mode shadow
connection (`opsportal.testing.mongo_compile`). Each query's `$match` equality fields (and its
`$sort` fields) must be the leading keys of an index MongoDB's planner can use for them: a
plain one, because django-mongodb-backend 5.2 makes unique constraints *partial* indexes
(`partialFilterExpression`), which the planner does not use for equality lookups and sorts;
or `_id`, MongoDB's built-in index, where our string primary keys are stored (`db_column="_id"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connections
from django.db.models import Model, QuerySet
from pymongo.operations import IndexModel

from audit.models import AuditCheckpoint, AuditEvent
from environments.models import Environment
from opsportal.document_models import primary_keys_to_mongodb_id
from opsportal.models import IdempotencyRecord
from opsportal.testing.mongo_compile import OUR_APPS, SHADOW_ALIAS, SHADOW_SERVER_VERSION, _shadow_connection
from releases.models import Deployment, Release
from teams.models import Team
from tokens.models import ApiToken
from workflows.models import Workflow

ID_INDEX = "_id_"


def our_models() -> list[type[Model]]:
    return [
        model
        for label in sorted(OUR_APPS)
        for model in apps.get_app_config(label).get_models()
        if model._meta.managed and not model._meta.proxy
    ]


# --- The indexes the schema editor creates -------------------------------------------------------


@dataclass(frozen=True)
class IndexDef:
    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool
    partial: dict | None

    @property
    def fields(self) -> list[str]:
        return [field for field, _ in self.keys]

    def __str__(self) -> str:
        keys = ", ".join(f"{field}: {direction}" for field, direction in self.keys)
        flags = (" unique" if self.unique else "") + (f" partial {self.partial}" if self.partial else "")
        return f"{self.name} {{{keys}}}{flags}"


class IndexRecordingCollection:
    """Stands in for a pymongo Collection in the schema editor: records the indexes it is asked for."""

    def __init__(self, name: str, sink: dict[str, list[IndexDef]]) -> None:
        self.name = name
        self.sink = sink

    def _record(self, index: IndexModel) -> str:
        document = index.document
        self.sink.setdefault(self.name, []).append(
            IndexDef(
                name=document["name"],
                keys=tuple((field, int(direction)) for field, direction in document["key"].items()),
                unique=bool(document.get("unique")),
                partial=_plain(document.get("partialFilterExpression")),
            )
        )
        return document["name"]

    def create_indexes(self, indexes: list[IndexModel], session: Any = None, **kwargs: Any) -> list[str]:
        return [self._record(index) for index in indexes]

    def create_index(self, keys: Any, session: Any = None, **kwargs: Any) -> str:
        return self._record(IndexModel(keys, **kwargs))

    def create_search_index(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"{self.name}: unexpected Atlas Search index (not served by the planner)")


def _plain(value: Any) -> Any:
    """`partialFilterExpression` as plain dicts (the backend builds it from defaultdicts)."""
    return {key: _plain(item) for key, item in value.items()} if isinstance(value, dict) else value


def shadow():
    """The compile-mode shadow connection of this thread (made if the compile mode is off)."""
    if not hasattr(connections._connections, SHADOW_ALIAS):
        _shadow_connection()
    return connections[SHADOW_ALIAS]


@pytest.fixture(scope="module")
def created_indexes() -> dict[str, list[IndexDef]]:
    """collection name → the indexes django-mongodb-backend creates for it (plus the built-in `_id_`)."""
    template = shadow()
    # A connection of its own (not registered under an alias), so the compile mode's shadow keeps
    # its recording collections.
    connection = type(template)(dict(template.settings_dict), alias="mongo_index_recorder")
    connection.get_database_version = lambda: SHADOW_SERVER_VERSION
    sink: dict[str, list[IndexDef]] = {}
    connection.get_collection = lambda name, **kwargs: IndexRecordingCollection(name, sink)
    connection.get_database = lambda: SimpleNamespace(create_collection=lambda name, **kwargs: None)
    with connection.schema_editor() as editor:
        for model in our_models():
            sink.setdefault(model._meta.db_table, []).append(IndexDef(ID_INDEX, (("_id", 1),), True, None))
            editor.create_model(model)
    return sink


def usable(indexes: list[IndexDef]) -> list[IndexDef]:
    """The indexes the planner uses for equality lookups and sorts: not partial ones."""
    return [index for index in indexes if not index.partial]


# --- The hot queries, compiled -----------------------------------------------------------------------


def pipeline(queryset: QuerySet) -> list[dict]:
    """The MQL pipeline django-mongodb-backend sends for `queryset` (as its compiler's execute_sql builds it)."""
    compiler = queryset.query.get_compiler(using=SHADOW_ALIAS)
    compiler.pre_sql_setup()
    query = compiler.query
    columns = compiler.columns if query.annotations or not query.default_cols or query.distinct else None
    return compiler.build_query(columns).get_pipeline()


def _equality_fields(match: dict) -> set[str]:
    fields: set[str] = set()
    for key, value in match.items():
        if key == "$and":
            for condition in value:
                fields |= _equality_fields(condition)
        elif key.startswith("$"):
            raise AssertionError(f"cannot tell which index serves {{{key!r}: {value!r}}}: extend this test")
        elif not isinstance(value, dict) or set(value) <= {"$eq", "$in"}:
            fields.add(key)
        # else a range ($gt, $lt…): an index may serve it after the equality keys; not required here
    return fields


def _is_pass_through(stage: dict) -> bool:
    """A `$project`/`$addFields` that only keeps fields as they are: the server moves a `$sort` before it."""
    return all(value in (1, True) or value == f"${field}" for field, value in stage.items())


def access_path(stages: list[dict]) -> tuple[set[str], list[tuple[str, int]]]:
    """(equality fields of the `$match`, keys of the `$sort`) of a single-collection pipeline."""
    equality: set[str] = set()
    sort: list[tuple[str, int]] = []
    for stage in stages:
        ((operator, argument),) = stage.items()
        if operator == "$match":
            assert not sort, f"a $match after the $sort: {stages}"
            equality |= _equality_fields(argument)
        elif operator == "$sort":
            sort = [(field, int(direction)) for field, direction in argument.items()]
        elif operator in ("$project", "$addFields"):
            assert _is_pass_through(argument), f"{operator} computes fields: cannot tell the index use of {stages}"
        elif operator not in ("$limit", "$skip"):
            raise AssertionError(f"unexpected stage {operator} in {stages}: extend this test")
    return equality, sort


def sort_needing_an_index(
    indexes: list[IndexDef], equality: set[str], sort: list[tuple[str, int]]
) -> list[tuple[str, int]]:
    """The sort keys an index must give after the equality keys: none when the equality fields
    include `_id` or a unique constraint's fields (at most one document matches)."""
    if any(set(index.fields) <= equality for index in indexes if index.unique):
        return []
    return [(field, direction) for field, direction in sort if field not in equality]


def serving_index(indexes: list[IndexDef], equality: set[str], sort: list[tuple[str, int]]) -> IndexDef | None:
    """The non-partial index whose leading keys are the equality fields followed by the sort keys."""
    if "_id" in equality:
        return next(index for index in indexes if index.name == ID_INDEX)
    sort = sort_needing_an_index(indexes, equality, sort)
    for index in usable(indexes):
        leading, following = index.keys[: len(equality)], index.keys[len(equality) :]
        if {field for field, _ in leading} != equality or len(leading) != len(equality):
            continue
        if sort:
            along = following[: len(sort)]
            if [field for field, _ in along] != [field for field, _ in sort]:
                continue
            # One pass along the index, forwards or backwards, gives the order.
            if len({a * b for (_, a), (_, b) in zip(along, sort, strict=True)}) != 1:
                continue
        return index
    return None


HOT_QUERIES = {
    # releases.services.lifecycle / the API's duplicate-version check: a release by its version.
    "release by version": (
        lambda: Release.objects.filter(version="2.0.0"),
        {"version"},
    ),
    # audit.services.audit_record: the tail of the hash chain (`.first()` → `[:1]`).
    "audit append's tail read": (
        lambda: AuditEvent.objects.order_by("-seq").values("seq", "hash")[:1],
        set(),
    ),
    # The deployment with a sequence number of an environment (unique together).
    "deployment by (environment, sequence)": (
        lambda: Deployment.objects.filter(environment="production", sequence=3),
        {"environment_id", "sequence"},
    ),
    # An environment's deployments in sequence order (history replay, analytics).
    "an environment's deployments by sequence": (
        lambda: Deployment.objects.filter(environment="production").order_by("sequence"),
        {"environment_id"},
    ),
    "an environment's deployments, last sequence first": (
        lambda: Deployment.objects.filter(environment="production").order_by("-sequence")[:1],
        {"environment_id"},
    ),
    # opsportal.services: claiming an Idempotency-Key (`.filter(user=, key=).first()`).
    "idempotency claim by (user, key)": (
        lambda: IdempotencyRecord.objects.filter(user="alice", key="k-1").order_by("pk")[:1],
        {"user", "key"},
    ),
    # tokens.authentication: every request with an API token looks it up by the hash of its secret.
    "API token by secret hash": (
        lambda: ApiToken.objects.filter(secret_hash="0" * 64).order_by("pk")[:1],
        {"secret_hash"},
    ),
    # audit.selectors.audit_chain_verify: the latest checkpoint.
    "latest audit checkpoint": (lambda: AuditCheckpoint.objects.order_by("-seq")[:1], set()),
    # The default list order of the named documents (DRF `ordering = ["name"]`) and lookups by name.
    "teams by name": (lambda: Team.objects.order_by("name")[:20], set()),
    "workflow by name": (lambda: Workflow.objects.filter(name="Standard"), {"name"}),
    "environment by name": (lambda: Environment.objects.filter(name="Production"), {"name"}),
    "releases ordered by version": (lambda: Release.objects.order_by("version")[:20], set()),
}


@pytest.mark.parametrize("name", list(HOT_QUERIES))
def test_hot_query_is_served_by_a_plain_index(created_indexes, name):
    make_queryset, expected_equality = HOT_QUERIES[name]
    queryset = make_queryset()
    stages = pipeline(queryset)
    equality, sort = access_path(stages)
    assert equality == expected_equality, f"the query compiles differently than this test expects: {stages}"
    assert equality or sort, f"nothing to serve from an index: {stages}"
    indexes = created_indexes[queryset.model._meta.db_table]
    needed = sort_needing_an_index(indexes, equality, sort)
    assert serving_index(indexes, equality, sort) is not None, (
        f"{name}: no non-partial index of {queryset.model._meta.db_table} has the leading keys "
        f"{sorted(equality)}" + (f" then {needed}" if needed else "") + " — on MongoDB the query scans the "
        "collection or sorts in memory (a unique constraint's partial index does not serve it: declare a "
        f"plain models.Index in Meta).\n  pipeline: {stages}\n  indexes:\n"
        + "\n".join(f"    {index}" for index in indexes)
    )


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_lookup_by_primary_key_uses_the_built_in_id_index(created_indexes, model):
    assert model._meta.pk.column == "_id", f"{model._meta.label}: the primary key needs db_column='_id'"
    for queryset in (model.objects.filter(pk="some-id"), model.objects.filter(pk__in=["a", "b"])):
        stages = pipeline(queryset)
        equality, sort = access_path(stages)
        assert equality == {"_id"}, stages
        index = serving_index(created_indexes[model._meta.db_table], equality, sort)
        assert index is not None and index.name == ID_INDEX


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_no_index_on_a_separate_id_field(created_indexes, model):
    """With the key in `_id`, nothing is stored (or indexed) under `id` besides it."""
    indexes = created_indexes[model._meta.db_table]
    assert not [index for index in indexes if "id" in index.fields], [str(index) for index in indexes]


@pytest.mark.parametrize("model", our_models(), ids=lambda model: model._meta.label)
def test_every_unique_constraint_also_has_a_plain_index(created_indexes, model):
    """Unique fields are looked up (duplicate checks, by-key reads): each has a plain index beside its partial one."""
    indexes = created_indexes[model._meta.db_table]
    for unique in [index for index in indexes if index.unique and index.name != ID_INDEX]:
        assert unique.partial, f"{unique}: expected django-mongodb-backend's partial unique index"
        assert serving_index(indexes, set(unique.fields), []) is not None, (
            f"{model._meta.label}: unique {unique.fields} has only its partial index, which MongoDB's planner "
            f"does not use for equality lookups; add models.Index(fields={unique.fields}) to Meta.indexes.\n"
            + "\n".join(f"    {index}" for index in indexes)
        )


def test_the_check_catches_a_query_without_a_plain_index(created_indexes):
    """The check itself: a unique field's partial index does not count, an unindexed field is caught."""
    indexes = created_indexes[Release._meta.db_table]
    partial_only = [index for index in indexes if index.name != "release_version_idx"]
    assert serving_index(partial_only, {"version"}, []) is None
    assert serving_index(indexes, {"version"}, []).name == "release_version_idx"
    equality, sort = access_path(pipeline(Release.objects.filter(created_by="alice").order_by("name")))
    assert serving_index(indexes, equality, sort) is None
    # A sort the index gives neither forwards nor backwards.
    assert serving_index(indexes, {"status"}, [("created_at", 1), ("_id", 1)]) is None
    assert serving_index(indexes, {"status"}, [("created_at", 1)]).name == "release_status_idx"


# --- The migration that moves the keys to `_id` -------------------------------------------------------


class _DocumentsCollection:
    def __init__(self, name: str, has_id_field: bool, calls: list) -> None:
        self.name, self.has_id_field, self.calls = name, has_id_field, calls

    def find_one(self, criteria: dict, projection: Any = None) -> dict | None:
        self.calls.append((self.name, "find_one", criteria))
        return {"_id": "an ObjectId"} if self.has_id_field else None

    def aggregate(self, stages: list, **kwargs: Any) -> list:
        self.calls.append((self.name, "aggregate", stages))
        return []


def test_migration_gives_existing_mongodb_documents_their_id_as__id():
    """Documents written before the change carry `id` and an ObjectId `_id`; the migration rewrites
    them with `_id` from `id` ($out keeps the collection's indexes), before the AlterField's `$rename`
    (which the server refuses on `_id`) would find anything to rename. Empty collections are untouched."""
    calls: list = []
    populated = {"releases_release"}
    connection = SimpleNamespace(
        vendor="mongodb",
        get_collection=lambda name, **kwargs: _DocumentsCollection(name, name in populated, calls),
    )
    step = primary_keys_to_mongodb_id("releases.Release", "releases.Deployment")
    step.code(apps, SimpleNamespace(connection=connection))
    assert [(name, op) for name, op, _ in calls] == [
        ("releases_release", "find_one"),
        ("releases_release", "aggregate"),
        ("releases_deployment", "find_one"),
    ]
    assert calls[0][2] == {"id": {"$exists": True}}
    assert calls[1][2] == [
        {"$set": {"_id": {"$ifNull": ["$id", "$_id"]}}},
        {"$unset": "id"},
        {"$out": "releases_release"},
    ]


def test_migration_step_leaves_sqlite_to_the_alter_field():
    def refuse(name, **kwargs):
        raise AssertionError("no collections on SQLite")

    step = primary_keys_to_mongodb_id("releases.Release")
    step.code(apps, SimpleNamespace(connection=SimpleNamespace(vendor="sqlite", get_collection=refuse)))
