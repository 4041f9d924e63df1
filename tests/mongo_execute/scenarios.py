"""The differential scenarios: each runs on SQLite and on the MongoDB emulator from the same state
(sample data, users, frozen clock, deterministic ids; `opsportal/testing/mongo_execute.py`) and
returns what the code under test answered. `covers` names the public selectors and services a
scenario exercises; `tests/mongo_execute/test_differential.py` fails when one has none.

Reads come first (selectors, analytics, dashboard, metrics, then every list endpoint with its
filters, searches, orderings and pages through the DRF test client), then writes (every service,
allowed and refused, then the reads again on the changed data), then the known divergence.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from opsportal.testing.mongo_execute import (
    Context,
    Registry,
    json_text_like,
    ordered_with_ties,
    unicode_case,
    unordered,
)

registry = Registry()
scenario = registry.scenario

RELEASES = ("release-1", "release-2", "release-3")
ENVIRONMENTS = ("development", "staging", "production")


def _release(pk: str) -> Any:
    from releases.models import Release

    return Release.objects.get(pk=pk)


def _environment(pk: str) -> Any:
    from environments.models import Environment

    return Environment.objects.get(pk=pk)


def _set_policy(environment_id: str, rules: list[dict[str, Any]], **policy: Any) -> None:
    """An approval policy set directly (`requires_approval` follows it, as the services keep it)."""
    from environments.models import Environment
    from environments.policies import policy_with_defaults

    full = policy_with_defaults({**policy, "rules": [{"name": "", **rule} for rule in rules]})
    Environment.objects.filter(pk=environment_id).update(approval_policy=full, requires_approval=bool(rules))


def _query(path: str, **params: Any) -> str:
    params = {key: value for key, value in params.items() if value is not None}
    return f"{path}?{urlencode(params)}" if params else path


# =========================================================================== selectors: releases


@scenario(covers=["releases.selectors.release_list", "releases.selectors.deployment_list"])
def release_and_deployment_lists(ctx: Context) -> Any:
    """The default orderings of both lists (-created_at/-started_at, then id)."""
    from releases.selectors import deployment_list, release_list

    return {"releases": list(release_list()), "deployments": list(deployment_list())}


@scenario(covers=["releases.selectors.release_required_approvals"])
def required_approvals(ctx: Context) -> Any:
    """The largest total of an approval policy, before and after changing them (issue #12)."""
    from environments.models import Environment
    from releases.selectors import release_required_approvals

    answers = [release_required_approvals()]
    _set_policy("staging", [{"approvals": 3, "group": "Release Managers"}])
    answers.append(release_required_approvals())
    Environment.objects.update(requires_approval=False)
    answers.append(release_required_approvals())
    return answers


@scenario(
    covers=[
        "releases.selectors.release_environment_summaries",
        "releases.selectors.release_deployed_to",
        "releases.selectors.latest_deployments_query",
    ]
)
def release_summaries(ctx: Context) -> Any:
    """Per release and environment: current or not, the latest deployment (a Q-OR of (env, seq) pairs)."""
    from releases.models import Release
    from releases.selectors import latest_deployments_query, release_deployed_to, release_environment_summaries
    from releases.shapes import DEPLOYMENT_ROW

    releases = list(Release.objects.order_by("id"))
    latest = latest_deployments_query([r.pk for r in releases])
    return {
        "latest": sorted(latest.values_list("release_id", "environment_id", "sequence")),
        "latest_rows": sorted((row["id"], row["status"]) for row in latest.values(*DEPLOYMENT_ROW)),
        "summaries": release_environment_summaries(release_ids=[r.pk for r in releases]),
        "one": release_environment_summaries(release_ids=[r.pk for r in releases[:1]]),
        "none": release_environment_summaries(release_ids=[]),
        "deployed_to": release_deployed_to(release_ids=[r.pk for r in releases]),
    }


@scenario(
    covers=[
        "releases.selectors.release_progress",
        "releases.selectors.features_progress",
        "releases.selectors.release_current_approvals",
    ]
)
def release_progress_and_approvals(ctx: Context) -> Any:
    """Computed from the embedded documents as the database returned them."""
    from releases.selectors import release_current_approvals, release_progress

    return {pk: [release_progress(_release(pk)), release_current_approvals(_release(pk))] for pk in RELEASES}


@scenario(covers=["releases.selectors.release_metrics"])
def release_metrics_all(ctx: Context) -> Any:
    """Counts per environment/status, success rate, mean duration (a database duration), lead time."""
    from releases.selectors import release_metrics

    # `deployments_by_environment` is ordered by environment id in the database: compared as a list.
    return {pk: release_metrics(release=_release(pk)) for pk in RELEASES}


@scenario(covers=["releases.selectors.release_history"], writes=True)
def release_history_after_changes(ctx: Context) -> Any:
    """Audit events of a release and of its deployments (a subquery on deployments), newest first."""
    from releases.selectors import release_history
    from releases.services import release_deploy, release_rollback

    rm = ctx.user("bob")
    release_deploy(release=_release("release-3"), environment=_environment("development"), actor=rm)
    ctx.clock.advance(minutes=5)
    release_rollback(release=_release("release-3"), environment=_environment("development"), actor=rm, reason="bad")
    return {pk: list(release_history(release=_release(pk))) for pk in RELEASES}


# =========================================================================== selectors: environments


@scenario(
    covers=[
        "environments.selectors.parse_freeze_moment",
        "environments.selectors.environment_active_freeze",
        "environments.selectors.environment_freeze_state",
    ]
)
def environment_freezes(ctx: Context) -> Any:
    """Freeze windows as stored and read back (embedded documents), at moments in and out of them."""
    from environments.selectors import environment_active_freeze, environment_freeze_state, parse_freeze_moment

    production = _environment("production")
    moments = [
        datetime(2026, 11, 12, 23, 59, tzinfo=UTC),
        datetime(2026, 11, 13, 0, 0, tzinfo=UTC),
        datetime(2026, 11, 15, 12, 0, tzinfo=UTC),
        datetime(2026, 11, 16, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 25, 0, 0, tzinfo=UTC),
        None,
    ]
    return {
        "parsed": [parse_freeze_moment(v) for v in ("2026-11-13T00:00:00Z", "2026-11-13", 7, "2026-11-13T01:00+01:00")],
        "active": [environment_active_freeze(production, moment) for moment in moments],
        "state": [environment_freeze_state(_environment(pk)) for pk in ENVIRONMENTS],
    }


FREEZE_CALENDAR = ("selectors.freezes_for", "selectors.freeze_occurrences")
FREEZE_WRITES = (
    "services.freeze_create",
    "services.freeze_update",
    "services.freeze_delete",
    "services.freezes_import_ics",
    "services.freeze_announce_edges",
    "services.freezes_announce_edges",
)


@scenario(covers=[f"environments.{name}" for name in (*FREEZE_CALENDAR, *FREEZE_WRITES)], writes=True)
def freeze_calendar(ctx: Context) -> Any:
    """Freeze documents (issue #12): a recurring one in Europe/Berlin across the spring change, scoped by
    tier and team, an exdate, the occurrences, the freezes of an environment; refused writes."""
    from environments.selectors import environment_active_freeze, freeze_occurrences, freezes_for
    from environments.services import (
        freeze_create,
        freeze_delete,
        freeze_update,
        freezes_import_ics,
    )

    bob = ctx.user("bob")
    weekly = dict(
        name="Weekend", timezone="Europe/Berlin", starts_at="2026-01-03T00:00:00+01:00", duration_minutes=2880
    )
    weekly.update(rrule="FREQ=WEEKLY;BYDAY=SA", tiers=["production"], teams=["platform-team"])
    answers: dict[str, Any] = {"created": freeze_create(actor=bob, data=weekly)}
    answers["engineer"] = ctx.attempt(lambda: freeze_create(actor=ctx.user("alice"), data={**weekly, "name": "X"}))
    answers["bad"] = ctx.attempt(lambda: freeze_create(actor=bob, data={**weekly, "name": "Y", "timezone": "Nowhere"}))
    start, end = datetime(2026, 3, 20, tzinfo=UTC), datetime(2026, 4, 10, tzinfo=UTC)
    answers["occurrences"] = freeze_occurrences(start=start, end=end)
    answers["platform"] = freeze_occurrences(start=start, end=end, team="platform-team")
    answers["security"] = freeze_occurrences(start=start, end=end, team="security-team")
    production = _environment("production")
    answers["for_production"] = freezes_for(production, team="platform-team", at=start)
    answers["active"] = environment_active_freeze(
        production, datetime(2026, 3, 28, 12, tzinfo=UTC), team="platform-team"
    )
    ctx.clock.advance(minutes=1)
    answers["updated"] = freeze_update(freeze=answers["created"], actor=bob, data={"exdates": ["2026-03-28"]})
    answers["after_exdate"] = freeze_occurrences(start=start, end=end, environment=production)
    freeze_delete(freeze=answers["updated"], actor=bob)
    answers["deleted"] = freeze_occurrences(start=start, end=end)
    with open("fixtures/holidays/uk-england-wales-2026-2027.ics", "rb") as calendar:
        content = calendar.read()
    answers["imported"] = freezes_import_ics(actor=bob, content=content, timezone="Europe/London", tiers=["production"])
    answers["reimported"] = freezes_import_ics(actor=bob, content=content, timezone="Europe/London")
    answers["bank_holidays"] = freeze_occurrences(
        start=datetime(2026, 12, 20, tzinfo=UTC), end=end + timedelta(days=300)
    )
    return answers


@scenario(covers=["environments.selectors.environment_status"])
def environment_statuses(ctx: Context) -> Any:
    """Current release, recent deployments (ordered by -started_at, -sequence) with their releases (in_bulk)."""
    from environments.selectors import environment_status

    return {pk: environment_status(_environment(pk)) for pk in ENVIRONMENTS}


# =========================================================================== selectors: dashboard


@scenario(
    covers=[
        "dashboard.selectors.environment_health_counts",
        "dashboard.selectors.pending_approval_preview",
        "dashboard.selectors.deployment_window_counts",
        "dashboard.selectors.dashboard_stats",
        "dashboard.selectors.latest_deployments",
    ]
)
def dashboard_stats_now_and_later(ctx: Context) -> Any:
    """Conditional counts over date windows, at the frozen now and at other moments."""
    from dashboard.selectors import (
        dashboard_stats,
        deployment_window_counts,
        environment_health_counts,
        latest_deployments,
        pending_approval_preview,
    )

    return {
        "stats": dashboard_stats(),
        "health": environment_health_counts(),
        "pending": [pending_approval_preview(), pending_approval_preview(limit=0)],
        "latest_deployments": [latest_deployments(), latest_deployments(limit=2)],
        "windows": [
            deployment_window_counts(now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC)),
            deployment_window_counts(now=datetime(2026, 11, 21, 12, 0, tzinfo=UTC)),
            deployment_window_counts(now=datetime(2027, 3, 1, tzinfo=UTC)),
        ],
    }


