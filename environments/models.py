"""Deployment targets, ordered development → staging → production."""

from django.db import models

from environments.choices import Health, Tier
from environments.policies import empty_policy
from opsportal.document_models import NamedDocument
from opsportal.schemas import JSONSchemaValidator


class Environment(NamedDocument):
    """An environment with its embedded config, approval policy and freeze windows.

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
    freeze_windows = models.JSONField(
        default=list,
        blank=True,
        validators=[JSONSchemaValidator("environments.schemas.FREEZE_WINDOWS", "freeze_windows")],
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
