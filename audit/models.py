"""The append-only audit trail (own collection)."""

from django.db import models

from opsportal.ids import new_id


class HashScheme(models.TextChoices):
    """How an event's `hash` was computed (`audit.services.event_hash`)."""

    # Events written before issue #10: plain sha256, which anyone can recompute. Verified as before,
    # but only as the chain's prefix: a keyed event always follows them (`audit.selectors`).
    SHA256 = "sha256", "SHA-256 (before the signing key)"
    # HMAC-SHA256 with AUDIT_SIGNING_KEY: recomputing the chain needs the key.
    HMAC_SHA256 = "hmac-sha256", "HMAC-SHA256"


class AuditEvent(models.Model):
    """Who did what to which object, with field-level changes.

    Events form a hash chain: `seq` is unique, so concurrent appends serialize on the
    unique index (no locks, both backends), and `hash = HMAC-SHA256(AUDIT_SIGNING_KEY,
    prev_hash + canonical event)` (`hash_scheme`; events from before the key: plain sha256).
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    seq = models.PositiveBigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150, blank=True, default="")
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=50)
    object_id = models.CharField(max_length=64)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=100, blank=True, default="")
    client_ip = models.CharField(max_length=64, blank=True, default="")
    prev_hash = models.CharField(max_length=64, blank=True, default="")
    hash = models.CharField(max_length=64)
    hash_scheme = models.CharField(max_length=16, choices=HashScheme.choices, default=HashScheme.HMAC_SHA256)

    class Meta:
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-seq"], name="audit_object_idx"),
            models.Index(fields=["actor", "-seq"], name="audit_actor_idx"),
            models.Index(fields=["action", "-seq"], name="audit_action_idx"),
            models.Index(fields=["at"], name="audit_at_idx"),
            # `seq` is unique (a partial index on MongoDB, which the planner does not use for equality
            # lookups or sorts): the plain index serves the append's tail read (`order_by("-seq")`).
            models.Index(fields=["seq"], name="audit_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} by {self.actor or '-'}"


class AuditCheckpoint(models.Model):
    """A signed head of the chain (`manage.py audit_checkpoint`), kept apart from the events.

    Deleting the newest events also deletes the checkpoint events among them, so the anchor lives
    in its own collection: `verify` finds the chain's head behind the latest checkpoint (truncated)
    or the event at its `seq` changed (tampered). `signature` is the HMAC of the head with
    AUDIT_SIGNING_KEY (`audit.services.head_signature`), so a checkpoint cannot be forged or moved
    back without the key.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    seq = models.PositiveBigIntegerField(unique=True)
    hash = models.CharField(max_length=64)
    at = models.DateTimeField()
    signature = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-seq"]
        indexes = [
            # The latest checkpoint (`order_by("-seq")`): `seq`'s unique index is partial on MongoDB.
            models.Index(fields=["seq"], name="audit_checkpoint_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"checkpoint #{self.seq}"
