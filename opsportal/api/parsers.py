"""The API's one body parser: JSON within the documented input limits (`opsportal.limits`, issue #10).

Every `/api/v1` endpoint parses its body here (settings `DEFAULT_PARSER_CLASSES`), so every one
refuses the same way, before a serializer or a service sees the data:

- a body larger than `MAX_BODY_BYTES` never reaches the parser: Django refuses to read it and
  `opsportal.api.exceptions` answers 413 `payload_too_large`;
- text that is not UTF-8, or not JSON (NaN and Infinity included) → 400 `parse_error`;
- arrays and objects nested more than `MAX_DEPTH` levels, a lone UTF-16 surrogate or a NUL character
  in any string or key → 400 `invalid`, `errors` naming each place (at most `MAX_PROBLEMS`).

Messages quote at most a short excerpt of the input (`opsportal.limits.excerpt`).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils.json import strict_constant

from opsportal.api.renderers import JSONRenderer
from opsportal.errors import ValidationFailed
from opsportal.limits import MAX_DEPTH, document_problems, short_message

NON_FIELD = "non_field_errors"


def _not_json(reason: str) -> ParseError:
    return ParseError(f"The request body is not valid JSON: {reason}.")


def _too_deep() -> ValidationFailed:
    message = f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep."
    return ValidationFailed({NON_FIELD: [message]}, message=message)


# orjson reads an integer beyond 64 bits as a float, where `json` keeps it exact: such bodies take `json`.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def limits_refusal(problems: list[tuple[str, str]]) -> ValidationFailed:
    """400 `invalid` for `opsportal.limits.document_problems`: errors by top-level field, the detail
    naming the first problem."""
    errors: dict[str, list[str]] = {}
    for path, message in problems:
        field = path.split("[", 1)[0].split(".", 1)[0] or NON_FIELD
        errors.setdefault(field, []).append(f"{path}: {message}")
    path, message = problems[0]
    more = f" ({len(problems) - 1} more in `errors`)" if len(problems) > 1 else ""
    return ValidationFailed(errors, message=f"The request body was refused: {path} {message[:-1]}{more}.")


class JSONParser(parsers.JSONParser):
    """JSON bodies within the input limits (see the module); the data as `json.loads` returns it.

    orjson parses (issue #18); a body it refuses goes through `json`, whose errors are the ones we word."""

    renderer_class = JSONRenderer  # what the browsable API's raw-data form renders with

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        data = self._fast(raw, encoding)
        if data is None:
            data = self._stdlib(raw, encoding)
        problems = document_problems(data)
        if problems:
            raise limits_refusal(problems)
        return data

    @staticmethod
    def _fast(raw: bytes, encoding: str) -> Any:
        """What orjson reads, or None when it refuses (or when only `json` reads it exactly)."""
        if encoding.lower().replace("-", "") != "utf8" or _LONG_NUMBER.search(raw):
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None

    def _stdlib(self, raw: bytes, encoding: str) -> Any:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"The request body is not valid {encoding} text (at byte {exc.start}).") from None
        try:
            data = json.loads(text, parse_constant=strict_constant if self.strict else None)
        except RecursionError:
            # Python's own parser gives up near 1,000 levels; our limit is far below.
            raise _too_deep() from None
        except json.JSONDecodeError as exc:
            raise _not_json(f"{exc.msg.lower()} at line {exc.lineno}, column {exc.colno}") from None
        except ValueError as exc:
            message = str(exc)
            if "digits" in message:
                raise _not_json("a number has more than 4,300 digits") from None
            if "not JSON compliant" in message:
                raise _not_json("NaN and Infinity are not JSON numbers") from None
            raise _not_json(short_message(message, 120).rstrip(".")) from None
        return data
