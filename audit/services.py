"""Appending to the audit trail. Every state change in every app calls `audit_record`."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError

from audit.actions import AuditAction
from audit.models import AuditCheckpoint, AuditEvent, HashScheme
from events.outbox import outbox_record
from opsportal.clock import now_ms
from opsportal.middleware import current_request_context
from opsportal.services import collection_changed
from opsportal.uow import Transient, on_commit, unit_memo, unit_of_work

if TYPE_CHECKING:
    from django.db.models import Model

# Every write is also a structured service event in the logs (approvals, deployments, …).
service_log = logging.getLogger("opsportal.services")
# The collection version every change bumps (the audit trail's list); each event also bumps its object type's.
AUDIT_COLLECTION = "audit"


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def jsonable(value: Any) -> Any:
    """Dates, decimals, ids… as JSON-safe values (what `changes` stores)."""
    return json.loads(json.dumps(value, default=_json_default))


def canonical_event(event: AuditEvent) -> str:
    """The bytes the hash covers: every recorded field, keys sorted, no whitespace."""
    payload = {
        "seq": event.seq,
        "at": event.at.isoformat(timespec="milliseconds"),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "changes": event.changes,
        "request_id": event.request_id,
        "client_ip": event.client_ip,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_json_default)


def _keyed(message: str) -> str:
    return hmac.new(settings.AUDIT_SIGNING_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    """The event's link in the chain, by its `hash_scheme`: HMAC-SHA256 with AUDIT_SIGNING_KEY over
    `prev_hash + canonical event` (events written before issue #10: plain sha256 of the same bytes)."""
    message = prev_hash + canonical_event(event)
    if event.hash_scheme == HashScheme.SHA256:
        return hashlib.sha256(message.encode()).hexdigest()
    return _keyed(message)


def iso_ms(moment: datetime | None) -> str | None:
    """`2026-11-20T10:15:00.123Z`: how a head states its time (and what its signature covers)."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z") if moment is not None else None


def head_signature(*, seq: int, hash: str, at: str | None) -> str:
    """HMAC-SHA256 with AUDIT_SIGNING_KEY of a head `{seq, hash, at}` (domain-separated from event hashes)."""
    payload = json.dumps({"seq": seq, "hash": hash, "at": at}, sort_keys=True, separators=(",", ":"))
    return _keyed(f"opsportal.audit.head.v1\n{payload}")


def signed_head(event: AuditEvent | None) -> dict[str, Any]:
    """`{seq, hash, at, signature}` of the chain ending at `event` (`seq` 0 for an empty chain)."""
    head = (
        {"seq": event.seq, "hash": event.hash, "at": iso_ms(event.at)} if event else {"seq": 0, "hash": "", "at": None}
    )
    return {**head, "signature": head_signature(**head)}


def signature_matches(head: dict[str, Any]) -> bool:
    """Whether `head["signature"]` is this server's signature of the head's `seq`, `hash` and `at`."""
    expected = head_signature(seq=head["seq"], hash=head["hash"], at=head["at"])
    return hmac.compare_digest(expected, str(head.get("signature", "")))


@unit_of_work
def audit_record(
    *,
    actor: str,
    action: AuditAction | str,
    object_type: str,
    object_id: str,
    changes: dict[str, Any] | None = None,
    rows: Iterable[Model] = (),
) -> AuditEvent:
    """Append one event to the hash chain, inside the caller's unit of work (or a unit of its own).

    `rows`: the model instances the event is about (the release, the deployment) exactly as the unit has
    written them so far; its outgoing events describe them from these instead of reading them back.

    `action` is one of `AuditAction` (anything else: ValueError). The next `seq` is read and
    inserted; the unique index on `seq` rejects a concurrent append that read the same tail,
    and the whole unit runs again on the new tail (`opsportal.uow.Transient`). So the event
    commits with the change it describes, or neither does. The service log line is written
    once the unit commits.
    """
    action = AuditAction(action).value
    context = current_request_context()
    # After its first append a unit knows the tail: its own last event (a concurrent append on MongoDB
    # still collides on `seq` and the unit runs again, with an empty memo).
    memo = unit_memo()
    tail = memo.get("audit_tail") or AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
    event = AuditEvent(
        seq=(tail["seq"] + 1) if tail else 1,
        at=now_ms(),
        actor=actor or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        changes=jsonable(changes or {}),
        request_id=context.request_id,
        client_ip=context.client_ip,
        prev_hash=tail["hash"] if tail else "",
        hash_scheme=HashScheme.HMAC_SHA256,
    )
    event.hash = event_hash(event.prev_hash, event)
    try:
        event.save(force_insert=True)
    except IntegrityError as error:
        raise Transient("the audit chain's tail moved") from error
    memo["audit_tail"] = {"seq": event.seq, "hash": event.hash}
    # Every change passes here: the versions that lists derive their ETag from move with it (issue #18).
    collection_changed(AUDIT_COLLECTION, object_type, at=event.at)
    # Its outgoing events and webhook deliveries, in this same unit of work (issue #11).
    outbox_record(event, rows)
    on_commit(
        lambda: service_log.info(
            action,
            extra={
                "event": action,
                "actor": event.actor,
                "object_type": object_type,
                "object_id": event.object_id,
                "audit_seq": event.seq,
                "request_id": event.request_id,
            },
        )
    )
    return event


@unit_of_work
def audit_checkpoint(*, actor: str = "") -> AuditCheckpoint:
    """Anchor the chain (`manage.py audit_checkpoint`, e.g. from cron): one unit of work that appends
    an `audit.checkpoint` event naming the head it covers, then stores the new head, signed, as an
    `AuditCheckpoint` (a collection of its own, so deleting the newest events cannot take it along)."""
    covered = AuditEvent.objects.order_by("-seq").first()
    head = signed_head(covered)
    event = audit_record(
        actor=actor,
        action=AuditAction.AUDIT_CHECKPOINT,
        object_type="audit",
        object_id=str(head["seq"]),
        changes={"covers": {key: head[key] for key in ("seq", "hash", "at")}},
    )
    return AuditCheckpoint.objects.create(
        seq=event.seq,
        hash=event.hash,
        at=event.at,
        signature=signed_head(event)["signature"],
        created_at=now_ms(),
    )


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value differs."""
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
