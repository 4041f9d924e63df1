"""Model-layer building blocks of the reference documents (environments, teams, workflows): the
abstract `NamedDocument`, and the JSON Schema shapes of the documents they embed (`<app>/schemas.py`)."""

from typing import Any

from django.db import models

from opsportal.clock import now_ms


def closed_object(title: str, properties: dict[str, Any], *, required: list[str]) -> dict[str, Any]:
    """The schema of an embedded object: these properties only (an unknown key is an error, not kept)."""
    return {
        "type": "object",
        "title": title,
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def array_of(items: dict[str, Any], *, max_items: int, title: str) -> dict[str, Any]:
    """The schema of an embedded list, bounded so a document stays small (DESIGN §3: embed what is bounded)."""
    return {"type": "array", "items": items, "maxItems": max_items, "title": title}


class NamedDocument(models.Model):
    """A document with a slug id chosen on create, a unique name, a description, a `revision`
    (+1 on every write, for conditional updates and `ETag`s) and timestamps."""

    id = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True, default="")
    revision = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=now_ms, editable=False)
    # Set by the services on every write (one conditional update), to the millisecond.
    updated_at = models.DateTimeField(default=now_ms, editable=False)

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
