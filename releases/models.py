"""Releases (with embedded features → tasks and approvals) and their deployments."""

from django.db import models

from opsportal.clock import now_ms
from opsportal.ids import new_id
from opsportal.limits import DESCRIPTION_MAX_LENGTH, NOTES_MAX_LENGTH
from opsportal.schemas import JSONSchemaValidator
from releases.choices import DeploymentKind, DeploymentStatus, ReleaseStatus


class Release(models.Model):
    """A version with its features and tasks, moving through the lifecycle of DESIGN §6.

    `revision` goes up by one on every write; lifecycle services update conditionally on
    it (or on `status`), which is what makes concurrent changes safe on both backends.
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=64, unique=True)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    status = models.CharField(max_length=20, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT)
    team = models.ForeignKey("teams.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="releases")
    workflow = models.ForeignKey(
        "workflows.Workflow", null=True, blank=True, on_delete=models.PROTECT, related_name="releases"
    )
    target_date = models.DateField(null=True, blank=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(default=now_ms, editable=False)
    # Set by the services on every write (one conditional update), to the millisecond.
    updated_at = models.DateTimeField(default=now_ms, editable=False)
    revision = models.PositiveIntegerField(default=1)
    features = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("releases.schemas.FEATURES", "features")]
    )
    approvals = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("releases.schemas.APPROVALS", "approvals")]
    )
    # When the next approval-expiry notice falls due (issue #12; `releases.approvals.next_approval_notice`),
    # kept by the approve service and the expiry job: the job reads the releases due, never all of them.
    approval_notice_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The names and descriptions of the embedded features and tasks, lower-cased, kept up to date
    # by the services: search looks here, because MongoDB cannot search inside sub-documents
    # with a regex (DESIGN §3).
    search_text = models.TextField(blank=True, default="", editable=False)
    # Per environment where it was ever deployed: its latest deployment there (as the API shows a
    # deployment) and whether it is the environment's current release. Maintained by the deployment
    # services inside their unit of work (`releases.services.summaries`), checked by `check_integrity`;
    # the release detail is then one document read (issue #18).
    environments = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["-created_at", "id"], name="release_created_idx"),
            models.Index(fields=["status", "-created_at"], name="release_status_idx"),
            models.Index(fields=["team", "-created_at"], name="release_team_idx"),
            models.Index(fields=["workflow", "-created_at"], name="release_workflow_idx"),
            models.Index(fields=["target_date"], name="release_target_idx"),
            models.Index(fields=["approval_notice_at"], name="release_approval_notice_idx"),
            models.Index(fields=["name"], name="release_name_idx"),
            # `version` is unique (a partial index on MongoDB, unused for equality lookups and
            # sorts): the plain index serves lookups by version and `ordering=version`.
            models.Index(fields=["version"], name="release_version_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"


class Deployment(models.Model):
    """One deploy or rollback of a release to an environment (own collection: unbounded).

    `sequence` numbers the deployments of one environment; its unique constraint makes
    two concurrent deploys to the same environment collide instead of both landing.
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="deployments")
    environment = models.ForeignKey("environments.Environment", on_delete=models.PROTECT, related_name="deployments")
    kind = models.CharField(max_length=20, choices=DeploymentKind.choices, default=DeploymentKind.DEPLOY)
    status = models.CharField(max_length=20, choices=DeploymentStatus.choices, default=DeploymentStatus.SUCCEEDED)
    # None while scheduled (issue #12): a scheduled deployment takes its sequence when it runs.
    sequence = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="When a scheduled deployment runs.")
    # `<environment>|<YYYY-MM-DDTHH:MM>` (UTC) while scheduled: unique, so two deployments scheduled for the
    # same environment and minute collide (also when the requests race). Every other deployment holds its own
    # id here (never null: a unique index over nulls is not portable to MongoDB), so the minute is free again
    # once a scheduled deployment runs or is cancelled.
    schedule_slot = models.CharField(max_length=120, unique=True, default=new_id, editable=False)
    blockers = models.JSONField(
        default=list, blank=True, help_text="A scheduled deployment that could not run: what blocked it then."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    deployed_by = models.CharField(max_length=150, blank=True, default="")
    notes = models.TextField(blank=True, default="", max_length=NOTES_MAX_LENGTH)
    pipeline_url = models.URLField(blank=True, default="")
    rolled_back_from = models.ForeignKey(
        Release,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For a rollback: the release that was taken off the environment.",
    )
    became_current = models.BooleanField(
        default=False, help_text="Whether this deployment became its environment's current deployment."
    )
    previous_deployment = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # only bulk clears delete deployments
        related_name="+",
        help_text="The deployment that was current before this one became current: what a rollback returns to.",
    )
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["environment", "sequence"], name="deployment_env_sequence_uniq"),
        ]
        indexes = [
            models.Index(fields=["-started_at", "id"], name="deployment_started_idx"),
            models.Index(fields=["release", "environment", "status"], name="deployment_release_env_idx"),
            models.Index(fields=["environment", "-started_at"], name="deployment_env_started_idx"),
            models.Index(fields=["environment", "status", "-finished_at"], name="deployment_env_status_idx"),
            models.Index(fields=["status", "started_at"], name="deployment_status_idx"),
            models.Index(fields=["kind", "started_at"], name="deployment_kind_idx"),
            # The unique constraint above is a partial index on MongoDB, which the planner does not
            # use for equality lookups or sorts: this one serves a deployment by (environment,
            # sequence) and an environment's deployments in sequence order.
            models.Index(fields=["environment", "sequence"], name="deployment_env_sequence_idx"),
            # The scheduler's due deployments, and the slot looked up when scheduling (unique: partial on MongoDB).
            models.Index(fields=["status", "scheduled_for"], name="deployment_scheduled_idx"),
            models.Index(fields=["schedule_slot"], name="deployment_slot_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.release_id} → {self.environment_id} ({self.status})"
