"""Sample data stays recent: the fixture's fixed timestamps are moved so its newest deployment
finished just before now, keeping every dashboard figure (today, 7 days, 30 days) non-zero.

The freeze calendar does not move with it (issue #12): the weekend freeze and the imported holidays are
real dates. So the scheduled deployment, which moves with the data, is moved on out of any freeze it
would land in, to the first open moment (what `"at": "next_open_window"` picks)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.db.models import Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from environments.models import Environment, Freeze
from environments.selectors import environment_active_freeze
from releases.approvals import release_content_digest
from releases.choices import DeploymentStatus
from releases.models import Deployment, Release
from releases.services.scheduling import _slot
from releases.services.summaries import release_environments_refresh

LATEST_DEPLOYMENT_AGE = timedelta(minutes=30)


def _shift_iso(value: Any, delta: timedelta) -> Any:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return value
    return (moment + delta).isoformat().replace("+00:00", "Z")


def _shift_documents(items: list[dict], keys: tuple[str, ...], delta: timedelta) -> list[dict]:
    return [{**item, **{k: _shift_iso(item[k], delta) for k in keys if k in item}} for item in items]


def sample_data_shift_to_now(*, now: datetime | None = None) -> timedelta:
    """Move every timestamp of the loaded sample data by one offset; return the offset."""
    now = now or timezone.now()
    latest = Deployment.objects.aggregate(latest=Max("finished_at"))["latest"]
    if latest is None:
        return timedelta(0)
    # Just before now, but still today (UTC) shortly after midnight.
    since_midnight = now - now.replace(hour=0, minute=0, second=0, microsecond=0)
    delta = now - min(LATEST_DEPLOYMENT_AGE, since_midnight / 2) - latest
    for deployment in Deployment.objects.exclude(status=DeploymentStatus.SCHEDULED):
        Deployment.objects.filter(pk=deployment.pk).update(
            started_at=deployment.started_at + delta,
            finished_at=deployment.finished_at + delta if deployment.finished_at else None,
        )
    for release in Release.objects.all():
        approved = release_content_digest(release)
        release.target_date = (release.target_date + timedelta(days=delta.days)) if release.target_date else None
        # The target date is approved content (issue #12): approvals of the content as loaded follow it.
        shifted = release_content_digest(release)
        approvals = [
            {**entry, "digest": shifted} if isinstance(entry, dict) and entry.get("digest") == approved else entry
            for entry in _shift_documents(release.approvals, ("at",), delta)
        ]
        Release.objects.filter(pk=release.pk).update(
            created_at=release.created_at + delta,
            updated_at=release.updated_at + delta,
            target_date=release.target_date,
            approvals=approvals,
            approval_notice_at=release.approval_notice_at + delta if release.approval_notice_at else None,
        )
    from incidents.models import Incident

    for incident in Incident.objects.all():
        Incident.objects.filter(pk=incident.pk).update(
            started_at=incident.started_at + delta,
            resolved_at=incident.resolved_at + delta if incident.resolved_at else None,
            created_at=incident.created_at + delta,
            updated_at=incident.updated_at + delta,
        )
    # One-off freezes move with the data; recurring ones (a weekend) and imported holidays keep their dates.
    for freeze in Freeze.objects.filter(rrule="").exclude(source__startswith="ics:"):
        Freeze.objects.filter(pk=freeze.pk).update(
            starts_at=freeze.starts_at + delta, ends_at=freeze.ends_at + delta if freeze.ends_at else None
        )
    _shift_scheduled(delta)
    # The deployment summaries the releases embed show those times too (issue #18).
    release_environments_refresh(release_ids=list(Release.objects.values_list("id", flat=True)))
    return delta


def _shift_scheduled(delta: timedelta) -> None:
    """Scheduled deployments keep their distance from the rest of the data (still ahead of now), but never
    land in a freeze: inside one, they run at its end (`until`, the first moment nothing blocks)."""
    for deployment in Deployment.objects.filter(status=DeploymentStatus.SCHEDULED):
        moment = (deployment.scheduled_for + delta).astimezone(UTC)
        team = Release.objects.filter(pk=deployment.release_id).values_list("team_id", flat=True).first()
        freeze = environment_active_freeze(Environment.objects.get(pk=deployment.environment_id), moment, team=team)
        if freeze is not None and freeze.until is not None:
            moment = freeze.until
        Deployment.objects.filter(pk=deployment.pk).update(
            scheduled_for=moment, started_at=moment, schedule_slot=_slot(deployment.environment_id, moment)
        )
