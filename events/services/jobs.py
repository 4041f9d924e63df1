"""Claiming and finishing the worker's periodic jobs (the registry is `events.periodic`).

A job's row (`PeriodicJob`, created on first sight) says when it is next due. A worker claims a due job
with one conditional update (the `claim_token` it read, and still due), which moves `next_run_at` to
the end of its lease: so a job runs once per interval however many workers there are, and the claim of
a worker that died runs out. When the job is done, `next_run_at` is set one interval after it started.
These are the worker's bookkeeping, not changes anyone makes: not on the audit trail (what a job changes
is, by the job's own services).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from events.choices import JobOutcome
from events.models import PeriodicJob
from opsportal.clock import now_ms
from opsportal.ids import new_id
from opsportal.uow import run_in_unit


def _job_row(name: str, now: datetime) -> PeriodicJob:
    job = PeriodicJob.objects.filter(pk=name).first()
    if job is not None:
        return job

    def create() -> None:
        try:
            with transaction.atomic():  # a savepoint on SQLite; on MongoDB the unit's transaction
                PeriodicJob.objects.create(id=name, next_run_at=now)
        except IntegrityError:
            pass  # another worker created it first

    run_in_unit(create)
    return PeriodicJob.objects.get(pk=name)


def periodic_job_claim(*, name: str, worker: str, lease_seconds: int | None = None) -> PeriodicJob | None:
    """Claim the job `name` for `worker` if it is due; None if it is not (or another worker won it)."""
    now = now_ms()
    job = _job_row(name, now)
    if job.next_run_at > now:
        return None
    token = new_id()
    lease = timedelta(seconds=lease_seconds or settings.OPSPORTAL_WORKER_LEASE_SECONDS)

    def claim() -> int:
        return PeriodicJob.objects.filter(pk=name, claim_token=job.claim_token, next_run_at__lte=now).update(
            claim_token=token, claimed_by=worker, next_run_at=now + lease, last_started_at=now
        )

    if not run_in_unit(claim):
        return None
    job.claim_token, job.claimed_by, job.last_started_at, job.next_run_at = token, worker, now, now + lease
    return job


def periodic_job_finish(
    *, job: PeriodicJob, every: timedelta, error: str = "", result: dict[str, Any] | None = None
) -> bool:
    """Record the end of a claimed run and schedule the next one (conditionally on the claim)."""
    now = now_ms()

    def finish() -> int:
        return PeriodicJob.objects.filter(pk=job.pk, claim_token=job.claim_token).update(
            next_run_at=(job.last_started_at or now) + every,
            claim_token="",
            claimed_by="",
            runs=F("runs") + 1,
            last_finished_at=now,
            last_outcome=JobOutcome.ERROR if error else JobOutcome.OK,
            last_error=error[:5000],
            last_result=result or {},
        )

    return bool(run_in_unit(finish))