@scenario(
    covers=[
        "dashboard.selectors.deployments_per_day",
        "dashboard.selectors.releases_per_week",
        "dashboard.selectors.dashboard_metrics",
    ]
)
def dashboard_series(ctx: Context) -> Any:
    """Deployments per UTC day (TruncDay in the database), releases per ISO week (conditional counts)."""
    from dashboard.selectors import dashboard_metrics, deployments_per_day, releases_per_week

    return {
        "metrics": dashboard_metrics(),
        "days": [deployments_per_day(days=7), deployments_per_day(now=datetime(2026, 11, 21, 1, tzinfo=UTC), days=3)],
        "weeks": [releases_per_week(weeks=2), releases_per_week(now=datetime(2026, 10, 27, tzinfo=UTC), weeks=3)],
    }


@scenario(covers=["dashboard.selectors.dashboard_health"])
def dashboard_health_report(ctx: Context) -> Any:
    """The parts of the health report that do not name the backend or measure time."""
    from dashboard.selectors import dashboard_health

    report = dashboard_health()
    return {
        "status": report["status"],
        "ok": report["database"]["ok"],
        "error": report["database"]["error"],
        "environments": report["environments"],
        "checked_at": report["checked_at"],
    }


# =========================================================================== analytics


@scenario(
    divergences=("unordered",),
    covers=[
        "releases.analytics.release_counts_by_status",
        "releases.analytics.release_counts_by_team",
        "releases.analytics.releases_created_per_month",
        "releases.analytics.releases_created_per_bucket",
        "releases.analytics.month_starts",
        "releases.analytics.utc_midnight",
        "releases.analytics.as_utc_date",
        "releases.analytics.percent",
        "releases.analytics.seconds",
    ],
)
def release_counts(ctx: Context) -> Any:
    """Grouped counts (by status, by team with names looked up after) and monthly conditional counts."""
    from datetime import date

    from django.db.models import Count

    from releases.analytics import (
        as_utc_date,
        month_starts,
        percent,
        release_counts_by_status,
        release_counts_by_team,
        releases_created_per_bucket,
        releases_created_per_month,
        seconds,
        utc_midnight,
    )
    from releases.models import Release

    Release.objects.filter(pk="release-3").update(team=None)
    starts = [date(2026, 10, 1), date(2026, 10, 26), date(2026, 11, 12)]
    return {
        # What the selectors group on: rows in no defined order (a $group has none either).
        "grouped_rows": unordered(Release.objects.order_by().values("team", "status").annotate(n=Count("*"))),
        "status": release_counts_by_status(),
        "team": release_counts_by_team(),
        "months": [releases_created_per_month(), releases_created_per_month(months=1)],
        "buckets": {str(k): v for k, v in releases_created_per_bucket(starts=starts).items()},
        "helpers": [
            month_starts(now=ctx.clock()),
            utc_midnight(date(2026, 11, 1)),
            as_utc_date(datetime(2026, 11, 1, 23, tzinfo=UTC)),
            percent(1, 3),
            percent(1, 0),
            seconds(timedelta(milliseconds=1500)),
        ],
    }


@scenario(covers=["releases.analytics.dora_metrics"])
def dora_windows(ctx: Context) -> Any:
    """The four DORA figures: lead-time median (a sliced, ordered duration), time to restore (a Subquery)."""
    from releases.analytics import dora_metrics

    return {days: dora_metrics(days=days) for days in (1, 7, 14, 30, 365)}


@scenario(covers=["releases.analytics.release_analytics", "releases.analytics.release_analytics_cached"])
def release_analytics_report(ctx: Context) -> Any:
    """The whole report, directly and through the cache (keyed by the newest audit sequence)."""
    from releases.analytics import release_analytics, release_analytics_cached

    return {
        "direct": release_analytics(days=30),
        "cached": [release_analytics_cached(days=7), release_analytics_cached(days=7)],
    }


# =========================================================================== integrity and audit


@scenario(covers=["releases.integrity.integrity_violations", "audit.selectors.audit_chain_verify"])
def integrity_of_the_sample_data(ctx: Context) -> Any:
    """Every invariant on the sample data, and after breaking some of them behind the services' back."""
    from environments.models import Environment
    from releases.integrity import integrity_violations
    from releases.models import Deployment, Release

    before = [str(v) for v in integrity_violations()]
    Environment.objects.filter(pk="staging").update(current_release="release-3", deployment_seq=9)
    Deployment.objects.filter(pk="deployment-11").update(status="succeeded")
    Release.objects.filter(pk="release-2").update(status="approved")
    return {"before": before, "after": [str(v) for v in integrity_violations()]}


@scenario(covers=["releases.integrity.integrity_repair"], writes=True)
def integrity_repair_after_faults(ctx: Context) -> Any:
    """The repairs: one unit and one audit event each."""
    from environments.models import Environment
    from releases.integrity import integrity_repair
    from releases.models import Deployment

    Environment.objects.filter(pk="staging").update(current_release="release-3", deployment_seq=4)
    Deployment.objects.filter(pk="deployment-9").update(status="succeeded")
    repaired, left = integrity_repair()
    return {"repaired": [str(v) for v in repaired], "left": [str(v) for v in left]}


@scenario(
    covers=[
        "audit.services.audit_record",
        "audit.services.audit_checkpoint",
        "audit.selectors.audit_chain_verify",
        "audit.selectors.audit_head",
        "audit.selectors.audit_head_verify",
    ],
    writes=True,
)
def audit_chain(ctx: Context) -> Any:
    """Appending to the hash chain (the tail read, the unique seq), checkpoints and signed heads,
    verifying it, then a deleted and a tampered event."""
    from audit.models import AuditEvent
    from audit.selectors import audit_chain_verify, audit_head, audit_head_verify
    from audit.services import audit_checkpoint, audit_record

    answers: dict[str, Any] = {"empty_head": audit_head(), "empty": audit_chain_verify()}
    for n in range(3):
        audit_record(
            actor="bob",
            action="release.updated",
            object_type="release",
            object_id="release-1",
            changes={"n": [n, n + 1], "at": ctx.clock()},
        )
        ctx.clock.advance(seconds=1)
    head = audit_head()
    answers["checkpoint"] = audit_checkpoint(actor="cron")
    answers["head"] = head
    audit_record(actor="bob", action="release.submitted", object_type="release", object_id="release-3")
    answers["intact"] = audit_chain_verify()
    answers["head_verified"] = audit_head_verify(head)
    answers["forged_head"] = audit_head_verify({**head, "seq": head["seq"] + 1})
    answers["via_api"] = [ctx.get(f"/api/v1/audit-events/{path}", user="bob") for path in ("head", "verify")]
    answers["list"] = ctx.get("/api/v1/audit-events?ordering=at&action=release.updated", user="bob")
    AuditEvent.objects.filter(seq=2).update(actor="mallory")
    answers["tampered"] = audit_chain_verify(chunk_size=1)
    AuditEvent.objects.filter(seq__gte=4).delete()
    answers["truncated"] = audit_chain_verify()
    answers["head_after_truncation"] = audit_head_verify(head)
    return answers


# =========================================================================== the API's lists


def _ids(answer: dict[str, Any]) -> Any:
    """The ids of a list page, in order (or the whole answer when it is not a page)."""
    if answer["status"] != 200 or not isinstance(answer["body"], dict) or "results" not in answer["body"]:
        return answer
    return [item.get("id", item.get("seq")) for item in answer["body"]["results"]]


