"""`manage.py seed_load`: bulk-generate realistic releases and deployment history for load tests.

    python manage.py seed_load --releases 100000 --deployments 100000 --seed 42

Creates (when missing) a few teams with members, the standard environments
(development → staging → production) and three workflows, then N releases with
embedded features → tasks and approvals, and M deployments spread over the history
window. Rows are inserted with `bulk_create` in batches (never one save per row), so
the same command runs on SQLite and MongoDB.

The history is simulated, not drawn independently, so it is consistent the way the
services would have left it:
- each release follows its workflow's stages in order, retrying a stage after a failed
  deployment, and only reaches a production-tier environment once approved;
- `sequence` numbers each environment's deployments in time order (unique per
  environment), continuing from the environment's `deployment_seq`;
- a rollback returns the environment to the previous successfully deployed release, is
  recorded against that release with `rolled_back_from`, and marks the deployment it
  undid `rolled_back`;
- each environment's `current_release`/`current_deployment`/`deployment_seq`/`health`
  and each release's `status` are derived from that history.

`--seed` makes the output deterministic (ids included) for a given `--end`; without it a
random seed is chosen and printed. Timestamps are stored to the millisecond. The command
bypasses the services on purpose (it is a data generator, not a user), so it records no
audit events.

All or nothing: one load (`--clear` included) is **one unit of work** (`opsportal.uow`): one
transaction on SQLite, one MongoDB transaction on MongoDB. A failure at any point (a
duplicate, a lost connection, Ctrl+C, a crash) leaves the database as it was. A unit that
hits a transient conflict is generated again from the seed and rerun, with the same result.
The price on MongoDB (chosen over committed batches, which a crash would leave half
written): the transaction must commit within the server's `transactionLifetimeLimitSeconds`
(60 s by default) and fit in its cache. Load bigger data sets in several runs (each run
appends after the existing history) or raise the server's limit; a load that exceeds it
fails with nothing written and says so.
"""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError, IntegrityError
from pymongo.errors import PyMongoError

from environments.choices import Health, Tier
from environments.models import Environment
from environments.policies import default_policy
from evidence.models import ReleaseEvidence
from incidents.models import Incident
from opsportal.clock import now_ms
from opsportal.roles import RELEASE_MANAGERS
from opsportal.services import collection_changed
from opsportal.uow import is_mongodb, run_in_unit
from releases.approvals import release_content_digest
from releases.choices import (
    ApprovalDecision,
    DeploymentKind,
    DeploymentStatus,
    FeatureStatus,
    ReleaseStatus,
    TaskStatus,
)
from releases.models import Deployment, Release
from releases.services.summaries import release_environments_refresh
from releases.shapes import deployment_row, environments_document, latest_deployments
from teams.models import Team
from workflows.models import Workflow

# --- reference data (created only when missing)

ENVIRONMENTS: list[dict[str, Any]] = [
    {
        "id": "development",
        "name": "Development",
        "tier": Tier.DEVELOPMENT,
        "order": 1,
        "url": "https://dev.ops.example.com",
        "config": {"replicas": 1, "debug": True},
    },
    {
        "id": "staging",
        "name": "Staging",
        "tier": Tier.STAGING,
        "order": 2,
        "url": "https://staging.ops.example.com",
        "config": {"replicas": 2, "debug": False},
    },
    {
        "id": "production",
        "name": "Production",
        "tier": Tier.PRODUCTION,
        "order": 3,
        "url": "https://ops.example.com",
        "config": {"replicas": 6, "debug": False},
        "requires_approval": True,
        "approval_policy": default_policy(1),
    },
]

WORKFLOWS: list[dict[str, Any]] = [
    {
        "id": "standard",
        "name": "Standard promotion",
        "description": "Development, then staging, then production after approval.",
        "path": ["development", "staging", "production"],
    },
    {
        "id": "hotfix",
        "name": "Hotfix",
        "description": "Straight to staging, then production after approval.",
        "path": ["staging", "production"],
    },
    {
        "id": "internal",
        "name": "Internal tools",
        "description": "Internal services that never leave staging.",
        "path": ["development", "staging"],
    },
]
WORKFLOW_WEIGHTS = {"standard": 70, "hotfix": 15, "internal": 15}

