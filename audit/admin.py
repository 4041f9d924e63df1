"""The audit trail in the admin: read-only, never added, changed or deleted (append-only); its
checkpoints, read-only too. And Django's user and group admins, each write of which is one unit of
work with the audit events `audit.auth_signals` records for it (issue #10)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch
from django.utils.html import format_html

from audit.models import AuditCheckpoint, AuditEvent
from opsportal.admin import ReadOnlyModelAdmin
from opsportal.admin_html import admin_change_url, admin_link, changes_html
from opsportal.uow import run_in_unit

# audit `object_type` → the admin of that model
OBJECT_ADMINS = {
    "release": "releases.release",
    "deployment": "releases.deployment",
    "environment": "environments.environment",
    "team": "teams.team",
    "workflow": "workflows.workflow",
    "user": "auth.user",
    "group": "auth.group",
    "api_token": "tokens.apitoken",
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
    fields = (
        "seq",
        "at",
        "actor",
        "action",
        "object_display",
        "all_changes",
        "request_id",
        "client_ip",
        "hash",
        "hash_scheme",
    )
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


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyModelAdmin):
    list_display = ("seq", "at", "hash", "created_at")
    list_display_links = ("seq",)
    fields = ("seq", "at", "hash", "signature", "created_at")
    readonly_fields = fields

    def get_actions(self, request: HttpRequest) -> dict:
        return {}


# --------------------------------------------------------------------------- users and groups


class UnitOfWorkAdminMixin:
    """Every POST of this admin (add, change, password, delete, bulk actions) runs as one unit of work
    (`opsportal.uow`): the auth models it writes and the audit events their signals record commit
    together, or not at all, on MongoDB too (where Django's own `atomic` does not apply)."""

    def _in_unit(self, request: HttpRequest, view: Callable[..., HttpResponse], *args: Any, **kwargs: Any):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        return run_in_unit(lambda: view(request, *args, **kwargs))

    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._in_unit(request, super().changeform_view, *args, **kwargs)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._in_unit(request, super().delete_view, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._in_unit(request, super().changelist_view, *args, **kwargs)


class AuditedUserAdmin(UnitOfWorkAdminMixin, UserAdmin):
    def user_change_password(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._in_unit(request, super().user_change_password, *args, **kwargs)


class AuditedGroupAdmin(UnitOfWorkAdminMixin, GroupAdmin):
    pass


for _model, _admin in ((get_user_model(), AuditedUserAdmin), (Group, AuditedGroupAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _admin)