def _pages(ctx: Context, path: str, **params: Any) -> list[Any]:
    """Every page of a list, two items at a time (skip/limit), as the items' ids (or the error)."""
    pages = []
    url = _query(path, page_size=2, **params)
    while url and len(pages) < 20:
        answer = ctx.get(url)
        if answer["status"] != 200:
            return [answer]
        pages.append([item.get("id", item.get("seq")) for item in answer["body"]["results"]])
        url = answer["body"]["next"]
    return pages


RELEASE_FILTERS = {
    "status": [None, "approved", "deployed", "pending_approval", "draft", "rejected", "rolled_back"],
    "team": [None, "platform-team", "security-team", "nobody"],
    "workflow": [None, "standard", "hotfix"],
    "environment": [None, "development", "staging", "production", "nowhere"],
}


@scenario(covers=["releases.filtersets.ReleaseFilterSet"])
def release_filter_combinations(ctx: Context) -> Any:
    """Every combination of the release list's filters (`environment` is a subquery on environments)."""
    answers = {}
    for values in itertools.product(*RELEASE_FILTERS.values()):
        params = dict(zip(RELEASE_FILTERS, values, strict=True))
        answers[urlencode({k: v for k, v in params.items() if v})] = _ids(ctx.get(_query("/api/v1/releases", **params)))
    return answers


@scenario(covers=["releases.selectors.release_list"])
def release_list_pages_and_orderings(ctx: Context) -> Any:
    """Full list bodies, then every ordering both ways, page by page."""
    answers: dict[str, Any] = {"full": ctx.get("/api/v1/releases"), "detail": ctx.get("/api/v1/releases/release-1")}
    for field in ("created_at", "target_date", "version", "name", "id", "bogus"):
        for sign in ("", "-"):
            answers[f"{sign}{field}"] = _pages(ctx, "/api/v1/releases", ordering=f"{sign}{field}")
    answers["two-keys"] = _pages(ctx, "/api/v1/releases", ordering="-target_date,name")
    return answers


SEARCHES = (
    "security",  # name
    "1.9",  # version
    "PATCH",  # name, case-insensitive
    "Caching",  # a feature of release-3 (search_text)
    "redis",  # a feature's description
    "login",  # a task title
    "dashboard",  # feature names in release-1
    "2.0.0 major",  # two terms: both must match
    "nothing-like-this",
)


@scenario(covers=["releases.selectors.release_list"])
def release_search(ctx: Context) -> Any:
    """`?search=` over name, version, description and `search_text` (the embedded features and
    tasks, kept by the services): MongoDB answers it like SQLite (issue #17)."""
    return {term: _ids(ctx.get(_query("/api/v1/releases", search=term))) for term in SEARCHES}


DEPLOYMENT_FILTERS = {
    "release": [None, "release-1", "release-2", "release-3"],
    "environment": [None, "development", "staging", "production"],
    "status": [None, "succeeded", "failed", "rolled_back", "in_progress"],
    "kind": [None, "deploy", "rollback"],
}


@scenario(covers=["releases.filtersets.DeploymentFilterSet", "releases.selectors.deployment_list"])
def deployment_filter_combinations(ctx: Context) -> Any:
    """Every combination of the deployment list's filters, and its orderings page by page."""
    answers: dict[str, Any] = {}
    for values in itertools.product(*DEPLOYMENT_FILTERS.values()):
        params = dict(zip(DEPLOYMENT_FILTERS, values, strict=True))
        answer = ctx.get(_query("/api/v1/deployments", page_size=100, **params))
        answers[urlencode({k: v for k, v in params.items() if v})] = _ids(answer)
    for ordering in ("started_at", "-started_at", None):
        answers[f"ordering={ordering}"] = _pages(ctx, "/api/v1/deployments", ordering=ordering)
    answers["full"] = ctx.get("/api/v1/deployments?page_size=100")
    answers["detail"] = ctx.get("/api/v1/deployments/deployment-10")
    return answers


@scenario(
    covers=[
        "environments.filtersets.EnvironmentFilterSet",
        "teams.filtersets.TeamFilterSet",
        "workflows.filtersets.WorkflowFilterSet",
    ]
)
def document_lists(ctx: Context) -> Any:
    """Environments, teams and workflows: every filter combination, search, ordering, detail and status."""
    answers: dict[str, Any] = {}
    env_filters = {
        "tier": [None, "development", "staging", "production"],
        "health": [None, "healthy", "degraded", "unknown", "down"],
        "requires_approval": [None, "true", "false"],
    }
    for values in itertools.product(*env_filters.values()):
        params = dict(zip(env_filters, values, strict=True))
        answer = ctx.get(_query("/api/v1/environments", **params))
        answers[f"environments?{urlencode({k: v for k, v in params.items() if v})}"] = _ids(answer)
    for field in ("order", "name", "tier", "id", "updated_at"):
        for sign in ("", "-"):
            answers[f"environments ordering={sign}{field}"] = _pages(ctx, "/api/v1/environments", ordering=sign + field)
    for name in (None, "platform", "TEAM", "securi", "nobody"):
        answers[f"teams?name={name}"] = _ids(ctx.get(_query("/api/v1/teams", name=name)))
    for active in (None, "true", "false"):
        answers[f"workflows?active={active}"] = _ids(ctx.get(_query("/api/v1/workflows", active=active)))
    for path in ("/api/v1/teams", "/api/v1/workflows"):
        for field in ("name", "id", "created_at", "updated_at"):
            for sign in ("", "-"):
                answers[f"{path} ordering={sign}{field}"] = _pages(ctx, path, ordering=sign + field)
        answers[f"{path} search"] = _pages(ctx, path, search="a")
    for path in ("/api/v1/environments", "/api/v1/teams", "/api/v1/workflows"):
        answers[f"{path} full"] = ctx.get(path)
    for pk in ENVIRONMENTS:
        answers[f"status {pk}"] = ctx.get(f"/api/v1/environments/{pk}/status")
        answers[f"detail {pk}"] = ctx.get(f"/api/v1/environments/{pk}")
    answers["team detail"] = ctx.get("/api/v1/teams/platform-team")
    answers["workflow detail"] = ctx.get("/api/v1/workflows/hotfix")
    return answers


@scenario(covers=["releases.selectors.release_metrics", "releases.selectors.release_history"])
def release_read_actions(ctx: Context) -> Any:
    """The release endpoints that read: deploy-check, metrics, history, for every release."""
    return {
        pk: {
            "metrics": ctx.get(f"/api/v1/releases/{pk}/metrics"),
            "history": ctx.get(f"/api/v1/releases/{pk}/history"),
            "checks": {env: ctx.get(f"/api/v1/releases/{pk}/deploy-check?environment={env}") for env in ENVIRONMENTS},
        }
        for pk in RELEASES
    }


@scenario(covers=["dashboard.selectors.dashboard_stats", "releases.analytics.release_analytics_cached"])
def dashboard_endpoints(ctx: Context) -> Any:
    """`/dashboard/stats`, `/dashboard/metrics`, `/releases/analytics` (every window)."""
    answers = {
        "stats": ctx.get("/api/v1/dashboard/stats"),
        "metrics": ctx.get("/api/v1/dashboard/metrics"),
        "anonymous": ctx.get("/api/v1/dashboard/stats", user=None),
    }
    for days in (None, 1, 30, 365, 366, "x"):
        answers[f"analytics days={days}"] = ctx.get(_query("/api/v1/releases/analytics", days=days))
    return answers


# =========================================================================== writes: releases


@scenario(
    covers=[
        "releases.services.release_create",
        "releases.services.release_update",
        "releases.services.release_delete",
        "releases.services.release_allowed_actions",
    ],
    writes=True,
)
def release_crud(ctx: Context) -> Any:
    """Create (ids, defaults, search_text, duplicate version on the unique index), update (conditional
    on the revision; features → search_text), delete (and the protected delete)."""
    from releases.services import release_allowed_actions, release_create, release_delete, release_update

    alice, bob = ctx.user("alice"), ctx.user("bob")
    features = [{"name": "Feature Flags", "status": "planned", "tasks": [{"title": "Kill Switch", "status": "todo"}]}]
    created = release_create(
        actor=alice, data={"name": "Flags", "version": "3.0.0", "team": "platform-team", "features": features}
    )
    ctx.clock.advance(minutes=1)
    answers: dict[str, Any] = {
        "created": created,
        "duplicate": ctx.attempt(lambda: release_create(actor=bob, data={"name": "Again", "version": "3.0.0"})),
        "not_my_team": ctx.attempt(
            lambda: release_create(actor=alice, data={"name": "X", "version": "9.9", "team": "security-team"})
        ),
    }
    updated = release_update(
        release=created,
        actor=alice,
        data={"description": "now with flags", "features": [*features, {"name": "Audit Trail", "status": "done"}]},
    )
    answers["updated"] = updated
    answers["stale"] = ctx.attempt(
        lambda: release_update(release=created, actor=alice, data={"name": "Y"}, expected_revision=1)
    )
    answers["version_taken"] = ctx.attempt(
        lambda: release_update(release=updated, actor=bob, data={"version": "2.0.0"})
    )
    answers["no_change"] = release_update(release=updated, actor=bob, data={"name": "Flags"}).revision
    answers["actions"] = {pk: release_allowed_actions(_release(pk)) for pk in (*RELEASES, created.pk)}
    answers["protected"] = ctx.attempt(lambda: release_delete(release=_release("release-1"), actor=bob))
    answers["not_deletable"] = ctx.attempt(lambda: release_delete(release=_release("release-3"), actor=bob))
    release_delete(release=_release(created.pk), actor=bob)
    answers["search_after_delete"] = ctx.get("/api/v1/releases?search=flags")
    return answers


