"""Shared plumbing documents."""

from django.db import models

from opsportal.ids import new_id


class IdempotencyRecord(models.Model):
    """The first response to a `POST` carrying an `Idempotency-Key`, replayed for 24 hours.

    A claim is `completed=False` with a lease; the response is stored in the same unit of work
    as the change it answers, so a completed record and its change commit together.

    The unique (user, key) index makes two concurrent requests with one key collide: only
    the first runs, on both backends, without locks.
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    user = models.CharField(max_length=150)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    completed = models.BooleanField(default=False)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)
    location = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    # Until when the request that claimed the key owns it. A claim whose request died (a killed
    # worker) expires with its lease, and a retry with the same key takes it over.
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_uniq")]
        indexes = [
            models.Index(fields=["created_at"], name="idempotency_created_idx"),
            # The unique constraint is a partial index on MongoDB, which the planner does not use
            # for equality lookups: this one serves the claim's lookup by (user, key).
            models.Index(fields=["user", "key"], name="idempotency_user_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user}:{self.key}"


class CollectionVersion(models.Model):
    """A version per collection (`release`, `deployment`, …, and `audit` for every change), bumped inside
    the unit of work of every change (`opsportal.services.collection_changed`, called by the audit trail's
    one entry point). Lists derive a weak `ETag` from it, so a poll whose list did not change answers 304
    without reading or serializing the list (issue #18)."""

    # The collection's name, stored as `_id` on MongoDB (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, db_column="_id")
    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.id} v{self.version}"
