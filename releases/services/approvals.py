"""Approval expiry notices (issue #12): `approval.expiring` a policy's `warn_before` ahead of the moment
an approval stops counting, `approval.expired` at it. The worker's periodic job
(`releases.jobs.notify_approval_expiry`) calls `approvals_notify_expiry`.

Each release is one unit of work: it reads the release afresh, finds the notices due (those of the
current round not sent yet, `releases.approvals.approval_notices`), marks them sent on the approvals
(`notices`), moves `approval_notice_at` to the next one due and records one audit event per kind and
environment (the event catalogue turns them into the events), conditionally on the revision it read:
a concurrent approve, edit or reject lands first and is seen, or after and sees this one. Two workers
cannot send a notice twice: the second one's conditional write matches nothing and it runs again on
the release as the first left it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.actions import AuditAction
from audit.services import audit_record
from opsportal.clock import now_ms
from opsportal.uow import Transient, unit_of_work
from releases.approvals import Notice, approval_notices, next_approval_notice
from releases.models import Release
from releases.selectors import release_approval_policies

SYSTEM_ACTOR = "system"
_ACTIONS = {"expiring": AuditAction.RELEASE_APPROVAL_EXPIRING, "expired": AuditAction.RELEASE_APPROVAL_EXPIRED}


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@unit_of_work
def release_notify_approval_expiry(*, release_id: str, at: datetime | None = None) -> int:
    """Send the expiry notices of one release that are due at `at` (default now); returns how many."""
    at = at or now_ms()
    release = Release.objects.filter(pk=release_id).first()
    if release is None:
        return 0
    policies = release_approval_policies()
    due = [notice for notice in approval_notices(release.approvals, policies) if notice.due_at <= at]
    # An `expired` notice due makes the `expiring` one of the same approval moot if it was never sent.
    expired = {(id(n.approval), n.environment) for n in due if n.kind == "expired"}
    sent = [n for n in due if n.kind == "expired" or (id(n.approval), n.environment) not in expired]
    marked = {id(n.approval): [] for n in due}
    for notice in due:
        marked[id(notice.approval)].append(notice.key)
    approvals = [
        {**entry, "notices": [*(entry.get("notices") or []), *marked[id(entry)]]} if id(entry) in marked else entry
        for entry in release.approvals or []
    ]
    values: dict[str, Any] = {
        "approvals": approvals,
        "approval_notice_at": next_approval_notice(approvals, policies),
        "revision": release.revision + 1,
        "updated_at": now_ms(),
    }
    if not due and values["approval_notice_at"] == release.approval_notice_at:
        return 0
    if not Release.objects.filter(pk=release.pk, revision=release.revision).update(**values):
        raise Transient("the release changed since this unit read it")
    groups: dict[tuple[str, str], list[Notice]] = {}
    for notice in sent:
        groups.setdefault((notice.kind, notice.environment), []).append(notice)
    for (kind, environment), notices in sorted(groups.items()):
        audit_record(
            actor=SYSTEM_ACTOR,
            action=_ACTIONS[kind],
            object_type="release",
            object_id=release.pk,
            changes={
                "environment": environment,
                "approvals": [
                    {"user": n.approval.get("user"), "at": n.approval.get("at"), "expires_at": _iso(n.expires_at)}
                    for n in notices
                ],
                "revision": [release.revision, release.revision + 1],
            },
        )
    return len(sent)


def approvals_notify_expiry(*, at: datetime | None = None, limit: int = 500) -> dict[str, int]:
    """Send every expiry notice due at `at` (default now): the releases whose `approval_notice_at` has
    come, earliest first, each in its own unit of work (`release_notify_approval_expiry`)."""
    at = at or now_ms()
    due = list(
        Release.objects.filter(approval_notice_at__lte=at)
        .order_by("approval_notice_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    notices = sum(release_notify_approval_expiry(release_id=release_id, at=at) for release_id in due)
    return {"releases": len(due), "notices": notices}