@scenario(
    covers=[
        "releases.services.release_submit",
        "releases.services.release_approve",
        "releases.services.release_reject",
    ],
    writes=True,
)
def approval_lifecycle(ctx: Context) -> Any:
    """Submit, approve (four eyes, twice, count reached), reject, resubmit: conditional status updates."""
    from releases.services import release_approve, release_create, release_reject, release_submit

    alice, bob, erin = ctx.user("alice"), ctx.user("bob"), ctx.user("erin")
    _set_policy("production", [{"approvals": 2, "group": "Release Managers"}])
    release = release_create(actor=alice, data={"name": "Two approvals", "version": "4.0.0", "team": "platform-team"})
    answers: dict[str, Any] = {"submit": release_submit(release=release, actor=alice)}
    answers["submit_again"] = ctx.attempt(lambda: release_submit(release=_release(release.pk), actor=alice))
    answers["own"] = ctx.attempt(lambda: release_approve(release=_release(release.pk), actor=alice))
    ctx.clock.advance(minutes=1)
    answers["first"] = release_approve(release=_release(release.pk), actor=bob, comment="ok")
    answers["twice"] = ctx.attempt(lambda: release_approve(release=_release(release.pk), actor=bob))
    ctx.clock.advance(minutes=1)
    answers["second"] = release_approve(release=_release(release.pk), actor=erin)
    answers["no_reason"] = ctx.attempt(lambda: release_reject(release=_release(release.pk), actor=bob, reason=" "))
    ctx.clock.advance(minutes=1)
    answers["rejected"] = release_reject(release=_release(release.pk), actor=bob, reason="tests fail")
    answers["resubmitted"] = release_submit(release=_release(release.pk), actor=alice)
    answers["engineer_cannot_approve"] = ctx.attempt(
        lambda: release_approve(release=_release("release-3"), actor=alice)
    )
    answers["approve_fixture"] = release_approve(release=_release("release-3"), actor=bob)
    answers["pending"] = ctx.get("/api/v1/dashboard/stats")["body"]["pending_approvals"]
    return answers


SCHEDULING = ("release_schedule_deploy", "deployment_cancel", "deployment_run_scheduled", "deployments_run_due")


@scenario(covers=[f"releases.services.{name}" for name in SCHEDULING], writes=True)
def scheduled_deployments(ctx: Context) -> Any:
    """Schedule (a time, the next open window, the same minute twice), cancel, run when due (issue #12)."""
    from releases.services import (
        deployment_cancel,
        deployment_run_scheduled,
        deployments_run_due,
        release_schedule_deploy,
    )

    bob = ctx.user("bob")
    staging = _environment("staging")
    soon = ctx.clock() + timedelta(minutes=10)
    first = release_schedule_deploy(release=_release("release-3"), environment=staging, actor=bob, scheduled_for=soon)
    answers: dict[str, Any] = {"first": first}
    answers["same_minute"] = ctx.attempt(
        lambda: release_schedule_deploy(
            release=_release("release-2"), environment=staging, actor=bob, scheduled_for=soon
        )
    )
    # One unclaimed (sequence-less) deployment per environment: the emulator's unique indexes ignore the
    # partial filter (`$type`) that lets real MongoDB hold several nulls in (environment, sequence).
    later = release_schedule_deploy(
        release=_release("release-2"), environment=_environment("development"), actor=bob, scheduled_for=soon
    )
    answers["cancelled"] = deployment_cancel(deployment=later, actor=bob)
    answers["cancel_again"] = ctx.attempt(lambda: deployment_cancel(deployment=later, actor=bob))
    answers["open_window"] = release_schedule_deploy(
        release=_release("release-2"), environment=_environment("production"), actor=bob, at="next_open_window"
    )
    answers["not_due"] = deployments_run_due()
    ctx.clock.advance(minutes=11)
    answers["one"] = deployment_run_scheduled(deployment_id=first.pk)
    answers["due"] = deployments_run_due()
    answers["listed"] = ctx.get(_query("/api/v1/deployments", status="scheduled"))
    answers["failed"] = ctx.get(_query("/api/v1/deployments", status="failed"))
    return answers


ISSUE_12_APPROVALS = ("selectors.release_approval_policies", "selectors.release_approval_status")
ISSUE_12_NOTICES = ("services.release_notify_approval_expiry", "services.approvals_notify_expiry")


@scenario(covers=[f"releases.{name}" for name in (*ISSUE_12_APPROVALS, *ISSUE_12_NOTICES)], writes=True)
def approval_policies_and_expiry(ctx: Context) -> Any:
    """Rules by group and team, expiry at the boundary, the expiry notices, a digest mismatch (issue #12)."""
    from releases.models import Release
    from releases.selectors import release_approval_policies, release_approval_status
    from releases.services import approvals_notify_expiry, release_approve, release_notify_approval_expiry

    bob, erin = ctx.user("bob"), ctx.user("erin")
    rules = [{"approvals": 1, "group": "Release Managers"}, {"approvals": 1, "team": "security-team"}]
    _set_policy("production", rules, expires_after=3600, warn_before=600)
    answers: dict[str, Any] = {"policies": release_approval_policies()}
    answers["first"] = release_approve(release=_release("release-3"), actor=bob)
    answers["second"] = ctx.attempt(lambda: release_approve(release=_release("release-3"), actor=erin))
    answers["status"] = release_approval_status(_release("release-3"))
    ctx.clock.advance(minutes=49)
    answers["not_due"] = approvals_notify_expiry()
    ctx.clock.advance(minutes=1)
    answers["expiring"] = approvals_notify_expiry()
    answers["one_release"] = release_notify_approval_expiry(release_id="release-3")
    ctx.clock.advance(minutes=10)
    answers["expired"] = approvals_notify_expiry()
    answers["after_expiry"] = release_approval_status(_release("release-3"))
    Release.objects.filter(pk="release-3").update(version="3.3.3-edited")
    answers["stale"] = release_approval_status(_release("release-3"), policies=release_approval_policies())
    answers["release"] = _release("release-3")
    return answers


@scenario(
    covers=[
        "releases.services.release_deploy",
        "releases.services.release_deploy_check",
        "releases.services.release_rollback",
        "releases.services.deployment_report_status",
        "releases.services.release_environments_refresh",
    ],
    writes=True,
)
def deploy_and_roll_back(ctx: Context) -> Any:
    """Deploy checks and deploys along the workflow, freezes, in-progress reports and rollbacks."""
    from releases.models import Deployment, Release
    from releases.services import (
        deployment_report_status,
        release_deploy,
        release_deploy_check,
        release_environments_refresh,
        release_rollback,
    )

    bob, alice = ctx.user("bob"), ctx.user("alice")
    answers: dict[str, Any] = {
        "checks": {
            f"{pk}->{env}": release_deploy_check(release=_release(pk), environment=_environment(env))
            for pk in RELEASES
            for env in ENVIRONMENTS
        }
    }
    # release-3 (pending) follows `standard`: staging → production needs approval.
    answers["blocked"] = ctx.attempt(
        lambda: release_deploy(release=_release("release-3"), environment=_environment("production"), actor=bob)
    )
    ctx.clock.advance(minutes=10)
    running = release_deploy(
        release=_release("release-3"), environment=_environment("staging"), actor=alice, status="in_progress"
    )
    answers["in_progress"] = running
    answers["second_while_running"] = ctx.attempt(
        lambda: release_deploy(release=_release("release-1"), environment=_environment("staging"), actor=bob)
    )
    ctx.clock.advance(minutes=5)
    answers["reported"] = deployment_report_status(deployment=running, actor=alice, status="succeeded", notes="green")
    answers["reported_twice"] = ctx.attempt(
        lambda: deployment_report_status(deployment=Deployment.objects.get(pk=running.pk), actor=alice, status="failed")
    )
    ctx.clock.advance(minutes=5)
    answers["rollback_staging"] = release_rollback(
        release=_release("release-3"), environment=_environment("staging"), actor=bob, reason="regression"
    )
    answers["rollback_not_current"] = ctx.attempt(
        lambda: release_rollback(release=_release("release-3"), environment=_environment("staging"), actor=bob)
    )
    # Production: release-1 (approved) deploys; then it is rolled back to release-2.
    ctx.clock.advance(minutes=5)
    answers["production"] = release_deploy(
        release=_release("release-1"), environment=_environment("production"), actor=bob, notes="go"
    )
    ctx.clock.advance(minutes=5)
    answers["rollback_production"] = release_rollback(
        release=_release("release-1"), environment=_environment("production"), actor=bob
    )
    answers["nothing_to_roll_back_to"] = ctx.attempt(
        lambda: release_rollback(release=_release("release-2"), environment=_environment("production"), actor=bob)
    )
    # A freeze window: refused, then overridden with a reason.
    ctx.clock.set(datetime(2026, 12, 22, 10, 0, tzinfo=UTC))
    answers["frozen"] = ctx.attempt(
        lambda: release_deploy(release=_release("release-1"), environment=_environment("production"), actor=bob)
    )
    answers["override_needs_reason"] = ctx.attempt(
        lambda: release_deploy(
            release=_release("release-1"), environment=_environment("production"), actor=bob, override_freeze=True
        )
    )
    answers["overridden"] = ctx.attempt(
        lambda: release_deploy(
            release=_release("release-1"),
            environment=_environment("production"),
            actor=bob,
            override_freeze=True,
            reason="hotfix",
        )
    )
    failing = release_deploy(
        release=_release("release-3"), environment=_environment("development"), actor=bob, status="in_progress"
    )
    answers["failed_report"] = deployment_report_status(deployment=failing, actor=bob, status="failed")
    answers["environments"] = {pk: _environment(pk) for pk in ENVIRONMENTS}
    # The summaries the releases embed (issue #18), as the services kept them and rebuilt from scratch.
    answers["summaries"] = dict(Release.objects.order_by("id").values_list("id", "environments"))
    release_environments_refresh(release_ids=list(RELEASES))
    answers["rebuilt"] = dict(Release.objects.order_by("id").values_list("id", "environments"))
    return answers


