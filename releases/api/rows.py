"""Releases and deployments as the API shows them, from `.values()` rows (issue #18, see `opsportal.api.rows`).

One function per shape; each returns exactly what its serializer returns for the same object, key for key
and in the same order (`ReleaseListItemSerializer`, `ReleaseSerializer`, `DeploymentSerializer`)."""

from __future__ import annotations

from typing import Any

from opsportal.api.rows import model_row
from releases.models import Deployment
from releases.selectors import features_progress, release_deployed_to, release_environment_summaries
from releases.services import ACTIONS_BY_STATUS

RELEASE_ROW = (
    "id",
    "name",
    "version",
    "description",
    "status",
    "team_id",
    "workflow_id",
    "target_date",
    "created_by",
    "created_at",
    "updated_at",
    "revision",
    "features",
    "approvals",
)
DEPLOYMENT_ROW = (
    "id",
    "release_id",
    "environment_id",
    "kind",
    "status",
    "sequence",
    "started_at",
    "finished_at",
    "deployed_by",
    "notes",
    "pipeline_url",
    "rolled_back_from_id",
    "became_current",
    "previous_deployment_id",
    "revision",
)


def duration_seconds(started_at: Any, finished_at: Any) -> float | None:
    """How long a deployment took, to the millisecond (None while it runs)."""
    return None if finished_at is None else round((finished_at - started_at).total_seconds(), 3)


def deployment_data(row: dict[str, Any]) -> dict[str, Any]:
    """`DeploymentSerializer`'s shape."""
    finished_at = row["finished_at"]
    return {
        "id": row["id"],
        "release": row["release_id"],
        "environment": row["environment_id"],
        "kind": row["kind"],
        "status": row["status"],
        "sequence": row["sequence"],
        "started_at": row["started_at"],
        "finished_at": finished_at,
        "duration_seconds": duration_seconds(row["started_at"], finished_at),
        "deployed_by": row["deployed_by"],
        "notes": row["notes"],
        "pipeline_url": row["pipeline_url"],
        "rolled_back_from": row["rolled_back_from_id"],
        "became_current": row["became_current"],
        "previous_deployment": row["previous_deployment_id"],
        "revision": row["revision"],
    }


def _release_data(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "version": row["version"],
        "description": row["description"],
        "status": row["status"],
        "team": row["team_id"],
        "workflow": row["workflow_id"],
        "target_date": row["target_date"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "revision": row["revision"],
        "features": row["features"],
        "approvals": row["approvals"],
        "allowed_actions": list(ACTIONS_BY_STATUS.get(row["status"], ())),
        "progress": features_progress(row["features"]),
    }


def release_list_data(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of `ReleaseListItemSerializer`s: one query for where the page's releases are current."""
    deployed_to = release_deployed_to(release_ids=[row["id"] for row in rows])
    return [{**_release_data(row), "deployed_to": deployed_to.get(row["id"], [])} for row in rows]


def _summary_data(summary: dict[str, Any]) -> dict[str, Any]:
    deployment: Deployment | None = summary["deployment"]
    if deployment is None:
        return summary
    return {**summary, "deployment": deployment_data(model_row(deployment, DEPLOYMENT_ROW))}


def release_detail_data(row: dict[str, Any]) -> dict[str, Any]:
    """`ReleaseSerializer`'s shape: the release with its per-environment summaries."""
    summaries = release_environment_summaries(release_ids=[row["id"]])[row["id"]]
    return {**_release_data(row), "environments": [_summary_data(summary) for summary in summaries]}