TEAMS: list[tuple[str, str, list[str]]] = [
    ("platform", "Platform", ["api-gateway", "service-mesh"]),
    ("payments", "Payments", ["checkout", "billing"]),
    ("identity", "Identity", ["sso", "user-directory"]),
    ("search", "Search", ["indexer", "query-service"]),
    ("mobile", "Mobile", ["ios-app", "android-app"]),
    ("data", "Data", ["warehouse", "pipelines"]),
    ("growth", "Growth", ["experiments", "notifications"]),
    ("infra", "Infrastructure", ["kubernetes", "observability"]),
]
FIRST_NAMES = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara",
]  # fmt: skip
ROLES = ["release_manager", "lead", "developer", "developer", "developer"]

# --- vocabulary of releases

ADJECTIVES = ["Faster", "Safer", "Simpler", "Unified", "Resilient", "Streamlined", "Smarter", "Leaner"]
TOPICS = [
    "checkout", "login", "search results", "notifications", "billing", "onboarding", "reporting",
    "caching", "audit log", "rate limiting", "image uploads", "payouts", "feature flags", "exports",
]  # fmt: skip
KINDS = ["release", "update", "rollout", "overhaul", "hardening", "refresh"]
FEATURE_NAMES = [
    "Dark mode", "Two-factor login", "CSV export", "Bulk edit", "Webhooks", "Audit trail", "SAML SSO",
    "Saved searches", "Retry queue", "Usage metrics", "Rate limits", "Localized emails", "Smart defaults",
    "Offline mode", "Batch payouts", "Partial refunds", "Custom roles", "API keys", "Status page",
]  # fmt: skip
TASK_TITLES = [
    "Design review", "Schema migration", "API endpoint", "Frontend form", "Unit tests", "Load test",
    "Docs update", "Feature flag", "Security review", "Metrics and alerts", "Backfill job", "QA sign-off",
]  # fmt: skip
FAILURE_NOTES = ["Health check failed", "Smoke tests failed", "Migration timed out", "Error rate above threshold"]
ROLLBACK_NOTES = ["Error rate spiked after deploy", "Latency regression", "Customer-facing bug", "Data issue"]
REJECTION_COMMENTS = ["Missing load test results", "Too risky before the holidays", "Security review pending"]

# Share of releases by fate; "active" ones get the deployments.
FATES = {"draft": 8, "pending": 7, "rejected": 5, "active": 80}
FAILURE_RATE = 0.08
ROLLBACK_RATE = 0.2  # after completing its path, chance that the next event rolls back production
BOT = "ci-bot"


# --- deterministic ids


