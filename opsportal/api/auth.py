"""JWT endpoints (djangorestframework-simplejwt), documented with examples."""

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_view
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from opsportal.api.throttling import LoginThrottleMixin

_TOKENS = {"access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ…", "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6…"}


@extend_schema_view(
    post=extend_schema(
        summary="Get a token pair",
        description="Exchange a username and password for an access token (send it as "
        "`Authorization: Bearer <access>`) and a refresh token.",
        examples=[
            OpenApiExample("Credentials", value={"username": "alice", "password": "s3cret"}, request_only=True),
            OpenApiExample("Tokens", value=_TOKENS, response_only=True, status_codes=["200"]),
        ],
    )
)
class TokenObtainView(LoginThrottleMixin, TokenObtainPairView):
    """`POST /api/v1/auth/token/`."""

    queue_writes = False  # a password hash takes a while and writes nothing (opsportal.middleware)


@extend_schema_view(
    post=extend_schema(
        summary="Refresh the access token",
        examples=[
            OpenApiExample("Refresh token", value={"refresh": _TOKENS["refresh"]}, request_only=True),
            OpenApiExample(
                "New access token", value={"access": _TOKENS["access"]}, response_only=True, status_codes=["200"]
            ),
        ],
    )
)
class TokenRefreshingView(TokenRefreshView):
    """`POST /api/v1/auth/token/refresh/`."""

    queue_writes = False  # writes nothing (opsportal.middleware)
