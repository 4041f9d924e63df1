"""What an approval is bound to (issue #12): the digest of the release's content, and the approver's
groups and teams as they were when they approved. Pure functions (no writes); the rules that use them
are in `environments.policies`.

The digest covers what a release manager approves: version, features with their tasks, target date,
team and workflow. An approval records it (`digest`); one whose digest no longer matches the release
does not count, whatever path changed the release (API, admin, a migration, a repair).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from environments.policies import approval_expires_at
from opsportal import roles
from releases.choices import ApprovalDecision
from releases.models import Release

DIGEST_FIELDS = ("version", "features", "target_date", "team", "workflow")


def release_content(release: Release) -> dict[str, Any]:
    """The approved content of `release` as JSON values."""
    target = release.target_date
    return {
        "version": release.version,
        "features": release.features or [],
        "target_date": target.isoformat() if hasattr(target, "isoformat") else target,
        "team": release.team_id,
        "workflow": release.workflow_id,
    }


def content_digest(content: dict[str, Any]) -> str:
    """`sha256:<hex>` of the canonical JSON of `content` (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    # surrogatepass: a lone surrogate stored before input was checked (issue #10) still digests, as itself
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def release_content_digest(release: Release) -> str:
    """The digest an approval of `release` records now (and must still match to count)."""
    return content_digest(release_content(release))


def approver_credentials(actor: Any) -> dict[str, list[str]]:
    """The approver's role groups (a superuser counts as a Release Manager) and teams, recorded with the
    approval: what the policy rules match on."""
    groups = set(roles.user_roles(actor))
    if roles.is_release_manager(actor):
        groups.add(roles.RELEASE_MANAGERS)
    return {"groups": sorted(groups), "teams": sorted(roles.user_team_ids(actor))}


def current_round(approvals: Any) -> list[dict[str, Any]]:
    """The approvals given since the last rejection (a rejected release that is resubmitted starts a new
    round), rejections left out."""
    entries = [entry for entry in approvals or [] if isinstance(entry, dict)]
    last_rejection = max(
        (i for i, entry in enumerate(entries) if entry.get("decision") == ApprovalDecision.REJECTED), default=-1
    )
    return [entry for entry in entries[last_rejection + 1 :] if entry.get("decision") == ApprovalDecision.APPROVED]


@dataclass(frozen=True)
class Notice:
    """An expiry notice due: `kind` (`expiring` or `expired`) of `approval` under `environment`'s policy."""

    kind: str
    environment: str
    approval: dict[str, Any]
    due_at: datetime
    expires_at: datetime

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.environment}"


def approval_notices(approvals: Any, policies: list[dict[str, Any]]) -> list[Notice]:
    """Every expiry notice of the current round not sent yet (`notices` on the approval), with when it is
    due: `expiring` `warn_before` ahead of the expiry under each policy that has one, `expired` at it."""
    found = []
    for approval in current_round(approvals):
        sent = set(approval.get("notices") or [])
        for entry in policies:
            expires_at = approval_expires_at(approval, entry["policy"])
            if expires_at is None:
                continue
            warn_at = expires_at - timedelta(seconds=int(entry["policy"]["warn_before"] or 0))
            for kind, due_at in (("expiring", warn_at), ("expired", expires_at)):
                notice = Notice(kind, entry["environment"], approval, due_at, expires_at)
                if notice.key not in sent:
                    found.append(notice)
    return found


def next_approval_notice(approvals: Any, policies: list[dict[str, Any]]) -> datetime | None:
    """When the next expiry notice of these approvals falls due (None: none will): what the periodic job
    looks for (`Release.approval_notice_at`)."""
    return min((notice.due_at for notice in approval_notices(approvals, policies)), default=None)
