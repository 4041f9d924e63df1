"""Reads of the audit trail: chain verification (object history: `releases.selectors.release_history`)."""

from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from audit.services import event_hash


def audit_chain_verify(*, chunk_size: int = 2000) -> dict[str, Any]:
    """Walk the chain in order; report the first event whose sequence, link or hash is wrong."""
    expected_seq = 1
    prev_hash = ""
    count = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        count += 1
        if event.seq != expected_seq or event.prev_hash != prev_hash or event_hash(prev_hash, event) != event.hash:
            return {"valid": False, "events": count, "first_broken": event.seq}
        prev_hash = event.hash
        expected_seq += 1
    return {"valid": True, "events": count, "first_broken": None}
