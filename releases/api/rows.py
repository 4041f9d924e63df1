"""Releases and deployments as the API shows them, from `.values()` rows (issue #18, see `opsportal.api.rows`).

One function per shape; each returns exactly what its serializer returns for the same object, key for key
and in the same order (`ReleaseListItemSerializer`, `ReleaseSerializer`, `DeploymentSerializer`)."""

from __future__ import annotations

from typing import Any

from environments.models import Environment
from releases.selectors import features_progress, release_deployed_to
from releases.services import ACTIONS_BY_STATUS
from releases.shapes import deployment_document

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
RELEASE_DETAIL_ROW = (*RELEASE_ROW, "environments")
# A deployment as the API shows it (`DeploymentSerializer`): the same function the embedded summaries use.
deployment_data = deployment_document


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


def release_detail_data(row: dict[str, Any]) -> dict[str, Any]:
    """`ReleaseSerializer`'s shape: the release with, per environment in promotion order, its embedded summary
    there (`Release.environments`) beside what the environment is (one small query of the environments)."""
    embedded = row["environments"] or {}
    environments = Environment.objects.order_by("order", "id").values(
        "id", "name", "tier", "health", "current_release_id"
    )
    summaries = []
    for env in environments:
        summary = embedded.get(env["id"]) or {}
        summaries.append(
            {
                "environment": env["id"],
                "name": env["name"],
                "tier": env["tier"],
                "health": env["health"],
                "is_current": bool(summary.get("is_current")),
                "current_release": env["current_release_id"],
                "deployment": summary.get("deployment"),
            }
        )
    return {**_release_data(row), "environments": summaries}
