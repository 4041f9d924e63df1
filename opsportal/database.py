"""The one place where SQLite and MongoDB part ways (DESIGN §3).

`MONGODB_URI` set → django-mongodb-backend with ObjectId-keyed contrib apps and the
committed contrib migrations in `mongo_migrations/`; otherwise SQLite tuned for several
gunicorn workers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# How long a SQLite statement waits for another writer's lock before failing with "database is
# locked" (answered 503 with Retry-After, `opsportal.unavailable`). Units of work are short (a few
# milliseconds), so 5 s covers any real queue of writers, while a lock held for longer (a stuck
# process, a backup tool, someone's `BEGIN IMMEDIATE` in a shell) gets a fast answer: a request
# makes a few such waits at most (throttle cache, idempotency claim, the unit itself), which stays
# well inside gunicorn's 60 s `timeout` — past that the worker is killed and the client gets no
# answer at all. (It was 30 s: a write waited 60 s for a 500.)
SQLITE_BUSY_TIMEOUT_SECONDS = 5
# The same on MongoDB: how long an operation waits for a server (a primary, for writes) before
# failing (503); pymongo's default is 30 s. A `serverSelectionTimeoutMS` in MONGODB_URI wins.
MONGODB_SERVER_SELECTION_TIMEOUT_MS = 5000

_STOCK_CONTRIB = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
]
_MONGO_CONTRIB = [
    "opsportal.apps.MongoAdminConfig",
    "opsportal.apps.MongoAuthConfig",
    "opsportal.apps.MongoContentTypesConfig",
]
MONGO_MIGRATION_MODULES = {
    "admin": "mongo_migrations.admin",
    "auth": "mongo_migrations.auth",
    "contenttypes": "mongo_migrations.contenttypes",
}


def contrib_apps(mongodb_uri: str) -> list[str]:
    return list(_MONGO_CONTRIB if mongodb_uri else _STOCK_CONTRIB)


def backend_apps(mongodb_uri: str) -> list[str]:
    return ["django_mongodb_backend"] if mongodb_uri else []


def routers(mongodb_uri: str) -> list[str]:
    return ["django_mongodb_backend.routers.MongoRouter"] if mongodb_uri else []


def migration_modules(mongodb_uri: str) -> dict[str, str]:
    return dict(MONGO_MIGRATION_MODULES) if mongodb_uri else {}


def default_auto_field(mongodb_uri: str) -> str:
    # Our own models all declare string primary keys; this only affects contrib apps.
    return "django_mongodb_backend.fields.ObjectIdAutoField" if mongodb_uri else "django.db.models.BigAutoField"


def default_database(mongodb_uri: str, sqlite_path: str) -> dict:
    if mongodb_uri:
        # The backend reads the database name from the connection string.
        return {
            "ENGINE": "django_mongodb_backend",
            "HOST": mongodb_uri,
            "NAME": "",
            "TEST": {"NAME": "test_opsportal"},
            "OPTIONS": (
                {}
                if "serverselectiontimeoutms" in mongodb_uri.lower()
                else {"serverSelectionTimeoutMS": MONGODB_SERVER_SELECTION_TIMEOUT_MS}
            ),
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": sqlite_path,
        # Keep each worker's connection (and SQLite's page cache) across requests.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # Several gunicorn workers write concurrently: WAL lets readers and one
            # writer proceed together, IMMEDIATE takes the write lock at BEGIN (so a
            # transaction never has to upgrade and deadlock), and the busy timeout makes
            # a second writer wait instead of failing with "database is locked" (see
            # SQLITE_BUSY_TIMEOUT_SECONDS for why not longer).
            "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_SECONDS * 1000}; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
            ),
        },
    }


@contextmanager
def waiting_at_most(connection: Any, seconds: float) -> Iterator[None]:
    """Database calls on `connection` inside the block give up after about `seconds` (the health
    probes' budget, `opsportal.health`) instead of the usual waits: SQLite's busy timeout for a lock,
    MongoDB's server selection and operation timeouts (pymongo's `timeout()`)."""
    if connection.vendor == "mongodb":
        import pymongo

        with pymongo.timeout(seconds):
            yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    # Connection settings, like `init_command` above (not a query): the DB-API connection's own
    # PRAGMA, restored afterwards because the connection lives on (CONN_MAX_AGE).
    raw.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
