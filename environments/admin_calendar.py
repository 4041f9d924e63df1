"""The freeze calendar in the admin (issue #12): `admin:freeze_calendar`, a month of occurrences per
environment, drawn on the server (no script, no CDN). `?month=YYYY-MM` picks the month (default: this one).
Days are UTC days; a cell is marked when an occurrence blocks that environment during any part of the day."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from environments.models import Environment
from environments.selectors import freeze_occurrences


def _month(value: str, now: datetime) -> datetime:
    """The first instant (UTC) of `value` (`YYYY-MM`), or of this month when it is not one."""
    try:
        first = datetime.strptime(value, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        first = now
    if not 2000 <= first.year <= 2100:
        first = now
    return first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_grid(first: datetime) -> dict[str, Any]:
    """Per environment (promotion order), one cell per day of the month with the occurrences blocking it."""
    days = calendar.monthrange(first.year, first.month)[1]
    end = first + timedelta(days=days)
    environments = list(Environment.objects.order_by("order", "id"))
    occurrences = freeze_occurrences(start=first, end=end)
    rows = []
    for environment in environments:
        cells = []
        for day in range(days):
            start = first + timedelta(days=day)
            stop = start + timedelta(days=1)
            found = [
                o
                for o in occurrences
                if environment.pk in o["environments"] and o["starts_at"] < stop and o["ends_at"] > start
            ]
            cells.append({"day": day + 1, "occurrences": found, "title": "; ".join(o["name"] for o in found)})
        rows.append({"environment": environment, "cells": cells})
    previous = (first - timedelta(days=1)).strftime("%Y-%m")
    return {"rows": rows, "days": range(1, days + 1), "occurrences": occurrences, "previous": previous,
            "next": end.strftime("%Y-%m"), "month": first}  # fmt: skip


def freeze_calendar_view(request: HttpRequest) -> HttpResponse:
    """The month calendar, for staff who may read environments."""
    if not request.user.has_perm("environments.view_environment"):
        raise PermissionDenied
    first = _month(request.GET.get("month", ""), datetime.now(UTC))
    context = {**admin.site.each_context(request), "title": f"Freeze calendar: {first:%B %Y}", **month_grid(first)}
    return TemplateResponse(request, "admin/environments/freeze_calendar.html", context)
