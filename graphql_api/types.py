"""The GraphQL types. Names and fields mirror the REST API's (OpenAPI component names, snake_case JSON keys,
the same enum values), so a client moving between the two meets one vocabulary.

Lists never cost a query per item: a page of releases (or environments) shares one `Batch`, and the
first item that needs per-environment summaries, deployments, teams, workflows or history loads them for
every release of the page at once (the same selectors the REST serializers use for a page).
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from strawberry.scalars import JSON

from audit.models import AuditEvent
from environments.choices import Health, Tier
from environments.models import Environment as EnvironmentModel
from environments.selectors import RECENT_DEPLOYMENTS, environment_freeze_state
from releases.choices import (
    ApprovalDecision,
    DeploymentKind,
    DeploymentStatus,
    FeatureStatus,
    ReleaseAction,
    ReleaseStatus,
    TaskStatus,
)
from releases.models import Deployment as DeploymentModel
from releases.models import Release as ReleaseModel
from releases.selectors import release_deployed_to, release_environment_summaries, release_progress
from releases.services import release_allowed_actions
from teams.models import Team as TeamModel
from workflows.models import Workflow as WorkflowModel

# Per release, the deployments and history entries a nested list shows at most (and the default).
NESTED_LIMIT = 100
NESTED_DEFAULT = 20


def choices_enum(choices: type, name: str, description: str) -> Any:
    """A GraphQL enum whose values are the REST values (`pending_approval`, not `PENDING_APPROVAL`)."""
    return strawberry.enum(enum.Enum(name, {value: value for value in choices.values}), description=description)


ReleaseStatusEnum = choices_enum(ReleaseStatus, "ReleaseStatus", "Lifecycle status of a release (DESIGN §6).")
ReleaseActionEnum = choices_enum(ReleaseAction, "ReleaseAction", "An action on a release.")
FeatureStatusEnum = choices_enum(FeatureStatus, "FeatureStatus", "Status of a feature.")
TaskStatusEnum = choices_enum(TaskStatus, "TaskStatus", "Status of a task.")
ApprovalDecisionEnum = choices_enum(ApprovalDecision, "ApprovalDecision", "An approval or a rejection.")
DeploymentKindEnum = choices_enum(DeploymentKind, "DeploymentKind", "A deploy or a rollback.")
DeploymentStatusEnum = choices_enum(DeploymentStatus, "DeploymentStatus", "Status of a deployment.")
TierEnum = choices_enum(Tier, "Tier", "How close to customers an environment is.")
HealthEnum = choices_enum(Health, "Health", "An environment's last known state.")

T = TypeVar("T")


def embedded(cls: type[T], documents: Any) -> list[T]:
    """Embedded documents (dicts) as instances of `cls`; a missing key takes the field's default."""
    fields = cls.__strawberry_definition__.fields  # type: ignore[attr-defined]
    items = []
    for document in documents or []:
        if not isinstance(document, dict):
            continue
        values = {}
        for f in fields:
            if f.base_resolver is not None:
                continue
            default = f.default if f.default is not strawberry.UNSET and not _missing(f.default) else None
            values[f.python_name] = document.get(f.python_name, default)
        items.append(cls(**values))
    return items


def _missing(value: Any) -> bool:
    from dataclasses import MISSING

    return value is MISSING


# --------------------------------------------------------------------------- embedded documents


@strawberry.type(description="A task of a feature.")
class Task:
    title: str
    status: TaskStatusEnum  # type: ignore[valid-type]
    assignee: str = ""


@strawberry.type(description="A feature of a release, with its tasks.")
class Feature:
    name: str
    status: FeatureStatusEnum  # type: ignore[valid-type]
    description: str = ""
    raw_tasks: strawberry.Private[list[Any]] = None  # type: ignore[assignment]

    @strawberry.field
    def tasks(self) -> list[Task]:
        return embedded(Task, self.raw_tasks)


@strawberry.type(description="An approval or rejection of a release, oldest first.")
class Approval:
    user: str
    decision: ApprovalDecisionEnum  # type: ignore[valid-type]
    at: datetime
    comment: str = ""


