"""The unit of work (DESIGN §3): every change is one transaction, on SQLite and on MongoDB.

    from opsportal.uow import unit_of_work

    @unit_of_work
    def release_reject(*, release, actor, reason): ...

A service that writes runs as one unit: inside one transaction it reads what gates its
decision, checks the rules, writes everything that changes (state, deployments, the audit
event, the idempotency result) and commits — or, on any error, leaves nothing behind.

- SQLite: Django's `transaction.atomic`. The connection's transaction mode is `IMMEDIATE`
  (`opsportal.database`), so a unit takes the write lock at `BEGIN` and writers are serialized:
  what a unit read cannot change before it commits.
- MongoDB: `django_mongodb_backend.transaction.atomic` (a replica set or sharded cluster is
  required; `opsportal.checks` refuses a standalone server). Transactions are snapshot-isolated,
  so services also write, conditionally on the revision they read, every document whose state
  decided the outcome; of two units that read the same state only one can commit, the other
  fails with a write conflict and is retried.

A unit that fails with a transient error (a MongoDB `TransientTransactionError` label, or a
`Transient` raised by our own code, e.g. an audit append that lost the race for the chain's
tail) runs again from the start, at most `MAX_ATTEMPTS` times, after a short jittered pause.
Units nest: an inner unit joins the outer one (one transaction, retried as a whole).
"""

from __future__ import annotations

import functools
import logging
import os
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's busy handler alone
    fcntl = None

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from opsportal.database import SQLITE_BUSY_TIMEOUT_SECONDS
from opsportal.errors import Conflict

log = logging.getLogger("opsportal.uow")

F = TypeVar("F", bound=Callable[..., Any])

MAX_ATTEMPTS = 8
BACKOFF_BASE = 0.005  # seconds; doubled per attempt, with full jitter
BACKOFF_CAP = 0.25

_TRANSIENT_LABELS = ("TransientTransactionError", "UnknownTransactionCommitResult")


class Transient(Exception):
    """Raised inside a unit when it lost a race that a fresh attempt will not lose (e.g. the
    audit chain's tail moved). The unit runs again; after `MAX_ATTEMPTS` the caller gets
    `ContendedError`."""


class ContendedError(Conflict):
    """A unit kept losing to concurrent writers `MAX_ATTEMPTS` times in a row: 409 `contended`."""

    code = "contended"


def is_mongodb(using: str = DEFAULT_DB_ALIAS) -> bool:
    return connections[using].vendor == "mongodb"


def in_unit(using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether a unit of work is open on this thread's connection. (Not merely "in a transaction":
    a unit opened inside someone else's `atomic` block, e.g. the admin's or a test's, still
    gets a savepoint of its own, so its failure undoes exactly its writes.)"""
    return getattr(connections[using], "opsportal_unit_depth", 0) > 0


def is_transient(error: BaseException) -> bool:
    """A conflict that running the unit again may not meet: ours, or MongoDB's labelled errors."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, Transient):
            return True
        has_label = getattr(current, "has_error_label", None)
        if callable(has_label) and any(has_label(label) for label in _TRANSIENT_LABELS):
            return True
        current = current.__cause__ or current.__context__
    return False


def _atomic(using: str):
    if is_mongodb(using):
        return _mongo_atomic(using)
    return transaction.atomic(using)


@contextmanager
def _outside_django_atomic(connection: Any) -> Iterator[None]:
    saved = connection.in_atomic_block
    connection.in_atomic_block = False
    try:
        yield
    finally:
        connection.in_atomic_block = saved


@contextmanager
def _mongo_atomic(using: str) -> Iterator[None]:
    """`django_mongodb_backend.transaction.atomic`, also inside Django's own `transaction.atomic`.

    On MongoDB Django's `atomic()` is no transaction (the admin's change views, `user.groups.set()`
    and other Django internals open one), yet it marks the connection as in an atomic block, and
    the backend's commit (`commit_mongo` → `run_and_clear_commit_hooks`) then refuses to run:
    TransactionManagementError. The unit's MongoDB transaction is the only real one, so its commit
    and its on-commit hooks run as outside Django's block (issue #17, found by the execute mode).
    """
    from django_mongodb_backend import transaction as mongo_transaction

    connection = connections[using]
    atomic = mongo_transaction.atomic(using)
    atomic.__enter__()
    try:
        yield
    except BaseException as error:
        with _outside_django_atomic(connection):
            atomic.__exit__(type(error), error, error.__traceback__)
        raise
    with _outside_django_atomic(connection):
        atomic.__exit__(None, None, None)


