"""MongoDB compile mode (DESIGN §3): prove every ORM operation the tests run also works on MongoDB.

With `OPSPORTAL_MONGO_COMPILE=1` (or `pytest --mongo-compile`), every query that the tests
execute on SQLite against one of our own models (select, aggregate, insert, update,
delete) is first compiled *and executed* by django-mongodb-backend's compilers on a
shadow connection. The shadow answers `get_database_version()` with 7.0 and hands out
recording stand-ins from `get_collection()`, so the whole compile path — including the
backend's own `NotSupportedError` checks — runs without a server. Any error fails the
test that caused it, naming the query.

It also fails what compiles but DESIGN §3 forbids, because MongoDB would silently do
something else: `bulk_create(ignore_conflicts=True)` (and `update_conflicts`),
`select_for_update()`, pattern lookups (`icontains`, `startswith`, `regex`…) on a JSONField
or a key inside one (a `$regex` on a sub-document matches nothing), and raw SQL sent
through `connection.cursor()` or `Model.objects.raw()`. Raw SQL is told apart by where it
comes from: the ORM compilers, Django's own machinery (migrations, flush, savepoints and
transactions, backend feature probes, the SQLite-only database cache) and anything run
by a migration are fine; everything else, and `raw()`, is a finding. The SQLite-only
EXPLAIN tests opt out with `allow_raw_sql()`.

Django's contrib models (users, groups, sessions…) are left out: on MongoDB they run
under their own ObjectId-keyed app configs (`opsportal.database`), not the SQLite ones.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

SHADOW_ALIAS = "mongo_compile_shadow"
OUR_APPS = {
    "releases",
    "environments",
    "teams",
    "workflows",
    "dashboard",
    "audit",
    "opsportal",
    "tokens",
    "events",
    "incidents",
    "evidence",
}
SHADOW_SERVER_VERSION = (7, 0, 0)


@dataclass
class CompileFailure:
    operation: str
    model: str
    error: str
    trace: str
    where: str = ""

    def describe(self) -> str:
        on = f" on {self.model}" if self.model else ""
        at = f" at {self.where}" if self.where else ""
        return f"{self.operation}{on}{at}: {self.error}\n{self.trace}"


@dataclass
class Recorder:
    """Collects what the shadow compiled (pipelines, writes) and what failed to compile."""

    failures: list[CompileFailure] = field(default_factory=list)
    operations: list[tuple[str, str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, collection: str, op: str, payload: Any) -> None:
        with self.lock:
            self.operations.append((collection, op, payload))

    def fail(self, failure: CompileFailure) -> None:
        with self.lock:
            self.failures.append(failure)


class _Cursor:
    """Stands in for a pymongo CommandCursor over no documents."""

    def __iter__(self) -> Iterator[dict]:
        return iter(())

    def next(self) -> dict:
        raise StopIteration

    __next__ = next


class RecordingCollection:
    """Stands in for a pymongo Collection: records each call and returns an empty result."""

    def __init__(self, name: str, recorder: Recorder) -> None:
        self.name = name
        self.recorder = recorder

    def aggregate(self, pipeline: list, session: Any = None, **kwargs: Any) -> _Cursor:
        self.recorder.record(self.name, "aggregate", pipeline)
        return _Cursor()

    def insert_many(self, documents: list, session: Any = None, **kwargs: Any) -> SimpleNamespace:
        documents = list(documents)
        self.recorder.record(self.name, "insert_many", documents)
        return SimpleNamespace(inserted_ids=[doc.get("_id") for doc in documents])

    def update_many(self, criteria: dict, update: Any, session: Any = None, **kwargs: Any) -> SimpleNamespace:
        self.recorder.record(self.name, "update_many", (criteria, update))
        return SimpleNamespace(matched_count=0, modified_count=0)

    def delete_many(self, criteria: dict, session: Any = None, **kwargs: Any) -> SimpleNamespace:
        self.recorder.record(self.name, "delete_many", criteria)
        return SimpleNamespace(deleted_count=0)


def _shadow_connection():
    """A django-mongodb-backend connection that never talks to a server."""
    from django.db import connections
    from django_mongodb_backend.base import DatabaseWrapper

    settings_dict = {
        "ENGINE": "django_mongodb_backend",
        "NAME": "opsportal_compile_shadow",
        "HOST": "",
        "PORT": "",
        "USER": "",
        "PASSWORD": "",
        "OPTIONS": {},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    shadow = DatabaseWrapper(settings_dict, alias=SHADOW_ALIAS)
    shadow.get_database_version = lambda: SHADOW_SERVER_VERSION
    shadow.get_collection = lambda name, **kwargs: RecordingCollection(name, _recorders[-1])
    # Compilers look nested queries up by alias (e.g. aggregate over a subquery).
    connections[SHADOW_ALIAS] = shadow
    return shadow


_state = threading.local()


def _is_ours(query) -> bool:
    model = getattr(query, "model", None)
    return model is not None and model._meta.app_label in OUR_APPS


def _trace() -> str:
    """The stack of the code that ran the operation, without pytest's frames and this module's."""
    skip = (__file__, f"{os.sep}_pytest{os.sep}", f"{os.sep}pluggy{os.sep}")
    frames = [f for f in traceback.extract_stack(limit=60) if not any(part in f.filename for part in skip)]
    return "".join(traceback.format_list(frames[-25:]))


def _frames(frame) -> Iterator:
    """A frame and its callers, innermost first."""
    while frame is not None:
        yield frame
        frame = frame.f_back


def _django_file(*parts: str) -> str:
    import django

    return os.path.join(os.path.dirname(django.__file__), *parts)


def _called_from(filename: str, function: str) -> bool:
    return any(f.f_code.co_filename == filename and f.f_code.co_name == function for f in _frames(sys._getframe(1)))


# Lookups MongoDB runs as a `$regex` / `$regexMatch`: on a sub-document they match nothing.
PATTERN_LOOKUPS = frozenset(
    {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith", "regex", "iregex"}
)


def _json_path(expr) -> str | None:
    """`model.field__key__…` when `expr` is a JSONField column or a key inside one, else None."""
    from django.db.models import JSONField
    from django.db.models.expressions import Col
    from django.db.models.fields.json import KeyTransform

    keys: list[str] = []
    while isinstance(expr, KeyTransform):
        keys.insert(0, str(expr.key_name))
        expr = expr.lhs
    if isinstance(expr, Col) and isinstance(expr.target, JSONField):
        return "__".join([f"{expr.target.model._meta.label}.{expr.target.name}", *keys])
    return None


def _json_pattern_lookups(node) -> Iterator[str]:
    """Every pattern lookup on JSON data in a query, its subqueries and its expressions."""
    from django.db.models.fields.json import DataContains
    from django.db.models.lookups import Lookup
    from django.db.models.sql.query import Query

    if isinstance(node, Query):
        children = [node.where, *node.annotations.values(), *node.order_by]
        children += [value for _, _, value in getattr(node, "values", ())]  # an UpdateQuery's new values
    else:
        children = node.get_source_expressions() if hasattr(node, "get_source_expressions") else []
    # `contains` on JSON is containment (DataContains), which the backend refuses by itself.
    if isinstance(node, Lookup) and node.lookup_name in PATTERN_LOOKUPS and not isinstance(node, DataContains):
        path = _json_path(node.lhs)
        if path:
            yield f"{path}__{node.lookup_name}"
    for child in children:
        yield from _json_pattern_lookups(child)


def _portability_findings(query) -> list[str]:
    """What compiles for MongoDB but would not do there what it does on SQLite (DESIGN §3)."""
    findings = []
    on_conflict = getattr(query, "on_conflict", None)
    if on_conflict is not None:
        findings.append(
            f"bulk_create({on_conflict.value}_conflicts=True): MongoDB's insert_many ignores it, so a conflict "
            "raises (or a row is duplicated) instead; look the rows up first"
        )
    # Django's update_or_create() locks with select_for_update() itself; that is not ours to refuse.
    if query.select_for_update and not _called_from(_django_file("db", "models", "query.py"), "update_or_create"):
        findings.append(
            "select_for_update(): MongoDB has no row locks, it would lock nothing; write the documents that "
            "decided the outcome conditionally on their revision instead (the unit of work)"
        )
    findings += [
        f"{path}: a pattern lookup on JSON data becomes a $regex on a sub-document, which matches nothing on "
        "MongoDB; keep a search field up to date instead"
        for path in _json_pattern_lookups(query)
    ]
    return findings


def _raw_sql_failure(sql: str) -> CompileFailure | None:
    """A finding for a statement sent outside the ORM compilers, unless Django's own machinery sent it."""
    from django.db.models.query import RawQuerySet

    cursor_file, django_dir = _django_file("db", "backends", "utils.py"), _django_file("")
    frames = [f for f in _frames(sys._getframe(1)) if f.f_code.co_filename not in (__file__, cursor_file)]
    sender = frames[0].f_code.co_filename
    # Savepoints, transactions, schema changes, flush, feature probes, the database cache, test
    # machinery all send their SQL from inside Django; its model layer only through `raw()`.
    if sender.startswith(django_dir) and not sender.startswith(_django_file("db", "models", "")):
        return None
    if any(f"{os.sep}migrations{os.sep}" in f.f_code.co_filename for f in frames):
        return None
    raw = next((f.f_locals["self"] for f in frames if isinstance(f.f_locals.get("self"), RawQuerySet)), None)
    caller = next((f for f in frames if not f.f_code.co_filename.startswith(django_dir)), frames[0])
    return CompileFailure(
        operation="Model.objects.raw()" if raw is not None else "raw SQL through connection.cursor()",
        model=raw.model._meta.label if raw is not None else "",
        error=f"raw SQL cannot run on MongoDB (DESIGN §3); use the ORM. SQL: {str(sql)[:500]}",
        trace=_trace(),
        where=f"{os.path.relpath(caller.f_code.co_filename)}:{caller.f_lineno} in {caller.f_code.co_name}",
    )


