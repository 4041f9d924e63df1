"""The events app's periodic jobs (see `events.periodic`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from events.periodic import periodic_job
from events.services import deliveries_prune


@periodic_job("events.prune_deliveries", every=timedelta(hours=1))
def prune_deliveries() -> dict[str, Any]:
    """Delete succeeded deliveries and stream events older than OPSPORTAL_DELIVERY_RETENTION_DAYS."""
    return deliveries_prune()
