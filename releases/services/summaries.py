"""The deployment summary a release embeds (`Release.environments`, issue #18): per environment where it
was ever deployed, its latest deployment there and whether it is the environment's current release.

Deploy, rollback and status reports call `release_environments_refresh` inside their unit of work with
every release whose summary they may have changed (the deployed or reported release, the one the
environment had before, the one a rollback restores); the summary commits with the change, or neither
does. `check_integrity` verifies every summary against the deployments and `--repair` rebuilds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from opsportal.uow import unit_of_work
from releases.models import Release
from releases.selectors import release_environment_summaries
from releases.shapes import DEPLOYMENT_ROW, environments_document


@unit_of_work
def release_environments_refresh(*, release_ids: Iterable[str | None]) -> None:
    """Rebuild the embedded summary of each named release from the deployments (3 queries, then one write
    per release), inside the caller's unit of work."""
    ids = sorted({release_id for release_id in release_ids if release_id})
    if not ids:
        return
    for release_id, summaries in release_environment_summaries(release_ids=ids).items():
        latest = {
            summary["environment"]: {name: getattr(summary["deployment"], name) for name in DEPLOYMENT_ROW}
            for summary in summaries
            if summary["deployment"] is not None
        }
        current = {summary["environment"]: summary["current_release"] for summary in summaries}
        Release.objects.filter(pk=release_id).update(environments=environments_document(release_id, latest, current))
