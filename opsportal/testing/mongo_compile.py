"""MongoDB compile mode (DESIGN §3): prove every ORM operation the tests run also works on MongoDB.

With `OPSPORTAL_MONGO_COMPILE=1` (or `pytest --mongo-compile`), every query that the tests
execute on SQLite against one of our own models (select, aggregate, insert, update,
delete) is first compiled *and executed* by django-mongodb-backend's compilers on a
shadow connection. The shadow answers `get_database_version()` with 7.0 and hands out
recording stand-ins from `get_collection()`, so the whole compile path — including the
backend's own `NotSupportedError` checks — runs without a server. Any error fails the
test that caused it, naming the query.

Django's contrib models (users, groups, sessions…) are left out: on MongoDB they run
under their own ObjectId-keyed app configs (`opsportal.database`), not the SQLite ones.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest

SHADOW_ALIAS = "mongo_compile_shadow"
OUR_APPS = {"releases", "environments", "teams", "workflows", "dashboard", "audit", "opsportal"}
SHADOW_SERVER_VERSION = (7, 0, 0)


@dataclass
class CompileFailure:
    operation: str
    model: str
    error: str
    trace: str


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


def _shadow_execute(compiler, recorder: Recorder, args: tuple, kwargs: dict) -> None:
    from django.db import connections
    from django.db.models.sql.constants import MULTI, SINGLE

    kind = type(compiler).__name__
    query = compiler.query.clone()
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
                trace="".join(traceback.format_stack(limit=25)[:-3]),
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

    outermost = not _recorders
    if outermost:
        _shadow_connection()
        for cls, original in originals.items():
            cls.execute_sql = make_wrapper(original)
    _recorders.append(recorder)
    try:
        yield recorder
    finally:
        _recorders.pop()
        if outermost:
            for cls, original in originals.items():
                cls.execute_sql = original


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
        details = "\n\n".join(f"{f.operation} on {f.model}: {f.error}\n{f.trace}" for f in new)
        pytest.fail(f"{len(new)} ORM operation(s) cannot run on MongoDB:\n{details}", pytrace=False)


def pytest_report_header(config: pytest.Config) -> str:
    if os.environ.get("MONGODB_URI"):
        return "database: MongoDB (MONGODB_URI is set)"
    return f"database: SQLite; MongoDB compile mode: {'on' if compile_mode_enabled(config) else 'off'}"
