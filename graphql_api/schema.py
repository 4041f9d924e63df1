"""The GraphQL schema of Ops Portal: `/graphql` (queries, mutations) and subscriptions over WebSocket.

Every read uses the selectors and the list rules of the REST API; every write calls the same service as
the REST endpoint (same roles, rules, audit event and unit of work), after validating its input with the
same DRF input serializer. Refusals are typed errors (`graphql_api.errors`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from django.http import QueryDict
from graphql import GraphQLError, OperationDefinitionNode, OperationType, ValidationRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info

from dashboard.api.dora import dora_series
from dashboard.api.serializers import DashboardStatsSerializer
from dashboard.selectors import dashboard_stats
from environments.api.views import EnvironmentViewSet
from environments.models import Environment as EnvironmentModel
from events.stream import latest_sequence
from graphql_api import types as t
from graphql_api.auth import Viewer, require_read, require_write
from graphql_api.errors import TypedErrors
from graphql_api.limits import DEFAULT_PAGE_SIZE, MAX_TOKENS, CostRule, OperationVariables
from graphql_api.reads import get_or_404, page_of, plain
from graphql_api.subscriptions import Subscription
from releases import services
from releases.api.serializers import (
    DeploymentStatusReportInputSerializer,
    ReleaseApproveInputSerializer,
    ReleaseDeployInputSerializer,
    ReleaseRejectInputSerializer,
    ReleaseRollbackInputSerializer,
    ReleaseSerializer,
)
from releases.api.views import DeploymentViewSet, ReleaseViewSet
from releases.models import Deployment as DeploymentModel
from releases.selectors import deployment_list, release_list
from teams.api.views import TeamViewSet
from teams.models import Team as TeamModel
from workflows.api.views import WorkflowViewSet
from workflows.models import Workflow as WorkflowModel


def viewer(info: Info) -> Viewer:
    return info.context["viewer"]


def reader(info: Info) -> None:
    require_read(viewer(info))


# --------------------------------------------------------------------------- filters


@strawberry.input(description="As the query parameters of `GET /api/v1/releases`.")
class ReleaseFilter:
    status: t.ReleaseStatusEnum | None = None  # type: ignore[valid-type]
    team: str | None = None
    workflow: str | None = None
    environment: str | None = strawberry.field(
        default=None, description="Environment id: the release currently deployed there."
    )


@strawberry.input(description="As the query parameters of `GET /api/v1/deployments`.")
class DeploymentFilter:
    release: str | None = None
    environment: str | None = None
    status: t.DeploymentStatusEnum | None = None  # type: ignore[valid-type]
    kind: t.DeploymentKindEnum | None = None  # type: ignore[valid-type]


@strawberry.input(description="As the query parameters of `GET /api/v1/environments`.")
class EnvironmentFilter:
    tier: t.TierEnum | None = None  # type: ignore[valid-type]
    health: t.HealthEnum | None = None  # type: ignore[valid-type]
    requires_approval: bool | None = None


@strawberry.input(description="As the query parameters of `GET /api/v1/teams`.")
class TeamFilter:
    name: str | None = strawberry.field(default=None, description="Part of the name, any case.")


@strawberry.input(description="As the query parameters of `GET /api/v1/workflows`.")
class WorkflowFilter:
    active: bool | None = None


@strawberry.type(description="A page of environments.")
class EnvironmentPage(t.Page):
    results: list[t.Environment]


@strawberry.type(description="A page of teams.")
class TeamPage(t.Page):
    results: list[t.Team]


@strawberry.type(description="A page of workflows.")
class WorkflowPage(t.Page):
    results: list[t.Workflow]


PAGE_ARGS_DOC = "`ordering` and `search` as in REST (`-created_at`); `page` from 1, `page_size` 1..100."


# --------------------------------------------------------------------------- queries


@strawberry.type
class Query:
    @strawberry.field(description=f"Releases, newest first. {PAGE_ARGS_DOC}")
    def releases(
        self,
        info: Info,
        filter: ReleaseFilter | None = None,
        search: str | None = None,
        ordering: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> t.ReleasePage:
        reader(info)
        found = page_of(
            ReleaseViewSet, release_list(), filters=filter, search=search, ordering=ordering, page=page,
            page_size=page_size,
        )  # fmt: skip
        t.Batch(found.results)
        return t.ReleasePage(**vars(found))

    @strawberry.field(description="One release with everything nested in it.")
    def release(self, info: Info, id: strawberry.ID) -> t.Release | None:
        reader(info)
        release = get_or_404(release_list(), id)
        t.Batch([release])
        return release

    @strawberry.field(
        description="What would block a deployment of the release to the environment right now (same rules "
        "as deployRelease; `GET /releases/{id}/deploy-check`)."
    )
    def release_deploy_check(
        self, info: Info, id: strawberry.ID, environment: strawberry.ID
    ) -> t.ReleaseDeployCheck | None:
        reader(info)
        release = get_or_404(release_list(), id)
        target = get_or_404(EnvironmentModel.objects.all(), environment)
        blockers = services.release_deploy_check(release=release, environment=target)
        return t.ReleaseDeployCheck(
            allowed=not blockers,
            blockers=[t.ReleaseDeployBlocker(**blocker) for blocker in blockers],
        )

    @strawberry.field(description=f"Deployments, most recently started first. {PAGE_ARGS_DOC}")
    def deployments(
        self,
        info: Info,
        filter: DeploymentFilter | None = None,
        ordering: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> t.DeploymentPage:
        reader(info)
        found = page_of(
            DeploymentViewSet, deployment_list(), filters=filter, ordering=ordering, page=page, page_size=page_size
        )
        return t.DeploymentPage(**vars(found))

    @strawberry.field
    def deployment(self, info: Info, id: strawberry.ID) -> t.Deployment | None:
        reader(info)
        return get_or_404(deployment_list(), id)

    @strawberry.field(description=f"Environments in promotion order, with their status. {PAGE_ARGS_DOC}")
    def environments(
        self,
        info: Info,
        filter: EnvironmentFilter | None = None,
        search: str | None = None,
        ordering: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> EnvironmentPage:
        reader(info)
        found = page_of(
            EnvironmentViewSet, EnvironmentModel.objects.all(), filters=filter, search=search, ordering=ordering,
            page=page, page_size=page_size,
        )  # fmt: skip
        t.Batch(found.results)
        return EnvironmentPage(**vars(found))

    @strawberry.field
    def environment(self, info: Info, id: strawberry.ID) -> t.Environment | None:
        reader(info)
        return get_or_404(EnvironmentModel.objects.all(), id)

    @strawberry.field(description=f"Teams with their members. {PAGE_ARGS_DOC}")
    def teams(
        self,
        info: Info,
        filter: TeamFilter | None = None,
        search: str | None = None,
        ordering: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> TeamPage:
        reader(info)
        found = page_of(
            TeamViewSet, TeamModel.objects.all(), filters=filter, search=search, ordering=ordering, page=page,
            page_size=page_size,
        )  # fmt: skip
        return TeamPage(**vars(found))

    @strawberry.field
    def team(self, info: Info, id: strawberry.ID) -> t.Team | None:
        reader(info)
        return get_or_404(TeamModel.objects.all(), id)

    @strawberry.field(description=f"Workflows. {PAGE_ARGS_DOC}")
    def workflows(
        self,
        info: Info,
        filter: WorkflowFilter | None = None,
        search: str | None = None,
        ordering: str | None = None,
        page: int = 1,
        page_size: int = DEFAULT_PAGE_SIZE,
    ) -> WorkflowPage:
        reader(info)
        found = page_of(
            WorkflowViewSet, WorkflowModel.objects.all(), filters=filter, search=search, ordering=ordering,
            page=page, page_size=page_size,
        )  # fmt: skip
        return WorkflowPage(**vars(found))

    @strawberry.field
    def workflow(self, info: Info, id: strawberry.ID) -> t.Workflow | None:
        reader(info)
        return get_or_404(WorkflowModel.objects.all(), id)

    @strawberry.field(
        description="The newest event sequence: subscribe with `after` set to it to get every change from now on."
    )
    def event_sequence(self, info: Info) -> int:
        reader(info)
        return latest_sequence()

    @strawberry.field(
        description="`GET /api/v1/dashboard/stats`, the same document: releases by status, pending approvals, "
        "deployment counts, environments by health."
    )
    def dashboard_stats(self, info: Info) -> JSON:
        reader(info)
        return dict(DashboardStatsSerializer(dashboard_stats()).data)

    @strawberry.field(
        description="`GET /api/v1/dora/metrics`, the same series: one DORA metric as `{date, value, level}`, "
        'oldest first (definitions: README, "DORA metrics"). Defaults as in REST: `daily`, the last 90 days, '
        "the `production` tier, the configured failure source."
    )
    def dora_metrics(
        self,
        info: Info,
        metric: str,
        interval: str | None = None,
        start_date: date | None = None,
        end_date: date | None = None,
        environment_tiers: list[str] | None = None,
        team: str | None = None,
        failure_source: str | None = None,
    ) -> list[t.DoraPoint]:
        reader(info)
        params = QueryDict(mutable=True)
        given = {"metric": metric, "interval": interval, "team": team, "failure_source": failure_source}
        for key, value in {**given, "start_date": start_date, "end_date": end_date}.items():
            if value is not None:
                params[key] = str(value)
        if environment_tiers:
            params.setlist("environment_tiers", environment_tiers)
        return [t.DoraPoint(**point) for point in dora_series(params)]


# --------------------------------------------------------------------------- mutations


@strawberry.input(description="A task of a feature.")
class TaskInput:
    title: str
    status: t.TaskStatusEnum = strawberry.field(default_factory=lambda: t.TaskStatusEnum("todo"))  # type: ignore[valid-type]
    assignee: str | None = strawberry.UNSET


@strawberry.input(description="A feature with its tasks.")
class FeatureInput:
    name: str
    status: t.FeatureStatusEnum = strawberry.field(default_factory=lambda: t.FeatureStatusEnum("planned"))  # type: ignore[valid-type]
    description: str | None = strawberry.UNSET
    tasks: list[TaskInput] | None = strawberry.UNSET


@strawberry.input(description="The writable fields of a release (`POST`/`PATCH /api/v1/releases`); on update, "
                  "only the fields given change.")  # fmt: skip
class ReleaseInput:
    name: str | None = strawberry.UNSET
    version: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    team: str | None = strawberry.UNSET
    workflow: str | None = strawberry.UNSET
    target_date: date | None = strawberry.UNSET
    features: list[FeatureInput] | None = strawberry.UNSET


@strawberry.input(description="`POST /api/v1/releases/{id}/deploy`.")
class ReleaseDeployInput:
    environment: strawberry.ID
    notes: str | None = strawberry.UNSET
    status: t.DeploymentStatusEnum | None = strawberry.UNSET  # type: ignore[valid-type]
    pipeline_url: str | None = strawberry.UNSET
    override_freeze: bool | None = strawberry.UNSET
    reason: str | None = strawberry.UNSET


def _validated(serializer_class: type, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """`data` validated by the REST endpoint's input serializer (400 `invalid` with field messages)."""
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _release(release_id: str) -> Any:
    return get_or_404(release_list(), release_id)


