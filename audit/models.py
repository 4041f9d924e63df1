"""The append-only audit trail (own collection)."""

from django.db import models

from opsportal.ids import new_id


class AuditEvent(models.Model):
    """Who did what to which object, with field-level changes.

    Events form a hash chain: `seq` is unique, so concurrent appends serialize on the
    unique index (no locks, both backends), and `hash = sha256(prev_hash + canonical event)`.
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
