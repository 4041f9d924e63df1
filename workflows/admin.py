"""Workflows in the admin: ordered stages and triggers edited through form UI; saves go through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from environments.models import Environment
from opsportal.admin import ServiceModelAdmin, SlugIdServiceModelForm, widget_schema
from workflows import schemas
from workflows.models import Workflow
from workflows.services import SERVICES


def stages_widget_schema() -> dict[str, Any]:
    """Stages with the environment picked from the existing environments (in promotion order)."""
    choices = [
        {"title": f"{name} ({env_id})", "value": env_id}
        for env_id, name in Environment.objects.order_by("order", "id").values_list("id", "name")
    ]
    return widget_schema(
        schemas.STAGES,
        overrides={
            "items.properties.environment": {"type": "string", "title": "Environment", "choices": choices},
            "items.properties.requires_approval.help_text": "Deploying to this stage needs an approved release.",
        },
    )


@admin.register(Workflow)
class WorkflowAdmin(ServiceModelAdmin):
    form = SlugIdServiceModelForm
    list_display = ("name", "id", "active", "stage_path", "trigger_count")
    list_filter = ("active",)
    search_fields = ("id", "name", "description")
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "active", "revision")}),
        (
            "Stages",
            {
                "fields": ("stages",),
                "description": "In promotion order: a release enters a stage only after succeeding in the one before.",
            },
        ),
        ("Triggers", {"fields": ("triggers",)}),
    )
    services = SERVICES
    readonly_on_change = ("id",)
    service_fields = ("id", "name", "description", "active", "stages", "triggers")
    json_schemas = {
        "stages": stages_widget_schema,
        "triggers": widget_schema(
            schemas.TRIGGERS, overrides={"items.properties.params.help_text": "Named values passed to the action."}
        ),
    }

    @admin.display(description="Stages")
    def stage_path(self, workflow: Workflow) -> str:
        stages = [
            stage.get("environment", "?") + (" (approval)" if stage.get("requires_approval") else "")
            for stage in workflow.stages or []
            if isinstance(stage, dict)
        ]
        return " → ".join(stages) or "—"

    @admin.display(description="Triggers")
    def trigger_count(self, workflow: Workflow) -> int:
        return len(workflow.triggers or [])