@strawberry.type(description="A member of a team; `username` is the Django user they sign in as.")
class Member:
    name: str
    email: str
    role: str = ""
    username: str = ""


@strawberry.type(description="A stage of a workflow, in order.")
class Stage:
    environment: str
    requires_approval: bool = False


@strawberry.type(description="What a workflow does on an event.")
class Trigger:
    event: str
    action: str
    params: JSON = strawberry.field(default_factory=dict)


# --------------------------------------------------------------------------- batches


@dataclass
class Batch:
    """The documents of one answer (a page of releases or environments, or one of them); what their nested
    fields need, loaded once for all of them."""

    items: list[Any]

    def __post_init__(self) -> None:
        self._loaded: dict[str, Any] = {}
        for item in self.items:
            item._graphql_batch = self

    def load(self, key: str, compute: Callable[[list[Any]], T]) -> T:
        if key not in self._loaded:
            self._loaded[key] = compute(self.items)
        return self._loaded[key]


def preload(batch: Batch) -> None:
    """Everything a `Release`'s nested fields read, loaded now: for answers resolved on the event loop (a
    subscription), where the database may not be touched."""
    for key, loader in LOADERS.items():
        batch.load(key, loader)


def batch_of(item: Any) -> Batch:
    return getattr(item, "_graphql_batch", None) or Batch([item])


def _by_id(model: type, ids: set[Any]) -> dict[str, Any]:
    ids = ids - {None}
    return model.objects.in_bulk(sorted(ids)) if ids else {}


def _deployments_of(releases: list[ReleaseModel]) -> dict[str, list[DeploymentModel]]:
    """Each release's newest deployments (at most `NESTED_LIMIT`), in one query."""
    per_release: dict[str, list[DeploymentModel]] = defaultdict(list)
    rows = DeploymentModel.objects.filter(release_id__in=[r.pk for r in releases]).order_by("-started_at", "id")
    for deployment in rows:
        if len(per_release[deployment.release_id]) < NESTED_LIMIT:
            per_release[deployment.release_id].append(deployment)
    return per_release


def _history_of(releases: list[ReleaseModel]) -> dict[str, list[AuditEvent]]:
    """Each release's audit events and those of its deployments, including rollbacks that took it off an
    environment (as `releases.selectors.release_history`), newest first, at most `NESTED_LIMIT` each: two
    queries for any number of releases."""
    ids = {r.pk for r in releases}
    owners: dict[str, list[str]] = {}
    for deployment_id, *related in DeploymentModel.objects.filter(
        Q(release_id__in=sorted(ids)) | Q(rolled_back_from_id__in=sorted(ids))
    ).values_list("id", "release_id", "rolled_back_from_id"):
        owners[deployment_id] = sorted({r for r in related if r in ids})
    events = AuditEvent.objects.filter(
        Q(object_type="release", object_id__in=sorted(ids)) | Q(object_type="deployment", object_id__in=sorted(owners))
    ).order_by("-seq")
    per_release: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in events:
        for target in [event.object_id] if event.object_type == "release" else owners[event.object_id]:
            if len(per_release[target]) < NESTED_LIMIT:
                per_release[target].append(event)
    return per_release


def _teams_of(releases: list[ReleaseModel]) -> dict[str, TeamModel]:
    return _by_id(TeamModel, {r.team_id for r in releases})


def _workflows_of(releases: list[ReleaseModel]) -> dict[str, WorkflowModel]:
    return _by_id(WorkflowModel, {r.workflow_id for r in releases})


def _deployed_to_of(releases: list[ReleaseModel]) -> dict[str, list[str]]:
    return release_deployed_to(release_ids=[release.pk for release in releases])


def _summaries_of(releases: list[ReleaseModel]) -> dict[str, list[dict[str, Any]]]:
    return release_environment_summaries(release_ids=[release.pk for release in releases])


LOADERS: dict[str, Callable[[list[ReleaseModel]], Any]] = {
    "teams": _teams_of,
    "workflows": _workflows_of,
    "deployed_to": _deployed_to_of,
    "summaries": _summaries_of,
    "deployments": _deployments_of,
    "history": _history_of,
}


