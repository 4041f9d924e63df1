"""System checks (registered in `OpsPortalConfig.ready`): MongoDB must run transactions (DESIGN §3).

Every change is one unit of work (`opsportal.uow`), a MongoDB transaction, and MongoDB runs
transactions only on a replica set or a sharded cluster. A standalone server is refused:

- `manage.py migrate` and `manage.py check --database default` (Django runs database checks
  only for the databases it is asked about), and `manage.py check --deploy`;
- server start-up: gunicorn's `on_starting` hook (gunicorn.conf.py) and `dev.py run` call
  `main()` in a child process, which exits with status 1 and the check's one line on stderr.

On SQLite these checks do nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.core import checks
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

STANDALONE = "opsportal.E001"
UNREACHABLE = "opsportal.E002"

# The same replica set name as docker-compose.yml's `mongod --replSet rs0`.
REPLICA_SET = "rs0"


def mongodb_hosts(settings_dict: dict[str, Any]) -> str:
    """`host:port[,host:port…]` of a MongoDB connection, without credentials, database or options."""
    host = settings_dict.get("HOST") or ""
    if "://" in host:
        return urlsplit(host).netloc.rpartition("@")[2] or "localhost"
    port = settings_dict.get("PORT")
    return f"{host or 'localhost'}:{port}" if port else host or "localhost"


def standalone_message(hosts: str) -> str:
    return (
        f"MongoDB at {hosts} is a standalone server; transactions need a replica set: start mongod with "
        f"--replSet {REPLICA_SET} and run rs.initiate() (docker-compose.yml does this)"
    )


def _short(error: Exception) -> str:
    """The gist of a driver error (pymongo appends timeouts and its whole topology description)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    for tail in (", Timeout: ", " (configured timeouts: "):
        text = text.split(tail, 1)[0]
    return text


def mongodb_transaction_errors(using: str = DEFAULT_DB_ALIAS) -> list[checks.CheckMessage]:
    """Why the database `using` cannot run units of work, if it is a MongoDB that cannot; else `[]`.
    Asks the server (`hello`, through django-mongodb-backend's `features._supports_transactions`)."""
    connection = connections[using]
    if connection.vendor != "mongodb":
        return []
    hosts = mongodb_hosts(connection.settings_dict)
    from pymongo.errors import PyMongoError

    try:
        supported = connection.features._supports_transactions
    except (PyMongoError, DatabaseError) as error:
        return [
            checks.Error(
                f"Cannot ask MongoDB at {hosts} whether it runs transactions: {_short(error)}",
                id=UNREACHABLE,
            )
        ]
    if supported:
        return []
    return [checks.Error(standalone_message(hosts), id=STANDALONE)]


def check_mongodb_transactions(
    app_configs: Iterable[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """Database check (tag `database`): runs when the default database is among `databases`
    (`migrate`, `check --database default`)."""
    if not databases or DEFAULT_DB_ALIAS not in databases:
        return []
    return mongodb_transaction_errors(DEFAULT_DB_ALIAS)


def check_mongodb_transactions_deploy(
    app_configs: Iterable[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The same for `check --deploy`, which names no database (with `--database` the check above runs)."""
    if databases is not None:
        return []
    return mongodb_transaction_errors(DEFAULT_DB_ALIAS)


def register() -> None:
    checks.register(check_mongodb_transactions, checks.Tags.database)
    checks.register(check_mongodb_transactions_deploy, checks.Tags.database, deploy=True)


def refuse_unsupported_database(using: str = DEFAULT_DB_ALIAS) -> None:
    """Exit (status 1, the check's message as the one line on stderr) unless `using` runs transactions."""
    errors = mongodb_transaction_errors(using)
    if errors:
        raise SystemExit(errors[0].msg)


def main() -> None:
    """Start-up gate: `python -c "from opsportal.checks import main; main()"`."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    django.setup()
    refuse_unsupported_database()
