"""Every write to releases and deployments (DESIGN §6). Views, serializers and the admin call these.

One module per concern, re-exported here so callers import from `releases.services`:
- `permissions`: who may do what to a release;
- `lifecycle`: create, update, delete, submit, approve, reject (and the state table);
- `deployments`: the deploy check, deploy, rollback and deployment status reports;
- `summaries`: the deployment summary each release embeds, kept up to date by `deployments`.
"""

from releases.services.deployments import (
    BLOCKER_ALREADY_DEPLOYED,
    BLOCKER_APPROVAL_REQUIRED,
    BLOCKER_CODES,
    BLOCKER_DEPLOYMENT_IN_PROGRESS,
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
from releases.services.summaries import release_environments_refresh

__all__ = [
    "ACTIONS_BY_STATUS",
    "ALLOWED_FROM",
    "BLOCKER_ALREADY_DEPLOYED",
    "BLOCKER_APPROVAL_REQUIRED",
    "BLOCKER_CODES",
    "BLOCKER_DEPLOYMENT_IN_PROGRESS",
    "BLOCKER_FREEZE_WINDOW",
    "BLOCKER_INVALID_STATUS",
    "BLOCKER_WORKFLOW_ORDER",
    "COUNTS_AS_APPROVED",
    "WRITABLE_FIELDS",
    "deployment_report_status",
    "release_allowed_actions",
    "release_approve",
    "release_create",
    "release_delete",
    "release_deploy",
    "release_deploy_check",
    "release_environments_refresh",
    "release_reject",
    "release_rollback",
    "release_submit",
    "release_update",
]
