"""Environment tiers and health values."""

from django.db import models


class Tier(models.TextChoices):
    """How close to customers an environment is. A successful deploy to a `production` environment
    marks the release `deployed`; a rollback there marks it `rolled_back`."""

    DEVELOPMENT = "development", "Development"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Health(models.TextChoices):
    """The environment's last known state: `unknown` until its first deploy; a successful deploy
    sets `healthy`, a failed one to production `degraded`; clients may set it too."""

    HEALTHY = "healthy", "Healthy"
    DEGRADED = "degraded", "Degraded"
    UNKNOWN = "unknown", "Unknown"
