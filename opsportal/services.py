"""Idempotent POSTs: claim a key under a lease, run once, replay the stored response.

A claim is a record `completed=False` whose `lease_until` says until when the request that
made it owns the key (`IDEMPOTENCY_LEASE`, about a minute). The request then runs as one unit
of work that also stores its response (`idempotency_complete`, conditional on still holding
the lease): the change and the stored response commit together, or neither does. A request
that died mid-way (a killed worker) leaves only its claim: a retry with the same key and body
gets 409 `idempotency_in_progress` until the lease has expired, then takes the key over and
runs. A completed key replays its response for 24 hours.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from opsportal.errors import ApplicationError, Conflict
from opsportal.models import CollectionVersion, IdempotencyRecord
from opsportal.uow import Transient, unit_memo, unit_of_work

IDEMPOTENCY_TTL = timedelta(hours=24)


def idempotency_lease() -> timedelta:
    """How long a claim owns its key (setting `OPSPORTAL_IDEMPOTENCY_LEASE_SECONDS`, default 60)."""
    return timedelta(seconds=getattr(settings, "OPSPORTAL_IDEMPOTENCY_LEASE_SECONDS", 60))


class IdempotencyKeyReused(ApplicationError):
    status_code = 422
    code = "idempotency_key_reused"


def request_fingerprint(*, method: str, path: str, body: Any) -> str:
    canonical = json.dumps({"method": method, "path": path, "body": body}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lease_end(record: IdempotencyRecord) -> datetime:
    # Claims written before leases existed: the lease runs from the claim.
    return record.lease_until or record.created_at + idempotency_lease()


@unit_of_work
def idempotency_claim(*, user: str, key: str, fingerprint: str) -> IdempotencyRecord:
    """Claim `key` for this request (one unit of work).

    Returns the record: `completed` → replay its response; otherwise this request holds the
    claim until `lease_until` and passes that value to `idempotency_complete`. The same key with
    another body → 422; a live claim of another request → 409 `idempotency_in_progress`.
    """
    now = timezone.now()
    existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
    if existing is not None and existing.created_at < now - IDEMPOTENCY_TTL:
        # Expired keys may be reused.
        IdempotencyRecord.objects.filter(pk=existing.pk, created_at=existing.created_at).delete()
        existing = None
    if existing is None:
        record = IdempotencyRecord(
            user=user, key=key, request_hash=fingerprint, created_at=now, lease_until=now + idempotency_lease()
        )
        try:
            with transaction.atomic():  # a savepoint on SQLite; on MongoDB the unit's transaction
                record.save(force_insert=True)
        except IntegrityError as error:  # a concurrent claim of the same key: look again
            raise Transient("the key was claimed meanwhile") from error
        return record
    if existing.request_hash != fingerprint:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    if existing.completed:
        return existing
    lease_end = _lease_end(existing)
    if lease_end > now:
        seconds = max(1, int((lease_end - now).total_seconds() + 0.999))
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry shortly.",
            code="idempotency_in_progress",
            retry_after=seconds,
        )
    # The request that held the key died: take it over, conditionally on the lease we saw.
    taken = IdempotencyRecord.objects.filter(pk=existing.pk, completed=False, lease_until=existing.lease_until).update(
        lease_until=now + idempotency_lease()
    )
    if not taken:
        raise Transient("the claim changed meanwhile")
    existing.lease_until = now + idempotency_lease()
    return existing


@unit_of_work
def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body: Any, location: str = "") -> None:
    """Store the response of the request that holds `record`'s claim — inside that request's unit
    of work, so it commits with the change. A claim that was taken over meanwhile (this request
    outlived its lease) refuses with 409 and the unit, change included, rolls back."""
    stored = IdempotencyRecord.objects.filter(pk=record.pk, completed=False, lease_until=record.lease_until).update(
        completed=True, status_code=status_code, body=body, location=location
    )
    if not stored:
        raise Conflict(
            "This request took longer than its Idempotency-Key lease and another request took the key over; "
            "nothing was changed.",
            code="idempotency_in_progress",
        )


@unit_of_work
def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget an unfinished claim (the request failed with a server error: a retry may run it)."""
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False, lease_until=record.lease_until).delete()


# --------------------------------------------------------------------------- collection versions (issue #18)


def collection_changed(*names: str, at: datetime) -> None:
    """Bump the version of each named collection, inside the open unit of work (so the new version commits
    with the change, or neither does): once per unit, however many of its steps change it (one update for
    the names new to the unit). On MongoDB two units bumping one collection conflict, and one runs again,
    as they already do on the audit chain's tail."""
    bumped: set[str] = unit_memo().setdefault("bumped_collections", set())
    names = sorted(set(names) - bumped)
    if not names:
        return
    if CollectionVersion.objects.filter(pk__in=names).update(version=F("version") + 1, changed_at=at) < len(names):
        existing = set(CollectionVersion.objects.filter(pk__in=names).values_list("pk", flat=True))
        for name in names:
            if name in existing:
                continue
            try:
                CollectionVersion.objects.create(id=name, version=1, changed_at=at)
            except IntegrityError:
                # Another unit created it first (MongoDB; SQLite serializes writers): run this one again.
                raise Transient(f"collection version {name!r} created concurrently") from None
    bumped.update(names)


def collection_versions(names: Sequence[str]) -> dict[str, tuple[int, datetime | None]]:
    """The (version, last change) of each named collection; (0, None) for one never changed. One query."""
    found = {
        row["id"]: (row["version"], row["changed_at"])
        for row in CollectionVersion.objects.filter(pk__in=list(names)).values("id", "version", "changed_at")
    }
    return {name: found.get(name, (0, None)) for name in names}
