"""The audit trail's action names, in one place (as Zulip's `AuditLogEventType`).

Every `audit_record` call names one of these; `audit_record` refuses any other, so this
module is the complete catalogue of what the trail can say (the event catalogue of
outgoing webhooks is built from it). Values are `<object type>.<what happened>`; `*.repaired`
is written by `manage.py check_integrity --repair`.
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

    DEPLOYMENT_CREATED = "deployment.created"
    DEPLOYMENT_ROLLED_BACK = "deployment.rolled_back"
    DEPLOYMENT_STATUS_REPORTED = "deployment.status_reported"
    DEPLOYMENT_REPAIRED = "deployment.repaired"

    ENVIRONMENT_CREATED = "environment.created"
    ENVIRONMENT_UPDATED = "environment.updated"
    ENVIRONMENT_DELETED = "environment.deleted"
    ENVIRONMENT_REPAIRED = "environment.repaired"

    TEAM_CREATED = "team.created"
    TEAM_UPDATED = "team.updated"
    TEAM_DELETED = "team.deleted"

    WORKFLOW_CREATED = "workflow.created"
    WORKFLOW_UPDATED = "workflow.updated"
    WORKFLOW_DELETED = "workflow.deleted"
