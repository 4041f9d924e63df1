"""Environments in the admin: what runs where, health and freeze windows; saves go through the services."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from environments import schemas
from environments.models import Environment
from environments.selectors import environment_freeze_state, environment_status
from environments.services import SERVICES
from opsportal.admin import ServiceModelAdmin, ServiceModelForm, SlugIdFormMixin, widget_schema
from opsportal.admin_html import admin_change_url, admin_link, badge, deployment_cells, html_table


class EnvironmentAdminForm(SlugIdFormMixin, ServiceModelForm):
    class Meta:
        model = Environment
        fields = "__all__"
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}


def release_label(release: Any) -> str:
    return f"{release.name} ({release.version})"


@admin.register(Environment)
class EnvironmentAdmin(ServiceModelAdmin):
    form = EnvironmentAdminForm
    list_display = (
        "name",
        "id",
        "tier",
        "order",
        "health_badge",
        "current_release_display",
        "requires_approval",
        "frozen_display",
    )
    list_filter = ("tier", "health", "requires_approval")
    search_fields = ("id", "name", "description")
    ordering = ("order", "id")
    fieldsets = (
        (None, {"fields": ("id", "name", "tier", "order", "url", "description", "revision")}),
        ("Now", {"fields": ("status_panel", "recent_deployments")}),
        ("Approval and health", {"fields": ("approval_policy", "requires_approval", "health")}),
        ("Configuration", {"fields": ("config",)}),
    )
    services = SERVICES
    readonly_fields = ("requires_approval",)
    readonly_on_change = ("id",)
    change_only_fields = ("status_panel", "recent_deployments")
    service_fields = (
        "id",
        "name",
        "tier",
        "order",
        "url",
        "description",
        "config",
        "approval_policy",
        "health",
    )
    json_schemas = {
        "config": widget_schema(schemas.CONFIG),
        "approval_policy": widget_schema(schemas.APPROVAL_POLICY),
    }

    # --- list

    def annotate_page(self, request: HttpRequest, environments: list[Environment]) -> None:
        from releases.models import Release

        ids = {env.current_release_id for env in environments} - {None}
        releases = Release.objects.only("id", "name", "version").in_bulk(ids) if ids else {}
        for env in environments:
            env.current_release_loaded = releases.get(env.current_release_id)

    @admin.display(description="Health", ordering="health")
    def health_badge(self, env: Environment) -> str:
        return badge(env.health, env.get_health_display())

    @admin.display(description="Current release")
    def current_release_display(self, env: Environment) -> str:
        release = getattr(env, "current_release_loaded", None)
        if release is None:
            return "—"
        return admin_link(admin_change_url(release), release_label(release))

    @admin.display(description="Frozen")
    def frozen_display(self, env: Environment) -> str:
        frozen, until = environment_freeze_state(env)
        if not frozen:
            return "—"
        return format_html("{} until {}", badge("frozen"), timezone.localtime(until).strftime("%Y-%m-%d %H:%M"))

    # --- change page

    @staticmethod
    def _status(env: Environment) -> dict[str, Any]:
        if not hasattr(env, "_admin_status"):
            env._admin_status = environment_status(env)
        return env._admin_status

    @admin.display(description="Current state")
    def status_panel(self, env: Environment) -> str:
        status = self._status(env)
        release = status["current_release"]
        current = admin_link(admin_change_url(release), release_label(release)) if release else "nothing deployed yet"
        frozen = (
            format_html("{} until {}", badge("frozen"), status["frozen_until"].strftime("%Y-%m-%d %H:%M UTC"))
            if status["frozen"]
            else "not frozen"
        )
        return format_html(
            "<strong>Current release:</strong> {}<br><strong>Health:</strong> {}<br><strong>Freeze:</strong> {}",
            current,
            badge(env.health, env.get_health_display()),
            frozen,
        )

    @admin.display(description="Recent deployments")
    def recent_deployments(self, env: Environment) -> str:
        deployments = self._status(env)["recent_deployments"]
        table = html_table(
            ("When", "Release", "Kind", "Status", "By", "Notes"),
            (
                (
                    admin_link(admin_change_url(d), d.started_at.strftime("%Y-%m-%d %H:%M")),
                    admin_link(admin_change_url(d.release), release_label(d.release)),
                    *deployment_cells(d),
                )
                for d in deployments
            ),
            empty="No deployments yet.",
        )
        all_url = reverse("admin:releases_deployment_changelist") + f"?environment__id__exact={env.pk}"
        return format_html('{}<p><a href="{}">All deployments to {}</a></p>', table, all_url, env.name)


def _with_freeze_calendar(get_urls):
    """The site's URLs plus `admin:freeze_calendar` (issue #12), as the dashboard adds its own."""
    from django.urls import path

    from environments.admin_calendar import freeze_calendar_view

    def urls() -> list:
        view = admin.site.admin_view(freeze_calendar_view)
        return [path("freeze-calendar/", view, name="freeze_calendar"), *get_urls()]

    return urls


admin.site.get_urls = _with_freeze_calendar(admin.site.get_urls)
