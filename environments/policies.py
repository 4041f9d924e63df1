"""Approval policies (issue #12): what an environment asks of a release's approvals, and the one
evaluation of a round of approvals against it. Pure functions of the documents they are given (no
queries): deploy checks, the approve service, the release detail and the expiry job all call them.

A policy (`Environment.approval_policy`, shape `environments.schemas.APPROVAL_POLICY`):

    {"rules": [{"name": "Release Managers", "approvals": 2, "group": "Release Managers"},
               {"name": "Security", "approvals": 1, "team": "security-team"}],
     "expires_after": 259200,        # seconds an approval counts (0: for ever)
     "warn_before": 86400,           # `approval.expiring` this long before it stops counting
     "creator_can_approve": false,   # no bypass for superusers or staff
     "deployer_four_eyes": true}     # the deployer may not be the release's only approver

Every rule must be met. An approval counts towards each rule whose group or team it names (the
approver's groups and teams are recorded with the approval) while it is *fresh*: given less than
`expires_after` ago (half-open: at `at + expires_after` it no longer counts) and made on the content
the release has now (its digest, `releases.approvals.release_content_digest`). An environment without
rules asks for no approval.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

from opsportal import roles

DEFAULT_WARN_BEFORE = 86400

# What a policy holds when a key is missing (and what an environment without approvals has).
POLICY_DEFAULTS: dict[str, Any] = {
    "rules": [],
    "expires_after": 0,
    "warn_before": DEFAULT_WARN_BEFORE,
    "creator_can_approve": False,
    "deployer_four_eyes": False,
}


def empty_policy() -> dict[str, Any]:
    """The policy of an environment that asks for no approval (the model's default)."""
    return {**POLICY_DEFAULTS, "rules": []}


def release_managers_rule(approvals: int = 1) -> dict[str, Any]:
    """The default rule: N approvals from Release Managers (superusers count as Release Managers)."""
    return {"name": roles.RELEASE_MANAGERS, "approvals": max(1, int(approvals)), "group": roles.RELEASE_MANAGERS}


def default_policy(approvals: int = 1) -> dict[str, Any]:
    """What "requires approval" meant before policies: N from Release Managers, creator excluded."""
    return {**POLICY_DEFAULTS, "rules": [release_managers_rule(approvals)]}


def policy_with_defaults(policy: Any) -> dict[str, Any]:
    """The stored policy (possibly partial or empty) with every key present."""
    policy = policy if isinstance(policy, dict) else {}
    rules = [rule for rule in policy.get("rules") or [] if isinstance(rule, dict)]
    return {**POLICY_DEFAULTS, **policy, "rules": rules}


def policy_requires_approval(policy: Any) -> bool:
    return bool(policy_with_defaults(policy)["rules"])


def rule_label(rule: dict[str, Any]) -> str:
    """How a rule is named in answers: its name, else `group:<G>` / `team:<T>`."""
    if rule.get("name"):
        return str(rule["name"])
    return f"group:{rule['group']}" if rule.get("group") else f"team:{rule.get('team', '')}"


def rule_matches(rule: dict[str, Any], approval: dict[str, Any]) -> bool:
    """Whether `approval` was given by a member of the rule's group or team (as recorded with it)."""
    if rule.get("group"):
        return rule["group"] in (approval.get("groups") or [])
    return bool(rule.get("team")) and rule["team"] in (approval.get("teams") or [])


def approval_moment(approval: dict[str, Any]) -> datetime | None:
    value = approval.get("at")
    moment = parse_datetime(value) if isinstance(value, str) else None
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else None


def approval_expires_at(approval: dict[str, Any], policy: dict[str, Any]) -> datetime | None:
    """When the approval stops counting under `policy` (None: never)."""
    expires_after = policy_with_defaults(policy)["expires_after"]
    moment = approval_moment(approval)
    if not expires_after or moment is None:
        return None
    return moment + timedelta(seconds=int(expires_after))


@dataclass
class RuleResult:
    """One rule evaluated: `have` fresh approvals of `needed`; `expired`/`stale` matching ones that no
    longer count (too old / given on other content)."""

    rule: str
    needed: int
    have: int
    expired: int
    stale: int
    approvers: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.have >= self.needed

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class PolicyResult:
    """A round of approvals against a policy: per rule, and whether the deployer would be the only approver."""

    rules: list[RuleResult]
    approvers: list[str]
    deployer_is_only_approver: bool = False

    @property
    def unmet(self) -> list[RuleResult]:
        return [rule for rule in self.rules if not rule.met]

    @property
    def met(self) -> bool:
        return not self.unmet and not self.deployer_is_only_approver


def evaluate_policy(
    policy: Any,
    approvals: list[dict[str, Any]],
    *,
    digest: str,
    creator: str,
    at: datetime,
    deployer: str = "",
) -> PolicyResult:
    """Evaluate the current round of `approvals` (`releases.selectors.release_current_approvals`) against
    `policy` at `at`, for a release whose content digest is `digest` and whose creator is `creator`.

    The creator's approvals count only where `creator_can_approve` (for everyone: superusers and staff
    included). With `deployer_four_eyes`, a `deployer` who is the only approver whose approval counts
    makes the policy unmet (`deployer_is_only_approver`)."""
    policy = policy_with_defaults(policy)
    results = []
    counted: set[str] = set()
    for rule in policy["rules"]:
        result = RuleResult(rule=rule_label(rule), needed=int(rule.get("approvals") or 1), have=0, expired=0, stale=0)
        seen: set[str] = set()
        for approval in approvals:
            user = str(approval.get("user") or "")
            if not rule_matches(rule, approval) or user in seen:
                continue
            if user == creator and creator and not policy["creator_can_approve"]:
                continue
            seen.add(user)
            expires_at = approval_expires_at(approval, policy)
            if approval.get("digest") != digest:
                result.stale += 1
            elif expires_at is not None and at >= expires_at:
                result.expired += 1
            else:
                result.have += 1
                result.approvers.append(user)
                counted.add(user)
        results.append(result)
    only_deployer = bool(policy["deployer_four_eyes"] and deployer and results and counted == {deployer})
    return PolicyResult(rules=results, approvers=sorted(counted), deployer_is_only_approver=only_deployer)


def policy_eligible(policy: Any, *, groups: list[str], teams: list[str]) -> bool:
    """Whether someone in `groups` and `teams` is named by one of the policy's rules."""
    probe = {"groups": groups, "teams": teams}
    return any(rule_matches(rule, probe) for rule in policy_with_defaults(policy)["rules"])


def creator_may_approve(policies: list[dict[str, Any]]) -> bool:
    """Whether a release's creator may approve it: only where every policy that asks for approvals allows
    it (`creator_can_approve`; no bypass for superusers or staff). Without any such policy, four eyes."""
    return bool(policies) and all(policy_with_defaults(entry["policy"])["creator_can_approve"] for entry in policies)