class FifoLock:
    """A lock taken in order of arrival: on release, ownership passes straight to the thread that has waited
    longest. `threading.Lock` has no order: a thread that comes along just as it is released takes it before
    the woken waiter gets to run, so under a steady stream of requests an unlucky one is passed over turn
    after turn (the write mix's p99 was 141-146 ms with it, 104-114 ms with this one; BENCHMARKS.md)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiters: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        if waiter.acquire(timeout=timeout):
            return True  # handed over by `release`
        with self._guard:
            try:
                self._waiters.remove(waiter)
            except ValueError:
                return True  # handed over between the timeout and the guard
            return False

    def release(self) -> None:
        with self._guard:
            if self._waiters:
                self._waiters.popleft().release()  # still held: now the first waiter's
            else:
                self._held = False


# SQLite writers queue here, in order of arrival as far as the OS schedules it, rather than in
# SQLite's busy handler (see `writer_turn`).
_TURN_POLL_SECONDS = 0.0005
_process_turns: dict[str, FifoLock] = {}
_process_turns_lock = threading.Lock()
_turn_files = threading.local()


def _turn_file(connection: Any) -> int | None:
    """This thread's descriptor of the database's turn file (`<database>.turn`, next to it), or None for
    an in-memory database. Each thread has its own: `flock` locks belong to an open file description."""
    name = str(connection.settings_dict["NAME"])
    if fcntl is None or not name or name == ":memory:" or name.startswith("file:"):
        return None
    files = getattr(_turn_files, "files", None)
    if files is None:
        files = _turn_files.files = {}
    if name not in files:
        files[name] = os.open(f"{name}.turn", os.O_RDWR | os.O_CREAT, 0o600)
    return files[name]


@contextmanager
def writer_turn(using: str) -> Iterator[None]:
    """On SQLite, wait for the other writers (of this process and of the other workers) before
    `BEGIN IMMEDIATE`.

    SQLite serializes writers, but a writer that finds the lock taken polls for it with growing
    sleeps (up to 100 ms each) and no queue: under a burst of writes, an unlucky unit loses the race
    to newcomers again and again and waits half a second or more (the write mix's p99,
    BENCHMARKS.md). Here the threads of a process queue on a lock and one of them at a time on an
    exclusive `flock` of the turn file, which is handed over as soon as the previous unit commits.
    Not taken inside an open `atomic` block (the admin's, a test's): that connection may already hold
    SQLite's lock, and waiting here for a thread that waits for it would stall both. A turn not had
    within the busy timeout goes ahead anyway, and SQLite's own wait decides (503 if it gives up).
    """
    connection = connections[using]
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    with _process_turns_lock:
        turn = _process_turns.setdefault(using, FifoLock())
    if not turn.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS):
        yield
        return
    descriptor = None
    try:
        descriptor = _turn_file(connection)
        while descriptor is not None:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    descriptor = None
                    break
                time.sleep(_TURN_POLL_SECONDS)
        yield
    finally:
        if descriptor is not None:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
        turn.release()


# One API write request at a time per worker process on SQLite (`write_request_turn`).
_process_write_requests = FifoLock()


@contextmanager
def write_request_turn(using: str = DEFAULT_DB_ALIAS) -> Iterator[bool]:
    """On SQLite, one write request at a time in this worker process (`WriteQueueMiddleware`); yields
    whether the turn was had (not within the busy timeout: the request goes ahead anyway).

    SQLite runs one unit of work at a time whatever the number of threads, and a gthread worker runs one
    thread at a time on its interpreter lock. With several write requests in one process, the thread
    that holds the writers' turn (`writer_turn`) shares that interpreter lock with the others, which
    only parse, authenticate and render meanwhile: its unit takes longer in wall time, every writer of
    every worker waits that much longer, and the worker that holds the turn file hands it on to its
    own next thread before the other worker's poll comes round. One write request per process keeps
    the unit's wall time near its CPU time and the turn alternating between workers (the benchmark's
    write mix, BENCHMARKS.md). Reads are never queued; on MongoDB nothing is.
    """
    if connections[using].vendor != "sqlite":
        yield False
        return
    had = _process_write_requests.acquire(timeout=SQLITE_BUSY_TIMEOUT_SECONDS)
    try:
        yield had
    finally:
        if had:
            _process_write_requests.release()


@contextmanager
def _one_transaction(using: str) -> Iterator[None]:
    connection = connections[using]
    with writer_turn(using), _atomic(using):
        connection.opsportal_unit_depth = 1
        connection.opsportal_unit_memo = {}
        try:
            yield
        finally:
            connection.opsportal_unit_depth = 0
            connection.opsportal_unit_memo = {}


def unit_memo(using: str = DEFAULT_DB_ALIAS) -> dict[str, Any]:
    """A dict that lives as long as the open unit of work (one attempt of it: a unit that runs again starts
    with an empty one), for what the unit itself wrote and would otherwise read back, e.g. the audit chain's
    tail after its first append. Outside a unit, a new empty dict each time."""
    return connections[using].opsportal_unit_memo if in_unit(using) else {}


def run_in_unit(func: Callable[[], Any], *, using: str = DEFAULT_DB_ALIAS) -> Any:
    """Run `func` as one unit of work (joining the open one, if any) and return its result."""
    if in_unit(using):
        return func()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with _one_transaction(using):
                return func()
        except Exception as error:
            # Our Transient, a DatabaseError wrapping a labelled pymongo error, or the raw pymongo
            # error of a failed commit (the backend's commit does not wrap it).
            if not is_transient(error):
                raise
            if attempt == MAX_ATTEMPTS:
                raise ContendedError(
                    f"Too many concurrent changes ({attempt} attempts conflicted); try again."
                ) from error
            pause = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))  # noqa: S311 - jitter
            log.info("unit of work retried", extra={"attempt": attempt, "pause_s": round(pause, 4)})
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def unit_of_work(func: F) -> F:
    """Decorator: the function runs as one unit of work (see the module docstring)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run_in_unit(lambda: func(*args, **kwargs))

    return wrapper  # type: ignore[return-value]


def on_commit(callback: Callable[[], Any], using: str = DEFAULT_DB_ALIAS) -> None:
    """Run `callback` once the open unit commits (at once outside a unit); never after a rollback."""
    connection = connections[using]
    if connection.vendor == "mongodb":
        connection.on_commit(callback)
    else:
        transaction.on_commit(callback, using=using)
