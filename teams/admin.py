"""Teams in the admin: members and projects edited through form UI; saves go through the services."""

from __future__ import annotations

from django.contrib import admin

from opsportal.admin import ServiceModelAdmin, SlugIdServiceModelForm, widget_schema
from teams import schemas
from teams.models import Team
from teams.services import SERVICES


@admin.register(Team)
class TeamAdmin(ServiceModelAdmin):
    form = SlugIdServiceModelForm
    list_display = ("name", "id", "member_count", "member_names", "project_names")
    search_fields = ("id", "name", "description")
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "revision")}),
        ("Members", {"fields": ("members",)}),
        ("Projects", {"fields": ("projects",)}),
    )
    services = SERVICES
    readonly_on_change = ("id",)
    service_fields = ("id", "name", "description", "members", "projects")
    json_schemas = {
        "members": widget_schema(
            schemas.MEMBERS,
            overrides={"items.properties.username.help_text": schemas.MEMBER["properties"]["username"]["description"]},
        ),
        "projects": widget_schema(schemas.PROJECTS, overrides={"items.title": "Project"}),
    }

    @admin.display(description="Members")
    def member_count(self, team: Team) -> int:
        return len(team.members or [])

    @admin.display(description="Who")
    def member_names(self, team: Team) -> str:
        names = [member.get("name", "") for member in team.members or [] if isinstance(member, dict)]
        return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "") or "—"

    @admin.display(description="Projects")
    def project_names(self, team: Team) -> str:
        return ", ".join(str(project) for project in team.projects or []) or "—"
