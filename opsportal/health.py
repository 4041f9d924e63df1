"""Liveness and readiness, shared by `/health/live`, `/health` and `/api/v1/dashboard/health` (issue #10).

- Liveness (`/health/live`): the process answers; it touches no database, so a database outage
  never gets healthy workers restarted.
- Readiness (`/health`): the database can be read and written, checked within `PROBE_BUDGET_SECONDS`
  each (so the answer comes well within 2 s, even when the database is locked or unreachable):
  a read through the ORM, then a write that changes nothing (an `UPDATE` matching no row, in a unit
  of work that is rolled back) — which needs the write lock on SQLite, a writable file and disk, and a
  primary on MongoDB. A failure is named: which check failed and why (`locked`, `read_only`,
  `unreachable`, `error`).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from opsportal.database import waiting_at_most
from opsportal.unavailable import DETAILS, database_unavailable
from opsportal.uow import run_in_unit

PROBE_BUDGET_SECONDS = 0.8  # per check; two checks stay within 2 s
OK, SKIPPED = "ok", "skipped"
RETRY_AFTER_SECONDS = 5

_STARTED = time.monotonic()


def uptime_seconds() -> float:
    return round(time.monotonic() - _STARTED, 1)


class _RolledBack(Exception):
    """Ends the write probe's unit of work without committing."""


def _read() -> None:
    # A real round trip through the ORM (no raw SQL: DESIGN §3).
    ContentType.objects.order_by().values_list("pk", flat=True).first()


def _write() -> None:
    def unit() -> None:
        # Matches no row (content types always have an app label): takes the write lock, writes nothing.
        ContentType.objects.filter(app_label="").update(model="")
        raise _RolledBack

    try:
        run_in_unit(unit)
    except _RolledBack:
        pass


def _check(probe: Any) -> tuple[str, str | None]:
    """(`ok` or why not, the error's class name)."""
    try:
        with waiting_at_most(connection, PROBE_BUDGET_SECONDS):
            probe()
    except Exception as exc:  # noqa: BLE001 - every failure is reported, not raised
        unavailable = database_unavailable(exc)
        return (unavailable.reason if unavailable else "error"), exc.__class__.__name__
    return OK, None


def _version() -> str | None:
    if connection.vendor == "mongodb":
        return ".".join(map(str, connection.get_database_version()))
    return connection.Database.sqlite_version


def database_probe() -> dict[str, Any]:
    """Read and write checks; never raises. `ok` is True when both pass; `read` and `write` say
    `ok` or why not (`write` is `skipped` when the read failed)."""
    started = time.perf_counter()
    info: dict[str, Any] = {"backend": connection.vendor, "version": None}
    read, error = _check(_read)
    write, write_error = _check(_write) if read == OK else (SKIPPED, None)
    if read == OK:
        try:
            info["version"] = _version()
        except Exception:  # noqa: BLE001, S110 - the version is a detail; the checks decide
            pass
    info.update(
        ok=read == OK and write == OK,
        read=read,
        write=write,
        error=error or write_error,
        round_trip_ms=round((time.perf_counter() - started) * 1000, 2),
    )
    return info


def _detail(read: str, write: str) -> str:
    if read != OK:
        why = DETAILS.get(read, "The database answered with an error.")
        return f"The database cannot be read. {why}"
    why = DETAILS.get(write, "The database answered with an error.")
    return f"The database can be read but not written. {why}"


def health_payload() -> tuple[dict[str, Any], bool]:
    """`/health`: readiness (see the module)."""
    db = database_probe()
    payload = {
        "status": "ok" if db["ok"] else "error",
        "database": "ok" if db["ok"] else "error",
        "read": db["read"],
        "write": db["write"],
        "backend": db["backend"],
        "database_version": db["version"],
        "round_trip_ms": db["round_trip_ms"],
        "version": settings.APP_VERSION,
        "uptime_seconds": uptime_seconds(),
    }
    if not db["ok"]:
        payload["detail"] = _detail(db["read"], db["write"])
    return payload, db["ok"]


def liveness_payload() -> dict[str, Any]:
    """`/health/live`: the process answers (no database)."""
    return {"status": "ok", "version": settings.APP_VERSION, "uptime_seconds": uptime_seconds()}
