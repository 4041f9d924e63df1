"""Validation of embedded documents against their JSON Schema (one schema per shape).

The same schema dicts feed the model validators (API and admin), the OpenAPI document
(`extend_schema_field`) and the admin's form widgets.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.module_loading import import_string
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError


def error_path(field: str, error: SchemaError) -> str:
    """`features[1].tasks[0].status` for an error deep inside the `features` document."""
    path = field
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


@cache
def _validator(schema_path: str) -> Draft202012Validator:
    schema = import_string(schema_path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_errors(schema_path: str, field: str, value: Any) -> list[str]:
    """Every violation of the schema, each prefixed by the path of the offending value."""
    errors = sorted(_validator(schema_path).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{error_path(field, error)}: {error.message}" for error in errors]


@deconstructible
class JSONSchemaValidator:
    """Model-field validator; takes the dotted path of the schema so migrations stay small."""

    def __init__(self, schema_path: str, field: str) -> None:
        self.schema_path = schema_path
        self.field = field

    def __call__(self, value: Any) -> None:
        messages = schema_errors(self.schema_path, self.field, value)
        if messages:
            raise ValidationError(messages, code="invalid_document")

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, JSONSchemaValidator)
            and other.schema_path == self.schema_path
            and other.field == self.field
        )

    def __hash__(self) -> int:
        return hash((self.schema_path, self.field))
