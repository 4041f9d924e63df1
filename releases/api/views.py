"""Release and deployment endpoints. Thin: input is validated by serializers, every change is a
call into `releases.services`, and refusals come back as the one error envelope."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.serializers import Serializer
from rest_framework.viewsets import GenericViewSet

from environments.models import Environment
from opsportal.api.conditional import request_versions
from opsportal.api.filters import TotalOrderingFilter
from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from opsportal.api.rows import RowReadMixin
from opsportal.errors import ValidationFailed
from releases import services
from releases.api.rows import (
    ENVIRONMENT_COLLECTIONS,
    RELEASE_DETAIL_ROW,
    RELEASE_ROW,
    deployment_data,
    deployment_instance_data,
    environments_now,
    release_detail_data,
    release_instance_data,
    release_list_data,
)
from releases.api.schema import (
    APPROVE_SCHEMA,
    DEPLOY_CHECK_SCHEMA,
    DEPLOY_SCHEMA,
    DEPLOYMENT_VIEWSET_SCHEMA,
    HISTORY_SCHEMA,
    METRICS_SCHEMA,
    REJECT_SCHEMA,
    RELEASE_VIEWSET_SCHEMA,
    ROLLBACK_SCHEMA,
    SUBMIT_SCHEMA,
)
from releases.api.serializers import (
    DeploymentSerializer,
    DeploymentStatusReportInputSerializer,
    ReleaseApproveInputSerializer,
    ReleaseDeployInputSerializer,
    ReleaseHistoryEventSerializer,
    ReleaseListItemSerializer,
    ReleaseMetricsSerializer,
    ReleaseRejectInputSerializer,
    ReleaseRollbackInputSerializer,
    ReleaseSerializer,
)
from releases.filtersets import DeploymentFilterSet, ReleaseFilterSet
from releases.models import Deployment, Release
from releases.selectors import deployment_list, release_history, release_list, release_metrics
from releases.shapes import DEPLOYMENT_ROW


def call_service(
    view: GenericViewSet,
    service: Callable[..., Any],
    input_serializer: type[Serializer] | None = None,
    *,
    target: str = "release",
) -> Any:
    """The body of a lifecycle action: validate the request body with `input_serializer` (400 with field
    messages), then call `service` on the view's object (passed as `target`) for the requesting user."""
    validated: dict[str, Any] = {}
    if input_serializer is not None:
        data = input_serializer(data=view.request.data)
        data.is_valid(raise_exception=True)
        validated = data.validated_data
    return service(**{target: view.get_object()}, actor=view.request.user, **validated)


# --------------------------------------------------------------------------- releases