@scenario(
    covers=[
        "releases.services.release_deploy",
        "releases.services.release_rollback",
        "releases.services.release_approve",
        "releases.services.release_reject",
        "releases.services.release_submit",
        "opsportal.services.request_fingerprint",
        "opsportal.services.idempotency_claim",
        "opsportal.services.idempotency_complete",
        "opsportal.services.idempotency_release",
        "opsportal.services.idempotency_lease",
    ],
    writes=True,
)
def lifecycle_through_the_api(ctx: Context) -> Any:
    """The same actions over HTTP: status codes, envelopes, ETag/If-Match and Idempotency-Key replays."""
    answers: dict[str, Any] = {}
    new = {"name": "API release", "version": "5.0.0", "team": "platform-team", "workflow": "hotfix"}
    answers["create"] = ctx.api("POST", "/api/v1/releases", data=new, user="alice", **{"Idempotency-Key": "k1"})
    answers["replay"] = ctx.api("POST", "/api/v1/releases", data=new, user="alice", **{"Idempotency-Key": "k1"})
    answers["reused_key"] = ctx.api(
        "POST", "/api/v1/releases", data={**new, "version": "5.0.1"}, user="alice", **{"Idempotency-Key": "k1"}
    )
    pk = answers["create"]["body"]["id"]
    etag = answers["create"]["headers"].get("ETag", "")
    answers["stale_if_match"] = ctx.api(
        "PATCH", f"/api/v1/releases/{pk}", data={"description": "x"}, user="alice", **{"If-Match": '"nope-1"'}
    )
    answers["patch"] = ctx.api(
        "PATCH", f"/api/v1/releases/{pk}", data={"description": "changed"}, user="alice", **{"If-Match": etag}
    )
    answers["submit"] = ctx.api("POST", f"/api/v1/releases/{pk}/submit", user="alice")
    answers["approve"] = ctx.api("POST", f"/api/v1/releases/{pk}/approve", data={"comment": "fine"}, user="bob")
    answers["deploy_dev_not_in_hotfix"] = ctx.api(
        "POST", f"/api/v1/releases/{pk}/deploy", data={"environment": "development"}, user="bob"
    )
    ctx.clock.advance(minutes=1)
    answers["deploy_staging"] = ctx.api(
        "POST",
        f"/api/v1/releases/{pk}/deploy",
        data={"environment": "staging"},
        user="bob",
        **{"Idempotency-Key": "d1"},
    )
    answers["deploy_staging_replay"] = ctx.api(
        "POST",
        f"/api/v1/releases/{pk}/deploy",
        data={"environment": "staging"},
        user="bob",
        **{"Idempotency-Key": "d1"},
    )
    ctx.clock.advance(minutes=1)
    answers["deploy_production"] = ctx.api(
        "POST", f"/api/v1/releases/{pk}/deploy", data={"environment": "production"}, user="bob"
    )
    ctx.clock.advance(minutes=1)
    answers["rollback"] = ctx.api(
        "POST", f"/api/v1/releases/{pk}/rollback", data={"environment": "production", "reason": "r"}, user="bob"
    )
    answers["reject"] = ctx.api("POST", "/api/v1/releases/release-3/reject", data={"reason": "no"}, user="bob")
    answers["viewer_cannot"] = ctx.api("POST", "/api/v1/releases/release-3/submit", user="erin-viewer")
    answers["anonymous"] = ctx.api("POST", "/api/v1/releases/release-3/submit", user=None)
    answers["missing"] = ctx.get("/api/v1/releases/does-not-exist")
    answers["history"] = ctx.get(f"/api/v1/releases/{pk}/history")
    answers["audit"] = ctx.get("/api/v1/audit-events?page_size=100", user="bob")
    return answers


@scenario(covers=["opsportal.services.idempotency_claim", "opsportal.services.idempotency_release"], writes=True)
def idempotency_records(ctx: Context) -> Any:
    """Claims under a lease, a live claim, an expired lease taken over, a released claim, an expired key."""
    from opsportal.models import IdempotencyRecord
    from opsportal.services import (
        idempotency_claim,
        idempotency_complete,
        idempotency_lease,
        idempotency_release,
        request_fingerprint,
    )

    fingerprint = request_fingerprint(method="POST", path="/x", body={"a": 1})
    first = idempotency_claim(user="bob", key="k", fingerprint=fingerprint)
    answers: dict[str, Any] = {
        "lease": idempotency_lease(),
        "first": first,
        "live": ctx.attempt(lambda: idempotency_claim(user="bob", key="k", fingerprint=fingerprint)),
        "other_body": ctx.attempt(lambda: idempotency_claim(user="bob", key="k", fingerprint="other")),
    }
    ctx.clock.advance(seconds=61)
    taken = idempotency_claim(user="bob", key="k", fingerprint=fingerprint)
    answers["taken_over"] = taken
    answers["late_complete"] = ctx.attempt(
        lambda: idempotency_complete(record=first, status_code=201, body={"id": "x"}, location="/x/1")
    )
    idempotency_complete(record=taken, status_code=201, body={"id": "x"}, location="/x/1")
    answers["replay"] = idempotency_claim(user="bob", key="k", fingerprint=fingerprint)
    released = idempotency_claim(user="erin", key="k", fingerprint=fingerprint)
    idempotency_release(record=released)
    answers["after_release"] = idempotency_claim(user="erin", key="k", fingerprint=fingerprint)
    ctx.clock.advance(hours=25)
    answers["expired_key"] = idempotency_claim(user="bob", key="k", fingerprint="new body")
    answers["records"] = IdempotencyRecord.objects.count()
    return answers


@scenario(covers=["opsportal.services.collection_changed", "opsportal.services.collection_versions"], writes=True)
def collection_versions_move(ctx: Context) -> Any:
    """Per-collection versions (issue #18): created on first change, bumped by an F() update, read in one query."""
    from opsportal.services import collection_changed, collection_versions
    from opsportal.uow import run_in_unit

    names = ("release", "deployment", "never")
    answers: dict[str, Any] = {"before": collection_versions(names)}
    run_in_unit(lambda: collection_changed("release", "deployment", "release", at=ctx.clock()))
    ctx.clock.advance(seconds=1)
    run_in_unit(lambda: collection_changed("release", at=ctx.clock()))
    answers["after"] = collection_versions(names)
    return answers


# =========================================================================== writes: documents


@scenario(
    covers=[
        "environments.services.environment_create",
        "environments.services.environment_update",
        "environments.services.environment_delete",
    ],
    writes=True,
)
def environment_documents(ctx: Context) -> Any:
    """Create (slug id, taken name), update (freeze windows normalised, revision), delete (protected)."""
    from environments.services import environment_create, environment_delete, environment_update

    bob = ctx.user("bob")
    data = {"name": "QA Lab", "tier": "staging", "order": 4}
    created = environment_create(actor=bob, data=data)
    answers: dict[str, Any] = {
        "created": created,
        "taken": ctx.attempt(lambda: environment_create(actor=bob, data=data)),
        "engineer": ctx.attempt(lambda: environment_create(actor=ctx.user("alice"), data={**data, "name": "Other"})),
    }
    ctx.clock.advance(minutes=1)
    policy = {"rules": [{"approvals": 2, "group": "Release Managers"}], "expires_after": 3600}
    answers["updated"] = environment_update(environment=created, actor=bob, data={"approval_policy": policy})
    answers["bad_policy"] = ctx.attempt(
        lambda: environment_update(
            environment=_environment("qa-lab"), actor=bob, data={"approval_policy": {"rules": [{"approvals": 0}]}}
        )
    )
    answers["stale"] = ctx.attempt(
        lambda: environment_update(environment=created, actor=bob, data={"order": 9}, expected_revision=1)
    )
    answers["protected"] = ctx.attempt(lambda: environment_delete(environment=_environment("staging"), actor=bob))
    environment_delete(environment=_environment("qa-lab"), actor=bob)
    answers["via_api"] = ctx.api("POST", "/api/v1/environments", data={**data, "name": "Perf"}, user="bob")
    answers["api_patch"] = ctx.api("PATCH", "/api/v1/environments/perf", data={"health": "down"}, user="bob")
    answers["api_delete"] = ctx.api("DELETE", "/api/v1/environments/perf", user="bob")
    return answers


