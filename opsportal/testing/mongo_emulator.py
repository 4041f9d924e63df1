"""An in-process MongoDB for the execute mode: django-mongodb-backend over `mongomock` (DESIGN §3).

No MongoDB server can be installed on our machines. The compile mode (`mongo_compile.py`) proves
that every query compiles; this module lets the compiled queries *run*, so the differential suite
(`tests/mongo_execute/`) can compare what they return with SQLite. `install()` does two things.

**Seams in the backend** (nothing of django-mongodb-backend is copied or changed otherwise):
- `django_mongodb_backend.base.MongoClient` → one shared `mongomock.MongoClient` per process;
- `DatabaseWrapper.get_collection` → the emulator's own collection (the backend wraps the
  database in a pymongo `Collection`, which needs a real client);
- `DatabaseWrapper.get_database_version` → `EMULATED_SERVER_VERSION` (the emulator has no `buildInfo`);
- `DatabaseFeatures._supports_transactions` and `supports_atlas_search` → False (no `hello`, no
  sessions, no search indexes), and the transaction API of the connection
  (`start_transaction_mongo` / `commit_mongo` / `rollback_mongo`) runs a unit of work *without*
  a transaction: `session` stays None, commit runs the on-commit hooks, rollback drops them.
  So this mode proves nothing about transactions, isolation or write conflicts: a unit that
  fails half-way keeps its writes here. The `MONGODB_URI` leg (a real replica set) does.

**Patches to mongomock** (pinned: `MONGOMOCK_VERSION`, in requirements-dev.txt), one function
each, each named after the MongoDB manual page of what it emulates and tested on its own in
`opsportal/tests/test_mongo_emulator.py`. They emulate only what django-mongodb-backend 5.2
generates for our queries; anything else the emulator does not know still fails loudly
(`NotImplementedError` / `OperationFailure`), which the differential suite reports.

Upstream: every patch below is a general gap or a fidelity bug of mongomock 4.3.0, not something
specific to this project, and is written against mongomock's own structures (its `_Parser`, its
pipeline handler table, its store) so that it could be offered as a pull request as it is. Each
docstring says "Upstream:" with what the change there would be.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

MONGOMOCK_VERSION = "4.3.0"
EMULATED_SERVER_VERSION = (7, 0, 0)
# The database URI the execute mode configures (settings need one); no server is ever asked.
EMULATOR_URI = "mongodb://mongo-emulator.invalid:27017/opsportal"

_lock = threading.Lock()
_installed = False
_client: Any = None


def emulator_client() -> Any:
    """The one `mongomock.MongoClient` of this process (every connection shares its data)."""
    global _client
    import mongomock

    with _lock:
        if _client is None:
            _client = mongomock.MongoClient()
        return _client


# --------------------------------------------------------------------------- mongomock patches


def patch_list_collections() -> None:
    """`Database.list_collections()` — https://www.mongodb.com/docs/manual/reference/command/listCollections/

    mongomock 4.3.0 raises NotImplementedError; Django's migration recorder and the backend's
    introspection (`table_names`) call it, so `migrate` cannot start. Answers one document per
    collection (`name`, `type`, `options`, `info`, `idIndex`), filtered like `list_collection_names`.

    Upstream: implement `Database.list_collections` on top of `list_collection_names`.
    """
    from mongomock import command_cursor
    from mongomock.database import Database

    def list_collections(self: Any, filter: dict | None = None, session: Any = None, **kwargs: Any) -> Any:
        names = self.list_collection_names(filter=filter, session=session)
        return command_cursor.CommandCursor(
            [
                {
                    "name": name,
                    "type": "collection",
                    "options": {},
                    "info": {"readOnly": False},
                    "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
                }
                for name in sorted(names)
            ]
        )

    Database.list_collections = list_collections


def patch_collection_options() -> None:
    """`Collection.options()` — the `options` of a collection in
    https://www.mongodb.com/docs/manual/reference/command/listCollections/ (pymongo reads it from there).

    mongomock 4.3.0 lacks the method; django-mongodb-backend's flush (`execute_sql_flush`) asks
    it whether a collection is capped, so `manage.py flush` — and every test on MongoDB, which
    flushes afterwards — failed. The emulator creates no capped collections: the options are `{}`.

    Upstream: add `Collection.options()` answering the options given to `create_collection`.
    """
    from mongomock.collection import Collection

    def options(self: Any, session: Any = None, comment: Any = None) -> dict:
        return {}

    Collection.options = options


def patch_duplicate_key_message() -> None:
    """Duplicate key errors say `E11000 duplicate key error …` —
    https://www.mongodb.com/docs/manual/core/index-unique/ (and the server's error code 11000).

    mongomock 4.3.0 says `E11000 Duplicate Key Error`; django-mongodb-backend recognises a
    `BulkWriteError` as an `IntegrityError` only by the server's lower-case text, so a unique
    index violation on insert surfaced as a `BulkWriteError` instead of Django's `IntegrityError`.

    Upstream: use the server's wording in `mongomock.collection` (`E11000 duplicate key error
    collection: <db>.<coll> index: <name> dup key: …`).
    """
    import mongomock.collection
    from pymongo.errors import DuplicateKeyError

    class ServerWordedDuplicateKeyError(DuplicateKeyError):
        def __init__(self, error: str, code: int | None = None, *args: Any, **kwargs: Any) -> None:
            if isinstance(error, str) and error.startswith("E11000 Duplicate Key Error"):
                error = "E11000 duplicate key error" + error[len("E11000 Duplicate Key Error") :]
            super().__init__(error, code, *args, **kwargs)

    mongomock.collection.DuplicateKeyError = ServerWordedDuplicateKeyError


def _bind_variables(node: Any, variables: dict[str, Any]) -> Any:
    """`node` with every `$$name` / `$$name.path` of `variables` replaced by its value (as `$literal`)."""
    from mongomock import helpers

    if isinstance(node, str) and node.startswith("$$"):
        name, _, path = node[2:].partition(".")
        if name in variables:
            value = variables[name]
            if path:
                try:
                    value = helpers.get_value_by_dot(value, path, can_generate_array=True)
                except KeyError:
                    value = None
            return {"$literal": value}
        return node
    if isinstance(node, dict):
        if set(node) == {"$literal"}:
            return node
        return {key: _bind_variables(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_bind_variables(item, variables) for item in node]
    return node


def patch_lookup_pipeline() -> None:
    """`$lookup` with `let` and `pipeline`, also in the concise form `localField`/`foreignField` +
    `pipeline` — https://www.mongodb.com/docs/manual/reference/operator/aggregation/lookup/

    mongomock 4.3.0 implements only the equality form and raises NotImplementedError on `let` and
    `pipeline`. django-mongodb-backend builds every join (`select_related`, a filter across a
    relation, `Subquery`/`OuterRef`, `__in` a queryset) as `$lookup` with `let` + `pipeline`.
    Emulated: the `let` expressions are evaluated on each input document; the sub-pipeline runs
    on the foreign collection (after the localField/foreignField equality, in the concise form)
    with every `$$variable` bound to its value.

    Upstream: the same in `mongomock.aggregate._handle_lookup_stage` (binding through the
    `_Parser`'s `user_vars` instead of rewriting the sub-pipeline).
    """
    import copy

    from mongomock import aggregate, filtering, helpers

    original = aggregate._handle_lookup_stage

    def handle_lookup_stage(in_collection: list, database: Any, options: dict) -> list:
        if "pipeline" not in options and "let" not in options:
            return original(in_collection, database, options)
        foreign = list(database.get_collection(options["from"]).find()) if options.get("from") else []
        local_field, foreign_field = options.get("localField"), options.get("foreignField")
        for doc in in_collection:
            variables = {
                name: aggregate._parse_expression(expression, doc, ignore_missing_keys=True)
                for name, expression in (options.get("let") or {}).items()
            }
            candidates = foreign
            if local_field and foreign_field:
                try:
                    wanted = helpers.get_value_by_dot(doc, local_field, can_generate_array=True)
                except KeyError:
                    wanted = None
                query = {foreign_field: {"$in": wanted} if isinstance(wanted, list) else wanted}
                candidates = [other for other in foreign if filtering.filter_applies(query, other)]
            pipeline = _bind_variables(options.get("pipeline") or [], variables)
            matched = aggregate.process_pipeline(copy.deepcopy(candidates), database, pipeline, None)
            doc[options["as"]] = list(matched)
        return in_collection

    aggregate._handle_lookup_stage = handle_lookup_stage
    aggregate._PIPELINE_HANDLERS["$lookup"] = handle_lookup_stage


def _bson_type(value: Any) -> str:
    """The alias `$type` answers for a value (https://www.mongodb.com/docs/manual/reference/bson-types/)."""
    import decimal
    import re

    from bson import Binary, Decimal128, Int64, ObjectId, Regex, Timestamp

    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "long"
    if isinstance(value, int):
        return "int" if -(2**31) <= value < 2**31 else "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, Decimal128 | decimal.Decimal):
        return "decimal"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, bytes | Binary):
        return "binData"
    if isinstance(value, ObjectId):
        return "objectId"
    if isinstance(value, dt.datetime):
        return "date"
    if isinstance(value, Regex | re.Pattern):
        return "regex"
    if isinstance(value, Timestamp):
        return "timestamp"
    raise NotImplementedError(f"$type of {type(value).__name__} is not emulated")


_WEEKDAYS = {
    name: index
    for index, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue"),
            ("wednesday", "wed"),
            ("thursday", "thu"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        )
    )
    for name in names
}


def _date_trunc(date: Any, unit: str, bin_size: int, timezone: str | None, start_of_week: str) -> Any:
    """`$dateTrunc` with `binSize` 1, as MongoDB computes it: in `timezone`, answered as naive UTC."""
    from zoneinfo import ZoneInfo

    if date is None:
        return None
    if bin_size != 1:
        raise NotImplementedError("$dateTrunc is emulated for binSize 1 only")
    zone = ZoneInfo(timezone or "UTC")
    aware = date if date.tzinfo else date.replace(tzinfo=dt.UTC)
    local = aware.astimezone(zone)
    if unit == "year":
        local = local.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "quarter":
        local = local.replace(month=(local.month - 1) // 3 * 3 + 1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "month":
        local = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    elif unit == "week":
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        local = midnight - dt.timedelta(days=(local.weekday() - _WEEKDAYS[start_of_week.lower()]) % 7)
    elif unit == "day":
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        local = local.replace(minute=0, second=0, microsecond=0)
    elif unit == "minute":
        local = local.replace(second=0, microsecond=0)
    elif unit == "second":
        local = local.replace(microsecond=0)
    else:
        raise NotImplementedError(f"$dateTrunc unit {unit!r} is not emulated")
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def patch_expression_operators() -> None:
    """Aggregation expressions mongomock 4.3.0 does not know, which django-mongodb-backend emits:

    - `$type` — https://www.mongodb.com/docs/manual/reference/operator/aggregation/type/
      (the backend's `isnull` / JSON key lookups ask whether a value is `"missing"` or `"null"`);
    - `$getField` — https://www.mongodb.com/docs/manual/reference/operator/aggregation/getField/
      (keys of JSONFields and columns whose names need quoting);
    - `$dateTrunc` — https://www.mongodb.com/docs/manual/reference/operator/aggregation/dateTrunc/
      (`TruncDay`, `TruncWeek`… with `timezone` and `startOfWeek`; `binSize` 1).

    Each is evaluated by mongomock's own `_Parser`, so they nest in any other expression; an
    operator that is still unknown keeps failing with mongomock's "Unrecognized expression".

    Upstream: three branches in `mongomock.aggregate._Parser.parse` (`type_operators`,
    `date_operators`, and an object-expression group for `$getField`).
    """
    from mongomock import aggregate

    original_parse = aggregate._Parser.parse

    def parse(self: Any, expression: Any) -> Any:
        if isinstance(expression, dict) and len(expression) == 1:
            ((operator, argument),) = expression.items()
            if operator == "$type":
                argument = argument[0] if isinstance(argument, list) and len(argument) == 1 else argument
                try:
                    return _bson_type(parse(self, argument))
                except KeyError:
                    return "missing"
            if operator == "$getField":
                spec = argument if isinstance(argument, dict) else {"field": argument, "input": "$$CURRENT"}
                name = parse(self, spec["field"])
                source = parse(self, spec.get("input", "$$CURRENT"))
                if not isinstance(source, dict) or name not in source:
                    raise KeyError(name)  # missing: what mongomock answers for an absent field
                return source[name]
            if operator == "$dateTrunc":
                return _date_trunc(
                    parse(self, argument["date"]),
                    parse(self, argument["unit"]),
                    parse(self, argument.get("binSize", 1)),
                    parse(self, argument.get("timezone")) if "timezone" in argument else None,
                    parse(self, argument.get("startOfWeek", "sunday")),
                )
        return original_parse(self, expression)

    aggregate._Parser.parse = parse


def patch_unset_stage() -> None:
    """The `$unset` stage — https://www.mongodb.com/docs/manual/reference/operator/aggregation/unset/

    mongomock 4.3.0 has no handler for it; django-mongodb-backend removes helper fields with it.
    It is the exclusion `$project` of the named fields, which mongomock implements.

    Upstream: `'$unset': lambda c, d, o: _handle_project_stage(c, d, {f: 0 for f in ...})`.
    """
    from mongomock import aggregate

    def handle_unset_stage(in_collection: list, database: Any, options: Any) -> list:
        fields = [options] if isinstance(options, str) else list(options)
        return aggregate._handle_project_stage(in_collection, database, dict.fromkeys(fields, 0))

    aggregate._PIPELINE_HANDLERS["$unset"] = handle_unset_stage


def _flatten_projection(spec: dict, prefix: str = "") -> dict:
    """`{"a": {"b": 1}}` → `{"a.b": 1}` where a nested document holds only inclusions/exclusions."""
    flat: dict = {}
    for key, value in spec.items():
        path = f"{prefix}{key}"
        if (
            isinstance(value, dict)
            and value
            and not any(str(k).startswith("$") for k in value)
            and all(_is_inclusion_tree(v) for v in value.values())
        ):
            flat.update(_flatten_projection(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _is_inclusion_tree(value: Any) -> bool:
    if isinstance(value, dict):
        return (
            bool(value)
            and not any(str(k).startswith("$") for k in value)
            and all(_is_inclusion_tree(v) for v in value.values())
        )
    return isinstance(value, bool) or value in (0, 1)


def patch_project_nested_inclusion() -> None:
    """Nested inclusion in `$project`, `{"teams_team": {"name": 1}}` — the "embedded document
    fields" form of https://www.mongodb.com/docs/manual/reference/operator/aggregation/project/

    mongomock 4.3.0 reads a nested document of 1/0 values as a *literal* to compute, so the
    projected field became `{"name": 1}` instead of the joined document's `name`. It is the
    dotted form `{"teams_team.name": 1}`, which mongomock implements.

    Upstream: normalise nested inclusion specs to dotted paths in `_handle_project_stage`.
    """
    from mongomock import aggregate

    original = aggregate._handle_project_stage

    def handle_project_stage(in_collection: list, database: Any, options: dict) -> list:
        return original(in_collection, database, _flatten_projection(options))

    aggregate._handle_project_stage = handle_project_stage
    aggregate._PIPELINE_HANDLERS["$project"] = handle_project_stage


def patch_create_indexes_partial_filter() -> None:
    """`create_indexes` keeps each `IndexModel`'s `partialFilterExpression` —
    https://www.mongodb.com/docs/manual/core/index-partial/

    mongomock 4.3.0 passes only key, name, unique, sparse and expiry on to `create_index`, so the
    partial unique indexes django-mongodb-backend builds for a nullable unique field (`{field: {$type:
    …}}`, so that many documents may leave it null, as on SQL databases) became plain unique indexes
    and a second null was a duplicate key (issue #13: `Incident.external_id`). `create_index` itself
    honours the option.

    Upstream: pass `partialFilterExpression` (as a plain dict) through in `Collection.create_indexes`.
    """
    from mongomock.collection import Collection

    def create_indexes(self: Any, indexes: Any, session: Any = None, **kwargs: Any) -> list[str]:
        names = []
        for index in indexes:
            document = index.document
            partial = document.get("partialFilterExpression")
            options = {"partialFilterExpression": _plain(partial)} if partial is not None else {}
            names.append(
                self.create_index(
                    document["key"].items(),
                    session=session,
                    expireAfterSeconds=document.get("expireAfterSeconds"),
                    unique=document.get("unique", False),
                    sparse=document.get("sparse", False),
                    name=document.get("name"),
                    **options,
                )
            )
        return names

    Collection.create_indexes = create_indexes


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


PATCHES: tuple[Callable[[], None], ...] = (
    patch_list_collections,
    patch_collection_options,
    patch_duplicate_key_message,
    patch_lookup_pipeline,
    patch_expression_operators,
    patch_unset_stage,
    patch_project_nested_inclusion,
    patch_create_indexes_partial_filter,
)


# --------------------------------------------------------------------------- backend seams


def _install_backend_seams() -> None:
    import django_mongodb_backend.base as base
    from django_mongodb_backend.features import DatabaseFeatures
    from django_mongodb_backend.utils import OperationDebugWrapper

    base.MongoClient = lambda *args, **kwargs: emulator_client()

    def get_collection(self: Any, name: str, **kwargs: Any) -> Any:
        collection = self.database.get_collection(name, **kwargs)
        return OperationDebugWrapper(self, collection) if self.queries_logged else collection

    def start_transaction_mongo(self: Any) -> None:
        self.ensure_connection()  # no session: the emulator has none

    def commit_mongo(self: Any) -> None:
        self.run_and_clear_commit_hooks()

    def rollback_mongo(self: Any) -> None:
        self.run_on_commit = []

    base.DatabaseWrapper.get_collection = get_collection
    base.DatabaseWrapper.get_database_version = lambda self: EMULATED_SERVER_VERSION
    base.DatabaseWrapper.start_transaction_mongo = start_transaction_mongo
    base.DatabaseWrapper.commit_mongo = commit_mongo
    base.DatabaseWrapper.rollback_mongo = rollback_mongo
    # Plain class attributes replace the cached properties that would ask the server.
    DatabaseFeatures._supports_transactions = False
    DatabaseFeatures.supports_atlas_search = False


def install() -> None:
    """Patch mongomock and django-mongodb-backend (once per process; see the module docstring)."""
    global _installed
    with _lock:
        if _installed:
            return
        import mongomock

        if mongomock.__version__ != MONGOMOCK_VERSION:
            raise RuntimeError(
                f"the MongoDB execute mode is written for mongomock {MONGOMOCK_VERSION}, found {mongomock.__version__} "
                "(pip install -r requirements-dev.txt)"
            )
        for patch in PATCHES:
            patch()
        _install_backend_seams()
        _installed = True


def activate() -> None:
    """Configure this process for MongoDB served by the emulator, before Django reads its settings
    (`opsportal/testing/pytest_env.py` calls it when `OPSPORTAL_MONGO_EXECUTE=1` and `MONGODB_URI` is unset)."""
    import os
    import tempfile

    os.environ["MONGODB_URI"] = EMULATOR_URI
    # MongoDB without Redis uses a file cache (settings): one of this run's own.
    os.environ.setdefault("OPSPORTAL_CACHE_DIR", tempfile.mkdtemp(prefix="opsportal-execute-cache-"))
    install()


def drop_everything() -> None:
    """Forget every database of the emulator (a fresh server)."""
    client = emulator_client()
    for name in client.list_database_names():
        client.drop_database(name)
