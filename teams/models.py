"""Teams own releases; members link to Django users by username."""

from django.db import models

from opsportal.schemas import JSONSchemaValidator


class Team(models.Model):
    """A team with its embedded members (name, email, role, username) and project names."""

    id = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    members = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("teams.schemas.MEMBERS", "members")]
    )
    projects = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("teams.schemas.PROJECTS", "projects")]
    )
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
