"""The deployment summary a release embeds (`Release.environments`, issue #18): per environment where it
was ever deployed, its latest deployment there and whether it is the environment's current release.

Deploy, rollback and status reports call `release_environments_refresh` inside their unit of work with
every release whose summary they may have changed (the deployed or reported release, the one the
environment had before, the one a rollback restores); the summary commits with the change, or neither
does. `check_integrity` verifies every summary against the deployments and `--repair` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from environments.models import Environment
from opsportal.uow import unit_of_work
from releases.models import Release
from releases.selectors import latest_deployments_query
from releases.shapes import DEPLOYMENT_ROW, environments_document


@unit_of_work
def release_environments_refresh(*, release_ids: Iterable[str | None]) -> None:
    """Rebuild the embedded summary of each named release from the deployments (3 queries, then one write
    per release), inside the caller's unit of work."""
    ids = sorted({release_id for release_id in release_ids if release_id})
    if not ids:
        return
    current = dict(Environment.objects.order_by().values_list("id", "current_release_id"))
    latest: dict[str, dict[str, dict[str, Any]]] = {release_id: {} for release_id in ids}
    for row in latest_deployments_query(ids).values(*DEPLOYMENT_ROW):
        latest[row["release_id"]][row["environment_id"]] = row
    for release_id in ids:
        document = environments_document(release_id, latest[release_id], current)
        Release.objects.filter(pk=release_id).update(environments=document)