def _environment_status_of(environments: list[EnvironmentModel]) -> dict[str, dict[str, Any]]:
    """Per environment, what `GET /environments/{id}/status` shows (`environments.selectors.environment_status`)
    for a whole page at once: its latest `RECENT_DEPLOYMENTS` deployments — the highest sequences, found by
    the unique (environment, sequence) index without reading older history — and the releases they and the
    environment name, in two queries for any number of environments."""
    wanted = Q(environment_id="", sequence=0)  # never matches: the query count stays the same without history
    for environment in environments:
        wanted |= Q(environment_id=environment.pk, sequence__gt=environment.deployment_seq - RECENT_DEPLOYMENTS)
    recent = list(DeploymentModel.objects.filter(wanted).order_by("-started_at", "-sequence"))
    release_ids = {d.release_id for d in recent} | {e.current_release_id for e in environments}
    releases = _by_id(ReleaseModel, release_ids)
    Batch(list(releases.values()))
    status: dict[str, dict[str, Any]] = {}
    for environment in environments:
        mine = [d for d in recent if d.environment_id == environment.pk][:RECENT_DEPLOYMENTS]
        status[environment.pk] = {
            "current_release": releases.get(environment.current_release_id),
            "last_deployment": mine[0] if mine else None,
            "recent_deployments": mine,
        }
    return status


def _limit(limit: int) -> int:
    return max(0, min(limit, NESTED_LIMIT))


# --------------------------------------------------------------------------- documents


@strawberry.type(description="A team; `members` link to Django users by `username`.")
class Team:
    id: strawberry.ID
    name: str
    description: str
    projects: list[str]
    revision: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def members(self, root: strawberry.Parent[TeamModel]) -> list[Member]:
        return embedded(Member, root.members)


@strawberry.type(description="A workflow: the ordered stages a release follows, and triggers.")
class Workflow:
    id: strawberry.ID
    name: str
    description: str
    active: bool
    revision: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field
    def stages(self, root: strawberry.Parent[WorkflowModel]) -> list[Stage]:
        return embedded(Stage, root.stages)

    @strawberry.field
    def triggers(self, root: strawberry.Parent[WorkflowModel]) -> list[Trigger]:
        return embedded(Trigger, root.triggers)


@strawberry.type(description="A deployment target (development → staging → production).")
class Environment:
    id: strawberry.ID
    name: str
    description: str
    tier: TierEnum  # type: ignore[valid-type]
    order: int
    url: str
    config: JSON
    requires_approval: bool
    approval_policy: JSON = strawberry.field(
        description="Who must approve a release before it is deployed here: rules (N from a group or a team, "
        "all met), expiry, four eyes (`GET /api/v1/environments/{id}` shows the same)."
    )
    health: HealthEnum  # type: ignore[valid-type]
    revision: int
    created_at: datetime
    updated_at: datetime

    @strawberry.field(description="The id of the release running here (null before the first deploy).")
    def current_release(self, root: strawberry.Parent[EnvironmentModel]) -> str | None:
        return root.current_release_id

    @strawberry.field(description="The id of the deployment that made the current release current.")
    def current_deployment(self, root: strawberry.Parent[EnvironmentModel]) -> str | None:
        return root.current_deployment_id

    @strawberry.field(description="Whether a freeze window is active now.")
    def frozen(self, root: strawberry.Parent[EnvironmentModel]) -> bool:
        return environment_freeze_state(root)[0]

    @strawberry.field(description="When the active freeze ends (null when not frozen).")
    def frozen_until(self, root: strawberry.Parent[EnvironmentModel]) -> datetime | None:
        return environment_freeze_state(root)[1]

    @strawberry.field(
        description="What runs here and how it got there (`GET /environments/{id}/status`): the current release, "
        f"the last and the {RECENT_DEPLOYMENTS} most recent deployments."
    )
    def status(self, root: strawberry.Parent[EnvironmentModel]) -> EnvironmentStatus:
        found = batch_of(root).load("status", _environment_status_of)[root.pk]
        return EnvironmentStatus(**found)


