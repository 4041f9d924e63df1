"""The OpenAPI contract, checked on every response the test suite receives (issue #14).

The pytest plugin below wraps Django's test client (`django.test.Client.request`, which DRF's
`APIClient` calls too), so every `/api/v1` response of every test — through the shared `api` /
`api_client` fixtures, `client_for(user)` or a bare `APIClient()` — is checked against the operation
the schema declares for its method and path:

- its status code is declared;
- its JSON body validates against the declared schema with a strict OpenAPI 3.0 validator
  (`openapi-schema-validator`'s `OAS30ReadValidator`: `nullable`, `readOnly`, formats), in a
  closed world: an object the schema lists `properties` for may carry no other key, so every field the
  API sends is declared;
- the headers the API sets (`ETag`, `Location`, `Idempotent-Replayed`, `Retry-After`, `X-Request-ID`,
  `WWW-Authenticate`) are declared on that response, and the declared `required` ones are there.

A test that means to send what the contract does not describe marks itself
`@pytest.mark.no_openapi_contract`. `openapi_contract_violations` is the checker for other callers.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest

API_PATH = re.compile(r"^/api/v\d+/")
CHECKED_HEADERS = ("ETag", "Location", "Idempotent-Replayed", "Retry-After", "X-Request-ID", "WWW-Authenticate")


class ContractViolation(AssertionError):
    """A response that the OpenAPI schema does not describe."""


def closed_world(node: Any) -> Any:
    """A copy of a schema in which every object that lists `properties` allows no other key."""
    if isinstance(node, list):
        return [closed_world(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: closed_world(value) for key, value in node.items()}
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


@dataclass
class Operation:
    method: str
    path: str
    spec: dict[str, Any]


class Contract:
    """The operations of one OpenAPI document, and the validators of their responses."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.components = closed_world(schema.get("components", {}))
        self.routes: list[tuple[re.Pattern[str], str, dict[str, Any]]] = []
        for path, item in schema.get("paths", {}).items():
            # Every route answers with and without its trailing slash (`OptionalSlashRouter`).
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(path.rstrip("/")))
            self.routes.append((re.compile(f"^{pattern}/?$"), path, item))
        # Literal segments before parameters: `/releases/analytics/` wins over `/releases/{id}/`.
        self.routes.sort(key=lambda route: route[1].count("{"))
        self._validators: dict[str, Any] = {}

    def operation(self, method: str, path: str) -> Operation | None:
        for pattern, template, item in self.routes:
            if pattern.match(path):
                spec = item.get(method.lower())
                return Operation(method.upper(), template, spec) if spec else None
        return None

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.schema
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any], *, request: bool = False) -> Any:
        """A strict OpenAPI 3.0 validator of `schema` (closed world) for a response, or a request body."""
        from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator
        from openapi_schema_validator._format import oas30_format_checker

        key = json.dumps([schema, request], sort_keys=True)
        if key not in self._validators:
            document = {**closed_world(schema), "components": self.components}
            cls = OAS30WriteValidator if request else OAS30ReadValidator
            self._validators[key] = cls(document, format_checker=oas30_format_checker)
        return self._validators[key]

    def violations(
        self, *, method: str, path: str, status: int, headers: Any, content_type: str, body: bytes
    ) -> Iterator[str]:
        """What is wrong with this response of `method path` (nothing when it is not an API operation)."""
        if not API_PATH.match(path):
            return
        operation = self.operation(method, path)
        if operation is None:
            return  # not an operation of the API (a 404 for an unknown URL, OPTIONS, HEAD)
        where = f"{method.upper()} {path} → {status} ({operation.spec.get('operationId')})"
        responses = operation.spec.get("responses", {})
        declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX") or responses.get("default")
        if declared is None:
            yield f"{where}: status {status} is not declared (declared: {', '.join(responses)})"
            return
        declared = self.resolve(declared)
        yield from self._header_violations(where, declared, headers)
        media_type = content_type.split(";", 1)[0].strip()
        if not body:
            if declared.get("content"):
                yield f"{where}: the schema declares a body, the response has none"
            return
        if media_type != "application/json" and not media_type.endswith("+json"):
            return  # the browsable API's HTML and the like: only JSON is the contract
        content = (declared.get("content") or {}).get("application/json")
        if content is None:
            yield f"{where}: a JSON body, but the schema declares none for {status}"
            return
        data = json.loads(body)
        for error in sorted(self.validator(content["schema"]).iter_errors(data), key=lambda e: list(e.absolute_path)):
            location = "".join(f"[{part!r}]" for part in error.absolute_path) or "the body"
            yield f"{where}: {location}: {error.message}"

    def _header_violations(self, where: str, declared: dict[str, Any], headers: Any) -> Iterator[str]:
        documented = {name.lower(): self.resolve(spec) for name, spec in (declared.get("headers") or {}).items()}
        for name in CHECKED_HEADERS:
            value = headers.get(name)
            spec = documented.get(name.lower())
            if value is not None and spec is None:
                yield f"{where}: header {name} is sent but not declared on this response"
            elif value is None and spec is not None and spec.get("required"):
                yield f"{where}: header {name} is declared required but not sent"
            elif value is not None and spec is not None:
                schema = spec.get("schema", {})
                parsed: Any = value
                if schema.get("type") == "integer":
                    parsed = int(value) if value.isdigit() else value
                for error in self.validator(schema).iter_errors(parsed):
                    yield f"{where}: header {name}: {error.message}"


@cache
def api_contract() -> Contract:
    """The contract of the API as this process serves it (`/api/schema/`), generated once."""
    from drf_spectacular.generators import SchemaGenerator

    return Contract(copy.deepcopy(SchemaGenerator().get_schema(request=None, public=True)))


def openapi_contract_violations(response: Any, *, method: str | None = None, path: str | None = None) -> list[str]:
    """The contract violations of a Django test client response."""
    if getattr(response, "streaming", False):
        return []
    request = getattr(response, "request", None) or {}
    return list(
        api_contract().violations(
            method=method or request.get("REQUEST_METHOD", "GET"),
            path=path or request.get("PATH_INFO", ""),
            status=response.status_code,
            headers=response.headers,
            content_type=response.get("Content-Type", ""),
            body=response.content,
        )
    )


def check_openapi_contract(response: Any) -> None:
    violations = openapi_contract_violations(response)
    if violations:
        raise ContractViolation("The response breaks the OpenAPI contract:\n  " + "\n  ".join(violations))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "no_openapi_contract: do not check this test's API responses against the OpenAPI schema"
    )


@pytest.fixture(autouse=True)
def _openapi_contract(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every API response a test receives through Django's test client is checked (see the module)."""
    if request.node.get_closest_marker("no_openapi_contract"):
        return
    from django.test.client import Client

    original = Client.request

    def request_checked(self: Client, **environ: Any) -> Any:
        response = original(self, **environ)
        check_openapi_contract(response)
        return response

    monkeypatch.setattr(Client, "request", request_checked)
