"""Deployment targets, ordered development → staging → production."""

from django.db import models

from environments.choices import Health, Tier
from environments.policies import empty_policy
from opsportal.document_models import NamedDocument
from opsportal.schemas import JSONSchemaValidator


class Environment(NamedDocument):
    """An environment with its embedded config and approval policy (its freezes: `Freeze`).

    `current_release`/`current_deployment` are derived from deployments and maintained by
    the deployment services in the same conditional update that claims the environment
    (`deployment_seq` is the claim counter), so readers never have to scan history.
    """

    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.DEVELOPMENT)
    order = models.PositiveIntegerField(default=0, help_text="Position in the promotion path (lower first).")
    url = models.URLField(blank=True, default="")
    config = models.JSONField(
        default=dict, blank=True, validators=[JSONSchemaValidator("environments.schemas.CONFIG", "config")]
    )
    # What a release needs before it may deploy here (issue #12; `environments.policies`). No rules:
    # no approval needed. Replaces `requires_approval`/`min_approvals` (migration 0006).
    approval_policy = models.JSONField(
        default=empty_policy,
        blank=True,
        validators=[JSONSchemaValidator("environments.schemas.APPROVAL_POLICY", "approval_policy")],
    )
    # Derived from the policy by the services (it has rules), kept as a field for filters and the admin.
    requires_approval = models.BooleanField(
        default=False, editable=False, help_text="Derived: whether the approval policy has rules."
    )
    health = models.CharField(max_length=20, choices=Health.choices, default=Health.UNKNOWN)
    current_release = models.ForeignKey(
        "releases.Release", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    current_deployment = models.ForeignKey(
        "releases.Deployment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deployment_seq = models.PositiveIntegerField(default=0)

    class Meta(NamedDocument.Meta):
        ordering = ["order", "id"]
        indexes = [
            *NamedDocument.Meta.indexes,
            models.Index(fields=["order", "id"], name="env_order_idx"),
            models.Index(fields=["tier"], name="env_tier_idx"),
            models.Index(fields=["health"], name="env_health_idx"),
            models.Index(fields=["current_release"], name="env_current_release_idx"),
        ]

    @property
    def is_production(self) -> bool:
        return self.tier == Tier.PRODUCTION


class Freeze(NamedDocument):
    """A change freeze in the calendar (issue #12): one-off (`starts_at` → `ends_at`) or recurring (an
    RFC 5545 `rrule` from `starts_at`, each occurrence lasting `duration_minutes`, in the IANA
    `timezone`, with `exdates` left out). Scope: `environments` and `tiers` (both empty: every
    environment), and optionally `teams` (empty: every team's releases). `source` names what created it
    (`ics:<uid>` for an imported holiday calendar), so importing the same file again updates instead of
    duplicating. Replaces the freeze windows embedded in environments (migration 0007). Occurrences and
    the freeze rule: `environments.calendar`.
    """

    reason = models.CharField(max_length=500, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")
    timezone = models.CharField(max_length=64, default="UTC", help_text="IANA time zone, e.g. Europe/Berlin.")
    starts_at = models.DateTimeField(help_text="The (first) occurrence's start.")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="One-off freezes: the end (exclusive).")
    rrule = models.CharField(
        max_length=500, blank=True, default="", help_text="RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=SA (no DTSTART)."
    )
    duration_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Recurring freezes: how long each occurrence lasts."
    )
    exdates = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("environments.schemas.EXDATES", "exdates")]
    )
    environments = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("environments.schemas.SCOPE_IDS", "environments")]
    )
    tiers = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("environments.schemas.SCOPE_TIERS", "tiers")]
    )
    teams = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("environments.schemas.SCOPE_IDS", "teams")]
    )
    source = models.CharField(max_length=300, blank=True, default="")
    # Up to when the worker announced this freeze's occurrence edges (`freeze.started`/`freeze.ended`);
    # advanced by compare-and-set, so two workers never announce an edge twice.
    announced_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta(NamedDocument.Meta):
        ordering = ["starts_at", "id"]
        indexes = [
            *NamedDocument.Meta.indexes,
            models.Index(fields=["starts_at", "id"], name="freeze_starts_idx"),
            models.Index(fields=["source"], name="freeze_source_idx"),
        ]
