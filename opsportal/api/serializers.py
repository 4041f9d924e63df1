"""Serializer bases for documents (environments, teams, workflows): a slug `id` chosen on create,
every stored field in the model's order, embedded documents documented by their JSON Schema."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from opsportal.schemas import JSONSchemaValidator

BOOKKEEPING = ["revision", "created_at", "updated_at"]  # set by the services, shown last


class EmbeddedDocumentField(serializers.JSONField):
    """An embedded document (JSON). OpenAPI shows `schema`, else the JSON Schema its model
    validator checks, so the API documents exactly what it accepts (its objects as named
    components: `opsportal.api.schema.EmbeddedDocumentFieldExtension`)."""

    def __init__(self, *, schema: dict[str, Any] | None = None, **kwargs: Any) -> None:
        self.document_schema = schema
        super().__init__(**kwargs)

    def openapi_schema(self) -> dict[str, Any] | None:
        if self.document_schema is not None:
            return self.document_schema
        for validator in self.validators:
            if isinstance(validator, JSONSchemaValidator):
                return import_string(validator.schema_path)
        return None


class DocumentSerializer(serializers.ModelSerializer):
    """A whole `NamedDocument`: every stored field in the model's order, `revision` and timestamps
    last and read-only; on create `id` defaults to the slug of `name`. Subclasses set `Meta.model`."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.JSONField: EmbeddedDocumentField,
    }

    id = serializers.SlugField(
        max_length=64, required=False, help_text="Slug; defaults to the slug of the name. Cannot change later."
    )

    class Meta:
        read_only_fields = BOOKKEEPING

    def get_field_names(self, declared_fields, info) -> list[str]:
        names = [field.name for field in self.Meta.model._meta.concrete_fields]
        return [name for name in names if name not in BOOKKEEPING] + BOOKKEEPING


class DocumentUpdateSerializer(serializers.Serializer):
    """Mix in first, before the document's serializer: `id` cannot change; `revision` (optional)
    makes the write conditional on what the client read."""

    id = serializers.SlugField(read_only=True)
    revision = serializers.IntegerField(min_value=1, required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["revision"].help_text = (
            f"The revision you last read; if the {self.Meta.model._meta.verbose_name} changed since, "
            "the update is refused (409)."
        )
        return fields


class BlankableURLFieldExtension(OpenApiSerializerFieldExtension):
    """A URL field that may be blank (`url`, `pipeline_url`) is documented as "a URL or empty",
    so clients and schema validators accept the `""` the API returns when none is set."""

    target_class = "rest_framework.fields.URLField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not (getattr(self.target, "allow_blank", False) or self.target.read_only):
            return schema
        uri = {key: value for key, value in schema.items() if key in ("type", "format", "maxLength")}
        rest = {key: value for key, value in schema.items() if key not in uri}
        return {"anyOf": [uri, {"type": "string", "maxLength": 0}], **rest}
