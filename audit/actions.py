"""The audit trail's action names, in one place (as Zulip's `AuditLogEventType`).

Every `audit_record` call names one of these; `audit_record` refuses any other, so this
module is the complete catalogue of what the trail can say (the event catalogue of
outgoing webhooks is built from it). Values are `<object type>.<what happened>`; `*.repaired`
is written by `manage.py check_integrity --repair`. `user.*` and `group.*` record changes to Django's
own auth models, from the admin or anywhere else (`audit.auth_signals`); `api_token.*` the CI/CD
tokens (`tokens.services`); `audit.checkpoint` an anchor of the chain (`manage.py audit_checkpoint`);
`webhook.*` the webhook subscriptions and their deliveries (`events.services`; the worker acts as `system`);
`incident.*` incidents (`incidents.services`); `evidence.collected` a release's signed evidence (`evidence.services`).
"""

from django.db import models


class AuditAction(models.TextChoices):
    RELEASE_CREATED = "release.created"
    RELEASE_UPDATED = "release.updated"
    RELEASE_DELETED = "release.deleted"
    RELEASE_SUBMITTED = "release.submitted"
    RELEASE_APPROVED = "release.approved"
    RELEASE_REJECTED = "release.rejected"
    RELEASE_DEPLOYED = "release.deployed"
    RELEASE_ROLLED_BACK = "release.rolled_back"
    RELEASE_REPAIRED = "release.repaired"
    # Issue #12: written by the worker's approval-expiry job (actor `system`).
    RELEASE_APPROVAL_EXPIRING = "release.approval_expiring"
    RELEASE_APPROVAL_EXPIRED = "release.approval_expired"

    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_ROLLED_BACK = "deployment.rolled_back"
    DEPLOYMENT_STATUS_REPORTED = "deployment.status_reported"
    DEPLOYMENT_REPAIRED = "deployment.repaired"
    # Issue #12: scheduled deployments (a failed run is written by the worker, actor `system`).
    DEPLOYMENT_SCHEDULED = "deployment.scheduled"
    DEPLOYMENT_SCHEDULE_FAILED = "deployment.schedule_failed"
    DEPLOYMENT_CANCELLED = "deployment.cancelled"

    ENVIRONMENT_CREATED = "environment.created"
    ENVIRONMENT_UPDATED = "environment.updated"
    ENVIRONMENT_DELETED = "environment.deleted"
    ENVIRONMENT_REPAIRED = "environment.repaired"

    FREEZE_CREATED = "freeze.created"
    FREEZE_UPDATED = "freeze.updated"
    FREEZE_DELETED = "freeze.deleted"
    # Issue #12: the worker's calendar job, at each occurrence's edges (actor `system`).
    FREEZE_STARTED = "freeze.started"
    FREEZE_ENDED = "freeze.ended"

    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    TEAM_DELETED = "team.deleted"
    TEAM_REPAIRED = "team.repaired"

    WORKFLOW_CREATED = "workflow.created"
    WORKFLOW_UPDATED = "workflow.updated"
    WORKFLOW_DELETED = "workflow.deleted"
    WORKFLOW_REPAIRED = "workflow.repaired"

    AUDIT_CHECKPOINT = "audit.checkpoint"

    INCIDENT_CREATED = "incident.created"
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_RESOLVED = "incident.resolved"

    EVIDENCE_COLLECTED = "evidence.collected"

    USER_CREATED = "user.created"
    USER_UPDATED = "user.updated"
    USER_DELETED = "user.deleted"
    USER_PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 - an action name
    USER_GROUPS_CHANGED = "user.groups_changed"
    USER_PERMISSIONS_CHANGED = "user.permissions_changed"

    GROUP_CREATED = "group.created"
    GROUP_UPDATED = "group.updated"
    GROUP_DELETED = "group.deleted"
    GROUP_MEMBERS_CHANGED = "group.members_changed"
    GROUP_PERMISSIONS_CHANGED = "group.permissions_changed"

    API_TOKEN_CREATED = "api_token.created"  # noqa: S105 - an action name
    API_TOKEN_REVOKED = "api_token.revoked"  # noqa: S105 - an action name

    WEBHOOK_CREATED = "webhook.created"
    WEBHOOK_UPDATED = "webhook.updated"
    WEBHOOK_DELETED = "webhook.deleted"
    WEBHOOK_SECRET_ROTATED = "webhook.secret_rotated"  # noqa: S105 - an action name, not a secret
    WEBHOOK_DISABLED = "webhook.disabled"
    WEBHOOK_TEST_SENT = "webhook.test_sent"
    WEBHOOK_DELIVERY_REPLAYED = "webhook.delivery_replayed"
    WEBHOOK_DELIVERIES_REDELIVERED = "webhook.deliveries_redelivered"
    WEBHOOK_DELIVERIES_PRUNED = "webhook.deliveries_pruned"
