"""Idempotent POSTs: claim a key, run once, replay the stored response."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from opsportal.errors import ApplicationError, Conflict
from opsportal.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_claim(*, user: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
    """Claim `key` for this request. Returns the stored record to replay, or None when the
    caller should run the request (and then call `idempotency_complete`)."""
    now = timezone.now()
    # Expired keys may be reused: remove this user's stale record first.
    IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=now - IDEMPOTENCY_TTL).delete()
    record = IdempotencyRecord(user=user, key=key, request_hash=fingerprint, created_at=now)
    try:
        with transaction.atomic():  # savepoint only, so SQLite stays usable after a collision
            record.save(force_insert=True)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:  # expired and removed in between: treat as a fresh claim
            return idempotency_claim(user=user, key=key, fingerprint=fingerprint)
        if existing.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request body.",
            ) from None
        if not existing.completed:
            raise Conflict(
                "A request with this Idempotency-Key is still being processed; retry shortly.",
                code="idempotency_in_progress",
            ) from None
        return existing
    return None


def idempotency_complete(*, user: str, key: str, status_code: int, body: Any, location: str = "") -> None:
    IdempotencyRecord.objects.filter(user=user, key=key, completed=False).update(
        completed=True, status_code=status_code, body=body, location=location
    )


def idempotency_release(*, user: str, key: str) -> None:
    """Forget an unfinished claim (the request failed with a server error: a retry may run it)."""
    IdempotencyRecord.objects.filter(user=user, key=key, completed=False).delete()
