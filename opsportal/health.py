"""Liveness and database reachability, shared by `/health` and `/api/v1/dashboard/health`."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection

_STARTED = time.monotonic()


def uptime_seconds() -> float:
    return round(time.monotonic() - _STARTED, 1)


def database_probe() -> dict[str, Any]:
    """Ping the database; never raises. `ok` is False when it cannot be reached."""
    started = time.perf_counter()
    info: dict[str, Any] = {"backend": connection.vendor, "ok": True, "version": None, "error": None}
    try:
        # A real round trip through the ORM (no raw SQL: DESIGN §3).
        ContentType.objects.order_by().values_list("pk", flat=True).first()
        if connection.vendor == "mongodb":
            info["version"] = ".".join(map(str, connection.get_database_version()))
        else:
            info["version"] = connection.Database.sqlite_version
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is reported, not raised
        info["ok"] = False
        info["error"] = exc.__class__.__name__
    info["round_trip_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return info


def health_payload() -> tuple[dict[str, Any], bool]:
    db = database_probe()
    payload = {
        "status": "ok" if db["ok"] else "error",
        "database": "ok" if db["ok"] else "error",
        "backend": db["backend"],
        "database_version": db["version"],
        "round_trip_ms": db["round_trip_ms"],
        "version": settings.APP_VERSION,
        "uptime_seconds": uptime_seconds(),
    }
    return payload, db["ok"]
