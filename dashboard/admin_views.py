"""The admin's release dashboard (`admin:dashboard`, linked from the admin index).

Deployments per day by status (30 days), releases by status, the four DORA keys and rework rate of
one tier with their levels for both failure sources (`?tier=`, issue #13), the four DORA figures per
environment, the releases waiting for approval and the latest deployments; the page follows the
event stream (`GET /api/v1/events/stream`) and redraws the tiles, pending approvals and latest
deployments when a release or deployment changes. All numbers come from the dashboard
selectors and `releases.analytics`; the charts are inline SVG drawn on the server.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from dashboard.admin_charts import horizontal_bars, stacked_bars
from dashboard.selectors import (
    METRICS_DAYS,
    deployment_window_counts,
    deployments_per_day,
    latest_deployments,
    pending_approval_preview,
)
from environments.choices import Tier
from releases.analytics import DEFAULT_WINDOW_DAYS, dora_metrics, release_counts_by_status
from releases.choices import DeploymentStatus, ReleaseStatus
from releases.dora import FAILURE_SOURCES, dora_summary

PENDING_LIMIT = 20
LATEST_DEPLOYMENTS = 10
# The events after which the live sections (tiles, pending approvals, latest deployments) are redrawn.
LIVE_EVENT_TYPES = ("release.*", "approval.*", "deployment.*", "service.*")
# Bottom of each day's bar first.
DEPLOYMENT_SERIES = (
    (DeploymentStatus.SUCCEEDED, DeploymentStatus.SUCCEEDED.label),
    (DeploymentStatus.FAILED, DeploymentStatus.FAILED.label),
    (DeploymentStatus.ROLLED_BACK, DeploymentStatus.ROLLED_BACK.label),
    (DeploymentStatus.IN_PROGRESS, DeploymentStatus.IN_PROGRESS.label),
)


def duration(seconds: float | None) -> str:
    """A duration for people: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`; `—` when there is none."""
    if seconds is None:
        return "—"
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, _ = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def percentage(value: float | None) -> str:
    return "—" if value is None else f"{value:g} %"


def dora_rows(days: int) -> list[dict[str, Any]]:
    """The DORA figures of every environment, formatted for the table."""
    return [
        {
            "environment_id": row["environment_id"],
            "environment": row["environment_name"],
            "tier": row["tier"],
            "url": reverse("admin:environments_environment_change", args=[row["environment_id"]]),
            "frequency": f"{row['deployments_per_day']:g} / day",
            "successful": row["successful_deployments"],
            "lead_time": duration(row["lead_time_median_seconds"]),
            "failure_rate": percentage(row["change_failure_rate_percent"]),
            "failures": row["failed_deployments"],
            "finished": row["finished_deployments"],
            "restore": duration(row["mean_time_to_restore_seconds"]),
            "restored": row["restored_failures"],
        }
        for row in dora_metrics(days=days)
    ]


DORA_LABELS = {
    "deployment_frequency": "Deployment frequency",
    "lead_time_for_changes": "Lead time for changes (median)",
    "time_to_restore_service": "Time to restore service (median)",
    "change_failure_rate": "Change failure rate",
    "deployment_rework_rate": "Deployment rework rate",
}


def _dora_value(figure: dict[str, Any]) -> str:
    if figure["value"] is None:
        return "—"
    if figure["unit"] == "seconds":
        return duration(figure["value"])
    if figure["unit"] == "ratio":
        return percentage(round(figure["value"] * 100, 2))
    return f"{figure['value']:g} deployments"


def dora_level_rows(*, tier: str, today: Any) -> list[dict[str, Any]]:
    """The four keys and rework rate of `tier` over the dashboard's window, with their levels, for each
    failure source side by side (issue #13)."""
    summaries = {
        source: dora_summary(environment_tier=tier, days=METRICS_DAYS, today=today, failure_source=source)
        for source in FAILURE_SOURCES
    }
    rows = []
    for index, (metric, label) in enumerate(DORA_LABELS.items()):
        cells = []
        for source in FAILURE_SOURCES:
            figure = summaries[source]["metrics"][index]
            cells.append({"source": source, "value": _dora_value(figure), "level": figure["level"] or "—"})
        rows.append({"metric": metric, "label": label, "cells": cells})
    return rows


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Render the dashboard for staff who may read releases."""
    if not request.user.has_perm("releases.view_release"):
        raise PermissionDenied
    now = timezone.now()
    tier = request.GET.get("tier") if request.GET.get("tier") in Tier.values else Tier.PRODUCTION
    per_day = deployments_per_day(now=now, days=METRICS_DAYS)
    by_status = release_counts_by_status()
    changelist = reverse("admin:releases_release_changelist")
    status_rows = [
        (status.value, status.label, by_status.get(status.value, 0), f"{changelist}?status__exact={status.value}")
        for status in ReleaseStatus
    ]
    pending = [
        {**row, "url": reverse("admin:releases_release_change", args=[row["id"]])}
        for row in pending_approval_preview(limit=PENDING_LIMIT)
    ]
    context = {
        **admin.site.each_context(request),
        "title": "Release dashboard",
        "generated_at": now,
        "days": METRICS_DAYS,
        "dora_days": DEFAULT_WINDOW_DAYS,
        "window": deployment_window_counts(now=now),
        "deployments_total": sum(day["total"] for day in per_day),
        "deployments_chart": stacked_bars(per_day, DEPLOYMENT_SERIES),
        "releases_total": sum(by_status.values()),
        "status_chart": horizontal_bars(status_rows),
        "status_rows": status_rows,
        "dora": dora_rows(DEFAULT_WINDOW_DAYS),
        "dora_tier": tier,
        "dora_tiers": Tier.choices,
        "dora_sources": FAILURE_SOURCES,
        "dora_levels": dora_level_rows(tier=tier, today=now.date()),
        "pending": pending,
        "pending_count": by_status.get(ReleaseStatus.PENDING_APPROVAL, 0),
        "pending_url": f"{changelist}?status__exact={ReleaseStatus.PENDING_APPROVAL.value}",
        "latest_deployments": [
            {**row, "url": reverse("admin:releases_deployment_change", args=[row["id"]])}
            for row in latest_deployments(limit=LATEST_DEPLOYMENTS)
        ],
        # The page follows the event stream and redraws these sections on every event (issue #11).
        "live_stream_url": reverse("event-stream") + "?types=" + ",".join(LIVE_EVENT_TYPES),
    }
    return TemplateResponse(request, "admin/dashboard/index.html", context)
