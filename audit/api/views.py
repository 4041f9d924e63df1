from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from audit.api.serializers import AuditChainVerificationSerializer, AuditEventSerializer
from audit.filtersets import AuditEventFilterSet
from audit.models import AuditEvent
from audit.selectors import audit_chain_verify
from opsportal.api.permissions import IsReleaseManager

EVENT_EXAMPLE = OpenApiExample(
    "Approval",
    value={
        "id": "665f1c2e9b1e8a3d4c5b6a70",
        "seq": 42,
        "at": "2026-11-20T10:15:00.123Z",
        "actor": "carol",
        "action": "release.approved",
        "object_type": "release",
        "object_id": "release-1",
        "changes": {"status": ["pending_approval", "approved"]},
        "request_id": "9f0c6e1d2b3a4c5d",
        "client_ip": "10.0.0.7",
        "prev_hash": "5e1d…",
        "hash": "a93c…",
    },
    response_only=True,
)


@extend_schema_view(
    list=extend_schema(summary="List audit events (Release Managers)", examples=[EVENT_EXAMPLE]),
    retrieve=extend_schema(summary="Get one audit event (Release Managers)", examples=[EVENT_EXAMPLE]),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """The append-only audit trail: every write from the API and the admin. Nothing edits or deletes it."""

    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    permission_classes = [IsReleaseManager]
    filterset_class = AuditEventFilterSet
    search_fields = []
    ordering_fields = ["seq", "at"]
    ordering = ["-seq"]

    @extend_schema(
        summary="Verify the hash chain",
        responses={200: AuditChainVerificationSerializer},
        examples=[
            OpenApiExample("Intact", value={"valid": True, "events": 1200, "first_broken": None}),
            OpenApiExample("Tampered", value={"valid": False, "events": 17, "first_broken": 17}),
        ],
    )
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def verify(self, request: Request) -> Response:
        """Walk the hash chain and report whether every event is intact, and the first one that is not."""
        return Response(AuditChainVerificationSerializer(audit_chain_verify()).data)
