"""Reads of the audit trail: its signed head, chain verification and the proof that a saved head is
still in the chain (object history: `releases.selectors.release_history`)."""

from __future__ import annotations

from typing import Any

from audit.models import AuditCheckpoint, AuditEvent, HashScheme
from audit.services import event_hash, iso_ms, signature_matches, signed_head

# `problem` of a failed verification.
TAMPERED = "tampered"  # an event, a link or a checkpoint changed; or the chain was recomputed without the key
MISSING = "missing"  # a gap in the sequence: events were deleted from the middle
TRUNCATED = "truncated"  # the chain ends before the latest checkpoint: the newest events were deleted


def audit_head() -> dict[str, Any]:
    """The chain's newest event as `{seq, hash, at, signature}` (`signature`: `audit.services.head_signature`).
    Saved by an auditor, `manage.py verify_audit --head` later proves it is still in the chain."""
    return signed_head(AuditEvent.objects.order_by("-seq").only("seq", "hash", "at").first())


def _result(events: int, first_broken: int | None, problem: str | None, message: str, checkpoint: Any) -> dict:
    return {
        "valid": problem is None,
        "events": events,
        "first_broken": first_broken,
        "problem": problem,
        "message": message,
        "checkpoint": {"seq": checkpoint.seq, "at": iso_ms(checkpoint.at)} if checkpoint is not None else None,
    }


def audit_chain_verify(*, chunk_size: int = 2000) -> dict[str, Any]:
    """Walk the chain in order and check it against the latest checkpoint.

    Reports the first event whose sequence (`missing`), link or hash (`tampered`) is wrong. Events
    hashed with plain sha256 (before AUDIT_SIGNING_KEY) are accepted only as the chain's prefix: a
    plain event after a keyed one, or a chain whose newest event is not keyed, was recomputed without
    the key (`tampered`). Then the latest checkpoint: its signature must match, the event at its
    `seq` must have its hash (`tampered`), and the chain must reach it (`truncated`: the newest
    events were deleted). Events deleted after the latest checkpoint are found only against a head
    saved outside the database (`audit_head_verify`).
    """
    checkpoint = AuditCheckpoint.objects.order_by("-seq").first()

    def broken(first: int, problem: str, message: str) -> dict[str, Any]:
        return _result(count, first, problem, message, checkpoint)

    count = 0
    if checkpoint is not None and not signature_matches(
        {"seq": checkpoint.seq, "hash": checkpoint.hash, "at": iso_ms(checkpoint.at), "signature": checkpoint.signature}
    ):
        return broken(checkpoint.seq, TAMPERED, f"Checkpoint #{checkpoint.seq} does not carry this server's signature.")
    prev_hash = ""
    keyed = False
    last: AuditEvent | None = None
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        count += 1
        expected = last.seq + 1 if last is not None else 1
        if event.seq != expected:
            gap = (
                f"Event #{expected} is" if event.seq == expected + 1 else f"Events #{expected} to #{event.seq - 1} are"
            )
            return broken(event.seq, MISSING, f"{gap} missing from the chain.")
        if event.prev_hash != prev_hash or event_hash(prev_hash, event) != event.hash:
            return broken(event.seq, TAMPERED, f"Event #{event.seq} is not the event that was recorded.")
        plain = event.hash_scheme == HashScheme.SHA256
        if plain and keyed:
            return broken(
                event.seq,
                TAMPERED,
                f"Event #{event.seq} is not keyed, though earlier ones are: recomputed without the key.",
            )
        keyed = keyed or not plain
        if checkpoint is not None and event.seq == checkpoint.seq and event.hash != checkpoint.hash:
            return broken(event.seq, TAMPERED, f"Event #{event.seq} differs from checkpoint #{checkpoint.seq}.")
        prev_hash = event.hash
        last = event
    if last is not None and not keyed:
        return broken(
            last.seq,
            TAMPERED,
            f"No event up to #{last.seq} is keyed with AUDIT_SIGNING_KEY: recomputed without the key.",
        )
    head = last.seq if last is not None else 0
    if checkpoint is not None and head < checkpoint.seq:
        return broken(
            head + 1,
            TRUNCATED,
            f"The chain ends at #{head}, before checkpoint #{checkpoint.seq}: its newest events were deleted.",
        )
    return _result(count, None, None, f"The chain of {count} events is intact.", checkpoint)


def audit_head_verify(head: dict[str, Any]) -> tuple[bool, str]:
    """Whether `head` (`{seq, hash, at, signature}` as `GET /audit-events/head` answered it, e.g. saved by
    an auditor) is still in the chain and the chain verifies: `(ok, one line saying why)`."""
    try:
        seq, hash_, at = head["seq"], head["hash"], head["at"]
        if not (isinstance(seq, int) and seq >= 0 and isinstance(hash_, str) and isinstance(at, str | None)):
            raise TypeError
    except (KeyError, TypeError):
        return (
            False,
            "Not a saved head: expected JSON {seq, hash, at, signature} as GET /api/v1/audit-events/head answers.",
        )
    if not signature_matches(head):
        return False, f"Head #{seq} is not signed with this server's AUDIT_SIGNING_KEY (or was edited)."
    if seq:
        event = AuditEvent.objects.filter(seq=seq).only("hash").first()
        if event is None:
            newest = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
            return False, f"Head #{seq} is no longer in the chain, which ends at #{newest}: events were deleted."
        if event.hash != hash_:
            return False, f"Event #{seq} is not the one head #{seq} was saved from: the chain was changed."
    chain = audit_chain_verify()
    if not chain["valid"]:
        return False, f"Head #{seq} is in the chain, but the chain is broken: {chain['message']}"
    return True, f"Head #{seq} is in the chain, and the chain verifies ({chain['events']} events)."
