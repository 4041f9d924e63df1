"""Every write to releases and deployments (DESIGN §6). Views, serializers and the admin call these.

One module per concern, re-exported here so callers import from `releases.services`:
- `permissions`: who may do what to a release;
- `lifecycle`: create, update, delete, submit, approve, reject (and the state table);
- `deployments`: the deploy check, deploy, rollback and deployment status reports;
- `summaries`: the deployment summary each release embeds, kept up to date by `deployments`.
- `approvals`: the approval-expiry notices (issue #12);
- `scheduling`: scheduled deployments: schedule, run when due, cancel (issue #12).
"""

from releases.services.approvals import approvals_notify_expiry, release_notify_approval_expiry
from releases.services.deployments import (
    BLOCKER_ALREADY_DEPLOYED,
    BLOCKER_APPROVAL_REQUIRED,
    BLOCKER_CODES,
    BLOCKER_DEPLOYMENT_IN_PROGRESS,
    BLOCKER_FOUR_EYES,
    BLOCKER_FREEZE_WINDOW,
    BLOCKER_INVALID_STATUS,
    BLOCKER_WORKFLOW_ORDER,
    deployment_report_status,
    release_deploy,
    release_deploy_check,
    release_rollback,
)
from releases.services.lifecycle import (
    ACTIONS_BY_STATUS,
    ALLOWED_FROM,
    COUNTS_AS_APPROVED,
    WRITABLE_FIELDS,
    release_allowed_actions,
    release_approve,
    release_create,
    release_delete,
    release_reject,
    release_submit,
    release_update,
)
from releases.services.scheduling import (
    NEXT_OPEN_WINDOW,
    deployment_cancel,
    deployment_run_scheduled,
    deployments_run_due,
    release_schedule_deploy,
)
from releases.services.summaries import release_environments_refresh

__all__ = [
    "ACTIONS_BY_STATUS",
    "ALLOWED_FROM",
    "BLOCKER_ALREADY_DEPLOYED",
    "BLOCKER_APPROVAL_REQUIRED",
    "BLOCKER_CODES",
    "BLOCKER_DEPLOYMENT_IN_PROGRESS",
    "BLOCKER_FOUR_EYES",
    "BLOCKER_FREEZE_WINDOW",
    "BLOCKER_INVALID_STATUS",
    "BLOCKER_WORKFLOW_ORDER",
    "COUNTS_AS_APPROVED",
    "NEXT_OPEN_WINDOW",
    "WRITABLE_FIELDS",
    "approvals_notify_expiry",
    "deployment_cancel",
    "deployment_report_status",
    "deployment_run_scheduled",
    "deployments_run_due",
    "release_allowed_actions",
    "release_approve",
    "release_create",
    "release_delete",
    "release_deploy",
    "release_deploy_check",
    "release_environments_refresh",
    "release_notify_approval_expiry",
    "release_reject",
    "release_rollback",
    "release_schedule_deploy",
    "release_submit",
    "release_update",
]
