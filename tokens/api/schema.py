"""OpenAPI of the token endpoints: examples and the decorators `tokens.api.views` applies."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view

from opsportal.api.schema import error_response, invalid_response, not_found_response
from opsportal.errors import Forbidden
from tokens.api.serializers import ApiTokenCreatedSerializer, ApiTokenCreateInputSerializer, ApiTokenSerializer
from tokens.models import ApiToken

TOKEN_EXAMPLE = {
    "id": "6760a1f09b1e8a3d4c5b6a71",
    "name": "payments deploy pipeline",
    "owner": "erin",
    "prefix": "opt_Xk3f9a",
    "scopes": ["read", "report_deployments"],
    "teams": ["payments"],
    "expires_at": "2027-06-30T00:00:00Z",
    "state": "active",
    "created_at": "2026-12-16T09:30:00.120Z",
    "created_by": "erin",
    "last_used_at": "2026-12-16T11:02:13.004Z",
    "revoked_at": None,
    "revoked_by": "",
}
CREATE_EXAMPLE = {
    "name": "payments deploy pipeline",
    "scopes": ["read", "report_deployments"],
    "teams": ["payments"],
    "expires_at": "2027-06-30T00:00:00Z",
}
SECRET_EXAMPLE = "opt_Xk3f9aQ2mW0bT7vN4cR8yL1pD6sH5jE3gU9iO2kA0zB"  # noqa: S105 - an example
REVOKED_EXAMPLE = {**TOKEN_EXAMPLE, "state": "revoked", "revoked_at": "2026-12-20T08:00:00.000Z", "revoked_by": "rita"}

NOT_YOURS = error_response(
    "Not your token, and you are not a Release Manager; or an API token tried to manage tokens.",
    (
        "Someone else's token",
        Forbidden("Revoking other users' API tokens needs the Release Managers role.", code="role_required"),
    ),
)

API_TOKEN_VIEWSET_SCHEMA = extend_schema_view(
    list=extend_schema(
        summary="List API tokens",
        examples=[OpenApiExample("Tokens", value=TOKEN_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="Get an API token",
        responses={200: ApiTokenSerializer, 404: not_found_response(ApiToken)},
        examples=[OpenApiExample("Token", value=TOKEN_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Create an API token",
        request=ApiTokenCreateInputSerializer,
        responses={
            201: ApiTokenCreatedSerializer,
            400: invalid_response("Not your team", {"teams": ["'erin' is not a member of: billing."]}),
            403: NOT_YOURS,
        },
        examples=[
            OpenApiExample("Report deployments of a team", value=CREATE_EXAMPLE, request_only=True),
            OpenApiExample(
                "Created (copy the token now)",
                value={**TOKEN_EXAMPLE, "last_used_at": None, "token": SECRET_EXAMPLE},
                response_only=True,
                status_codes=["201"],
            ),
        ],
    ),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="Same as `POST …/revoke`, answering 204. The token stays listed as `revoked`.",
        responses={204: None, 403: NOT_YOURS, 404: not_found_response(ApiToken)},
    ),
)

REVOKE_SCHEMA = extend_schema(
    summary="Revoke an API token",
    request=None,
    responses={200: ApiTokenSerializer, 403: NOT_YOURS, 404: not_found_response(ApiToken)},
    examples=[OpenApiExample("Revoked", value=REVOKED_EXAMPLE, response_only=True)],
)
