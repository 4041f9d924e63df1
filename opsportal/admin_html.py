"""Readable HTML for the backoffice's pages: status badges, read-only tables, links to other
objects, embedded documents drawn as tables and audit changes as sentences (release managers
never see raw JSON).

Plumbing like the rest of `opsportal/`: it imports no app, so any app's admin (and the
dashboard's charts, which share the badge colours) can use it without an import circle.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from opsportal.limits import replace_bad_text

# --------------------------------------------------------------------------- badges

BADGE_COLOURS = {
    # release statuses
    "draft": "#6b7280",
    "pending_approval": "#b45309",
    "approved": "#15803d",
    "rejected": "#b91c1c",
    "deployed": "#1d4ed8",
    "rolled_back": "#7c3aed",
    # deployment statuses
    "in_progress": "#b45309",
    "succeeded": "#15803d",
    "failed": "#b91c1c",
    # environment health
    "healthy": "#15803d",
    "degraded": "#b91c1c",
    "unknown": "#6b7280",
    # features and tasks
    "planned": "#6b7280",
    "todo": "#6b7280",
    "done": "#15803d",
    # freeze windows
    "frozen": "#0e7490",
}


def badge(value: str, label: str | None = None) -> SafeString:
    """A coloured pill for a status value (data-status lets tests and CSS find it)."""
    colour = BADGE_COLOURS.get(value, "#6b7280")
    return format_html(
        '<span class="op-badge" data-status="{}" style="display:inline-block;padding:1px 8px;border-radius:10px;'
        'background:{};color:#fff;font-size:11px;font-weight:600;white-space:nowrap">{}</span>',
        value,
        colour,
        label or value.replace("_", " "),
    )


def deployment_cells(deployment: Any) -> tuple[Any, ...]:
    """Kind, status badge, who and notes of a deployment: the last cells of a deployments table row."""
    return (
        deployment.get_kind_display(),
        badge(deployment.status, deployment.get_status_display()),
        deployment.deployed_by or "—",
        deployment.notes or "—",
    )


def html_table(headers: Iterable[str], rows: Iterable[Iterable[Any]], empty: str = "None yet.") -> SafeString:
    """A read-only table for the change pages (cells are escaped unless already safe)."""
    rows = list(rows)
    if not rows:
        return format_html('<p class="op-empty">{}</p>', empty)
    head = format_html_join("", "<th>{}</th>", ((header,) for header in headers))
    body = format_html_join(
        "",
        "<tr>{}</tr>",
        (
            (format_html_join("", "<td>{}</td>", ((cell if cell is not None else "—",) for cell in row)),)
            for row in rows
        ),
    )
    return format_html('<table class="op-table"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>', head, body)


# --------------------------------------------------------------------------- readable documents and changes

_MISSING = object()
PATH_SEPARATOR = " \u203a "  # a single right-pointing angle quotation mark
# Keys that name an item of an embedded list (features by name, tasks by title, stages by environment…).
LABEL_KEYS = ("name", "title", "environment", "user", "event", "email", "starts_at")
MAX_INLINE_ITEMS = 5


def _item_label(item: Any) -> str | None:
    if isinstance(item, dict):
        for key in LABEL_KEYS:
            if isinstance(item.get(key), str) and item[key]:
                return item[key]
    return None


def _keyed(items: list) -> dict[str, Any] | None:
    """Items by label when every item has a distinct one, else None (compare by position)."""
    labels = [_item_label(item) for item in items]
    if any(label is None for label in labels) or len(set(labels)) != len(labels):
        return None
    return dict(zip(labels, items, strict=True))


def describe_value(value: Any) -> str:
    """A short human rendering of any stored value (lists of documents by their labels)."""
    if value is _MISSING or value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        if not value:
            return "none"
        labels = [_item_label(item) or describe_value(item) for item in value]
        shown = ", ".join(labels[:MAX_INLINE_ITEMS])
        return shown + (f" and {len(labels) - MAX_INLINE_ITEMS} more" if len(labels) > MAX_INLINE_ITEMS else "")
    if isinstance(value, dict):
        label = _item_label(value)
        if label:
            return label
        return "; ".join(f"{key}: {describe_value(item)}" for key, item in value.items()) or "none"
    return str(value)


def diff_values(old: Any, new: Any, path: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """(path, old, new) for every leaf that differs; list items matched by their label when they have one."""
    if isinstance(old, dict) and isinstance(new, dict):
        rows: list[tuple[str, str, str]] = []
        for key in [*old, *(key for key in new if key not in old)]:
            rows += diff_values(old.get(key, _MISSING), new.get(key, _MISSING), (*path, str(key)))
        return rows
    if isinstance(old, list) and isinstance(new, list):
        old_keyed, new_keyed = _keyed(old), _keyed(new)
        if old_keyed is not None and new_keyed is not None:
            rows = []
            for label in [*old_keyed, *(label for label in new_keyed if label not in old_keyed)]:
                before, after = old_keyed.get(label, _MISSING), new_keyed.get(label, _MISSING)
                if before is _MISSING:
                    rows.append((PATH_SEPARATOR.join((*path, label)), "—", "added"))
                elif after is _MISSING:
                    rows.append((PATH_SEPARATOR.join((*path, label)), "removed", "—"))
                else:
                    rows += diff_values(before, after, (*path, label))
            return rows
        if len(old) == len(new):
            rows = []
            for index, (before, after) in enumerate(zip(old, new, strict=True)):
                rows += diff_values(before, after, (*path, f"#{index + 1}"))
            return rows
    if old == new:
        return []
    return [(PATH_SEPARATOR.join(path), describe_value(old), describe_value(new))]


def describe_changes(changes: Any) -> list[tuple[str, str, str]]:
    """An audit event's `changes` ({field: [old, new]} or {field: context}) as readable rows."""
    changes = replace_bad_text(changes, nul=False)  # stored before issue #10: a lone surrogate fails the page
    if not isinstance(changes, dict):
        return [("", "", describe_value(changes))]
    rows: list[tuple[str, str, str]] = []
    for field, change in changes.items():
        if isinstance(change, list) and len(change) == 2:
            rows += diff_values(change[0], change[1], (field,)) or [(field, describe_value(change[1]), "unchanged")]
        else:
            rows.append((field, "", describe_value(change)))
    return rows