@strawberry.type(description="One deploy or rollback of a release to an environment.")
class Deployment:
    id: strawberry.ID
    kind: DeploymentKindEnum  # type: ignore[valid-type]
    status: DeploymentStatusEnum  # type: ignore[valid-type]
    sequence: int
    started_at: datetime
    finished_at: datetime | None
    deployed_by: str
    notes: str
    pipeline_url: str
    became_current: bool
    revision: int

    @strawberry.field(description="Release id.")
    def release(self, root: strawberry.Parent[DeploymentModel]) -> str:
        return root.release_id

    @strawberry.field(description="Environment id.")
    def environment(self, root: strawberry.Parent[DeploymentModel]) -> str:
        return root.environment_id

    @strawberry.field(description="For a rollback: the release that was taken off the environment.")
    def rolled_back_from(self, root: strawberry.Parent[DeploymentModel]) -> str | None:
        return root.rolled_back_from_id

    @strawberry.field(description="The deployment that was current before this one became current.")
    def previous_deployment(self, root: strawberry.Parent[DeploymentModel]) -> str | None:
        return root.previous_deployment_id

    @strawberry.field
    def duration_seconds(self, root: strawberry.Parent[DeploymentModel]) -> float | None:
        if root.finished_at is None:
            return None
        return round((root.finished_at - root.started_at).total_seconds(), 3)


@strawberry.type(description="Feature and task completion.")
class ReleaseProgress:
    features_total: int
    features_done: int
    tasks_total: int
    tasks_done: int
    percent_complete: float | None


@strawberry.type(description="Per environment: is this release current there, and its latest deployment there.")
class ReleaseEnvironmentSummary:
    environment: str
    name: str
    tier: TierEnum  # type: ignore[valid-type]
    health: HealthEnum  # type: ignore[valid-type]
    is_current: bool
    current_release: str | None
    deployment: Deployment | None


@strawberry.type(description="An audit event of a release or of one of its deployments.")
class ReleaseHistoryEvent:
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    changes: JSON


@strawberry.type(
    description="An approval rule that is not met: `have` fresh approvals of `needed`; matching approvals that "
    "no longer count: `expired` (older than the policy's `expires_after`) and `stale` (given on other content)."
)
class ReleaseUnmetRule:
    rule: str
    needed: int
    have: int
    expired: int
    stale: int


@strawberry.type(description="The occurrence of a freeze in force.")
class ReleaseFreezeOccurrence:
    starts_at: datetime
    ends_at: datetime


@strawberry.type(description="What stands between a release and an environment (see deployCheck).")
class ReleaseDeployBlocker:
    code: str
    message: str
    status: ReleaseStatusEnum | None = None  # type: ignore[valid-type]
    required_approvals: int | None = None
    unmet_rules: list[ReleaseUnmetRule] | None = None
    workflow: str | None = None
    required_environment: str | None = None
    until: datetime | None = None
    freeze: str | None = None
    occurrence: ReleaseFreezeOccurrence | None = None
    next_open_at: datetime | None = None
    reason: str | None = None
    deployment: str | None = None

    def __post_init__(self) -> None:  # the service's blockers are dicts (as REST serializes them)
        if self.unmet_rules is not None:
            self.unmet_rules = [ReleaseUnmetRule(**rule) for rule in self.unmet_rules]
        if isinstance(self.occurrence, dict):
            self.occurrence = ReleaseFreezeOccurrence(**self.occurrence)


@strawberry.type(description="Whether the release may be deployed to the environment now, and what blocks it.")
class ReleaseDeployCheck:
    allowed: bool
    blockers: list[ReleaseDeployBlocker]


