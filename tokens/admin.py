"""API tokens in the backoffice (issue #10): staff create their own (Release Managers: for anyone),
see the secret once, and revoke; tokens are never edited or deleted here. Every write goes through
`tokens.services`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from opsportal.admin import ServiceModelAdmin, ServiceModelForm
from opsportal.clock import now_ms
from opsportal.errors import ApplicationError
from opsportal.roles import is_release_manager
from teams.models import Team
from tokens.choices import TokenScope
from tokens.models import SHOWN_FIELDS, ApiToken
from tokens.selectors import api_token_list
from tokens.services import api_token_create, api_token_revoke

ADD_FIELDS = ("name", "owner", "scopes", "teams", "expires_at")
_SECRET = "_opsportal_token_secret"  # noqa: S105 - the request attribute that carries it


class ApiTokenForm(ServiceModelForm):
    scopes = forms.MultipleChoiceField(choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple)
    teams = forms.MultipleChoiceField(
        choices=[],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Whose releases the 'report deployments' and 'deploy' scopes act on.",
    )

    class Meta:
        model = ApiToken
        fields = list(ADD_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "teams" in self.fields:
            self.fields["teams"].choices = list(Team.objects.order_by("name").values_list("id", "name"))
        if "owner" in self.fields:
            self.fields["owner"].required = False
            self.fields["owner"].queryset = get_user_model()._default_manager.filter(is_active=True)
            self.fields["owner"].help_text = "Leave blank for yourself."


@admin.register(ApiToken)
class ApiTokenAdmin(ServiceModelAdmin):
    form = ApiTokenForm
    list_display = ("name", "owner", "prefix", "scope_list", "team_list", "state", "expires_at", "last_used_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "=prefix")
    service_fields = ADD_FIELDS
    actions = ["revoke_selected"]

    # --- who sees what: staff see their own tokens, Release Managers every token

    def _staff(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_view_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return self._staff(request) and (
            obj is None or obj.owner_id == request.user.pk or is_release_manager(request.user)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._staff(request)

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        return api_token_list(actor=request.user)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        if obj is not None:
            return SHOWN_FIELDS
        return [field for field in ADD_FIELDS if field != "owner" or is_release_manager(request.user)]

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None):
        return SHOWN_FIELDS if obj is not None else ()

    # --- create: through the service; the answer shows the secret, this once

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> ApiToken:
        token, secret = api_token_create(actor=request.user, **{**data, "owner": data.get("owner") or None})
        setattr(request, _SECRET, secret)
        return token

    def response_add(self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "API token created",
            "token": obj,
            "secret": getattr(request, _SECRET),
        }
        return TemplateResponse(request, "admin/tokens/apitoken/created.html", context)

    # --- revoke

    @admin.action(description="Revoke the selected tokens")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked = 0
        for token in queryset:
            try:
                api_token_revoke(token=token, actor=request.user)
            except ApplicationError as error:
                messages.error(request, f"{token}: {error.message}")
            else:
                revoked += 1
        if revoked:
            messages.success(request, f"Revoked {revoked} token(s).")

    # --- columns

    @admin.display(description="State")
    def state(self, token: ApiToken) -> str:
        return token.state(now_ms())

    @admin.display(description="Scopes")
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes) or "—"

    @admin.display(description="Teams")
    def team_list(self, token: ApiToken) -> str:
        return ", ".join(token.teams) or "—"
