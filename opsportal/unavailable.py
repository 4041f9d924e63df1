"""Database trouble answered as 503 with `Retry-After`, fast (issue #10).

`database_unavailable(error)` recognises what a retry later can fix — the database is locked by
another writer, read-only, or cannot be reached — on SQLite and on MongoDB, however the error is
wrapped. The API's error handler (`opsportal.api.exceptions`) and the 500 handler behind every other
page (`opsportal.views.server_error`, e.g. the admin) answer those with 503 instead of 500.

How long a request can wait first: SQLite waits `SQLITE_BUSY_TIMEOUT_SECONDS` for a lock
(`opsportal.database`), MongoDB `serverSelectionTimeoutMS` (5 s) for a primary; both far below
gunicorn's 60 s `timeout`, which would kill the worker instead of answering.

Plumbing: imports no app.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import utils as db_utils

log = logging.getLogger("opsportal.database")

LOCKED, READ_ONLY, UNREACHABLE = "locked", "read_only", "unreachable"
RETRY_AFTER_SECONDS = {LOCKED: 5, READ_ONLY: 30, UNREACHABLE: 30}
DETAILS = {
    LOCKED: "The database is busy: another change holds its write lock. Retry in a few seconds.",
    READ_ONLY: "The database is read-only at the moment, so nothing can be changed. Retry later.",
    UNREACHABLE: "The database cannot be reached at the moment. Retry later.",
}
# SQLite's messages (sqlite3.OperationalError), lower-cased, by reason.
_SQLITE_MESSAGES = {
    LOCKED: ("database is locked", "database table is locked", "database schema is locked"),
    READ_ONLY: ("readonly database", "read-only", "database or disk is full"),
    UNREACHABLE: ("unable to open database", "disk i/o error", "database disk image is malformed"),
}
# MongoDB server error codes: not (or no longer) the primary, or shutting down.
_MONGO_NOT_PRIMARY = {10107, 13435, 13436, 189, 11602}
_MONGO_SHUTTING_DOWN = {91, 11600}


@dataclass(frozen=True)
class Unavailable:
    reason: str  # LOCKED, READ_ONLY or UNREACHABLE

    @property
    def detail(self) -> str:
        return DETAILS[self.reason]

    @property
    def retry_after(self) -> int:
        return RETRY_AFTER_SECONDS[self.reason]


def _mongo_reason(error: BaseException) -> str | None:
    try:
        from pymongo import errors as mongo_errors
    except ImportError:  # pragma: no cover - pymongo is a requirement
        return None
    if isinstance(error, mongo_errors.NotPrimaryError):
        return READ_ONLY
    if isinstance(error, mongo_errors.ConnectionFailure | mongo_errors.ExecutionTimeout):
        return UNREACHABLE
    if isinstance(error, mongo_errors.OperationFailure) and error.code in _MONGO_NOT_PRIMARY:
        return READ_ONLY
    if isinstance(error, mongo_errors.OperationFailure) and error.code in _MONGO_SHUTTING_DOWN:
        return UNREACHABLE
    return None


def _reason(error: BaseException) -> str | None:
    reason = _mongo_reason(error)
    if reason is not None:
        return reason
    if isinstance(error, db_utils.OperationalError | db_utils.InterfaceError) or type(error).__name__ in (
        "OperationalError",  # sqlite3's own, not yet wrapped by Django
    ):
        message = str(error).lower()
        for reason, fragments in _SQLITE_MESSAGES.items():
            if any(fragment in message for fragment in fragments):
                return reason
    return None


def database_unavailable(error: BaseException | None) -> Unavailable | None:
    """Why `error` (or an error it wraps) says the database is unavailable for now, or None."""
    seen: set[int] = set()
    current = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        reason = _reason(current)
        if reason is not None:
            return Unavailable(reason)
        current = current.__cause__ or current.__context__
    return None


def log_unavailable(unavailable: Unavailable, error: BaseException, path: str) -> None:
    log.warning(
        "database unavailable",
        extra={"event": "database_unavailable", "reason": unavailable.reason, "path": path, "error": str(error)},
    )