def _salt(seed: int, kind: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{kind}".encode()).digest()[:3], "big")


def object_id(at: datetime, salt: int, counter: int) -> str:
    """A 24-hex-digit id shaped like an ObjectId (time first, so roughly time-ordered), but deterministic."""
    return f"{int(at.timestamp()) & 0xFFFFFFFF:08x}{salt:06x}{counter & 0xFFFFFFFFFF:010x}"


def _ms(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- plan


@dataclass
class ReleasePlan:
    index: int
    id: str
    created_at: datetime
    team: str
    workflow: str
    fate: str
    creator: str
    deployments: int = 0
    prod_outcome: str | None = None  # "deployed" | "rolled_back": last production event
    first_prod_at: datetime | None = None
    last_event_at: datetime | None = None
    events: int = 0


@dataclass
class Event:
    at: datetime
    release: int
    step: int
    environment: str
    status: str  # succeeded | failed
    rollback: bool = False


@dataclass
class EnvState:
    seq: int
    current_release: str | None
    current_deployment: str | None
    last_status: str | None = None
    current_index: int | None = None  # index in `deployments` of the current deployment


class _StderrBar:
    """A minimal progress bar for when tqdm is not installed."""

    def __init__(self, total: int, desc: str, disable: bool) -> None:
        self.total, self.desc, self.disable, self.n, self._last = max(total, 1), desc, disable, 0, -1

    def update(self, n: int) -> None:
        self.n += n
        pct = self.n * 100 // self.total
        if not self.disable and pct != self._last:
            self._last = pct
            bar = "#" * (pct // 4)
            sys.stderr.write(f"\r{self.desc}: [{bar:<25}] {pct:3d}% ({self.n}/{self.total})")
            sys.stderr.flush()

    def close(self) -> None:
        if not self.disable:
            sys.stderr.write("\n")


def _progress(total: int, desc: str, disable: bool):
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dev dependency: the command still works without it
        return _StderrBar(total, desc, disable)
    return tqdm(total=total, desc=desc, unit="rows", unit_scale=True, file=sys.stderr, disable=disable)


def _parse_end(value: str | None) -> datetime:
    if not value:
        return datetime.now(tz=UTC).replace(minute=0, second=0, microsecond=0)
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise CommandError(f"--end: {value!r} is not an ISO date or date-time") from exc
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _batched(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Command(BaseCommand):
    help = "Bulk-generate realistic releases and deployment history (load and benchmark data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--releases", type=int, default=1000, help="Number of releases to create.")
        parser.add_argument("--deployments", type=int, default=5000, help="Number of deployments to create.")
        parser.add_argument("--seed", type=int, default=None, help="Random seed: same seed and --end, same data.")
        parser.add_argument(
            "--end",
            default=None,
            help="End of the generated history (ISO date or date-time, UTC); default: the start of the current hour.",
        )
        parser.add_argument("--days", type=int, default=365, help="Length of the history window in days.")
        parser.add_argument("--batch-size", type=int, default=2000, help="Rows per bulk_create call.")
        parser.add_argument(
            "--clear", action="store_true", help="Delete all releases and deployments first (keeps the audit trail)."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not draw progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        n_releases: int = options["releases"]
        n_deployments: int = options["deployments"]
        if n_releases < 0 or n_deployments < 0:
            raise CommandError("--releases and --deployments must be zero or more.")
        if n_deployments and not n_releases:
            raise CommandError("Deployments need releases: pass --releases greater than zero.")
        if options["days"] < 1 or options["batch_size"] < 1:
            raise CommandError("--days and --batch-size must be at least 1.")
        seed = options["seed"] if options["seed"] is not None else random.SystemRandom().randrange(2**31)
        end = _ms(_parse_end(options["end"]))
        start = end - timedelta(days=options["days"])
        self.batch_size = options["batch_size"]
        self.no_progress = options["no_progress"] or options["verbosity"] == 0
        self.seed = seed
        started = time.perf_counter()

        def load() -> None:
            # From the seed on every attempt: a unit retried after a transient conflict writes the same rows.
            self.rng = random.Random(seed)  # noqa: S311 - test data, reproducible by design
            if options["clear"]:
                self._clear()
            self._ensure_reference_data(start)
            self._generate(n_releases, n_deployments, start, end)

        try:
            run_in_unit(load)
        except (DatabaseError, PyMongoError) as exc:
            if isinstance(exc, IntegrityError) or not is_mongodb():
                raise
            raise CommandError(
                f"The load failed and wrote nothing: {exc}. One load is one MongoDB transaction: if it outlived "
                "the server's transactionLifetimeLimitSeconds (60 s by default) or outgrew its cache, load fewer "
                "rows per run (runs append) or raise the limit."
            ) from exc

        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {n_releases} releases and {n_deployments} deployments "
                f"(seed {seed}, history {_iso(start)} → {_iso(end)}) in {elapsed:.1f} s."
            )
        )

    # --- reference data

    def _clear(self) -> None:
        Environment.objects.update(
            current_release=None, current_deployment=None, deployment_seq=0, health=Health.UNKNOWN
        )
        # What refers to deployments and releases goes first (PROTECT): incidents and their evidence.
        ReleaseEvidence.objects.all().delete()
        Incident.objects.all().delete()
        Deployment.objects.all().delete()
        Release.objects.all().delete()

    def _ensure_reference_data(self, start: datetime) -> None:
        existing_envs = set(Environment.objects.values_list("id", flat=True))
        Environment.objects.bulk_create(
            [
                Environment(**spec, health=Health.UNKNOWN, created_at=start, updated_at=start)
                for spec in ENVIRONMENTS
                if spec["id"] not in existing_envs
            ]
        )
        existing_teams = set(Team.objects.values_list("id", flat=True))
        teams = []
        for t, (slug, name, projects) in enumerate(TEAMS):
            if slug in existing_teams:
                continue
            members = [
                {
                    "name": f"{first.title()} {name}",
                    "email": f"{first}.{slug}@example.com",
                    "role": ROLES[i],
                    "username": f"{first}.{slug}",
                }
                for i, first in enumerate(FIRST_NAMES[(t * 5) % len(FIRST_NAMES) :][:5])
            ]
            teams.append(
                Team(
                    id=slug,
                    name=name,
                    description=f"The {name} team.",
                    members=members,
                    projects=projects,
                    created_at=start,
                    updated_at=start,
                )
            )
        Team.objects.bulk_create(teams)
        existing_workflows = set(Workflow.objects.values_list("id", flat=True))
        tiers = dict(Environment.objects.values_list("id", "tier"))
        Workflow.objects.bulk_create(
            [
                Workflow(
                    id=spec["id"],
                    name=spec["name"],
                    description=spec["description"],
                    active=True,
                    stages=[
                        {"environment": env, "requires_approval": tiers.get(env) == Tier.PRODUCTION}
                        for env in spec["path"]
                    ],
                    triggers=[{"event": "release.approved", "action": "deploy", "params": {"stage": 0}}],
                    created_at=start,
                    updated_at=start,
                )
                for spec in WORKFLOWS
                if spec["id"] not in existing_workflows
            ]
        )

    # --- generation

    def _generate(self, n_releases: int, n_deployments: int, start: datetime, end: datetime) -> None:
        rng = self.rng
        envs = {
            env["id"]: env
            for env in Environment.objects.values(
                "id", "tier", "deployment_seq", "current_release", "current_deployment", "revision"
            )
        }
        workflows = {
            wf["id"]: [s["environment"] for s in wf["stages"] if s["environment"] in envs]
            for wf in Workflow.objects.filter(id__in=WORKFLOW_WEIGHTS).values("id", "stages")
        }
        teams = {
            t["id"]: [m.get("username") or m["email"] for m in t["members"]]
            for t in Team.objects.filter(id__in=[slug for slug, _, _ in TEAMS]).values("id", "members")
        }
        managers = {
            slug: [u for u, role in zip(users, ROLES, strict=False) if role != "developer"]
            for slug, users in teams.items()
        }
        release_offset = Release.objects.count()
        self.versions = self._free_versions(set(Release.objects.values_list("version", flat=True)))
        deployment_offset = Deployment.objects.count()
        release_salt, deployment_salt = _salt(self.seed, "release"), _salt(self.seed, "deployment")

        # 1. who, when, which workflow, which fate
        span = (end - start).total_seconds()
        wf_ids, wf_weights = zip(*WORKFLOW_WEIGHTS.items(), strict=True)
        fate_ids, fate_weights = zip(*FATES.items(), strict=True)
        team_ids = sorted(teams)
        plans: list[ReleasePlan] = []
        for i in range(n_releases):
            # Evenly spread with jitter, so creation times increase (almost) monotonically.
            offset = (i + rng.random()) / n_releases * max(span - 3600, 1)  # the last one an hour before --end
            created_at = _ms(start + timedelta(seconds=offset))
            team = rng.choice(team_ids)
            plans.append(
                ReleasePlan(
                    index=i,
                    id=object_id(created_at, release_salt, release_offset + i),
                    created_at=created_at,
                    team=team,
                    workflow=rng.choices(wf_ids, wf_weights)[0],
                    fate=rng.choices(fate_ids, fate_weights)[0],
                    creator=rng.choice(teams[team]),
                )
            )

        # 2. spread the deployments over the active releases and plan each one's events
        active = [p.index for p in plans if p.fate == "active"] or [p.index for p in plans]
        for index in rng.choices(active, k=n_deployments):
            plans[index].deployments += 1
        events: list[Event] = []
        for plan in plans:
            events.extend(self._plan_events(plan, workflows[plan.workflow], envs, end))
        events.sort(key=lambda e: (e.at, e.release, e.step))

        # 3. replay them in time order, environment by environment
        state = {
            env_id: EnvState(
                seq=env["deployment_seq"],
                current_release=env["current_release"],
                current_deployment=env["current_deployment"],
            )
            for env_id, env in envs.items()
        }
        # What each deployment replaced when it became current (the rollback target, as the services
        # record it), and its release; the environments' current deployments come from the database.
        replaced: dict[str, str | None] = dict(
            Deployment.objects.filter(pk__in=[e["current_deployment"] for e in envs.values()]).values_list(
                "id", "previous_deployment_id"
            )
        )
        release_of: dict[str, str] = dict(
            Deployment.objects.filter(pk__in=[p for p in replaced.values() if p]).values_list("id", "release_id")
        )
        deployments: list[Deployment] = []
        for n, event in enumerate(events):
            plan = plans[event.release]
            env = state[event.environment]
            production = envs[event.environment]["tier"] == Tier.PRODUCTION
            env.seq += 1
            duration = timedelta(seconds=rng.randint(90, 1200), milliseconds=rng.randint(0, 999))
            # Every generated deployment has finished by --end: one still in progress would block
            # its environment for new deploys until a pipeline reported a result.
            finished_at = min(event.at + duration, end)
            common = {
                "id": object_id(event.at, deployment_salt, deployment_offset + n),
                "environment_id": event.environment,
                "sequence": env.seq,
                "started_at": event.at,
                "pipeline_url": f"https://ci.example.com/{plan.team}/pipelines/{deployment_offset + n + 1}",
            }
            # A rollback restores what the current deployment replaced (deployments of the same
            # release in a row — the generator allows them — count as one).
            restored = replaced.get(env.current_deployment) if env.current_deployment else None
            while restored and release_of.get(restored) == plan.id:
                restored = replaced.get(restored)
            previous = release_of.get(restored) if restored else None
            if event.rollback and env.current_release == plan.id and previous is not None:
                if env.current_index is not None:
                    undone = deployments[env.current_index]
                    undone.status, undone.revision = DeploymentStatus.ROLLED_BACK, 2
                deployment = Deployment(
                    **common,
                    release_id=previous,
                    kind=DeploymentKind.ROLLBACK,
                    status=DeploymentStatus.SUCCEEDED,
                    finished_at=finished_at,
                    deployed_by=rng.choice(managers[plan.team]),
                    notes=rng.choice(ROLLBACK_NOTES),
                    rolled_back_from_id=plan.id,
                    became_current=True,
                    previous_deployment_id=replaced.get(restored),
                )
                env.current_release, env.current_deployment = previous, deployment.id
                env.current_index, env.last_status = len(deployments), DeploymentStatus.SUCCEEDED
                if production:
                    plan.prod_outcome = "rolled_back"
            else:
                status = event.status
                deployment = Deployment(
                    **common,
                    release_id=plan.id,
                    kind=DeploymentKind.DEPLOY,
                    status=status,
                    finished_at=finished_at,
                    deployed_by=BOT if rng.random() < 0.6 else plan.creator,
                    notes=rng.choice(FAILURE_NOTES) if status == DeploymentStatus.FAILED else "",
                )
                if status == DeploymentStatus.SUCCEEDED:
                    deployment.became_current = True
                    deployment.previous_deployment_id = env.current_deployment
                    env.current_release, env.current_deployment = plan.id, deployment.id
                    env.current_index = len(deployments)
                    if production:
                        plan.prod_outcome = "deployed"
                env.last_status = status
            if production and plan.first_prod_at is None:
                plan.first_prod_at = event.at
            plan.last_event_at = event.at
            plan.events += 1
            deployments.append(deployment)
            replaced[deployment.id] = deployment.previous_deployment_id
            release_of[deployment.id] = deployment.release_id

        # The deployment summary each new release embeds (issue #18), from its deployments and where things end.
        current = {env_id: envs[env_id]["current_release"] for env_id in envs}
        current.update({env_id: env.current_release for env_id, env in state.items()})
        latest = latest_deployments(deployment_row(d) for d in deployments)

        def release(plan: ReleasePlan) -> Release:
            row = self._release(plan, teams, managers, end)
            row.environments = environments_document(plan.id, latest.get(plan.id, {}), current)
            return row

        # 4. insert releases, then deployments (they point at releases), then move the environments
        bar = _progress(n_releases + n_deployments, "seed_load", self.no_progress)
        try:
            for batch in _batched(plans, self.batch_size):
                Release.objects.bulk_create([release(p) for p in batch], batch_size=self.batch_size)
                bar.update(len(batch))
            for batch in _batched(deployments, self.batch_size):
                Deployment.objects.bulk_create(batch, batch_size=self.batch_size)
                bar.update(len(batch))
        except IntegrityError as exc:
            raise CommandError(
                f"Could not insert the generated rows ({exc}). Seed into an empty database or pass --clear."
            ) from exc
        finally:
            bar.close()
        for env_id, env in state.items():
            if env.seq == envs[env_id]["deployment_seq"]:
                continue  # no new deployment here
            health = Health.DEGRADED if env.last_status == DeploymentStatus.FAILED else Health.HEALTHY
            if env.current_release is None:
                health = Health.DEGRADED if env.last_status == DeploymentStatus.FAILED else Health.UNKNOWN
            Environment.objects.filter(pk=env_id).update(
                current_release_id=env.current_release,
                current_deployment_id=env.current_deployment,
                deployment_seq=env.seq,
                health=health,
                revision=envs[env_id]["revision"] + 1,
                updated_at=end,
            )
        # Releases seeded earlier whose summary changed: restored by a rollback, or no longer current.
        new = {plan.id for plan in plans}
        earlier = {d.release_id for d in deployments} | {envs[env_id]["current_release"] for env_id in envs}
        release_environments_refresh(release_ids=earlier - new)
        # Lists derive their ETag (and cached counts) from these versions: a live server must see the new rows.
        written = ("release", "deployment", "environment", "team", "workflow")
        run_in_unit(lambda: collection_changed(*written, at=now_ms()))

    def _plan_events(self, plan: ReleasePlan, path: list[str], envs: dict, end: datetime) -> list[Event]:
        """The release's deployments in order: its workflow's stages (retrying failures), then redeploys/rollbacks."""
        if not plan.deployments or not path:
            return []
        rng = self.rng
        gaps = [rng.uniform(0.5, 36) for _ in range(plan.deployments)]
        gaps[0] = rng.uniform(1, 72)
        available = (end - plan.created_at).total_seconds() / 3600 * 0.95
        scale = min(1.0, available / sum(gaps))
        events: list[Event] = []
        at = plan.created_at
        stage = 0
        last_succeeded_env: str | None = None
        production_last = envs[path[-1]]["tier"] == Tier.PRODUCTION
        for step, gap in enumerate(gaps):
            at = _ms(at + timedelta(hours=gap * scale))
            if stage < len(path):
                env = path[stage]
                status = DeploymentStatus.FAILED if rng.random() < FAILURE_RATE else DeploymentStatus.SUCCEEDED
                if status == DeploymentStatus.SUCCEEDED:
                    stage += 1
                events.append(Event(at, plan.index, step, env, status))
            elif production_last and last_succeeded_env == path[-1] and rng.random() < ROLLBACK_RATE:
                events.append(Event(at, plan.index, step, path[-1], DeploymentStatus.SUCCEEDED, rollback=True))
                stage = len(path) - 1  # after a rollback, the release may be fixed and redeployed
            else:
                env = rng.choice(path)
                status = DeploymentStatus.FAILED if rng.random() < FAILURE_RATE / 2 else DeploymentStatus.SUCCEEDED
                events.append(Event(at, plan.index, step, env, status))
            last_succeeded_env = events[-1].environment if events[-1].status == DeploymentStatus.SUCCEEDED else None
        return events

    def _release(self, plan: ReleasePlan, teams: dict, managers: dict, end: datetime) -> Release:
        rng = self.rng
        if plan.prod_outcome == "deployed":
            status = ReleaseStatus.DEPLOYED
        elif plan.prod_outcome == "rolled_back":
            status = ReleaseStatus.ROLLED_BACK
        elif plan.first_prod_at is not None:
            status = ReleaseStatus.APPROVED  # production requires approval: tried there, not (yet) succeeded
        elif plan.fate == "draft":
            status = ReleaseStatus.DRAFT
        elif plan.fate == "pending":
            status = ReleaseStatus.PENDING_APPROVAL
        elif plan.fate == "rejected":
            status = ReleaseStatus.REJECTED
        else:
            status = ReleaseStatus.APPROVED if rng.random() < 0.6 else ReleaseStatus.PENDING_APPROVAL
        approved = status in (ReleaseStatus.APPROVED, ReleaseStatus.DEPLOYED, ReleaseStatus.ROLLED_BACK)

        approvals = []
        deadline = plan.first_prod_at or end
        if approved or status == ReleaseStatus.REJECTED:
            approvers = [u for u in managers[plan.team] if u != plan.creator] or [
                u for slug in sorted(managers) if slug != plan.team for u in managers[slug]
            ]
            count = 1 if status == ReleaseStatus.REJECTED else rng.choice((1, 1, 2))
            for user in rng.sample(approvers, min(count, len(approvers))):
                window = max((deadline - plan.created_at).total_seconds(), 2.0)
                at = _ms(plan.created_at + timedelta(seconds=rng.uniform(window * 0.1, window * 0.5)))
                decision = ApprovalDecision.REJECTED if status == ReleaseStatus.REJECTED else ApprovalDecision.APPROVED
                comment = rng.choice(REJECTION_COMMENTS) if decision == ApprovalDecision.REJECTED else "LGTM"
                approvals.append({"user": user, "decision": decision, "comment": comment, "at": _iso(at)})
            approvals.sort(key=lambda a: a["at"])

        done_bias = {"draft": 0.15, "pending": 0.6, "rejected": 0.5}.get(plan.fate, 0.9)
        features = []
        for name in rng.sample(FEATURE_NAMES, rng.randint(1, 4)):
            tasks = [
                {
                    "title": title,
                    "status": (
                        TaskStatus.DONE
                        if rng.random() < done_bias
                        else rng.choice((TaskStatus.TODO, TaskStatus.IN_PROGRESS))
                    ),
                    "assignee": rng.choice(teams[plan.team]) if rng.random() < 0.85 else "",
                }
                for title in rng.sample(TASK_TITLES, rng.randint(1, 5))
            ]
            if all(t["status"] == TaskStatus.DONE for t in tasks):
                feature_status = FeatureStatus.DONE
            elif any(t["status"] != TaskStatus.TODO for t in tasks):
                feature_status = FeatureStatus.IN_PROGRESS
            else:
                feature_status = FeatureStatus.PLANNED
            features.append(
                {
                    "name": name,
                    "description": f"{name} for {plan.team}.",
                    "status": feature_status,
                    "tasks": tasks,
                }
            )

        topic = rng.choice(TOPICS)
        last_change = max(
            [plan.created_at, plan.last_event_at or plan.created_at]
            + [datetime.fromisoformat(a["at"].replace("Z", "+00:00")) for a in approvals]
        )
        release = Release(
            id=plan.id,
            name=f"{rng.choice(ADJECTIVES)} {topic} {rng.choice(KINDS)}",
            version=next(self.versions),
            description=f"{topic.capitalize()} work by the {plan.team} team.",
            status=status,
            team_id=plan.team,
            workflow_id=plan.workflow,
            target_date=(plan.created_at + timedelta(days=rng.randint(7, 60))).date(),
            created_by=plan.creator,
            created_at=plan.created_at,
            updated_at=last_change,
            revision=1 + (status != ReleaseStatus.DRAFT) + len(approvals) + plan.events,
            features=features,
            approvals=approvals,
        )
        # Bound to the content approved (issue #12), by Release Managers.
        digest = release_content_digest(release)
        release.approvals = [
            {**entry, "digest": digest, "groups": [RELEASE_MANAGERS], "teams": []}
            if entry["decision"] == ApprovalDecision.APPROVED
            else entry
            for entry in approvals
        ]
        return release

    @staticmethod
    def _free_versions(taken: set[str]) -> Iterator[str]:
        """Semantic versions in order (1.0.0, 1.0.1, …, 1.0.49, 1.1.0, …), skipping the ones already used."""
        n = 0
        while True:
            version = f"{1 + n // 2500}.{n // 50 % 50}.{n % 50}"
            n += 1
            if version not in taken:
                yield version