@contextmanager
def allow_raw_sql() -> Iterator[None]:
    """Let this thread send raw SQL without a finding: only for checks of SQLite itself (EXPLAIN)."""
    _state.raw_allowed = getattr(_state, "raw_allowed", 0) + 1
    try:
        yield
    finally:
        _state.raw_allowed -= 1


def _guard_raw_sql(original):
    def _execute_with_wrappers(self, sql, params, many, executor):
        # Inside a compiler's execute_sql (depth > 0) the statement is the ORM's.
        if _recorders and not getattr(_state, "depth", 0) and not getattr(_state, "raw_allowed", 0):
            failure = _raw_sql_failure(sql)
            if failure is not None:
                _recorders[-1].fail(failure)
        return original(self, sql, params, many, executor)

    return _execute_with_wrappers


def _shadow_execute(compiler, recorder: Recorder, args: tuple, kwargs: dict) -> None:
    from django.db import connections
    from django.db.models.sql.constants import MULTI, SINGLE

    kind = type(compiler).__name__
    query = compiler.query.clone()
    for finding in _portability_findings(query):
        recorder.fail(CompileFailure(kind, query.model._meta.label, f"Not portable: {finding}", _trace()))
    # Connections are per thread: a live server's threads need their own shadow.
    if not hasattr(connections._connections, SHADOW_ALIAS):
        _shadow_connection()
    try:
        _state.active = True
        mongo_compiler = query.get_compiler(using=SHADOW_ALIAS, elide_empty=compiler.elide_empty)
        if kind == "SQLInsertCompiler":
            mongo_compiler.execute_sql(kwargs.get("returning_fields", args[0] if args else None))
        elif kind in ("SQLUpdateCompiler", "SQLDeleteCompiler"):
            mongo_compiler.execute_sql(MULTI)
        else:
            result_type = kwargs.get("result_type", args[0] if args else MULTI)
            mongo_compiler.execute_sql(SINGLE if result_type == SINGLE else MULTI)
    except Exception as exc:  # noqa: BLE001 - every compile error is a finding to report
        recorder.fail(
            CompileFailure(
                operation=kind,
                model=query.model._meta.label,
                error=f"{exc.__class__.__name__}: {exc}",
                trace=_trace(),
            )
        )
    finally:
        _state.active = False


