"""The environments app's periodic jobs (see `events.periodic`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from environments.services import freezes_announce_edges
from events.periodic import periodic_job


@periodic_job("environments.announce_freeze_edges", every=timedelta(minutes=1))
def announce_freeze_edges() -> dict[str, Any]:
    """Emit `freeze.started` and `freeze.ended` at each edge of each freeze's occurrences."""
    return freezes_announce_edges()
