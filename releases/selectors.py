"""Reads of releases and deployments that are more than a filter: approval count, per-environment
summary, metrics, history. Every aggregation runs in the database through the ORM (and compiles
for MongoDB: no joins in the aggregations, related ids looked up first)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Min, Q, QuerySet

from audit.models import AuditEvent
from environments.choices import Tier
from environments.models import Environment
from environments.policies import evaluate_policy, policy_with_defaults
from opsportal.clock import now_ms
from releases.approvals import current_round, release_content_digest
from releases.choices import OUTCOME_STATUSES, DeploymentKind, DeploymentStatus, FeatureStatus, TaskStatus
from releases.models import Deployment, Release


def release_list() -> QuerySet[Release]:
    """Releases, newest first (list filters are applied by `ReleaseFilterSet`)."""
    return Release.objects.all()


def deployment_list() -> QuerySet[Deployment]:
    """Deployments, most recently started first."""
    return Deployment.objects.all()


def release_required_approvals(*, policies: list[dict[str, Any]] | None = None) -> int:
    """The most approvals any environment's approval policy asks for (the sum of its rules), at least 1:
    what `approval.requested` announces. `policies`: those of `release_approval_policies()`, when the caller
    has read them already."""
    if policies is None:
        policies = release_approval_policies()
    totals = [sum(int(rule.get("approvals") or 1) for rule in entry["policy"]["rules"]) for entry in policies]
    return max([1, *totals])


def release_approval_policies(*, environment_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The environments whose approval policy has rules (in promotion order), as
    `{"environment", "name", "policy"}`; only those of `environment_ids` when given."""
    rows = Environment.objects.filter(requires_approval=True)
    if environment_ids is not None:
        rows = rows.filter(pk__in=environment_ids)
    return [
        {"environment": env_id, "name": name, "policy": policy_with_defaults(policy)}
        for env_id, name, policy in rows.order_by("order", "id").values_list("id", "name", "approval_policy")
    ]


def release_approval_status(
    release: Release,
    *,
    policies: list[dict[str, Any]] | None = None,
    at: datetime | None = None,
    deployer: str = "",
) -> list[dict[str, Any]]:
    """Per environment that asks for approvals (`release_approval_policies`, or `policies`): whether the
    release's current approvals meet its policy at `at` (default now), rule by rule (`rule`, `needed`,
    `have`, `expired`, `stale`, `met`, `approvers`); with `deployer`, whether they would be its only
    approver where the policy forbids it."""
    at = at or now_ms()
    policies = release_approval_policies() if policies is None else policies
    approvals = release_current_approvals(release)
    digest = release_content_digest(release)
    answer = []
    for entry in policies:
        result = evaluate_policy(
            entry["policy"], approvals, digest=digest, creator=release.created_by, at=at, deployer=deployer
        )
        answer.append(
            {
                "environment": entry["environment"],
                "name": entry["name"],
                "met": result.met,
                "rules": [rule.as_dict() for rule in result.rules],
                "deployer_is_only_approver": result.deployer_is_only_approver,
            }
        )
    return answer


def latest_deployments_query(release_ids: list[str]) -> QuerySet[Deployment]:
    """The newest deployment of each of the releases in each environment where it was deployed: its highest
    sequence there. Those sequences are found in the database (one query), then the query returned fetches
    exactly those rows by the unique (environment, sequence) index, however long the releases' histories are."""
    newest = (
        Deployment.objects.filter(release_id__in=release_ids)
        .order_by()
        .values("release_id", "environment_id")
        .annotate(sequence=Max("sequence"))
        .values_list("release_id", "environment_id", "sequence")
    )
    # A term that never matches (no environment has an empty id) keeps the query count the
    # same when nothing was deployed, and like the others it is served by the unique index.
    wanted = Q(environment_id="", sequence=0)
    for _, environment_id, sequence in newest:
        wanted |= Q(environment_id=environment_id, sequence=sequence)
    return Deployment.objects.filter(wanted).order_by()


