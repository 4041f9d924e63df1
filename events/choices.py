"""Status values of webhook deliveries and periodic jobs."""

from django.db import models


class DeliveryStatus(models.TextChoices):
    """Where a delivery stands. A delivery being sent right now is `pending` with a lease (`claimed_by`,
    `next_attempt_at` = when the lease runs out): a worker that dies leaves it due again."""

    PENDING = "pending", "Pending"  # due at `next_attempt_at` (first attempt or a retry)
    SUCCEEDED = "succeeded", "Succeeded"  # a 2xx answer
    FAILED = "failed", "Failed"  # retries exhausted, or the receiver answered 410 Gone
    CANCELLED = "cancelled", "Cancelled"  # its subscription was disabled before it could be sent


class JobOutcome(models.TextChoices):
    OK = "ok", "OK"
    ERROR = "error", "Error"
