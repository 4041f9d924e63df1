"""The invariants of releases, deployments and environments (DESIGN §3), checked and repaired.

`integrity_violations()` reads everything once and lists what breaks an invariant;
`integrity_repair()` fixes what can be derived from the deployments, one unit of work and one
audit event (`*.repaired`) per repair. `manage.py check_integrity [--repair]` calls them.

Invariants:
- `sequence`: an environment's `deployment_seq` is its highest deployment sequence. Deployments
  above it were written by a version that crashed between two writes and never took effect:
  repair marks them `failed` (not current) and moves the sequence up to them.
- `current`: an environment's current deployment is its latest deployment (by sequence) that
  became current, and its current release is that deployment's release.
- `rolled_back`: the deployment a rollback replaced is `rolled_back`, not `succeeded`.
- `production_status`: a release current on a production-tier environment is `deployed`.
- `rolled_back_status`: a `rolled_back` release was rolled back on a production-tier environment.
- `approvals`: an `approved` release has an approval in its current round, nobody approved twice
  in one round, and the creator never approved their own release.
- `dangling`: every reference (deployment → release/environment/previous, environment → current
  release/deployment, release → team/workflow, workflow stage → environment) names a document.
- `summary`: the deployment summary a release embeds (`Release.environments`: per environment, its latest
  deployment there and whether it is current) is what the deployments and environments say (issue #18).
  Repair rebuilds it from them.
- `audit_chain`: the audit trail's hash chain is intact.
- `text`: no text or embedded document of a release, deployment, environment, team or workflow holds
  a lone UTF-16 surrogate or a NUL character (refused since issue #10, `opsportal.limits`; rows
  written before could break every page showing them). Repair replaces each with U+FFFD; its audit
  event names the paths, never the text. Audit events are not rewritten: the trail is append-only and
  hash-chained (rewriting an event is what `audit_chain` detects), so the renderers draw their lone
  surrogates as U+FFFD instead (`opsportal.api.renderers`, `opsportal.admin_html`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from django.db import models

from audit.actions import AuditAction
from audit.selectors import audit_chain_verify
from audit.services import audit_record, now_ms
from environments.choices import Tier
from environments.models import Environment
from environments.policies import creator_may_approve
from opsportal.limits import bad_text_paths, replace_bad_text
from opsportal.uow import run_in_unit
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus
from releases.history import release_search_text
from releases.models import Deployment, Release
from releases.selectors import release_approval_policies, release_current_approvals
from releases.services.summaries import release_environments_refresh
from releases.shapes import DEPLOYMENT_ROW, environments_document, latest_deployments
from teams.models import Team
from workflows.models import Workflow

REPAIR_ACTOR = "check_integrity"
# Every field a deployment shows: the embedded summaries are checked against them.
DEPLOYMENT_FIELDS = DEPLOYMENT_ROW


@dataclass
class Violation:
    """One broken invariant: which, on what, why; `repair` fixes it (None: needs a person)."""

    invariant: str
    object_type: str
    object_id: str
    message: str
    repair: Callable[[], None] | None = field(default=None, repr=False, compare=False)

    def __str__(self) -> str:
        return f"[{self.invariant}] {self.object_type} {self.object_id}: {self.message}"


def _repaired(object_type: str, object_id: str, invariant: str, changes: dict[str, Any]) -> None:
    action = AuditAction(f"{object_type}.repaired")
    audit_record(
        actor=REPAIR_ACTOR,
        action=action,
        object_type=object_type,
        object_id=object_id,
        changes={**changes, "invariant": invariant},
    )


# --------------------------------------------------------------------------- repairs (one unit each)


def _repair_sequence(environment_id: str, orphans: list[str], highest: int) -> None:
    def unit() -> None:
        environment = Environment.objects.get(pk=environment_id)
        changes: dict[str, Any] = {"deployment_seq": [environment.deployment_seq, highest]}
        for deployment in Deployment.objects.filter(pk__in=orphans).values("id", "status", "revision"):
            Deployment.objects.filter(pk=deployment["id"], revision=deployment["revision"]).update(
                status=DeploymentStatus.FAILED,
                became_current=False,
                previous_deployment=None,
                finished_at=now_ms(),
                notes="Never took effect (written by a process that stopped mid-way); repaired by check_integrity.",
                revision=deployment["revision"] + 1,
            )
            if deployment["status"] != DeploymentStatus.FAILED:
                changes.setdefault("deployments_failed", []).append(deployment["id"])
        Environment.objects.filter(pk=environment_id, revision=environment.revision).update(
            deployment_seq=highest, revision=environment.revision + 1, updated_at=now_ms()
        )
        _repaired("environment", environment_id, "sequence", changes)

    run_in_unit(unit)


def _repair_current(environment_id: str, deployment_id: str | None, release_id: str | None) -> None:
    def unit() -> None:
        environment = Environment.objects.get(pk=environment_id)
        changes = {
            "current_deployment": [environment.current_deployment_id, deployment_id],
            "current_release": [environment.current_release_id, release_id],
        }
        Environment.objects.filter(pk=environment_id, revision=environment.revision).update(
            current_deployment_id=deployment_id,
            current_release_id=release_id,
            revision=environment.revision + 1,
            updated_at=now_ms(),
        )
        _repaired("environment", environment_id, "current", changes)

    run_in_unit(unit)


def _repair_deployment_status(deployment_id: str, to: str, invariant: str) -> None:
    def unit() -> None:
        deployment = Deployment.objects.get(pk=deployment_id)
        Deployment.objects.filter(pk=deployment_id, revision=deployment.revision).update(
            status=to, revision=deployment.revision + 1
        )
        _repaired("deployment", deployment_id, invariant, {"status": [deployment.status, to]})

    run_in_unit(unit)


def _repair_release_status(release_id: str, to: str, invariant: str) -> None:
    def unit() -> None:
        release = Release.objects.get(pk=release_id)
        Release.objects.filter(pk=release_id, revision=release.revision).update(
            status=to, revision=release.revision + 1, updated_at=now_ms()
        )
        _repaired("release", release_id, invariant, {"status": [release.status, to]})

    run_in_unit(unit)


def _repair_summary(release_id: str) -> None:
    def unit() -> None:
        release_environments_refresh(release_ids=[release_id])
        _repaired("release", release_id, "summary", {"environments": "rebuilt from the deployments"})

    run_in_unit(unit)


def _summary_violations(environments: list[dict[str, Any]], deployments: list[dict[str, Any]]) -> list[Violation]:
    current = {environment["id"]: environment["current_release_id"] for environment in environments}
    latest = latest_deployments(deployments)
    found: list[Violation] = []
    for release_id, stored in Release.objects.order_by("id").values_list("id", "environments").iterator(2000):
        if (stored or {}) != environments_document(release_id, latest.get(release_id, {}), current):
            found.append(
                Violation(
                    "summary",
                    "release",
                    release_id,
                    "the embedded deployment summary does not match its deployments",
                    lambda r=release_id: _repair_summary(r),
                )
            )
    return found


def _repair_text(model: type[models.Model], object_type: str, pk: str) -> None:
    def unit() -> None:
        document = model.objects.get(pk=pk)
        values: dict[str, Any] = {}
        replaced: list[str] = []
        for name in _text_fields(model):
            paths = bad_text_paths(getattr(document, name), root=name)
            if paths:
                values[name] = replace_bad_text(getattr(document, name))
                replaced += paths
        if not values:
            return
        if model is Release and "features" in values:
            values["search_text"] = release_search_text(values["features"])
        if any(field.name == "updated_at" for field in model._meta.concrete_fields):
            values["updated_at"] = now_ms()
        if model.objects.filter(pk=pk, revision=document.revision).update(revision=document.revision + 1, **values):
            _repaired(object_type, pk, "text", {"replaced_with_u_fffd": replaced})

    run_in_unit(unit)


# --------------------------------------------------------------------------- checks


# The documents people and clients write text into (audit events: see the module docstring).
TEXT_DOCUMENTS: tuple[tuple[type[models.Model], str], ...] = (
    (Release, "release"),
    (Deployment, "deployment"),
    (Environment, "environment"),
    (Team, "team"),
    (Workflow, "workflow"),
)


def _text_fields(model: type[models.Model]) -> list[str]:
    """Stored text and embedded documents (not the id, not `search_text`, which repair derives again)."""
    return [
        field.name
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
        and not field.primary_key
        and field.name != "search_text"
    ]


def _text_violations() -> list[Violation]:
    found: list[Violation] = []
    for model, object_type in TEXT_DOCUMENTS:
        fields = _text_fields(model)
        for row in model.objects.order_by("pk").values("pk", *fields).iterator(chunk_size=2000):
            paths = [path for name in fields for path in bad_text_paths(row[name], root=name)]
            if not paths:
                continue
            shown = ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")
            found.append(
                Violation(
                    "text",
                    object_type,
                    row["pk"],
                    f"a lone surrogate or a NUL character in {shown}",
                    lambda m=model, t=object_type, pk=row["pk"]: _repair_text(m, t, pk),
                )
            )
    return found


def _environment_violations(
    environment: dict[str, Any], deployments: list[dict[str, Any]], ids: dict[str, set[str]]
) -> list[Violation]:
    env_id = environment["id"]
    found: list[Violation] = []
    seq = environment["deployment_seq"]
    highest = max((d["sequence"] for d in deployments), default=0)
    orphans = [d["id"] for d in deployments if d["sequence"] > seq]
    if highest != seq:
        found.append(
            Violation(
                "sequence",
                "environment",
                env_id,
                f"deployment_seq is {seq} but its highest deployment sequence is {highest}"
                + (f" (never took effect: {', '.join(orphans)})" if orphans else ""),
                (lambda: _repair_sequence(env_id, orphans, highest)) if highest > seq else None,
            )
        )
    effective = [d for d in deployments if d["sequence"] <= max(seq, highest) and d["id"] not in orphans]
    current = max((d for d in effective if d["became_current"]), key=lambda d: d["sequence"], default=None)
    want_deployment = current["id"] if current else None
    want_release = current["release_id"] if current else None
    if (environment["current_deployment_id"], environment["current_release_id"]) != (want_deployment, want_release):
        found.append(
            Violation(
                "current",
                "environment",
                env_id,
                f"current deployment/release are {environment['current_deployment_id']}/"
                f"{environment['current_release_id']}, its latest deployment that became current says "
                f"{want_deployment}/{want_release}",
                lambda: _repair_current(env_id, want_deployment, want_release),
            )
        )
    by_sequence = sorted((d for d in effective if d["became_current"]), key=lambda d: d["sequence"])
    for before, rollback in pairwise(by_sequence):
        if rollback["kind"] == DeploymentKind.ROLLBACK and before["status"] == DeploymentStatus.SUCCEEDED:
            found.append(
                Violation(
                    "rolled_back",
                    "deployment",
                    before["id"],
                    f"rollback {rollback['id']} replaced it, yet it still says 'succeeded'",
                    lambda d=before["id"]: _repair_deployment_status(d, DeploymentStatus.ROLLED_BACK, "rolled_back"),
                )
            )
    for name, value, kind in (
        ("current_release_id", environment["current_release_id"], "release"),
        ("current_deployment_id", environment["current_deployment_id"], "deployment"),
    ):
        if value and value not in ids[kind]:
            found.append(Violation("dangling", "environment", env_id, f"{name} {value!r} does not exist"))
    return found


def _release_violations(
    release: Release,
    production_current: set[str],
    rolled_back_on_production: set[str],
    ids: dict[str, set[str]],
    *,
    creators_approve: bool = False,
) -> list[Violation]:
    found: list[Violation] = []
    if release.pk in production_current and release.status != ReleaseStatus.DEPLOYED:
        found.append(
            Violation(
                "production_status",
                "release",
                release.pk,
                f"it runs on a production-tier environment but says '{release.status}'",
                lambda r=release.pk: _repair_release_status(r, ReleaseStatus.DEPLOYED, "production_status"),
            )
        )
    if release.status == ReleaseStatus.ROLLED_BACK and release.pk not in rolled_back_on_production:
        found.append(
            Violation("rolled_back_status", "release", release.pk, "it says 'rolled_back' but was never rolled back")
        )
    current = release_current_approvals(release)
    users = [entry.get("user") for entry in current]
    if release.status == ReleaseStatus.APPROVED and not current:
        found.append(Violation("approvals", "release", release.pk, "it says 'approved' with no current approval"))
    if len(users) != len(set(users)):
        found.append(Violation("approvals", "release", release.pk, "someone approved it twice in one round"))
    # Four eyes, unless every approval policy lets creators approve (issue #12).
    if release.created_by and release.created_by in users and not creators_approve:
        found.append(Violation("approvals", "release", release.pk, "its creator approved it"))
    for name, value, kind in (("team", release.team_id, "team"), ("workflow", release.workflow_id, "workflow")):
        if value and value not in ids[kind]:
            found.append(Violation("dangling", "release", release.pk, f"{name} {value!r} does not exist"))
    return found


def integrity_violations() -> list[Violation]:
    """Every broken invariant (see the module docstring), in a stable order."""
    environments = list(
        Environment.objects.order_by("order", "id").values(
            "id", "tier", "deployment_seq", "current_deployment_id", "current_release_id"
        )
    )
    # Scheduled, cancelled and schedule-failed deployments never claimed a sequence (issue #12).
    deployments = list(
        Deployment.objects.filter(sequence__isnull=False)
        .order_by("environment_id", "sequence")
        .values(*DEPLOYMENT_FIELDS)
    )
    previous = dict(Deployment.objects.values_list("id", "previous_deployment_id"))
    rolled_back_from = Deployment.objects.filter(kind=DeploymentKind.ROLLBACK).values_list(
        "rolled_back_from_id", "environment_id"
    )
    ids = {
        "release": set(Release.objects.values_list("id", flat=True)),
        "deployment": {d["id"] for d in deployments},
        "environment": {e["id"] for e in environments},
        "team": set(Team.objects.values_list("id", flat=True)),
        "workflow": set(Workflow.objects.values_list("id", flat=True)),
    }
    production = {e["id"] for e in environments if e["tier"] == Tier.PRODUCTION}
    per_environment: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for deployment in deployments:
        per_environment[deployment["environment_id"]].append(deployment)

    found: list[Violation] = []
    for environment in environments:
        found += _environment_violations(environment, per_environment.get(environment["id"], []), ids)
    production_current = {
        e["current_release_id"] for e in environments if e["id"] in production and e["current_release_id"]
    }
    rolled_back_on_production = {release for release, env in rolled_back_from if env in production}
    creators_approve = creator_may_approve(release_approval_policies())
    for release in Release.objects.order_by("id").only("id", "status", "approvals", "created_by", "team", "workflow"):
        found += _release_violations(
            release, production_current, rolled_back_on_production, ids, creators_approve=creators_approve
        )

    for deployment in deployments:
        for name, value, kind in (
            ("release", deployment["release_id"], "release"),
            ("environment", deployment["environment_id"], "environment"),
            ("previous_deployment", previous.get(deployment["id"]), "deployment"),
        ):
            if value and value not in ids[kind]:
                found.append(Violation("dangling", "deployment", deployment["id"], f"{name} {value!r} does not exist"))
    for workflow_id, stages in Workflow.objects.order_by("id").values_list("id", "stages"):
        for stage in stages or []:
            env = stage.get("environment") if isinstance(stage, dict) else None
            if env and env not in ids["environment"]:
                message = f"stage environment {env!r} does not exist"
                found.append(Violation("dangling", "workflow", workflow_id, message))

    found += _summary_violations(environments, deployments)
    found += _text_violations()

    chain = audit_chain_verify()
    if not chain["valid"]:
        found.append(Violation("audit_chain", "audit_event", str(chain["first_broken"]), chain["message"]))
    return found


def integrity_repair() -> tuple[list[Violation], list[Violation]]:
    """Repair what can be derived, until nothing repairable is left (a repair may reveal the next,
    e.g. a sequence fix before the current deployment). Returns (repaired, left for a person)."""
    repaired: list[Violation] = []
    attempted: set[tuple[str, str, str]] = set()
    while True:
        # One at a time: each repair may change what the next one should do. A repair that
        # did not take (the same violation again) is not tried twice.
        key = lambda v: (v.invariant, v.object_type, v.object_id)  # noqa: E731
        todo = [v for v in integrity_violations() if v.repair is not None and key(v) not in attempted]
        if not todo:
            return repaired, integrity_violations()
        attempted.add(key(todo[0]))
        todo[0].repair()
        repaired.append(todo[0])
