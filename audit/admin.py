"""The audit trail in the admin: read-only, never added, changed or deleted (append-only)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import NoReverseMatch
from django.utils.html import format_html

from audit.models import AuditEvent
from opsportal.admin import ReadOnlyModelAdmin
from opsportal.admin_html import admin_change_url, admin_link, changes_html

# audit `object_type` → the admin of that model
OBJECT_ADMINS = {
    "release": "releases.release",
    "deployment": "releases.deployment",
    "environment": "environments.environment",
    "team": "teams.team",
    "workflow": "workflows.workflow",
}


def object_link(object_type: str, object_id: str) -> str:
    """A link to the audited object's admin page (plain text when it has none or is gone)."""
    label = f"{object_type} {object_id}"
    model = OBJECT_ADMINS.get(object_type)
    if model is None:
        return label
    try:
        return admin_link(admin_change_url(model, object_id), label)
    except NoReverseMatch:
        return label


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = ("seq", "at", "actor", "action", "object_display", "changes_display")
    list_display_links = ("seq",)
    list_filter = ("action", "object_type")
    search_fields = ("=actor", "=object_id", "action")
    date_hierarchy = "at"
    list_per_page = 50
    show_full_result_count = False
    fields = ("seq", "at", "actor", "action", "object_display", "all_changes", "request_id", "client_ip", "hash")
    readonly_fields = fields

    def get_actions(self, request: HttpRequest) -> dict:
        return {}

    @admin.display(description="Object", ordering="object_id")
    def object_display(self, event: AuditEvent) -> str:
        return object_link(event.object_type, event.object_id)

    @admin.display(description="Changes")
    def changes_display(self, event: AuditEvent) -> str:
        return format_html('<div class="op-changes">{}</div>', changes_html(event.changes, limit=8))

    @admin.display(description="Changes")
    def all_changes(self, event: AuditEvent) -> str:
        return format_html('<div class="op-changes">{}</div>', changes_html(event.changes))
