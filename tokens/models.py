"""API tokens: credentials of CI/CD pipelines (issue #10)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models

from opsportal.ids import new_id
from opsportal.schemas import JSONSchemaValidator
from tokens.choices import TEAM_SCOPES

# Every secret starts with this, so secret scanners (and people) recognise a leaked one:
# `opt_` followed by 43 URL-safe characters (`opt_[A-Za-z0-9_-]{43}`).
SECRET_PREFIX = "opt_"  # noqa: S105 - the prefix, not a secret

# What a token shows, in the API and the admin, in this order: never its secret or its hash.
# (`state` is `ApiToken.state` now: active, expired or revoked.)
SHOWN_FIELDS = (
    "name",
    "owner",
    "prefix",
    "scopes",
    "teams",
    "expires_at",
    "state",
    "created_at",
    "created_by",
    "last_used_at",
    "revoked_at",
    "revoked_by",
)


class ApiToken(models.Model):
    """A named credential for a pipeline, sent as `Authorization: Bearer opt_…`.

    The request acts as `owner`, limited by `scopes` (`read`, `report_deployments`, `deploy`) and,
    for the scopes that act on releases, by `teams`. Only the sha256 of the secret is stored (the
    secret is shown once, at creation); `prefix` (its first characters) tells tokens apart in lists.
    A token stops working when it expires or is revoked (kept, for the record, never deleted).
    """

    # Stored as `_id` on MongoDB, so lookups by id use the built-in `_id` index (DESIGN §3).
    id = models.CharField(primary_key=True, max_length=64, default=new_id, editable=False, db_column="_id")
    name = models.CharField(max_length=100)
    # Indexed by `apitoken_owner_idx` below (owner first).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", db_index=False
    )
    scopes = models.JSONField(default=list, validators=[JSONSchemaValidator("tokens.schemas.SCOPES", "scopes")])
    teams = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("tokens.schemas.TEAMS", "teams")]
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=16, editable=False)
    created_at = models.DateTimeField(editable=False)
    created_by = models.CharField(max_length=150, blank=True, default="", editable=False)
    # Written at most once a minute per token (`tokens.services.api_token_touch`).
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_by = models.CharField(max_length=150, blank=True, default="", editable=False)

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at", "id"]
        indexes = [
            # Every authenticated request looks its token up by hash: the unique constraint's index is
            # partial on MongoDB, which the planner does not use for equality lookups (DESIGN §3).
            models.Index(fields=["secret_hash"], name="apitoken_secret_hash_idx"),
            # A user's own tokens, newest first (the API's list).
            models.Index(fields=["owner", "-created_at"], name="apitoken_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def state(self, now: datetime) -> str:
        """`active`, `expired` or `revoked` at `now`."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def permits(self, scope: str, team_id: str | None = None) -> bool:
        """Whether the token has `scope` and, for a scope that acts on releases, names the release's team."""
        if scope not in self.scopes:
            return False
        return scope not in TEAM_SCOPES or (team_id is not None and team_id in self.teams)