_recorders: list[Recorder] = []


@contextmanager
def mongo_compile(recorder: Recorder | None = None) -> Iterator[Recorder]:
    """Within this block, every ORM operation on our models is also compiled for MongoDB.

    Blocks nest: the innermost recorder gets what runs inside it, so a test can check
    that a query is refused without failing because of it.
    """
    from django.db.backends.utils import CursorWrapper
    from django.db.models.sql import compiler as sql_compiler

    recorder = recorder or Recorder()
    classes = [
        sql_compiler.SQLCompiler,
        sql_compiler.SQLInsertCompiler,
        sql_compiler.SQLUpdateCompiler,
    ]  # the delete and aggregate compilers inherit SQLCompiler.execute_sql
    originals = {cls: cls.__dict__["execute_sql"] for cls in classes}

    def make_wrapper(original):
        def execute_sql(self, *args, **kwargs):
            if (
                _recorders
                and self.connection.vendor != "mongodb"
                and not getattr(_state, "active", False)
                and not getattr(_state, "depth", 0)
                and _is_ours(self.query)
            ):
                # Shadow first: the insert compiler calls pre_save() (auto_now), and the
                # value the real database stores must be the one the object keeps.
                _shadow_execute(self, _recorders[-1], args, kwargs)
            # An update compiler calls super().execute_sql(): that is the same operation.
            _state.depth = getattr(_state, "depth", 0) + 1
            try:
                return original(self, *args, **kwargs)
            finally:
                _state.depth -= 1

        return execute_sql

    # Both execute() and executemany(), of CursorWrapper and CursorDebugWrapper, end here.
    cursor_send = CursorWrapper.__dict__["_execute_with_wrappers"]
    outermost = not _recorders
    if outermost:
        _shadow_connection()
        for cls, original in originals.items():
            cls.execute_sql = make_wrapper(original)
        CursorWrapper._execute_with_wrappers = _guard_raw_sql(cursor_send)
    _recorders.append(recorder)
    try:
        yield recorder
    finally:
        _recorders.pop()
        if outermost:
            for cls, original in originals.items():
                cls.execute_sql = original
            CursorWrapper._execute_with_wrappers = cursor_send


