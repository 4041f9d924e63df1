"""The releases app's periodic jobs (see `events.periodic`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from events.periodic import periodic_job
from releases.services.approvals import approvals_notify_expiry
from releases.services.scheduling import deployments_run_due


@periodic_job("releases.notify_approval_expiry", every=timedelta(minutes=1))
def notify_approval_expiry() -> dict[str, Any]:
    """Emit `approval.expiring` ahead of an approval's expiry (the policy's `warn_before`), `approval.expired` at it."""
    return approvals_notify_expiry()


@periodic_job("releases.run_scheduled_deployments", every=timedelta(minutes=1))
def run_scheduled_deployments() -> dict[str, Any]:
    """Run the scheduled deployments that are due, re-checking every blocker at that moment."""
    return deployments_run_due()