@RELEASE_VIEWSET_SCHEMA
class ReleaseViewSet(RowReadMixin, IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Releases: a version with its features and tasks, moving through approval and deployments."""

    queryset = release_list()
    lookup_value_regex = "[^/]+"  # ids may contain dots; a JSON 404 beats the router's HTML one
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilterSet
    # `search_text` holds the embedded features and tasks (MongoDB cannot search inside sub-documents).
    search_fields = ["name", "version", "description", "search_text"]
    ordering_fields = ["created_at", "target_date", "version", "name"]
    ordering = ["-created_at", "id"]
    # List and detail are built from rows (issue #18); the serializers validate writes and make the schema.
    row_fields = RELEASE_ROW
    detail_row_fields = RELEASE_DETAIL_ROW
    # What a list or a detail shows besides the releases: where they are deployed (issue #18, 304s).
    list_collections = ("release", "deployment", "environment")
    etag_collections = ("deployment", "environment")

    def _environments(self) -> list:
        """The environments, reused per process while the environment and deployment versions stand."""
        versions = request_versions(self.request, ENVIRONMENT_COLLECTIONS)
        return environments_now(tuple(versions[name][0] for name in ENVIRONMENT_COLLECTIONS))

    def rows_data(self, rows):
        return release_list_data(rows, self._environments())

    def row_detail_data(self, row):
        return release_detail_data(row, self._environments())

    def get_serializer_class(self):
        # List pages leave out the per-environment deployment summaries (the detail has them).
        return ReleaseListItemSerializer if self.action == "list" else super().get_serializer_class()

    def filter_queryset(self, queryset):
        # List filters (`?environment=` …) must not hide the object of a detail action.
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": reverse("release-detail", kwargs={"pk": data["id"]}, request=self.request)}

    def perform_create(self, serializer) -> None:
        serializer.instance = services.release_create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = services.release_update(
            release=serializer.instance,
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Release) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        services.release_delete(release=instance, actor=self.request.user)

    # ---- lifecycle actions

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        data = release_instance_data(serializer.instance)
        return Response(data, status=status.HTTP_201_CREATED, headers=self.get_success_headers(data))

    def _release_response(self, release: Release) -> Response:
        return Response(release_instance_data(release))

    @SUBMIT_SCHEMA
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, pk: str | None = None) -> Response:
        """Submit a draft or rejected release for approval (→ pending_approval)."""
        return self._release_response(call_service(self, services.release_submit))

    @APPROVE_SCHEMA
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve a draft or pending release. It becomes `approved` once its approvals meet the approval
        policy of every environment that has one (without any: one Release Manager). The approval records
        the digest of the content approved. The creator cannot approve unless every policy allows it (four
        eyes, no bypass for superusers) and nobody approves twice."""
        return self._release_response(call_service(self, services.release_approve, ReleaseApproveInputSerializer))

    @REJECT_SCHEMA
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject a draft, pending or approved release (→ rejected). A reason is required."""
        return self._release_response(call_service(self, services.release_reject, ReleaseRejectInputSerializer))

    def _deployment_created(self, request: Request, deployment: Deployment) -> Response:
        location = reverse("deployment-detail", kwargs={"pk": deployment.pk}, request=request)
        data = deployment_instance_data(deployment)
        return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})

    @DEPLOY_SCHEMA
    @action(detail=True, methods=["post"])
    def deploy(self, request: Request, pk: str | None = None) -> Response:
        """Deploy the release to an environment and record the Deployment (201, `Location` of the deployment).

        Refused (409, with `blockers`) by a freeze window, the workflow order, an approval requirement, a
        deployment still in progress there, or when the release is already current there. A successful deploy
        to a production-tier environment makes the release `deployed`.

        With `scheduled_for` (a time with a time zone) or `"at": "next_open_window"` the deploy is scheduled
        instead (201, status `scheduled`): the worker runs it when due, re-checking every blocker then. Another
        deployment scheduled for the same environment and minute → 409 `schedule_taken` naming it."""
        data = ReleaseDeployInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "scheduled_for" in values or "at" in values:  # issue #12: a scheduled deployment
            keep = ("environment", "notes", "scheduled_for", "at")
            service, values = services.release_schedule_deploy, {k: v for k, v in values.items() if k in keep}
        else:
            service = services.release_deploy
        deployment = service(release=self.get_object(), actor=request.user, **values)
        return self._deployment_created(request, deployment)

    @ROLLBACK_SCHEMA
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, pk: str | None = None) -> Response:
        """Take the release off an environment where it is current and put back the previous successfully
        deployed release (a `rollback` Deployment, 201). On production the release becomes `rolled_back`.
        Nothing to return to → 409 `nothing_to_roll_back_to`."""
        deployment = call_service(self, services.release_rollback, ReleaseRollbackInputSerializer)
        return self._deployment_created(request, deployment)

    # ---- reads

    @DEPLOY_CHECK_SCHEMA
    @action(detail=True, methods=["get"], url_path="deploy-check", filter_backends=[], pagination_class=None)
    def deploy_check(self, request: Request, pk: str | None = None) -> Response:
        """What would block a deployment of this release to `?environment=` right now (same rules as deploy)."""
        env_id = request.query_params.get("environment", "").strip()
        if not env_id:
            raise ValidationFailed({"environment": ["This query parameter is required."]})
        environment = Environment.objects.filter(pk=env_id).first()
        if environment is None:
            raise ValidationFailed({"environment": [f"Unknown environment '{env_id}'."]})
        deployer = request.user.get_username() if request.user.is_authenticated else ""
        blockers = services.release_deploy_check(release=self.get_object(), environment=environment, deployer=deployer)
        # The blockers as the service states them: exactly what a refused deploy would carry.
        return Response({"allowed": not blockers, "blockers": blockers})

    @METRICS_SCHEMA
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def metrics(self, request: Request, pk: str | None = None) -> Response:
        """Deployments per environment and status, success rate, mean deployment duration, lead time
        (created → first successful production deployment) and feature/task progress."""
        return Response(ReleaseMetricsSerializer(release_metrics(release=self.get_object())).data)

    @HISTORY_SCHEMA
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The audit events of the release and of its deployments, newest first (paginated)."""
        page = self.paginate_queryset(release_history(release=self.get_object()))
        return self.get_paginated_response(ReleaseHistoryEventSerializer(page, many=True).data)


# --------------------------------------------------------------------------- deployments


@DEPLOYMENT_VIEWSET_SCHEMA
class DeploymentViewSet(RowReadMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deployments and rollbacks (created by the release actions); pipelines report results with PATCH."""

    queryset = deployment_list()
    lookup_value_regex = "[^/]+"
    serializer_class = DeploymentSerializer
    filter_backends = [DjangoFilterBackend, TotalOrderingFilter]
    filterset_class = DeploymentFilterSet
    ordering_fields = ["started_at"]
    ordering = ["-started_at", "id"]
    row_fields = DEPLOYMENT_ROW
    list_collections = ("deployment",)
    http_method_names = ["get", "patch", "post", "head", "options"]

    def filter_queryset(self, queryset):
        if self.action != "list":
            return queryset
        return super().filter_queryset(queryset)

    def rows_data(self, rows):
        return [deployment_data(row) for row in rows]

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Cancel a scheduled deployment (issue #12): → `cancelled`; anything else is 409."""
        deployment = call_service(self, services.deployment_cancel, target="deployment")
        return Response(deployment_instance_data(deployment))

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        """Report the result of an in-progress deployment: `succeeded` or `failed`."""
        deployment = call_service(
            self, services.deployment_report_status, DeploymentStatusReportInputSerializer, target="deployment"
        )
        return Response(deployment_instance_data(deployment))