def compile_mode_enabled(config: pytest.Config) -> bool:
    if os.environ.get("MONGODB_URI"):
        return False  # the suite runs against a real server instead
    flag = os.environ.get("OPSPORTAL_MONGO_COMPILE", "").strip().lower() in {"1", "true", "yes", "on"}
    return flag or bool(config.getoption("--mongo-compile"))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--mongo-compile",
        action="store_true",
        default=False,
        help="Also compile every ORM operation on our models with django-mongodb-backend (no server needed).",
    )


@pytest.fixture(scope="session")
def mongo_compile_recorder(request: pytest.FixtureRequest, django_db_setup) -> Iterator[Recorder | None]:
    if not compile_mode_enabled(request.config):
        yield None
        return
    with mongo_compile() as recorder:
        yield recorder


@pytest.fixture(autouse=True)
def _fail_on_mongo_compile_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    uses_db = "django_db_setup" in request.fixturenames or request.node.get_closest_marker("django_db")
    if not compile_mode_enabled(request.config) or not uses_db:
        yield
        return
    recorder: Recorder = request.getfixturevalue("mongo_compile_recorder")
    seen = len(recorder.failures)
    yield
    new = recorder.failures[seen:]
    if new:
        details = "\n\n".join(f.describe() for f in new)
        pytest.fail(f"{len(new)} database operation(s) cannot run on MongoDB:\n{details}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get("MONGODB_URI"):
        return "database: MongoDB (MONGODB_URI is set)"
    return f"database: SQLite; MongoDB compile mode: {'on' if compile_mode_enabled(config) else 'off'}"
