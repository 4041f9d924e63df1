"""Outgoing events, webhook subscriptions, their deliveries (the transactional outbox) and the
worker's periodic jobs (DESIGN §9). Each is a collection of its own; string ids stored as `_id`."""

from django.db import models

from events.choices import DeliveryStatus, JobOutcome
from opsportal.ids import new_id


class Event(models.Model):
    """One event of the catalogue (`events.catalogue`), derived from an audit event and written in the
    same unit of work as the change (`events.outbox`), so it exists exactly when the change committed.

    `seq` is the audit event's sequence: global, gap-free, in commit order — what the SSE stream
    resumes from (`Last-Event-ID`) and what every payload carries for ordering. One audit event can
    give several events (a deploy is `deployment.succeeded` and `service.upgraded`): `index` orders
    them. `payload` is the CDEvents envelope exactly as it is delivered and streamed; `team` and
    `environment` are copied out of it for the stream's and the subscriptions' filters.
    """

    # `evt_<audit event id>_<index>`: stable, so consumers can deduplicate (also the `webhook-id`).
    id = models.CharField(primary_key=True, max_length=100, editable=False, db_column="_id")
    seq = models.PositiveBigIntegerField()
    index = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=60, help_text="Catalogue name, e.g. `service.deployed`.")
    type = models.CharField(max_length=120, help_text="CDEvents `context.type`.")
    at = models.DateTimeField()
    audit_event = models.CharField(max_length=64)
    team = models.CharField(max_length=64, blank=True, default="")
    environment = models.CharField(max_length=64, blank=True, default="")
    payload = models.JSONField()

    class Meta:
        ordering = ["seq", "index"]
        indexes = [
            # The stream and the list read `seq > N` in order.
            models.Index(fields=["seq", "index"], name="event_seq_idx"),
            models.Index(fields=["at"], name="event_at_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.name}"


class WebhookSubscription(models.Model):
    """A receiver of signed webhooks (Standard Webhooks) for the events its filters match.

    Filters (empty = everything): `event_types` (catalogue names or types, wildcards such as
    `release.*`), `environments` and `teams` (ids). A subscription of a team (`team`) is seen and
    managed by that team's members and only receives that team's events; one without a team is the
    Release Managers'. `secret` (`whsec_…`) signs every delivery; after a rotation the previous
    secret keeps signing too until `previous_secret_expires_at`. A 410 from the receiver disables
    the subscription (`active` false, `disabled_reason`).
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    url = models.URLField(max_length=2000)
    description = models.TextField(blank=True, default="", max_length=2000)
    event_types = models.JSONField(default=list, blank=True)
    environments = models.JSONField(default=list, blank=True)
    teams = models.JSONField(default=list, blank=True)
    team = models.CharField(max_length=64, blank=True, default="", help_text="The owning team (empty: portal-wide).")
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=500, blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    secret = models.CharField(max_length=100, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, default="", editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["-created_at", "id"], name="webhook_created_idx"),
            # The outbox reads the active subscriptions inside every unit that records an event.
            models.Index(fields=["active"], name="webhook_active_idx"),
            models.Index(fields=["team", "-created_at", "id"], name="webhook_team_idx"),
        ]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One event for one subscription: the outbox row, written with the change, then sent, retried and
    logged by the worker (`manage.py run_worker`).

    `body` holds the exact bytes that are signed and sent, every time (retries, replays);
    `event_id` is the `webhook-id`. While `pending`, `next_attempt_at` is when it is due; a worker
    claims it by moving `next_attempt_at` to the end of its lease with a new `claim_token`
    (a conditional update: two workers cannot both claim it), and records the attempt conditionally
    on that token. `attempts` lists every attempt (time, duration, status code, response excerpt,
    error), newest last.
    """

    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries", db_index=False
    )
    event_id = models.CharField(max_length=100)
    event_name = models.CharField(max_length=60)
    event_type = models.CharField(max_length=120)
    seq = models.PositiveBigIntegerField(default=0)
    body = models.TextField()
    test = models.BooleanField(default=False, help_text="Sent by the subscription's test action.")
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(help_text="No retry is scheduled after this (about three days).")
    claim_token = models.CharField(max_length=40, blank=True, default="")
    claimed_by = models.CharField(max_length=120, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    attempts = models.JSONField(default=list, blank=True)
    replays = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["-created_at", "id"], name="delivery_created_idx"),
            # The worker's claim: `status = pending AND next_attempt_at <= now`, soonest first.
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
            # A subscription's log, and its failed deliveries since a time (redeliver).
            models.Index(fields=["subscription", "-created_at", "id"], name="delivery_subscription_idx"),
            models.Index(fields=["subscription", "status", "created_at"], name="delivery_sub_status_idx"),
            # Retention: succeeded deliveries older than the setting.
            models.Index(fields=["status", "delivered_at"], name="delivery_delivered_idx"),
            models.Index(fields=["event_name", "-created_at", "id"], name="delivery_event_name_idx"),
            models.Index(fields=["event_id"], name="delivery_event_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_name} → {self.subscription_id} ({self.status})"


class PeriodicJob(models.Model):
    """The schedule and last run of one periodic job of the worker's registry (`events.periodic`).

    Claimed like a delivery: the worker that moves `next_run_at` past now (to the end of its lease)
    with a new `claim_token`, conditionally on the token it read, runs the job; when done it sets
    `next_run_at` one interval later. Any number of workers: each run happens once.
    """

    id = models.CharField(primary_key=True, max_length=100, editable=False, db_column="_id")
    next_run_at = models.DateTimeField()
    claim_token = models.CharField(max_length=40, blank=True, default="")
    claimed_by = models.CharField(max_length=120, blank=True, default="")
    runs = models.PositiveIntegerField(default=0)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.CharField(max_length=10, choices=JobOutcome.choices, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    last_result = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["next_run_at"], name="periodic_job_next_idx")]

    def __str__(self) -> str:
        return self.id
