"""The one place where SQLite and MongoDB part ways (DESIGN §3).

`MONGODB_URI` set → django-mongodb-backend with ObjectId-keyed contrib apps and the
committed contrib migrations in `mongo_migrations/`; otherwise SQLite tuned for several
gunicorn workers.
"""

from __future__ import annotations

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
            # a second writer wait instead of failing with "database is locked".
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000; "
                "PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456;"
            ),
        },
    }
