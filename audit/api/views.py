from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from audit.api.rows import AUDIT_EVENT_ROW, audit_event_data
from audit.api.schema import AUDIT_EVENT_VIEWSET_SCHEMA, HEAD_SCHEMA, VERIFY_SCHEMA
from audit.api.serializers import AuditChainVerificationSerializer, AuditEventSerializer, AuditHeadSerializer
from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify, audit_head
from audit.services import AUDIT_COLLECTION
from opsportal.api.permissions import IsReleaseManager
from opsportal.api.rows import RowReadMixin


@AUDIT_EVENT_VIEWSET_SCHEMA
class AuditEventViewSet(RowReadMixin, viewsets.ReadOnlyModelViewSet):
    """The append-only audit trail: every write from the API and the admin. Nothing edits or deletes it."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    # The defaults too: a request made with an API token needs its `read` scope.
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsReleaseManager]
    filterset_class = AuditEventFilterSet
    search_fields = []
    ordering_fields = ["seq", "at"]
    ordering = ["-seq"]
    row_fields = AUDIT_EVENT_ROW
    list_collections = (AUDIT_COLLECTION,)

    def rows_data(self, rows):
        return [audit_event_data(row) for row in rows]

    @VERIFY_SCHEMA
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request: Request) -> Response:
        """Walk the hash chain and report whether every event is intact, and the first one that is not;
        check the chain against the latest checkpoint (its newest events deleted: `truncated`)."""
        return Response(AuditChainVerificationSerializer(audit_chain_verify()).data)

    @HEAD_SCHEMA
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def head(self, request: Request) -> Response:
        """The chain's newest event, signed: save it, and `manage.py verify_audit --head FILE` proves later
        that it is still in the chain (nothing before it was changed or deleted)."""
        return Response(AuditHeadSerializer(audit_head()).data)
