"""OpenAPI of the audit endpoints: examples and the decorators `audit.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from audit.api.serializers import AuditChainVerificationSerializer, AuditHeadSerializer

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
        "hash_scheme": "hmac-sha256",
    },
    response_only=True,
)

AUDIT_EVENT_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(summary="List audit events (Release Managers)", examples=[EVENT_EXAMPLE]),
    retrieve=extend_schema(summary="Get one audit event (Release Managers)", examples=[EVENT_EXAMPLE]),
)

_CHECKPOINT = {"seq": 1180, "at": "2026-11-20T10:00:00.004Z"}

VERIFY_SCHEMA = extend_schema(
    summary="Verify the hash chain",
    responses={200: AuditChainVerificationSerializer},
    examples=[
        OpenApiExample(
            "Intact",
            value={
                "valid": True,
                "events": 1200,
                "first_broken": None,
                "problem": None,
                "message": "The chain of 1200 events is intact.",
                "checkpoint": _CHECKPOINT,
            },
        ),
        OpenApiExample(
            "Tampered",
            value={
                "valid": False,
                "events": 17,
                "first_broken": 17,
                "problem": "tampered",
                "message": "Event #17 is not the event that was recorded.",
                "checkpoint": _CHECKPOINT,
            },
        ),
        OpenApiExample(
            "Truncated",
            value={
                "valid": False,
                "events": 1150,
                "first_broken": 1151,
                "problem": "truncated",
                "message": "The chain ends at #1150, before checkpoint #1180: its newest events were deleted.",
                "checkpoint": _CHECKPOINT,
            },
        ),
    ],
)

HEAD_SCHEMA = extend_schema(
    summary="The signed head of the chain",
    description="Release Managers. Save the answer (e.g. `> head.json`); `manage.py verify_audit --head head.json` "
    "later proves that this event is still in the chain and that the chain up to it was neither changed nor "
    "cut. `signature` is an HMAC with the server's AUDIT_SIGNING_KEY: only the server can check it.",
    responses={200: AuditHeadSerializer},
    examples=[
        OpenApiExample(
            "Head",
            value={
                "seq": 1200,
                "hash": "9b0f6c2e5d4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c",
                "at": "2026-11-20T10:15:00.123Z",
                "signature": "3e7d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d",
            },
        )
    ],
)
