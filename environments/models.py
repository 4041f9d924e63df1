"""Deployment targets, ordered development → staging → production."""

from django.db import models

from environments.choices import Health, Tier
from opsportal.document_models import NamedDocument
from opsportal.schemas import JSONSchemaValidator


class Environment(NamedDocument):
    """An environment with its embedded config and freeze windows.

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
    requires_approval = models.BooleanField(default=False)
    min_approvals = models.PositiveIntegerField(default=0)
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