def release_environment_summaries(*, release_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per release, for every environment (in promotion order): whether the release is current
    there, and the release's latest deployment there (or None). Three queries for any number of releases."""
    if not release_ids:
        return {}
    environments = list(
        Environment.objects.order_by("order", "id").values("id", "name", "tier", "health", "current_release_id")
    )
    latest: dict[tuple[str, str], Deployment] = {
        (d.release_id, d.environment_id): d for d in latest_deployments_query(release_ids)
    }
    return {
        release_id: [
            {
                "environment": env["id"],
                "name": env["name"],
                "tier": env["tier"],
                "health": env["health"],
                "is_current": env["current_release_id"] == release_id,
                "current_release": env["current_release_id"],
                "deployment": latest.get((release_id, env["id"])),
            }
            for env in environments
        ]
        for release_id in release_ids
    }


def release_deployed_to(*, release_ids: list[str]) -> dict[str, list[str]]:
    """Per release, the environments (in promotion order) where it is the current release. One query."""
    deployed_to: dict[str, list[str]] = {}
    rows = (
        Environment.objects.filter(current_release_id__in=release_ids)
        .order_by("order", "id")
        .values_list("current_release_id", "id")
    )
    for release_id, environment_id in rows:
        deployed_to.setdefault(release_id, []).append(environment_id)
    return deployed_to


def release_progress(release: Release) -> dict[str, Any]:
    """Feature and task completion, read from the embedded documents (no query)."""
    return features_progress(release.features)


def features_progress(features: Any) -> dict[str, Any]:
    """Feature and task completion of a release's embedded `features` (no query)."""
    features = [f for f in features or [] if isinstance(f, dict)]
    tasks = [t for f in features for t in f.get("tasks") or [] if isinstance(t, dict)]
    features_done = sum(1 for f in features if f.get("status") == FeatureStatus.DONE)
    tasks_done = sum(1 for t in tasks if t.get("status") == TaskStatus.DONE)
    return {
        "features_total": len(features),
        "features_done": features_done,
        "tasks_total": len(tasks),
        "tasks_done": tasks_done,
        "percent_complete": round(100 * tasks_done / len(tasks), 1) if tasks else None,
    }


def release_current_approvals(release: Release) -> list[dict[str, Any]]:
    """The approvals that count: those given since the last rejection (a rejected release that is
    resubmitted starts a new round)."""
    return current_round(release.approvals)


def _seconds(value: timedelta | float | None) -> float | None:
    if value is None:
        return None
    if isinstance(value, timedelta):
        return round(value.total_seconds(), 3)
    return round(float(value) / 1_000_000, 3)  # a duration expression may come back in microseconds


def release_metrics(*, release: Release) -> dict[str, Any]:
    """Deployment counts per environment and status, success rate, mean deployment duration,
    lead time (created → first successful production deployment) and feature/task progress.

    - `success_rate`: among this release's finished *deploys* (not rollbacks), the share that
      succeeded; a deploy that succeeded and was later rolled back counts as succeeded (the
      rollback is counted in `rolled_back`). None before any deploy finished.
    - `mean_deployment_duration_seconds`: mean of finished_at - started_at over finished deploys.
    """
    deployments = Deployment.objects.filter(release_id=release.pk, status__in=OUTCOME_STATUSES)
    grouped = list(
        deployments.values("environment_id", "kind", "status").annotate(n=Count("id")).order_by("environment_id")
    )
    production_ids = list(Environment.objects.filter(tier=Tier.PRODUCTION).values_list("id", flat=True))
    succeeded = (DeploymentStatus.SUCCEEDED, DeploymentStatus.ROLLED_BACK)
    finished_deploys = Q(kind=DeploymentKind.DEPLOY, finished_at__isnull=False)
    totals = deployments.aggregate(
        mean_duration=Avg(
            ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField()),
            filter=finished_deploys,
        ),
        first_production=Min(
            "finished_at",
            filter=Q(kind=DeploymentKind.DEPLOY, status__in=succeeded, environment_id__in=production_ids),
        ),
    )

    statuses = [str(status) for status in OUTCOME_STATUSES]
    by_environment: dict[str, dict[str, Any]] = {}
    counts = dict.fromkeys(statuses, 0)
    deploys_finished = deploys_succeeded = 0
    for row in grouped:
        env = by_environment.setdefault(
            row["environment_id"], {"environment": row["environment_id"], "total": 0, **dict.fromkeys(statuses, 0)}
        )
        env[row["status"]] += row["n"]
        env["total"] += row["n"]
        counts[row["status"]] += row["n"]
        if row["kind"] == DeploymentKind.DEPLOY and row["status"] != DeploymentStatus.IN_PROGRESS:
            deploys_finished += row["n"]
            if row["status"] in succeeded:
                deploys_succeeded += row["n"]
    first_production = totals["first_production"]
    return {
        "release": release.pk,
        "deployments_total": sum(counts.values()),
        "deployments_by_status": counts,
        "deployments_by_environment": list(by_environment.values()),
        "success_rate": round(deploys_succeeded / deploys_finished, 4) if deploys_finished else None,
        "mean_deployment_duration_seconds": _seconds(totals["mean_duration"]),
        "lead_time_seconds": (
            round((first_production - release.created_at).total_seconds(), 3) if first_production else None
        ),
        "first_production_deployment_at": first_production,
        "progress": release_progress(release),
    }


def release_history(*, release: Release) -> QuerySet[AuditEvent]:
    """The release's audit events and those of its deployments (including rollbacks that took it
    off an environment), newest first."""
    deployment_ids = Deployment.objects.filter(Q(release_id=release.pk) | Q(rolled_back_from_id=release.pk)).values(
        "id"
    )
    return AuditEvent.objects.filter(
        Q(object_type="release", object_id=release.pk) | Q(object_type="deployment", object_id__in=deployment_ids)
    ).order_by("-seq")