@strawberry.type(description="A version with its features and tasks, approvals and per-environment state.")
class Release:
    id: strawberry.ID
    name: str
    version: str
    description: str
    status: ReleaseStatusEnum  # type: ignore[valid-type]
    target_date: date | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    revision: int

    @strawberry.field
    def features(self, root: strawberry.Parent[ReleaseModel]) -> list[Feature]:
        return [
            Feature(
                name=f.get("name", ""),
                status=f.get("status"),
                description=f.get("description", ""),
                raw_tasks=f.get("tasks") or [],
            )
            for f in root.features or []
            if isinstance(f, dict)
        ]

    @strawberry.field
    def approvals(self, root: strawberry.Parent[ReleaseModel]) -> list[Approval]:
        approvals = embedded(Approval, root.approvals)
        for approval in approvals:  # stored as ISO 8601 text in the embedded document
            if isinstance(approval.at, str):
                approval.at = parse_datetime(approval.at)
        return approvals

    @strawberry.field(description="Actions the current status allows.")
    def allowed_actions(self, root: strawberry.Parent[ReleaseModel]) -> list[ReleaseActionEnum]:  # type: ignore[valid-type]
        return release_allowed_actions(root)

    @strawberry.field
    def progress(self, root: strawberry.Parent[ReleaseModel]) -> ReleaseProgress:
        return ReleaseProgress(**release_progress(root))

    @strawberry.field(description="Team id.")
    def team_id(self, root: strawberry.Parent[ReleaseModel]) -> str | None:
        return root.team_id

    @strawberry.field(description="Workflow id.")
    def workflow_id(self, root: strawberry.Parent[ReleaseModel]) -> str | None:
        return root.workflow_id

    @strawberry.field(description="The release's team, with its members.")
    def team(self, root: strawberry.Parent[ReleaseModel]) -> Team | None:
        teams = batch_of(root).load("teams", _teams_of)
        return teams.get(root.team_id)

    @strawberry.field(description="The workflow the release follows.")
    def workflow(self, root: strawberry.Parent[ReleaseModel]) -> Workflow | None:
        workflows = batch_of(root).load("workflows", _workflows_of)
        return workflows.get(root.workflow_id)

    @strawberry.field(description="Ids of the environments (in promotion order) where this is the current release.")
    def deployed_to(self, root: strawberry.Parent[ReleaseModel]) -> list[str]:
        deployed = batch_of(root).load("deployed_to", _deployed_to_of)
        return deployed.get(root.pk, [])

    @strawberry.field(
        description="Per environment (in promotion order): is this release current there, and its latest "
        "deployment there."
    )
    def environments(self, root: strawberry.Parent[ReleaseModel]) -> list[ReleaseEnvironmentSummary]:
        summaries = batch_of(root).load("summaries", _summaries_of)
        return [ReleaseEnvironmentSummary(**summary) for summary in summaries.get(root.pk, [])]

    @strawberry.field(description=f"The release's deployments, newest first (at most {NESTED_LIMIT}).")
    def deployments(self, root: strawberry.Parent[ReleaseModel], limit: int = NESTED_DEFAULT) -> list[Deployment]:
        return batch_of(root).load("deployments", _deployments_of).get(root.pk, [])[: _limit(limit)]

    @strawberry.field(
        description=f"Audit events of the release and its deployments, newest first (at most {NESTED_LIMIT})."
    )
    def history(self, root: strawberry.Parent[ReleaseModel], limit: int = NESTED_DEFAULT) -> list[ReleaseHistoryEvent]:
        return batch_of(root).load("history", _history_of).get(root.pk, [])[: _limit(limit)]


@strawberry.type(description="One page of a list: `count` items in all, `results` of this page.")
class Page:
    count: int
    page: int
    page_size: int
    has_next: bool


@strawberry.type(description="A page of releases.")
class ReleasePage(Page):
    results: list[Release]


@strawberry.type(description="A page of deployments.")
class DeploymentPage(Page):
    results: list[Deployment]


@strawberry.type(description="What runs in an environment and how it got there.")
class EnvironmentStatus:
    current_release: Release | None
    last_deployment: Deployment | None
    recent_deployments: list[Deployment]


@strawberry.type(description="One point of a DORA series: GitLab's `{date, value}` and the DORA performance level.")
class DoraPoint:
    date: str = strawberry.field(description="The bucket: a UTC day, the 1st of a month, or the start for `all`.")
    value: float | None = strawberry.field(
        description="A count, seconds (medians) or a ratio 0..1; null when there is nothing to measure."
    )
    level: str | None = strawberry.field(description="elite, high, medium or low (State of DevOps Report 2023).")
