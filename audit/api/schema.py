"""OpenAPI of the audit endpoints: examples and the decorators `audit.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from audit.api.serializers import AuditChainVerificationSerializer

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

AUDIT_EVENT_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(summary="List audit events (Release Managers)", examples=[EVENT_EXAMPLE]),
    retrieve=extend_schema(summary="Get one audit event (Release Managers)", examples=[EVENT_EXAMPLE]),
)

VERIFY_SCHEMA = extend_schema(
    summary="Verify the hash chain",
    responses={200: AuditChainVerificationSerializer},
    examples=[
        OpenApiExample("Intact", value={"valid": True, "events": 1200, "first_broken": None}),
        OpenApiExample("Tampered", value={"valid": False, "events": 17, "first_broken": 17}),
    ],
)
