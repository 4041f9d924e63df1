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
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaError

from opsportal.limits import EXCERPT_CHARS, MAX_PROBLEMS, excerpt, short_message


def error_path(field: str, error: SchemaError) -> str:
    """`features[1].tasks[0].status` for an error deep inside the `features` document."""
    path = field
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


# The formats checked here, named: jsonschema checks some formats only when an optional package is
# installed (`date-time` with rfc3339-validator, which the OpenAPI contract tests bring in), and the
# answers must not depend on that. Date-times are checked by the services, which also require a
# time zone and say so (e.g. `freeze_windows[0].starts_at: must be an ISO 8601 date-time with a time zone`).
FORMAT_CHECKER = FormatChecker(formats=("email",))


@cache
def _validator(schema_path: str) -> Draft202012Validator:
    schema = import_string(schema_path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FORMAT_CHECKER)


# Limits whose message says by how much the value is over (jsonschema's repeats the whole value).
_COUNTED = {"maxItems": "items", "maxLength": "characters", "maxProperties": "keys"}


def schema_message(error: SchemaError) -> str:
    """jsonschema's message, quoting at most a short excerpt of the value (issue #10: a refusal never
    echoes a large input back)."""
    if error.validator in _COUNTED and isinstance(error.instance, list | str | dict):
        unit = _COUNTED[error.validator]
        return f"is too long: {len(error.instance):,} {unit}, at most {error.validator_value:,} allowed"
    shown = repr(error.instance)
    message = error.message.replace(shown, excerpt(shown)) if len(shown) > EXCERPT_CHARS else error.message
    return short_message(message)


def schema_errors(schema_path: str, field: str, value: Any) -> list[str]:
    """The violations of the schema (at most `MAX_PROBLEMS`, then how many more), each prefixed by
    the path of the offending value."""
    errors = sorted(_validator(schema_path).iter_errors(value), key=lambda e: list(map(str, e.absolute_path)))
    messages = [f"{error_path(field, error)}: {schema_message(error)}" for error in errors[:MAX_PROBLEMS]]
    if len(errors) > MAX_PROBLEMS:
        messages.append(f"{field}: {len(errors) - MAX_PROBLEMS:,} more problems not listed")
    return messages


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
