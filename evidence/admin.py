"""Stored release evidence in the backoffice: read-only (it is never changed)."""

from django.contrib import admin

from evidence.models import ReleaseEvidence
from opsportal.admin import ReadOnlyModelAdmin


@admin.register(ReleaseEvidence)
class ReleaseEvidenceAdmin(ReadOnlyModelAdmin):
    list_display = ("release", "trigger", "collected_at", "collected_by", "key_id", "sha256")
    list_filter = ("trigger",)
    search_fields = ("=release__id", "=id", "=sha256")
    fields = ("id", "release", "trigger", "collected_at", "collected_by", "key_id", "sha256", "body")
    readonly_fields = fields
