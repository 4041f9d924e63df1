"""A fault-injection seam for the unit of work (issue #9): make the N-th write fail.

    with fail_at_write(3) as fault:
        release_deploy(...)        # raises InjectedFault as its 3rd write statement is about to run
    assert fault.fired

Writes are the INSERT/UPDATE/DELETE statements (or MongoDB insert/update/delete commands)
that Django's compilers run against our own models on the default database; reads are not
counted. The fault stands for anything that can stop a process between two writes: a crash,
a lost connection, a full disk. `OPSPORTAL_FAULT_PAUSE_FILE` (see `install_pause_seam`) is
the same seam for a live server: the N-th write of a request pauses, so that a test can kill
the worker there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models.sql import compiler as sql_compiler

OUR_APPS = {"releases", "environments", "teams", "workflows", "audit", "opsportal", "events", "incidents", "evidence"}


class InjectedFault(Exception):
    """Raised by the seam instead of running a write."""


@dataclass
class Fault:
    at: int
    writes: int = 0
    fired: bool = False


def _write_compilers() -> list[type]:
    classes: list[type] = [
        sql_compiler.SQLInsertCompiler,
        sql_compiler.SQLUpdateCompiler,
        sql_compiler.SQLDeleteCompiler,
    ]
    try:
        from django_mongodb_backend import compiler as mongo_compiler
    except ImportError:  # pragma: no cover - the backend is a pinned requirement
        return classes
    mongo = [mongo_compiler.SQLInsertCompiler, mongo_compiler.SQLUpdateCompiler, mongo_compiler.SQLDeleteCompiler]
    return [*classes, *mongo]


@contextmanager
def _on_each_write(before_write: Callable[[], None]) -> Iterator[None]:
    """Call `before_write()` before every write statement on our models (see the module docstring)."""
    patched: list[tuple[type, Any]] = []

    def wrap(cls: type) -> Any:
        original = cls.execute_sql  # may be inherited (the delete compiler's is SQLCompiler's)

        def execute_sql(self: Any, *args: Any, **kwargs: Any) -> Any:
            model = getattr(self.query, "model", None)
            if (
                type(self) is cls
                and self.connection.alias == DEFAULT_DB_ALIAS
                and model is not None
                and model._meta.app_label in OUR_APPS
            ):
                before_write()
            return original(self, *args, **kwargs)

        return execute_sql

    for cls in _write_compilers():
        patched.append((cls, cls.__dict__.get("execute_sql")))
        cls.execute_sql = wrap(cls)
    try:
        yield
    finally:
        for cls, own in reversed(patched):
            if own is None:
                del cls.execute_sql
            else:
                cls.execute_sql = own


@contextmanager
def fail_at_write(n: int) -> Iterator[Fault]:
    """The `n`-th write inside this block raises `InjectedFault` instead of running (1-based)."""
    fault = Fault(at=n)

    def before_write() -> None:
        fault.writes += 1
        if fault.writes == fault.at and not fault.fired:
            fault.fired = True
            raise InjectedFault(f"injected fault before write {n}")

    with _on_each_write(before_write):
        yield fault


def install_pause_seam() -> None:
    """For a live server (the gunicorn `post_fork` hook of `gunicorn_faults.conf.py`, tests only):
    while the file named by `OPSPORTAL_FAULT_PAUSE_FILE` holds `<token> <n>`, the n-th write after
    the token appeared pauses for ever, after writing this worker's pid to `<file>.paused`, so that
    the test can kill the worker right there. A new token starts the count again."""
    path = os.environ.get("OPSPORTAL_FAULT_PAUSE_FILE")
    if not path:
        return
    pause_file = Path(path)
    state: dict[str, Any] = {"token": None, "writes": 0}

    def before_write() -> None:
        try:
            token, n = pause_file.read_text().split()
        except (OSError, ValueError):
            return
        if token != state["token"]:
            state.update(token=token, writes=0)
        state["writes"] += 1
        if state["writes"] == int(n):
            Path(f"{path}.paused").write_text(str(os.getpid()))
            while True:  # until the test kills this worker
                time.sleep(1)

    seam = _on_each_write(before_write)
    seam.__enter__()
    _installed.append(seam)  # kept: a collected context manager would undo the patch


_installed: list[Any] = []