def _batched(release: Any) -> Any:
    t.Batch([release])
    return release


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Create a draft release (`POST /api/v1/releases`).")
    def create_release(self, info: Info, input: ReleaseInput) -> t.Release | None:
        actor = require_write(viewer(info), basename="release", action="create")
        data = _validated(ReleaseSerializer, plain(input))
        return _batched(services.release_create(actor=actor, data=data))

    @strawberry.mutation(
        description="Change a release (`PATCH /api/v1/releases/{id}`); `revision`, like `If-Match`, makes the "
        "change conditional on the revision you read."
    )
    def update_release(
        self,
        info: Info,
        id: strawberry.ID,
        input: ReleaseInput,
        revision: int | None = None,
    ) -> t.Release | None:
        actor = require_write(viewer(info), basename="release", action="partial_update")
        release = _release(id)
        serializer = ReleaseSerializer(release, data=plain(input), partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.release_update(
            release=release, actor=actor, data=dict(serializer.validated_data), expected_revision=revision
        )
        return _batched(updated)

    @strawberry.mutation(description="Submit a draft or rejected release for approval (→ pending_approval).")
    def submit_release(self, info: Info, id: strawberry.ID) -> t.Release | None:
        actor = require_write(viewer(info), basename="release", action="submit")
        return _batched(services.release_submit(release=_release(id), actor=actor))

    @strawberry.mutation(description="Approve a release (Release Managers; four eyes; once per user).")
    def approve_release(self, info: Info, id: strawberry.ID, comment: str = "") -> t.Release | None:
        actor = require_write(viewer(info), basename="release", action="approve")
        data = _validated(ReleaseApproveInputSerializer, {"comment": comment})
        return _batched(services.release_approve(release=_release(id), actor=actor, **data))

    @strawberry.mutation(description="Reject a release (→ rejected). A reason is required.")
    def reject_release(self, info: Info, id: strawberry.ID, reason: str) -> t.Release | None:
        actor = require_write(viewer(info), basename="release", action="reject")
        data = _validated(ReleaseRejectInputSerializer, {"reason": reason})
        return _batched(services.release_reject(release=_release(id), actor=actor, **data))

    @strawberry.mutation(
        description="Deploy the release to an environment and record the Deployment. Refused (`deploy_blocked`, "
        "with `blockers`) by a freeze window, the workflow order, an approval requirement, a deployment in progress."
    )
    def deploy_release(self, info: Info, id: strawberry.ID, input: ReleaseDeployInput) -> t.Deployment | None:
        actor = require_write(viewer(info), basename="release", action="deploy")
        release = _release(id)
        data = _validated(ReleaseDeployInputSerializer, plain(input))
        return services.release_deploy(release=release, actor=actor, **data)

    @strawberry.mutation(
        description="Take the release off an environment where it is current and put back the previous release."
    )
    def rollback_release(
        self,
        info: Info,
        id: strawberry.ID,
        environment: strawberry.ID,
        reason: str = "",
    ) -> t.Deployment | None:
        actor = require_write(viewer(info), basename="release", action="rollback")
        release = _release(id)
        data = _validated(ReleaseRollbackInputSerializer, {"environment": environment, "reason": reason})
        return services.release_rollback(release=release, actor=actor, **data)

    @strawberry.mutation(
        description="Report the result of an in-progress deployment (`PATCH /api/v1/deployments/{id}`)."
    )
    def report_deployment_status(
        self,
        info: Info,
        id: strawberry.ID,
        status: t.DeploymentStatusEnum,  # type: ignore[valid-type]
        notes: str = "",
    ) -> t.Deployment | None:
        actor = require_write(viewer(info), basename="deployment", action="partial_update")
        deployment = get_or_404(DeploymentModel.objects.all(), id)
        data = _validated(DeploymentStatusReportInputSerializer, {"status": plain(status), "notes": notes})
        return services.deployment_report_status(deployment=deployment, actor=actor, **data)


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Refusals are answers, not faults: `graphql_api.errors` logs the unexpected ones (with traceback)."""


def _schema(*rules: type) -> strawberry.Schema:
    return PortalSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        # Field names are REST's JSON keys (`allowed_actions`, `created_at`): one vocabulary for both APIs.
        config=StrawberryConfig(auto_camel_case=False),
        extensions=[
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            OperationVariables,
            lambda: AddValidationRules([CostRule, *rules]),
            TypedErrors,
        ],
    )


class SubscriptionsOnly(ValidationRule):
    """The WebSocket serves subscriptions; queries and mutations go over HTTP (`POST /graphql`)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        if node.operation != OperationType.SUBSCRIPTION:
            self.report_error(
                GraphQLError(
                    "Send queries and mutations to POST /graphql; this WebSocket serves subscriptions.",
                    nodes=[node],
                    extensions={"code": "subscriptions_only", "status": 400},
                )
            )


schema = _schema()  # `/graphql` over HTTP
ws_schema = _schema(SubscriptionsOnly)  # `/graphql` over WebSocket
