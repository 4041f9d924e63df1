"""OpenAPI of the evidence endpoints: examples and the decorators `evidence.api.views` applies."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from evidence.api.serializers import EvidenceEnvelopeSerializer, EvidencePublicKeySerializer, EvidenceQuerySerializer
from opsportal.api.schema import not_found_response, role_required_response
from releases.models import Release

_AT = "2026-11-20T10:15:00.123Z"
ENVELOPE_EXAMPLE = {
    "format": "opsportal.evidence.v1",
    "evidence": {
        "evidence_id": "6761c0de9b1e8a3d4c5b6a90",
        "collected_at": _AT,
        "collected_by": "carol",
        "trigger": "production",
        "release": {
            "id": "665f1c2e9b1e8a3d4c5b6a01",
            "name": "Q4 Release",
            "version": "2.4.0",
            "description": "",
            "status": "deployed",
            "team": "platform-team",
            "workflow": "standard",
            "created_by": "alice",
            "created_at": "2026-11-02T09:00:00.000Z",
            "updated_at": _AT,
            "revision": 7,
            "features": [],
        },
        "approvals": [{"user": "rita", "decision": "approved", "comment": "LGTM", "at": "2026-11-19T16:00:00Z"}],
        "deploy_checks": [
            {
                "deployment": "665f1c2e9b1e8a3d4c5b6a55",
                "environment": "production",
                "at": _AT,
                "by": "carol",
                "result": "passed",
                "audit_seq": 1041,
            }
        ],
        "deployments": [
            {
                "id": "665f1c2e9b1e8a3d4c5b6a55",
                "environment": "production",
                "kind": "deploy",
                "status": "succeeded",
                "sequence": 12,
                "started_at": _AT,
                "finished_at": _AT,
                "deployed_by": "carol",
                "pipeline_url": "https://ci.example.com/runs/981",
                "notes": "",
                "rolled_back_from": None,
            }
        ],
        "freeze_overrides": [],
        "incidents": [],
        "audit_events": [
            {
                "seq": 1041,
                "hash": "9c1e…",
                "at": _AT,
                "actor": "carol",
                "action": "deployment.created",
                "object_type": "deployment",
                "object_id": "665f1c2e9b1e8a3d4c5b6a55",
            }
        ],
        "audit_head": {"seq": 1042, "hash": "5be0…", "at": _AT, "signature": "0f3a…"},
    },
    "digests": {"release.version": "7d1a…", "deployments[0]": "c0ff…"},
    "signature": {"algorithm": "Ed25519", "key_id": "3f6c0b7e91d2a4c8", "value": "MEUCIQ…=="},
}

RELEASE_ID = OpenApiParameter("release_pk", OpenApiTypes.STR, OpenApiParameter.PATH, description="The release id.")

EVIDENCE_SCHEMA = extend_schema(
    operation_id="releases_evidence_retrieve",
    summary="Get a release's evidence",
    parameters=[RELEASE_ID, EvidenceQuerySerializer],
    responses={
        200: OpenApiResponse(EvidenceEnvelopeSerializer, description="The signed evidence."),
        404: not_found_response(Release),
    },
    examples=[OpenApiExample("Evidence", value=ENVELOPE_EXAMPLE, response_only=True)],
)
COLLECT_SCHEMA = extend_schema(
    operation_id="releases_evidence_collect",
    summary="Collect a release's evidence now",
    parameters=[RELEASE_ID],
    request=None,
    responses={
        201: OpenApiResponse(EvidenceEnvelopeSerializer, description="Collected, signed and stored."),
        403: role_required_response("collect release evidence"),
        404: not_found_response(Release),
    },
    examples=[
        OpenApiExample(
            "Collected",
            value={**ENVELOPE_EXAMPLE, "evidence": {**ENVELOPE_EXAMPLE["evidence"], "trigger": "on_demand"}},
            response_only=True,
            status_codes=["201"],
        )
    ],
)
PUBLIC_KEY_SCHEMA = extend_schema(
    operation_id="evidence_public_key",
    summary="The evidence public key",
    responses={200: EvidencePublicKeySerializer},
    examples=[
        OpenApiExample(
            "Public key",
            value={
                "algorithm": "Ed25519",
                "key_id": "3f6c0b7e91d2a4c8",
                "public_key_pem": "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA…\n-----END PUBLIC KEY-----\n",
                "public_key_base64": "q3Vb…=",
            },
            response_only=True,
        )
    ],
)