def changes_html(changes: Any, limit: int | None = None) -> SafeString:
    """Audit changes as lines `field / item / key: old → new` (with PATH_SEPARATOR)."""
    rows = describe_changes(changes)
    extra = 0
    if limit is not None and len(rows) > limit:
        rows, extra = rows[:limit], len(rows) - limit
    lines = [
        format_html("<strong>{}</strong>: {} → {}", field, old, new)
        if old
        else format_html("<strong>{}</strong>: {}", field, new)
        for field, old, new in rows
    ]
    if extra:
        lines.append(format_html("<em>and {} more</em>", extra))
    return mark_safe("<br>".join(lines))  # noqa: S308 - every line is built by format_html


# Keys whose values are statuses: drawn as badges in read-only documents.
BADGE_KEYS = ("status", "decision", "health")


def _document_keys(items: list[dict[str, Any]]) -> list[str]:
    """Columns for a list of documents: the labelling key first, nested lists last, else as stored."""
    keys: list[str] = []
    for item in items:
        keys += [key for key in item if key not in keys]
    return sorted(
        keys,
        key=lambda key: (
            0 if key in LABEL_KEYS else 2 if any(isinstance(i.get(key), list | dict) for i in items) else 1,
            keys.index(key),
        ),
    )


def document_html(value: Any, key: str = "") -> SafeString:
    """An embedded document as tables, for pages that show it read-only (never raw JSON).

    A list of documents is a table (one row each, nested lists as nested tables), a
    document is a two-column table, a list of scalars a comma-separated line.
    """
    value = replace_bad_text(value, nul=False)  # stored before issue #10: a lone surrogate fails the page
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        keys = _document_keys(value)
        return html_table(
            [name.replace("_", " ").capitalize() for name in keys],
            ([document_html(item.get(name, ""), name) for name in keys] for item in value),
        )
    if isinstance(value, dict):
        if not value:
            return format_html('<span class="op-empty">{}</span>', "none")
        return html_table(
            ("Key", "Value"), ((name, document_html(item, name)) for name, item in value.items()), empty="none"
        )
    if key in BADGE_KEYS and isinstance(value, str) and value:
        return badge(value)
    return format_html("{}", describe_value(value))


# --------------------------------------------------------------------------- links


def admin_change_url(obj_or_label: Any, pk: Any = None) -> str:
    """`admin:<app>_<model>_change` of an instance, or of `("app.model", pk)`."""
    if pk is None:
        opts, pk = obj_or_label._meta, obj_or_label.pk
        label = f"{opts.app_label}_{opts.model_name}"
    else:
        label = obj_or_label.replace(".", "_")
    return reverse(f"admin:{label}_change", args=[pk])


def admin_link(url: str, text: Any) -> SafeString:
    return format_html('<a href="{}">{}</a>', url, text)
