"""The base of document viewsets (environments, teams, workflows; releases can adopt it):
thin CRUD delegating to the app's services, `Location` on 201, `ETag`/`If-Match`, `Idempotency-Key`."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets
from rest_framework.permissions import SAFE_METHODS

from opsportal.api.mixins import IdempotentPostMixin, RevisionETagMixin
from opsportal.documents import DocumentServices
from opsportal.roles import require_release_manager


class DocumentViewSet(IdempotentPostMixin, RevisionETagMixin, viewsets.ModelViewSet):
    """Set `queryset`, `serializer_class`, `update_serializer_class` (PUT/PATCH) and `services`
    (the app's `DocumentServices`; with `services.manage` set, writes need the Release Managers role)."""

    update_serializer_class: type[serializers.Serializer] | None = None
    services: DocumentServices
    search_fields = ["id", "name", "description"]
    ordering_fields = ["name", "id", "created_at", "updated_at"]
    ordering = ["name"]

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        # The services enforce the role; checking it here too refuses before the input is validated.
        if self.services.manage and request.method not in SAFE_METHODS:
            require_release_manager(request.user, what=self.services.manage)

    def filter_queryset(self, queryset):
        # List filters (`?search=` …) must not hide the object of a detail request.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_serializer_class(self):
        if self.action in ("update", "partial_update") and self.update_serializer_class is not None:
            return self.update_serializer_class
        return super().get_serializer_class()

    def get_success_headers(self, data) -> dict[str, str]:
        return {"Location": self.reverse_action("detail", args=[data["id"]])}

    def _document(self, instance: Any) -> dict[str, Any]:
        """The keyword services name the document by: `team=…`, `environment=…`."""
        return {self.queryset.model._meta.model_name: instance}

    def perform_create(self, serializer) -> None:
        serializer.instance = self.services.create(actor=self.request.user, data=serializer.validated_data)

    def perform_update(self, serializer) -> None:
        serializer.instance = self.services.update(
            **self._document(serializer.instance),
            actor=self.request.user,
            data=serializer.validated_data,
            expected_revision=self.expected_revision(serializer.instance),
        )

    def perform_destroy(self, instance: Any) -> None:
        self.expected_revision(instance)  # If-Match → 412 when stale
        self.services.delete(**self._document(instance), actor=self.request.user)