@scenario(
    covers=["teams.services.team_create", "teams.services.team_update", "teams.services.team_delete"], writes=True
)
def team_documents(ctx: Context) -> Any:
    """Members (duplicate emails refused), projects, delete of a team that owns releases (protected)."""
    from teams.services import team_create, team_delete, team_update

    bob = ctx.user("bob")
    members = [{"name": "Zed", "email": "zed@example.com", "role": "dev"}]
    created = team_create(actor=bob, data={"name": "Data Team", "members": members, "projects": ["etl"]})
    answers: dict[str, Any] = {"created": created}
    answers["duplicate_member"] = ctx.attempt(
        lambda: team_update(
            team=created, actor=bob, data={"members": [*members, {**members[0], "email": "ZED@example.com"}]}
        )
    )
    ctx.clock.advance(minutes=1)
    answers["updated"] = team_update(team=created, actor=bob, data={"projects": ["etl", "warehouse"]})
    answers["protected"] = ctx.attempt(lambda: team_delete(team=_team("platform-team"), actor=bob))
    team_delete(team=_team("data-team"), actor=bob)
    answers["filter_after"] = ctx.get("/api/v1/teams?name=team")
    return answers


def _team(pk: str) -> Any:
    from teams.models import Team

    return Team.objects.get(pk=pk)


@scenario(
    covers=[
        "workflows.services.workflow_create",
        "workflows.services.workflow_update",
        "workflows.services.workflow_delete",
    ],
    writes=True,
)
def workflow_documents(ctx: Context) -> Any:
    """Stages naming existing environments once each, deactivation, delete refused while followed."""
    from environments.services import environment_delete
    from workflows.models import Workflow
    from workflows.services import workflow_create, workflow_delete, workflow_update

    bob = ctx.user("bob")
    stages = [{"environment": "staging"}, {"environment": "production", "requires_approval": True}]
    created = workflow_create(actor=bob, data={"name": "Fast Lane", "stages": stages, "triggers": []})
    answers: dict[str, Any] = {"created": created}
    answers["unknown_stage"] = ctx.attempt(
        lambda: workflow_update(workflow=created, actor=bob, data={"stages": [{"environment": "mars"}]})
    )
    answers["twice"] = ctx.attempt(
        lambda: workflow_update(workflow=created, actor=bob, data={"stages": [*stages, {"environment": "staging"}]})
    )
    ctx.clock.advance(minutes=1)
    answers["deactivated"] = workflow_update(workflow=created, actor=bob, data={"active": False})
    answers["protected"] = ctx.attempt(lambda: workflow_delete(workflow=Workflow.objects.get(pk="standard"), actor=bob))
    answers["environment_in_a_stage"] = ctx.attempt(
        lambda: environment_delete(environment=_environment("production"), actor=bob)
    )
    workflow_delete(workflow=Workflow.objects.get(pk="fast-lane"), actor=bob)
    answers["active_after"] = ctx.get("/api/v1/workflows?active=false")
    return answers


@scenario(covers=["opsportal.sample_data.sample_data_shift_to_now"], writes=True)
def sample_data_moved_to_now(ctx: Context) -> Any:
    """The demo's shift of every sample timestamp (an aggregate Max, then per-document updates)."""
    from opsportal.sample_data import sample_data_shift_to_now

    return sample_data_shift_to_now(now=datetime(2027, 2, 1, 12, 0, tzinfo=UTC))


# =========================================================================== reads again, on changed data


@scenario(
    covers=[
        "dashboard.selectors.dashboard_stats",
        "dashboard.selectors.dashboard_metrics",
        "releases.analytics.release_analytics",
        "releases.selectors.release_metrics",
    ],
    writes=True,
)
def figures_after_a_busy_day(ctx: Context) -> Any:
    """Deploys, failures and rollbacks across the day (clock moving), then every figure again."""
    from audit.models import AuditEvent
    from dashboard.selectors import dashboard_metrics, dashboard_stats
    from releases.analytics import release_analytics
    from releases.selectors import release_metrics
    from releases.services import deployment_report_status, release_deploy, release_rollback

    bob = ctx.user("bob")
    for env in ("development", "staging"):
        ctx.clock.advance(minutes=7, microseconds=123456)
        running = release_deploy(
            release=_release("release-3"), environment=_environment(env), actor=bob, status="in_progress"
        )
        ctx.clock.advance(minutes=3, seconds=1, microseconds=999)
        deployment_report_status(deployment=running, actor=bob, status="failed" if env == "staging" else "succeeded")
    ctx.clock.advance(hours=1)
    release_deploy(release=_release("release-1"), environment=_environment("production"), actor=bob)
    ctx.clock.advance(hours=2, milliseconds=1)
    release_rollback(release=_release("release-1"), environment=_environment("production"), actor=bob)
    ctx.clock.advance(days=1)
    metrics = {pk: release_metrics(release=_release(pk)) for pk in RELEASES}
    return {
        "stats": dashboard_stats(),
        "metrics": dashboard_metrics(),
        "analytics": release_analytics(days=7),
        "release_metrics": metrics,
        "audit": ordered_with_ties(AuditEvent.objects.order_by("at"), key=lambda event: event.at),
    }


# =========================================================================== the known divergence


@scenario(divergences=("json_text_like",))
def features_icontains_is_not_portable(ctx: Context) -> Any:
    """`features__icontains` (what search did before `search_text`): a LIKE on the JSON text on SQLite,
    a `$regex` on an array of sub-documents on MongoDB, which never matches. The suite shows the
    difference so nobody brings the lookup back; the application searches `search_text` instead."""
    from releases.models import Release

    return json_text_like(Release.objects.filter(features__icontains="caching").values_list("id", flat=True))


# =========================================================================== edge values


@scenario(
    covers=["releases.services.release_create", "releases.selectors.release_list"],
    divergences=("unicode_case_folding",),
    writes=True,
)
def edge_values(ctx: Context) -> Any:
    """Values where databases like to differ: NULLs in sorts and groups, letter case in sorts, ties
    in `?ordering=` (the primary key breaks them, issue #17), non-ASCII letters in case-insensitive
    search, empty `__in` lists."""
    from releases.analytics import release_counts_by_team
    from releases.selectors import release_deployed_to, release_environment_summaries
    from releases.services import release_create

    bob = ctx.user("bob")
    features = [{"name": "Überweisung", "status": "planned", "description": "Straße ÉTÉ", "tasks": []}]
    for name, version, extra in (
        ("alpha tools", "0.1.0", {}),
        ("Beta Tools", "0.2.0", {"target_date": "2026-12-01"}),
        ("Ärger Release", "0.3.0", {"features": features}),
        ("Zeta", "0.10.0", {"team": "security-team", "workflow": "hotfix"}),
    ):
        release_create(actor=bob, data={"name": name, "version": version, **extra})
        ctx.clock.advance(seconds=1)
    answers: dict[str, Any] = {}
    for ordering in ("name", "-name", "target_date", "-target_date", "version", "-version"):
        answers[f"ordering={ordering}"] = _pages(ctx, "/api/v1/releases", ordering=ordering)
    for term in ("beta", "BETA", "TOOLS", "straße"):
        answers[f"search={term}"] = _ids(ctx.get(_query("/api/v1/releases", search=term)))
    for term in ("ärger", "ÄRGER", "Ärger", "überweisung", "ÜBERWEISUNG", "été", "ÉTÉ"):
        answers[f"search={term}"] = unicode_case(_ids(ctx.get(_query("/api/v1/releases", search=term))))
    answers["team=None grouped"] = release_counts_by_team()
    answers["empty lists"] = [release_deployed_to(release_ids=[]), release_environment_summaries(release_ids=[])]
    return answers


# =========================================================================== API tokens


