"""Releases and deployments as the API shows them, from `.values()` rows (issue #18, see `opsportal.api.rows`).

One function per shape; each returns exactly what its serializer returns for the same object, key for key
and in the same order (`ReleaseListItemSerializer`, `ReleaseSerializer`, `DeploymentSerializer`)."""

from __future__ import annotations

from typing import Any

from environments.models import Environment
from opsportal.api.rows import on_forget
from releases.api.serializers import RELEASE_DOCUMENT_FIELDS
from releases.models import Deployment, Release
from releases.selectors import features_progress, release_approval_status
from releases.services import ACTIONS_BY_STATUS
from releases.shapes import deployment_document, deployment_row

# The stored fields the serializers show, references as their ids (`team_id`).
RELEASE_ROW = tuple({"team": "team_id", "workflow": "workflow_id"}.get(name, name) for name in RELEASE_DOCUMENT_FIELDS)
RELEASE_DETAIL_ROW = (*RELEASE_ROW, "environments")
# A deployment as the API shows it (`DeploymentSerializer`): the same function the embedded summaries use.
deployment_data = deployment_document


def deployment_instance_data(deployment: Deployment) -> dict[str, Any]:
    """`DeploymentSerializer`'s shape of an instance a write has just returned (its response)."""
    return deployment_document(deployment_row(deployment))


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


ENVIRONMENT_FIELDS = ("id", "name", "tier", "health", "current_release_id")
# What those fields move with: environment changes, and deployments (current release, health).
ENVIRONMENT_COLLECTIONS = ("environment", "deployment")
_environments: tuple[Any, list[dict[str, Any]]] = (None, [])


def environments_now(stamp: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """The environments in promotion order (`ENVIRONMENT_FIELDS`). With `stamp` (the versions of
    `ENVIRONMENT_COLLECTIONS`) they are read once per process until it moves; without, read now."""
    global _environments
    cached_stamp, rows = _environments
    if stamp is not None and cached_stamp == stamp:
        return rows
    rows = list(Environment.objects.order_by("order", "id").values(*ENVIRONMENT_FIELDS))
    if stamp is not None:
        _environments = (stamp, rows)
    return rows


@on_forget
def _forget_environments() -> None:
    global _environments
    _environments = (None, [])


def release_list_data(rows: list[dict[str, Any]], environments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A page of `ReleaseListItemSerializer`s; `deployed_to` from the `environments` (`environments_now`)."""
    deployed_to: dict[str, list[str]] = {}
    for env in environments:
        if env["current_release_id"] is not None:
            deployed_to.setdefault(env["current_release_id"], []).append(env["id"])
    return [{**_release_data(row), "deployed_to": deployed_to.get(row["id"], [])} for row in rows]


def release_detail_data(
    row: dict[str, Any], environments: list[dict[str, Any]], release: Release | None = None
) -> dict[str, Any]:
    """`ReleaseSerializer`'s shape: the release with, per environment in promotion order, its embedded summary
    there (`Release.environments`) beside what the environment is (`environments_now`). `release`: the
    row's instance, when the caller has it (the approval rules read it)."""
    embedded = row["environments"] or {}
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
    approval_status = release_approval_status(release if release is not None else _release(row))
    return {**_release_data(row), "environments": summaries, "approval_status": approval_status}


def release_instance_data(release: Release) -> dict[str, Any]:
    """`ReleaseSerializer`'s shape of an instance a write has just returned (its response): from the summary
    it embeds, which the write kept up to date in its unit, and the environments as they are now."""
    row = {name: getattr(release, name) for name in RELEASE_DETAIL_ROW}
    return release_detail_data(row, environments_now(), release)


def _release(row: dict[str, Any]) -> Release:
    """An unsaved `Release` with the row's fields: what the approval rules read (approvals, content, creator)."""
    return Release(**{name: row[name] for name in RELEASE_ROW if name != "environments"})
