"""The deployment summary a release embeds (`Release.environments`, issue #18): per environment where it
was ever deployed, its latest deployment there and whether it is the environment's current release.

Deploy, rollback and status reports call `release_environments_apply` inside their unit of work with
the deployments they wrote and every release whose summary they may have changed (the deployed or
reported release, the one the environment had before, the one a rollback restores); the summary commits
with the change, or neither does. `release_environments_refresh` rebuilds summaries from the deployments
(the worker's scheduled runs, seeding, `check_integrity --repair`); `check_integrity` verifies every
summary against the deployments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from environments.models import Environment
from opsportal.uow import unit_of_work
from releases.models import Deployment, Release
from releases.selectors import latest_deployments_query
from releases.shapes import DEPLOYMENT_ROW, deployment_document, deployment_row, environments_document


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


# Set on a release whose summary `release_environments_apply` patched in memory (`carried`): its next write
# in the unit (`releases.services.deployments._write_release`) takes the summary along.
SUMMARY_PENDING = "_opsportal_summary_pending"


@unit_of_work
def release_environments_apply(
    *,
    environment: Environment,
    deployments: Iterable[Deployment],
    release_ids: Iterable[str | None],
    carried: Release | None = None,
) -> None:
    """Bring the embedded summaries up to date with what the caller's unit just wrote on one environment:
    `deployments` as they are now (inserted or changed), `environment` as it is now (its current release),
    `release_ids` the releases whose summary may have changed besides those of `deployments`. `carried`: a
    release the unit has read and is about to write anyway: its summary is patched on the instance (and
    marked `SUMMARY_PENDING`) for that write to take along, rather than read and written here.

    The same result as `release_environments_refresh` for a summary that was right before the unit (what
    `check_integrity` verifies), from one read of the summaries instead of three reads of the deployments: a
    written deployment is its release's latest on the environment when it is the one the summary names or
    has a higher sequence; the environment's entry of each release says whether it is current now."""
    written = [deployment_row(deployment) for deployment in deployments if deployment.sequence is not None]
    ids = sorted({*(row["release_id"] for row in written), *(release_id for release_id in release_ids if release_id)})
    if not ids:
        return
    env_id = environment.pk
    carried_id = carried.pk if carried is not None else None
    stored_documents = {carried_id: carried.environments} if carried_id in ids else {}
    if others := [release_id for release_id in ids if release_id != carried_id]:
        stored_documents.update(Release.objects.filter(pk__in=others).order_by().values_list("id", "environments"))
    for release_id, stored in sorted(stored_documents.items()):
        document = {key: dict(value) for key, value in (stored or {}).items()}
        for row in written:
            known = document.get(env_id, {}).get("deployment")
            if row["release_id"] == release_id and (
                known is None or known["id"] == row["id"] or known["sequence"] < row["sequence"]
            ):
                document[env_id] = {"deployment": deployment_document(row)}
        if env_id in document:
            document[env_id]["is_current"] = environment.current_release_id == release_id
        document = dict(sorted(document.items()))
        if document == stored:
            continue
        if release_id == carried_id:
            carried.environments = document
            setattr(carried, SUMMARY_PENDING, True)
        else:
            Release.objects.filter(pk=release_id).update(environments=document)
