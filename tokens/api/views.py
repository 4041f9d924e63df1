"""`/api/v1/tokens`: API tokens for CI/CD. Thin: every change is a call into `tokens.services`."""

from __future__ import annotations

from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from tokens.api.schema import API_TOKEN_VIEWSET_SCHEMA, REVOKE_SCHEMA
from tokens.api.serializers import ApiTokenCreatedSerializer, ApiTokenCreateInputSerializer, ApiTokenSerializer
from tokens.models import ApiToken
from tokens.selectors import api_token_list
from tokens.services import api_token_create, api_token_revoke


@API_TOKEN_VIEWSET_SCHEMA
class ApiTokenViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """API tokens for CI/CD pipelines: your own (Release Managers see everyone's). A token acts as its owner,
    limited by its scopes and teams; its secret is shown once, in the answer to the create."""

    queryset = ApiToken.objects.none()  # per user: `get_queryset`
    serializer_class = ApiTokenSerializer
    # Never anonymous, even where anonymous reads are on: a token list is nobody else's business.
    permission_classes = [*api_settings.DEFAULT_PERMISSION_CLASSES, IsAuthenticated]
    lookup_value_regex = "[^/]+"
    ordering_fields = ["created_at", "name"]
    ordering = ["-created_at", "id"]

    def get_queryset(self):
        return api_token_list(actor=self.request.user)

    def create(self, request: Request) -> Response:
        """Create a token for yourself (Release Managers: for `owner`) and answer its secret, this once."""
        data = ApiTokenCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token, secret = api_token_create(actor=request.user, **data.validated_data)
        token.token = secret
        location = reverse("api-token-detail", kwargs={"pk": token.pk}, request=request)
        return Response(
            ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def perform_destroy(self, instance: ApiToken) -> None:
        api_token_revoke(token=instance, actor=self.request.user)

    @REVOKE_SCHEMA
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk: str | None = None) -> Response:
        """Revoke the token (its owner or a Release Manager): it stops working at once and stays listed."""
        return Response(ApiTokenSerializer(api_token_revoke(token=self.get_object(), actor=request.user)).data)
