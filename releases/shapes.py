"""The shapes of deployments as the API shows them, and the deployment summary a release embeds (issue #18).

Pure functions over `.values()` rows (no queries): the API's row reads (`releases.api.rows`), the embedded
summaries the services maintain (`releases.services.summaries`), `check_integrity` and `seed_load` all build
them here, so a summary is written exactly as a deployment is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from releases.models import Deployment

# Every stored field of a deployment, as `.values()` names them (`release_id`), in the model's order.
DEPLOYMENT_ROW = tuple(field.attname for field in Deployment._meta.concrete_fields)


def deployment_row(deployment: Deployment) -> dict[str, Any]:
    """An instance as the `.values(*DEPLOYMENT_ROW)` row of what it holds (a write's own deployment, not read back)."""
    return {name: getattr(deployment, name) for name in DEPLOYMENT_ROW}


def api_datetime(value: datetime | None) -> str | None:
    """A stored time as DRF's `DateTimeField` writes it (ISO 8601 in UTC, `Z`)."""
    if value is None:
        return None
    value = value.astimezone(UTC) if timezone.is_aware(value) else value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def duration_seconds(started_at: datetime, finished_at: datetime | None) -> float | None:
    """How long a deployment took, to the millisecond (None while it runs)."""
    return None if finished_at is None else round((finished_at - started_at).total_seconds(), 3)


def deployment_document(row: dict[str, Any]) -> dict[str, Any]:
    """A deployment as `DeploymentSerializer` shows it, JSON-ready (times as text)."""
    started_at, finished_at = row["started_at"], row["finished_at"]
    return {
        "id": row["id"],
        "release": row["release_id"],
        "environment": row["environment_id"],
        "kind": row["kind"],
        "status": row["status"],
        "sequence": row["sequence"],
        "started_at": api_datetime(started_at),
        "finished_at": api_datetime(finished_at),
        # Absent from rows read before the schedule fields existed (migration 0006): none was scheduled then.
        "scheduled_for": api_datetime(row.get("scheduled_for")),
        "blockers": row.get("blockers") or [],
        "duration_seconds": duration_seconds(started_at, finished_at),
        "deployed_by": row["deployed_by"],
        "notes": row["notes"],
        "pipeline_url": row["pipeline_url"],
        "rolled_back_from": row["rolled_back_from_id"],
        "became_current": row["became_current"],
        "previous_deployment": row["previous_deployment_id"],
        "revision": row["revision"],
    }


def latest_deployments(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Release id → environment id → the release's latest deployment row there (highest sequence; a scheduled
    deployment that has not run has none yet and is not one)."""
    latest: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        if row["sequence"] is None:
            continue
        per_environment = latest.setdefault(row["release_id"], {})
        known = per_environment.get(row["environment_id"])
        if known is None or known["sequence"] < row["sequence"]:
            per_environment[row["environment_id"]] = row
    return latest


def environments_document(
    release_id: str, latest: dict[str, dict[str, Any]], current: dict[str, str | None]
) -> dict[str, Any]:
    """What a release embeds (`Release.environments`): per environment where it was ever deployed, its latest
    deployment there and whether it is the environment's current release (`current`: environment → release)."""
    return {
        environment_id: {
            "deployment": deployment_document(row),
            "is_current": current.get(environment_id) == release_id,
        }
        for environment_id, row in sorted(latest.items())
    }