@scenario(
    covers=[
        "tokens.services.api_token_create",
        "tokens.services.api_token_revoke",
        "tokens.services.api_token_touch",
        "tokens.services.secret_hash",
        "tokens.selectors.api_token_by_secret",
        "tokens.selectors.api_token_list",
    ],
    writes=True,
)
def api_tokens(ctx: Context) -> Any:
    """Create (scopes and teams checked), look up by secret, list per role, use over the API (last
    use recorded once a minute), revoke."""
    from tokens.selectors import api_token_by_secret, api_token_list
    from tokens.services import api_token_create, api_token_revoke, api_token_touch, secret_hash

    alice, bob = ctx.user("alice"), ctx.user("bob")
    month = ctx.clock() + timedelta(days=30)
    token, secret = api_token_create(
        actor=alice, name="CI", scopes=["read", "report_deployments"], teams=["platform-team"], expires_at=month
    )
    answers: dict[str, Any] = {"created": token, "secret": secret, "hash": secret_hash(secret)}
    answers["not_a_member"] = ctx.attempt(
        lambda: api_token_create(actor=alice, name="X", scopes=["deploy"], teams=["security-team"])
    )
    answers["expired"] = ctx.attempt(
        lambda: api_token_create(actor=alice, name="Y", scopes=["read"], expires_at=ctx.clock() - timedelta(days=1))
    )
    ctx.clock.advance(seconds=5)
    other, other_secret = api_token_create(
        actor=bob, name="Ops", scopes=["deploy"], teams=["security-team"], owner="erin"
    )
    answers["other"] = other
    answers["by_secret"] = [
        api_token_by_secret(secret),
        api_token_by_secret(other_secret),
        api_token_by_secret("opt_no"),
    ]
    answers["lists"] = {name: list(api_token_list(actor=ctx.user(name))) for name in ("alice", "bob", "erin-viewer")}
    bearer = {"Authorization": f"Bearer {secret}"}
    answers["used"] = [ctx.get("/api/v1/releases?page_size=1", user=None, **bearer) for _ in range(2)]
    ctx.clock.advance(minutes=2)
    answers["used_later"] = ctx.get("/api/v1/teams", user=None, **bearer)
    answers["cannot_deploy"] = ctx.api(
        "POST", "/api/v1/releases/release-3/deploy", data={"environment": "development"}, user=None, **bearer
    )
    api_token_touch(token=token, now=ctx.clock() + timedelta(seconds=10))
    answers["token_list_api"] = [ctx.get("/api/v1/tokens", user=name) for name in ("alice", "bob")]
    answers["not_yours"] = ctx.attempt(lambda: api_token_revoke(token=other, actor=alice))
    answers["revoked"] = api_token_revoke(token=token, actor=alice)
    answers["revoked_twice"] = api_token_revoke(token=token, actor=alice)
    answers["after_revoke"] = ctx.get("/api/v1/releases", user=None, **bearer)
    return answers


# =========================================================================== events: webhooks, deliveries, jobs


@contextlib.contextmanager
def _receiver(*answers: Any) -> Any:
    """Webhook sends answered by `answers` in turn (the transport is network code, not database code): each
    an `events.transport.Outcome`. What was sent is recorded in the yielded list (URL and signed headers)."""
    import events.services.deliveries as deliveries

    sent: list[dict[str, Any]] = []
    queue = list(answers)

    def post(url: str, *, body: str, headers: dict[str, str], timeout: float | None = None) -> Any:
        sent.append({"url": url, "webhook-id": headers["webhook-id"], "signatures": headers["webhook-signature"]})
        return queue.pop(0)

    original, deliveries.post = deliveries.post, post
    try:
        yield sent
    finally:
        deliveries.post = original


@scenario(
    covers=[
        "events.services.webhook_create",
        "events.services.webhook_update",
        "events.services.webhook_rotate_secret",
        "events.services.webhook_delete",
        "events.services.webhook_disable",
        "events.services.check_manage",
        "events.services.new_secret",
        "events.services.secret_hint",
        "events.services.signing_secrets",
        "events.selectors.subscriptions_visible_to",
    ],
    writes=True,
)
def webhook_subscriptions(ctx: Context) -> Any:
    """Create (portal-wide by a Release Manager, a team's by a member, refused for another team or bad
    filters), update (filters, a team move only by a Release Manager, a stale revision), rotate the
    secret with a grace period, disable, delete; who sees which, over the selector and the API."""
    from events.selectors import subscriptions_visible_to
    from events.services import (
        check_manage,
        new_secret,
        secret_hint,
        signing_secrets,
        webhook_create,
        webhook_delete,
        webhook_disable,
        webhook_rotate_secret,
        webhook_update,
    )

    alice, bob = ctx.user("alice"), ctx.user("bob")
    answers: dict[str, Any] = {"new_secret": new_secret()}
    wide = webhook_create(actor=bob, data={"url": "https://hooks.example.com/all", "event_types": ["release.*"]})
    ctx.clock.advance(seconds=1)
    team = webhook_create(
        actor=alice, data={"url": "https://hooks.example.com/platform", "environments": ["production"]}
    )
    answers["created"] = [wide, team, secret_hint(wide.secret)]
    answers["refused"] = {
        "other_team": ctx.attempt(
            lambda: webhook_create(actor=alice, data={"url": "https://x.example.com", "team": "security-team"})
        ),
        "portal_wide": ctx.attempt(lambda: check_manage(alice, "")),
        "viewer": ctx.attempt(lambda: check_manage(ctx.user("erin-viewer"), "platform-team")),
        "bad_filters": ctx.attempt(
            lambda: webhook_create(
                actor=bob,
                data={"url": "http://127.0.0.1/x", "event_types": ["nope.*"], "environments": ["mars"], "teams": [1]},
            )
        ),
    }
    ctx.clock.advance(minutes=1)
    answers["updated"] = webhook_update(
        subscription=team, actor=alice, data={"description": "platform alerts", "event_types": ["deployment.*"]}
    )
    answers["move_refused"] = ctx.attempt(
        lambda: webhook_update(subscription=team, actor=alice, data={"team": "security-team"})
    )
    answers["stale"] = ctx.attempt(
        lambda: webhook_update(subscription=team, actor=alice, data={"description": "x"}, expected_revision=1)
    )
    answers["moved"] = webhook_update(subscription=team, actor=bob, data={"team": "security-team"})
    old = wide.secret
    rotated = webhook_rotate_secret(subscription=wide, actor=bob, grace_hours=2)
    answers["rotated"] = [rotated.secret != old, signing_secrets(rotated) == [rotated.secret, old]]
    ctx.clock.advance(hours=3)
    answers["after_grace"] = signing_secrets(rotated) == [rotated.secret]
    answers["bad_grace"] = ctx.attempt(lambda: webhook_rotate_secret(subscription=wide, actor=bob, grace_hours=-1))
    answers["disabled"] = [
        webhook_disable(subscription_id=wide.pk, reason="410 Gone"),
        webhook_disable(subscription_id=wide.pk, reason="again"),
    ]
    answers["visible"] = {
        name: sorted(subscriptions_visible_to(ctx.user(name)).values_list("id", flat=True))
        for name in ("bob", "alice", "erin-viewer")
    }
    answers["api"] = {name: ctx.get("/api/v1/webhooks", user=name) for name in ("bob", "alice")}
    answers["delete_stale"] = ctx.attempt(lambda: webhook_delete(subscription=team, actor=bob, expected_revision=1))
    webhook_delete(subscription=team, actor=bob)
    answers["after_delete"] = ctx.get("/api/v1/webhooks", user="bob")
    return answers


@scenario(
    covers=[
        "events.services.deliveries_claim",
        "events.services.delivery_attempt",
        "events.services.delivery_record_attempt",
        "events.services.delivery_cancel",
        "events.services.delivery_replay",
        "events.services.webhook_redeliver",
        "events.services.webhook_send_test",
        "events.services.deliveries_prune",
        "events.services.retry_delay",
        "events.selectors.deliveries_visible_to",
        "events.selectors.event_list",
    ],
    writes=True,
)
def webhook_deliveries(ctx: Context) -> Any:
    """Changes write events and deliveries (the outbox); two workers claim (one wins each); attempts
    succeed, fail and back off (Retry-After), or end at 410 Gone (the subscription is disabled and the
    rest cancelled); replays and redeliveries; the event list with filters; retention prunes."""
    from events.selectors import deliveries_visible_to, event_list
    from events.services import (
        deliveries_claim,
        deliveries_prune,
        delivery_attempt,
        delivery_record_attempt,
        delivery_replay,
        retry_delay,
        webhook_create,
        webhook_redeliver,
        webhook_send_test,
        webhook_update,
    )
    from events.stream import EventFilter
    from events.transport import Outcome
    from releases.services import release_deploy

    bob, alice = ctx.user("bob"), ctx.user("alice")
    everything = webhook_create(actor=bob, data={"url": "https://hooks.example.com/all"})
    platform = webhook_create(
        actor=alice, data={"url": "https://hooks.example.com/platform", "event_types": ["deployment.*"]}
    )
    ctx.clock.advance(minutes=1)
    release_deploy(release=_release("release-3"), environment=_environment("development"), actor=bob)
    webhook_send_test(subscription=platform, actor=alice)
    answers: dict[str, Any] = {
        "events": list(event_list(filters=EventFilter())),
        "filtered": [
            list(event_list(filters=EventFilter.of(types=["deployment.*"], environments=["development"], teams=[]))),
            list(event_list(filters=EventFilter.of(types=[], environments=[], teams=["security-team"]))),
            list(event_list(filters=EventFilter(), after=10**9)),
        ],
        "visible": {
            name: sorted(deliveries_visible_to(ctx.user(name)).values_list("id", flat=True))
            for name in ("bob", "alice", "erin-viewer")
        },
    }
    first = deliveries_claim(worker="w1", limit=2)
    stale = copy.copy(first[0])  # what a worker whose lease ran out still holds
    answers["claims"] = [first, deliveries_claim(worker="w2", limit=10), deliveries_claim(worker="w3", limit=10)]
    ok, busy, gone = Outcome(status_code=204), Outcome(status_code=503, retry_after=120.0), Outcome(status_code=410)
    with _receiver(ok, busy) as sent:
        answers["attempts"] = [delivery_attempt(delivery=delivery, worker="w1") for delivery in first]
    answers["sent"] = sent
    answers["claim_lost"] = delivery_record_attempt(delivery=stale, outcome=ok, at=ctx.clock(), worker="w1")
    ctx.clock.advance(minutes=5)
    with _receiver(gone, ok, ok, ok, ok, ok, ok, ok) as sent:
        answers["gone"] = [delivery_attempt(delivery=d, worker="w2") for d in deliveries_claim(worker="w2", limit=10)]
    answers["sent_later"] = sent
    answers["delays"] = [retry_delay(3, 7.5), retry_delay(50, 10**6), 24 <= retry_delay(1) <= 36]
    failed = deliveries_visible_to(bob).filter(status="failed").first()
    answers["replay_inactive"] = ctx.attempt(lambda: delivery_replay(delivery=failed, actor=bob))
    answers["redeliver_not_yours"] = ctx.attempt(
        lambda: webhook_redeliver(subscription=everything, actor=alice, since=ctx.clock() - timedelta(days=1))
    )
    webhook_update(subscription=everything, actor=bob, data={"active": True})
    answers["redelivered"] = [
        webhook_redeliver(subscription=everything, actor=bob, since=ctx.clock() - timedelta(days=1)),
        ctx.attempt(
            lambda: webhook_redeliver(subscription=everything, actor=bob, since=ctx.clock(), statuses=["succeeded"])
        ),
    ]
    answers["replayed"] = delivery_replay(delivery=failed, actor=bob)
    answers["api"] = ctx.get("/api/v1/webhooks/deliveries?page_size=50", user="bob")
    ctx.clock.advance(days=40)
    answers["pruned"] = [deliveries_prune(days=30), deliveries_prune(days=30)]
    return answers


