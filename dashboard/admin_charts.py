"""Inline SVG charts for the admin dashboard, drawn on the server (no JavaScript, no CDN).

Each function takes the numbers the selectors return and gives back escaped, ready-to-embed
SVG with a `<title>` on every bar (the browser shows it on hover; screen readers read it).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from opsportal.admin_html import BADGE_COLOURS


def _n(value: float) -> str:
    """A coordinate with one decimal (format_html escapes its arguments to strings first)."""
    return f"{value:.1f}"


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (at least 1): a y-axis top."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover - the loop always returns


def stacked_bars(
    days: Sequence[dict[str, Any]],
    series: Sequence[tuple[str, str]],
    *,
    width: int = 900,
    height: int = 240,
) -> SafeString:
    """Deployments per day, one bar per day stacked by status; `series` is (key, label) bottom first."""
    left, right, top, bottom = 36, 8, 10, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = nice_ceiling(max((day["total"] for day in days), default=0))
    slot = plot_w / max(len(days), 1)
    bar_w = max(slot * 0.7, 1)
    parts: list[SafeString] = []
    for tick in (0, top_value // 2, top_value) if top_value % 2 == 0 else (0, top_value):
        y = top + plot_h - plot_h * tick / top_value
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d1d5db" stroke-width="1"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#6b7280">{}</text>',
                left,
                width - right,
                _n(y),
                _n(y),
                left - 4,
                _n(y + 3),
                f"{tick:g}",
            )
        )
    for index, day in enumerate(days):
        x = left + index * slot + (slot - bar_w) / 2
        y = top + plot_h
        label = day["date"].isoformat()
        for key, name in series:
            count = day.get(key, 0)
            if not count:
                continue
            bar_h = plot_h * count / top_value
            y -= bar_h
            parts.append(
                format_html(
                    '<rect class="bar" data-date="{}" data-status="{}" x="{}" y="{}" width="{}" '
                    'height="{}" fill="{}"><title>{}: {} {}</title></rect>',
                    label,
                    key,
                    _n(x),
                    _n(y),
                    _n(bar_w),
                    _n(bar_h),
                    BADGE_COLOURS.get(key, "#6b7280"),
                    label,
                    count,
                    name.lower(),
                )
            )
        if index % 5 == 0 or index == len(days) - 1:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#6b7280">{}</text>',
                    _n(x + bar_w / 2),
                    top + plot_h + 14,
                    day["date"].strftime("%b %d"),
                )
            )
    legend_x = left
    for key, name in series:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/>'
                '<text x="{}" y="{}" font-size="11" fill="currentColor">{}</text>',
                legend_x,
                height - 12,
                BADGE_COLOURS.get(key, "#6b7280"),
                legend_x + 14,
                height - 3,
                name,
            )
        )
        legend_x += 14 + 7 * len(name) + 18
    return format_html(
        '<svg class="op-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        "Deployments per day by status",
        width,
        height,
        format_html_join("", "{}", ((part,) for part in parts)),
    )


def horizontal_bars(rows: Sequence[tuple[str, str, int, str]], *, width: int = 520, row_height: int = 24) -> SafeString:
    """One labelled bar per row: (key, label, count, link); the bar's length is relative to the largest."""
    label_w, count_w = 130, 40
    bar_space = width - label_w - count_w
    largest = max((count for _, _, count, _ in rows), default=0) or 1
    parts = []
    for index, (key, label, count, link) in enumerate(rows):
        y = index * row_height
        bar_w = bar_space * count / largest
        parts.append(
            format_html(
                '<a href="{}"><text x="0" y="{}" font-size="12" fill="currentColor">{}</text>'
                '<rect class="bar" data-status="{}" x="{}" y="{}" width="{}" height="{}" fill="{}" rx="3">'
                "<title>{}: {}</title></rect>"
                '<text x="{}" y="{}" font-size="12" fill="currentColor">{}</text></a>',
                link,
                y + 16,
                label,
                key,
                label_w,
                y + 4,
                _n(bar_w),
                row_height - 8,
                BADGE_COLOURS.get(key, "#6b7280"),
                label,
                count,
                _n(label_w + bar_w + 6),
                y + 16,
                count,
            )
        )
    height = max(len(rows), 1) * row_height
    return format_html(
        '<svg class="op-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">{}</svg>',
        "Releases by status",
        width,
        height,
        format_html_join("", "{}", ((part,) for part in parts)),
    )
