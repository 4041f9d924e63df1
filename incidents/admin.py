"""Incidents in the backoffice: reported, edited and resolved through `incidents.services`."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from incidents.models import Incident
from incidents.services import EDITABLE_FIELDS, incident_create, incident_resolve, incident_update
from opsportal.admin import ServiceModelAdmin, ServiceModelForm
from opsportal.errors import ApplicationError

SHOWN_FIELDS = (
    "status",
    "release",
    "resolved_at",
    "reported_by",
    "resolved_by",
    "created_at",
    "updated_at",
)


class IncidentAdminForm(ServiceModelForm):
    class Meta:
        model = Incident
        fields = "__all__"
        field_classes = {"url": partial(forms.URLField, assume_scheme="https")}


@admin.register(Incident)
class IncidentAdmin(ServiceModelAdmin):
    form = IncidentAdminForm
    list_display = ("title", "severity", "status", "environment", "release", "started_at", "resolved_at")
    list_filter = ("status", "severity", "environment")
    search_fields = ("title", "=external_id", "=id")
    date_hierarchy = "started_at"
    fields = (*EDITABLE_FIELDS, "resolved_at", "revision")
    raw_id_fields = ("deployment",)
    service_fields = (*EDITABLE_FIELDS, "resolved_at")
    change_only_fields = SHOWN_FIELDS
    actions = ["resolve_selected"]

    def get_fields(self, request: HttpRequest, obj: Incident | None = None):
        if obj is None:
            return (*EDITABLE_FIELDS, "resolved_at")
        return (*EDITABLE_FIELDS, *SHOWN_FIELDS, "revision")

    def get_readonly_fields(self, request: HttpRequest, obj: Incident | None = None):
        return SHOWN_FIELDS if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Incident | None = None) -> bool:
        return False  # the history of failures is evidence: never deleted

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> Incident:
        return incident_create(actor=request.user, data=data)

    def service_update(self, request: HttpRequest, obj: Incident, data: dict[str, Any]) -> Incident:
        data.pop("resolved_at", None)  # resolving is the action below
        return incident_update(incident=obj, actor=request.user, data=data)

    @admin.action(description="Resolve the selected incidents now")
    def resolve_selected(self, request: HttpRequest, queryset: QuerySet[Incident]) -> None:
        resolved = 0
        for incident in queryset:
            try:
                incident_resolve(incident=incident, actor=request.user)
            except ApplicationError as error:
                messages.error(request, f"{incident}: {error.message}")
            else:
                resolved += 1
        if resolved:
            messages.success(request, f"Resolved {resolved} incident(s).")