@scenario(covers=["events.services.periodic_job_claim", "events.services.periodic_job_finish"], writes=True)
def periodic_jobs(ctx: Context) -> Any:
    """A due job is claimed by one worker only; finishing schedules the next run one interval after the
    start; a finish after the claim was lost records nothing; a lease that ran out can be claimed again."""
    from events.services import periodic_job_claim, periodic_job_finish

    every = timedelta(minutes=10)
    job = periodic_job_claim(name="differential-job", worker="w1", lease_seconds=60)
    answers: dict[str, Any] = {"first": job, "second": periodic_job_claim(name="differential-job", worker="w2")}
    ctx.clock.advance(seconds=30)
    answers["finished"] = periodic_job_finish(job=job, every=every, result={"sent": 3})
    answers["finished_twice"] = periodic_job_finish(job=job, every=every)
    answers["not_due"] = periodic_job_claim(name="differential-job", worker="w2")
    ctx.clock.advance(minutes=10)
    crashed = periodic_job_claim(name="differential-job", worker="w2", lease_seconds=60)
    ctx.clock.advance(minutes=2)
    answers["after_lease"] = [crashed, periodic_job_claim(name="differential-job", worker="w3", lease_seconds=60)]
    answers["lost"] = periodic_job_finish(job=crashed, every=every, error="killed")
    return answers


# =========================================================================== incidents and DORA (issue #13)


@scenario(
    covers=[
        "incidents.services.incident_create",
        "incidents.services.incident_update",
        "incidents.services.incident_resolve",
    ],
    writes=True,
)
def incidents_reported_changed_resolved(ctx: Context) -> Any:
    """Report (permissions by team, duplicate external id), change (stale revision), resolve (twice), list
    with filters, and the events they wrote."""
    from events.models import Event
    from incidents.services import incident_create, incident_resolve, incident_update

    alice, bob = ctx.user("alice"), ctx.user("bob")
    answers: dict[str, Any] = {}
    created = incident_create(
        actor=alice,
        data={"title": "502s", "severity": "critical", "deployment": "deployment-12", "external_id": "PD-1"},
    )
    answers["created"] = created
    answers["duplicate"] = ctx.attempt(
        lambda: incident_create(actor=bob, data={"title": "again", "environment": "production", "external_id": "PD-1"})
    )
    answers["viewer"] = ctx.attempt(
        lambda: incident_create(actor=ctx.user("erin-viewer"), data={"title": "x", "environment": "production"})
    )
    ctx.clock.advance(minutes=5)
    other = incident_create(actor=bob, data={"title": "Slow", "environment": "staging", "severity": "low"})
    answers["updated"] = incident_update(incident=created, actor=bob, data={"severity": "high"})
    answers["stale"] = ctx.attempt(
        lambda: incident_update(incident=created, actor=bob, data={"title": "y"}, expected_revision=1)
    )
    answers["relinked"] = incident_update(incident=other, actor=bob, data={"deployment": "deployment-11"})
    ctx.clock.advance(minutes=5)
    answers["resolved"] = incident_resolve(incident=created, actor=alice)
    answers["again"] = ctx.attempt(lambda: incident_resolve(incident=created, actor=bob))
    answers["lists"] = [
        ctx.get(_query("/api/v1/incidents", **params))
        for params in ({}, {"team": "platform-team"}, {"status": "open"}, {"release": "release-1"})
    ]
    answers["events"] = list(
        Event.objects.filter(name__startswith="incident.").order_by("seq", "index").values("name", "type", "team")
    )
    return answers


@scenario(covers=["releases.dora.dora_metric_series", "releases.dora.dora_summary"], writes=True)
def dora_metrics_both_sources(ctx: Context) -> Any:
    """Every DORA metric, monthly and over the whole range, per failure source, with two incidents."""
    from incidents.services import incident_create
    from releases.dora import METRICS, dora_summary

    bob = ctx.user("bob")
    incident_create(
        actor=bob,
        data={"title": "Errors", "deployment": "deployment-3", "resolved_at": ctx.clock(), "started_at": ctx.clock()},
    )
    incident_create(actor=bob, data={"title": "Down", "environment": "production", "started_at": ctx.clock()})
    answers: dict[str, Any] = {}
    for source in ("deployments", "incidents"):
        for metric in METRICS:
            for interval in ("monthly", "all"):
                answers[f"{source} {metric} {interval}"] = ctx.get(
                    _query(
                        "/api/v1/dora/metrics",
                        metric=metric,
                        interval=interval,
                        start_date="2026-01-01",
                        end_date="2026-12-31",
                        failure_source=source,
                        environment_tiers="production,staging",
                    )
                )
        answers[f"{source} summary"] = dora_summary(
            environment_tier="production", days=90, today=ctx.clock().date(), failure_source=source
        )
    answers["team"] = ctx.get(_query("/api/v1/dora/metrics", metric="deployment_frequency", team="platform-team"))
    return answers


@scenario(
    covers=[
        "evidence.services.evidence_on_production",
        "evidence.services.evidence_collect",
        "evidence.services.evidence_document",
        "evidence.services.evidence_live",
        "evidence.services.evidence_verify_chain",
        "evidence.services.evidence_stored_differences",
        "evidence.selectors.evidence_latest",
    ],
    writes=True,
)
def release_evidence(ctx: Context) -> Any:
    """Evidence stored by a production deploy (with an incident linked), collected on demand, served live and
    stored over the API, checked against the chain and against its stored copy after an edit."""
    from evidence.models import ReleaseEvidence
    from evidence.selectors import evidence_latest
    from evidence.services import (
        evidence_collect,
        evidence_live,
        evidence_stored_differences,
        evidence_verify_chain,
    )
    from incidents.services import incident_create
    from releases.services import release_deploy

    bob, erin = ctx.user("bob"), ctx.user("erin")
    release = _release("release-1")  # approved; its last production deploy failed
    incident_create(actor=bob, data={"title": "Errors", "deployment": "deployment-12"})
    ctx.clock.advance(minutes=1)
    release_deploy(release=release, environment=_environment("production"), actor=erin)
    answers: dict[str, Any] = {"stored": list(ReleaseEvidence.objects.order_by("collected_at", "id"))}
    latest = evidence_latest(release=release)
    answers["latest"] = latest
    answers["chain"] = evidence_verify_chain(latest)
    edited = {**latest, "evidence": {**latest["evidence"], "release": {**latest["evidence"]["release"], "name": "X"}}}
    answers["differences"] = evidence_stored_differences(edited)
    answers["live"] = evidence_live(release=release, actor=bob)
    answers["refused"] = ctx.attempt(lambda: evidence_collect(release=release, actor=ctx.user("alice")))
    answers["collected"] = evidence_collect(release=release, actor=bob)
    answers["api"] = [
        ctx.get("/api/v1/releases/release-1/evidence"),
        ctx.api("POST", "/api/v1/releases/release-1/evidence", user="bob"),
        ctx.get("/api/v1/releases/release-3/evidence"),
        ctx.get("/api/v1/evidence/public-key", user=None),
    ]
    return answers
