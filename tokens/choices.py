"""What an API token may be scoped to do (issue #10)."""

from django.db import models


class TokenScope(models.TextChoices):
    # Every GET its owner may make.
    READ = "read", "Read"
    # PATCH /api/v1/deployments/{id} (status reports) of its teams' releases.
    REPORT_DEPLOYMENTS = "report_deployments", "Report deployments"
    # POST /api/v1/releases/{id}/deploy of its teams' releases.
    DEPLOY = "deploy", "Deploy"
    # POST/PATCH /api/v1/incidents and POST /api/v1/incidents/{id}/resolve in environments its teams deploy to.
    REPORT_INCIDENTS = "report_incidents", "Report incidents"


# Scopes that act on a team's releases: a token with one of them names its teams.
TEAM_SCOPES = frozenset({TokenScope.REPORT_DEPLOYMENTS, TokenScope.DEPLOY, TokenScope.REPORT_INCIDENTS})
