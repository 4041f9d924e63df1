"""Appending to the audit trail. Every state change in every app calls `audit_record`."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError

from audit.actions import AuditAction
from audit.models import AuditEvent
from opsportal.clock import now_ms
from opsportal.middleware import current_request_context
from opsportal.uow import Transient, on_commit, unit_of_work

# Every write is also a structured service event in the logs (approvals, deployments, …).
service_log = logging.getLogger("opsportal.services")


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


def event_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256((prev_hash + canonical_event(event)).encode()).hexdigest()


@unit_of_work
def audit_record(
    *,
    actor: str,
    action: AuditAction | str,
    object_type: str,
    object_id: str,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the hash chain, inside the caller's unit of work (or a unit of its own).

    `action` is one of `AuditAction` (anything else: ValueError). The next `seq` is read and
    inserted; the unique index on `seq` rejects a concurrent append that read the same tail,
    and the whole unit runs again on the new tail (`opsportal.uow.Transient`). So the event
    commits with the change it describes, or neither does. The service log line is written
    once the unit commits.
    """
    action = AuditAction(action).value
    context = current_request_context()
    tail = AuditEvent.objects.order_by("-seq").values("seq", "hash").first()
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
    )
    event.hash = event_hash(event.prev_hash, event)
    try:
        event.save(force_insert=True)
    except IntegrityError as error:
        raise Transient("the audit chain's tail moved") from error
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


def field_changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields whose value differs."""
    return {key: [before.get(key), value] for key, value in after.items() if before.get(key) != value}
