"""Teams own releases; members link to Django users by username."""

from django.db import models

from opsportal.document_models import NamedDocument
from opsportal.schemas import JSONSchemaValidator


class Team(NamedDocument):
    """A team with its embedded members (name, email, role, username) and project names."""

    members = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("teams.schemas.MEMBERS", "members")]
    )
    projects = models.JSONField(
        default=list, blank=True, validators=[JSONSchemaValidator("teams.schemas.PROJECTS", "projects")]
    )
