"""Serializers of releases and deployments. They validate input and shape output; every write
goes through `releases.services` (called by the viewsets)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from audit.models import AuditEvent
from environments.choices import Health, Tier
from environments.models import Environment
from opsportal.api.schema import ErrorSerializer
from opsportal.api.serializers import EmbeddedDocumentField
from opsportal.schemas import JSONSchemaValidator
from releases.choices import DeploymentStatus, ReleaseAction, ReleaseStatus
from releases.models import Deployment, Release
from releases.schemas import APPROVALS, FEATURES
from releases.selectors import (
    release_approval_status,
    release_deployed_to,
    release_environment_summaries,
    release_progress,
)
from releases.services import BLOCKER_CODES, NEXT_OPEN_WINDOW, release_allowed_actions
from releases.shapes import duration_seconds

# The statuses a new deployment may start with, and those a pipeline may report (enum components).
DEPLOY_STATUSES = [DeploymentStatus.SUCCEEDED, DeploymentStatus.IN_PROGRESS]
REPORTED_STATUSES = [DeploymentStatus.SUCCEEDED, DeploymentStatus.FAILED]


class ReleaseProgressSerializer(serializers.Serializer):
    features_total = serializers.IntegerField()
    features_done = serializers.IntegerField()
    tasks_total = serializers.IntegerField()
    tasks_done = serializers.IntegerField()
    percent_complete = serializers.FloatField(allow_null=True, help_text="Share of tasks done, in percent.")


ENVIRONMENT_SUMMARIES = "release_environment_summaries"


class DeploymentSerializer(serializers.ModelSerializer):
    """One deploy or rollback of a release to an environment."""

    duration_seconds = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = [
            "id",
            "release",
            "environment",
            "kind",
            "status",
            "sequence",
            "started_at",
            "finished_at",
            "scheduled_for",
            "blockers",
            "duration_seconds",
            "deployed_by",
            "notes",
            "pipeline_url",
            "rolled_back_from",
            "became_current",
            "previous_deployment",
            "revision",
        ]
        read_only_fields = fields

    def get_duration_seconds(self, deployment: Deployment) -> float | None:
        return duration_seconds(deployment.started_at, deployment.finished_at)


# The stored fields of a release, as the API shows them (the benchmark's bare view reads the same).
RELEASE_DOCUMENT_FIELDS = (
    "id",
    "name",
    "version",
    "description",
    "status",
    "team",
    "workflow",
    "target_date",
    "created_by",
    "created_at",
    "updated_at",
    "revision",
    "features",
    "approvals",
)
_DEPLOYMENT_SERIALIZER = "_deployment_serializer"
DEPLOYED_TO = "_deployed_to"


class ReleaseEnvironmentSummarySerializer(serializers.Serializer):
    environment = serializers.CharField(help_text="Environment id.")
    name = serializers.CharField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    health = serializers.ChoiceField(choices=Health.choices)
    is_current = serializers.BooleanField(help_text="This release is the environment's current release.")
    current_release = serializers.CharField(allow_null=True, help_text="The environment's current release id.")
    deployment = DeploymentSerializer(
        allow_null=True, help_text="This release's latest deployment to the environment, if any."
    )


class ReleaseUnmetRuleSerializer(serializers.Serializer):
    """An approval rule that is not met: `have` fresh approvals of `needed`; matching approvals that no
    longer count: `expired` (older than the policy's `expires_after`) and `stale` (given on other content)."""

    rule = serializers.CharField()
    needed = serializers.IntegerField()
    have = serializers.IntegerField()
    expired = serializers.IntegerField()
    stale = serializers.IntegerField()


class ReleaseApprovalRuleSerializer(ReleaseUnmetRuleSerializer):
    """An approval rule evaluated on the release's current approvals."""

    met = serializers.BooleanField()
    approvers = serializers.ListField(child=serializers.CharField(), help_text="Whose approvals count for it.")


class ReleaseApprovalStatusSerializer(serializers.Serializer):
    """Whether the release's current approvals meet one environment's approval policy, rule by rule."""

    environment = serializers.CharField()
    name = serializers.CharField()
    met = serializers.BooleanField()
    rules = ReleaseApprovalRuleSerializer(many=True)
    deployer_is_only_approver = serializers.BooleanField()


class ReleaseListSerializer(serializers.ListSerializer):
    """Computes what the items need for a whole page at once: a constant number of queries."""

    def to_representation(self, data):
        releases = list(data.all() if hasattr(data, "all") else data)
        self.child.prepare_page(releases)
        return super().to_representation(releases)


class ReleaseSerializer(serializers.ModelSerializer):
    """A release with its embedded features/tasks and approvals, and what its status allows."""

    features = EmbeddedDocumentField(
        schema=FEATURES,
        required=False,
        validators=[JSONSchemaValidator("releases.schemas.FEATURES", "features")],
        help_text="Features, each with its tasks. Errors name the path, e.g. `features[1].tasks[0].status`.",
    )
    approvals = EmbeddedDocumentField(
        schema=APPROVALS,
        read_only=True,
        help_text="Approvals and rejections, oldest first (written by approve/reject).",
    )
    allowed_actions = serializers.SerializerMethodField(help_text="Actions the current status allows.")
    progress = serializers.SerializerMethodField()
    environments = serializers.SerializerMethodField(
        help_text="Per environment (in promotion order): is this release current there, and its latest "
        "deployment there."
    )
    approval_status = serializers.SerializerMethodField(
        help_text="Per environment with an approval policy (in promotion order): whether the current "
        "approvals meet it now, rule by rule."
    )

    class Meta:
        model = Release
        fields = [
            *RELEASE_DOCUMENT_FIELDS,
            "allowed_actions",
            "progress",
            "environments",
            "approval_status",
        ]
        list_serializer_class = ReleaseListSerializer
        read_only_fields = ["id", "status", "created_by", "created_at", "updated_at", "revision"]

    def prepare_page(self, releases: list[Release]) -> None:
        """Read what the items of a page need in one go (called by `ReleaseListSerializer`)."""
        self.context[ENVIRONMENT_SUMMARIES] = release_environment_summaries(
            release_ids=[release.pk for release in releases]
        )

    @extend_schema_field(serializers.ListField(child=serializers.ChoiceField(choices=ReleaseAction.choices)))
    def get_allowed_actions(self, release: Release) -> list[str]:
        return release_allowed_actions(release)

    @extend_schema_field(ReleaseProgressSerializer)
    def get_progress(self, release: Release) -> dict[str, Any]:
        return release_progress(release)

    @extend_schema_field(ReleaseEnvironmentSummarySerializer(many=True))
    def get_environments(self, release: Release) -> list[dict[str, Any]]:
        summaries = self.context.get(ENVIRONMENT_SUMMARIES)
        if summaries is None or release.pk not in summaries:
            summaries = release_environment_summaries(release_ids=[release.pk])
        # One deployment serializer per response: building DRF fields per row dominated list pages.
        deployments = self.context.setdefault(_DEPLOYMENT_SERIALIZER, DeploymentSerializer(context=self.context))
        return [
            {**summary, "deployment": deployments.to_representation(summary["deployment"])}
            if summary["deployment"] is not None
            else summary
            for summary in summaries[release.pk]
        ]

    @extend_schema_field(ReleaseApprovalStatusSerializer(many=True))
    def get_approval_status(self, release: Release) -> list[dict[str, Any]]:
        return release_approval_status(release)


class ReleaseListItemSerializer(ReleaseSerializer):
    """A release in a list page: everything but the per-environment deployment summaries, which
    only the detail carries; `deployed_to` names the environments where it is the current release."""

    deployed_to = serializers.SerializerMethodField(
        help_text="Ids of the environments (in promotion order) where this is the current release."
    )

    class Meta(ReleaseSerializer.Meta):
        fields = [
            field for field in ReleaseSerializer.Meta.fields if field not in ("environments", "approval_status")
        ] + ["deployed_to"]

    def prepare_page(self, releases: list[Release]) -> None:
        self.context[DEPLOYED_TO] = release_deployed_to(release_ids=[release.pk for release in releases])

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_deployed_to(self, release: Release) -> list[str]:
        deployed_to = self.context.get(DEPLOYED_TO)
        if deployed_to is None:
            deployed_to = release_deployed_to(release_ids=[release.pk])
        return deployed_to.get(release.pk, [])


class ReleaseApproveInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReleaseRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the release is rejected (required).")


class ReleaseDeployInputSerializer(serializers.Serializer):
    environment = serializers.PrimaryKeyRelatedField(queryset=Environment.objects.all(), help_text="Environment id.")
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    status = serializers.ChoiceField(
        choices=DEPLOY_STATUSES,
        default=DeploymentStatus.SUCCEEDED,
        help_text="`in_progress` when a pipeline reports the result later (PATCH /deployments/{id}).",
    )
    pipeline_url = serializers.URLField(required=False, allow_blank=True, default="", max_length=200)
    override_freeze = serializers.BooleanField(
        required=False, default=False, help_text="Deploy despite a freeze window (needs a reason)."
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    scheduled_for = serializers.DateTimeField(
        required=False,
        help_text="Schedule the deploy for this time (with a time zone) instead of now: a `scheduled` deployment, "
        "run by the worker, which re-checks every blocker then.",
    )
    at = serializers.ChoiceField(
        choices=[NEXT_OPEN_WINDOW],
        required=False,
        help_text="`next_open_window`: schedule the deploy for the first moment no freeze blocks it.",
    )


class ReleaseRollbackInputSerializer(serializers.Serializer):
    environment = serializers.PrimaryKeyRelatedField(queryset=Environment.objects.all(), help_text="Environment id.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ReleaseFreezeOccurrenceSerializer(serializers.Serializer):
    """The occurrence of a freeze in force (issue #12)."""

    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()


class ReleaseDeployBlockerSerializer(serializers.Serializer):
    """What stands between a release and an environment (see `releases.services.release_deploy_check`)."""

    code = serializers.ChoiceField(choices=[(code, code) for code in BLOCKER_CODES])
    message = serializers.CharField()
    status = serializers.ChoiceField(
        choices=ReleaseStatus.choices, required=False, help_text="invalid_status, approval_required: release status."
    )
    required_approvals = serializers.IntegerField(
        required=False, help_text="approval_required: how many approvals the environment's policy asks for in all."
    )
    unmet_rules = ReleaseUnmetRuleSerializer(
        many=True, required=False, help_text="approval_required: the policy's rules that are not met now."
    )
    workflow = serializers.CharField(required=False, help_text="workflow_order: the workflow id.")
    required_environment = serializers.CharField(
        required=False, help_text="workflow_order: the stage that must succeed first."
    )
    until = serializers.DateTimeField(
        required=False, help_text="freeze_window: when the freeze ends (absent: not within 3 years)."
    )
    freeze = serializers.CharField(required=False, help_text="freeze_window: the freeze in force (its id).")
    occurrence = ReleaseFreezeOccurrenceSerializer(
        required=False, help_text="freeze_window: the freeze's occurrence in force now."
    )
    next_open_at = serializers.DateTimeField(
        required=False,
        help_text="freeze_window: the first moment no freeze blocks this release there (back-to-back freezes merged).",
    )
    reason = serializers.CharField(required=False, allow_blank=True, help_text="freeze_window: why it is frozen.")
    deployment = serializers.CharField(
        required=False,
        help_text="already_deployed: the current deployment; deployment_in_progress: the one not reported yet.",
    )


class ReleaseDeployCheckSerializer(serializers.Serializer):
    allowed = serializers.BooleanField()
    blockers = ReleaseDeployBlockerSerializer(many=True)


class ReleaseEnvironmentMetricsSerializer(serializers.Serializer):
    environment = serializers.CharField()
    total = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    rolled_back = serializers.IntegerField()


class ReleaseDeploymentStatusCountsSerializer(serializers.Serializer):
    in_progress = serializers.IntegerField()
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()
    rolled_back = serializers.IntegerField()


class ReleaseMetricsSerializer(serializers.Serializer):
    release = serializers.CharField()
    deployments_total = serializers.IntegerField()
    deployments_by_status = ReleaseDeploymentStatusCountsSerializer()
    deployments_by_environment = ReleaseEnvironmentMetricsSerializer(many=True)
    success_rate = serializers.FloatField(
        allow_null=True, help_text="Share (0 to 1) of finished deploys that succeeded; null before any finished."
    )
    mean_deployment_duration_seconds = serializers.FloatField(allow_null=True)
    lead_time_seconds = serializers.FloatField(
        allow_null=True, help_text="From creation to the first successful production deployment."
    )
    first_production_deployment_at = serializers.DateTimeField(allow_null=True)
    progress = ReleaseProgressSerializer()


class ReleaseHistoryEventSerializer(serializers.ModelSerializer):
    changes = serializers.DictField(
        child=serializers.JSONField(), help_text="Field → [old, new], or details of the action."
    )

    class Meta:
        model = AuditEvent
        fields = ["seq", "at", "actor", "action", "object_type", "object_id", "changes"]
        read_only_fields = fields


class DeploymentStatusReportInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=REPORTED_STATUSES)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReleaseConflictErrorSerializer(ErrorSerializer):
    """409: the release's state does not allow the action; nothing was changed. `code` is one of
    `invalid_transition`, `deploy_blocked`, `already_approved`, `not_current_release`,
    `nothing_to_roll_back_to`, `protected`, `stale_revision`, `idempotency_in_progress`, and for a scheduled
    deploy `schedule_taken`, `no_open_window`."""

    status = serializers.ChoiceField(
        choices=ReleaseStatus.choices, required=False, help_text="The release's current status."
    )
    allowed_actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ReleaseAction.choices),
        required=False,
        help_text="What the current status allows.",
    )
    blockers = ReleaseDeployBlockerSerializer(
        many=True,
        required=False,
        help_text="`deploy_blocked`, `invalid_transition` of a deploy: what stands in the way.",
    )
    current_release = serializers.CharField(
        allow_null=True,
        required=False,
        help_text="`not_current_release`: the environment's current release (null when none).",
    )
    revision = serializers.IntegerField(required=False, help_text="`stale_revision`: the current revision.")
    deployment = serializers.CharField(
        required=False, help_text="`schedule_taken`: the deployment scheduled for that environment and minute."
    )
    release = serializers.CharField(required=False, help_text="`schedule_taken`: that deployment's release.")
    freeze = serializers.CharField(required=False, help_text="`no_open_window`: the freeze that never ends.")
    retry_after = serializers.IntegerField(
        required=False, help_text="`idempotency_in_progress`: seconds until the key's lease runs out."
    )


class DeploymentConflictErrorSerializer(ErrorSerializer):
    """409 `invalid_transition`: only an `in_progress` deployment reports its result."""

    status = serializers.ChoiceField(choices=DeploymentStatus.choices, help_text="The deployment's current status.")
    allowed_actions = serializers.ListField(
        child=serializers.CharField(), help_text="Always empty: a finished deployment takes no action."
    )
