from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audit.api.schema import AUDIT_EVENT_VIEWSET_SCHEMA, VERIFY_SCHEMA
from audit.api.serializers import AuditChainVerificationSerializer, AuditEventSerializer
from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from opsportal.api.permissions import IsReleaseManager


@AUDIT_EVENT_VIEWSET_SCHEMA
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only audit trail: every write from the API and the admin. Nothing edits or deletes it."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    permission_classes = [IsReleaseManager]
    filterset_class = AuditEventFilterSet
    search_fields = []
    ordering_fields = ["seq", "at"]
    ordering = ["-seq"]

    @VERIFY_SCHEMA
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request: Request) -> Response:
        """Walk the hash chain and report whether every event is intact, and the first one that is not."""
        return Response(AuditChainVerificationSerializer(audit_chain_verify()).data)
