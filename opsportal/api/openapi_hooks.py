"""drf-spectacular post-processing: what no single operation decides (issue #14).

- Nullable references are written so that strict OpenAPI 3.0 tools accept a `null`:
  `oneOf: [{$ref}, {nullable: true, enum: [null]}]` (`nullable` beside an `allOf` does not apply to
  what the `$ref` says, so strict validators refuse the `null`).
- A query parameter whose values are those of an enum component points at that component: one enum
  component per set of values.
- Security schemes: the bearer JWT first, saying how to get a token; the session cookie of the admin
  and the browsable API after it.
- Tags: one per resource, with a description, in the order of the docs.
- Examples use our URLs: pagination links point at the list itself, path parameters show a real id.

Per-operation errors and headers are added by `opsportal.api.schema.AutoSchema`.
"""

from __future__ import annotations

import re
from typing import Any

DEMO_BASE_URL = "http://127.0.0.1:8080"  # the quick start's server (README)
NULL = {"nullable": True, "enum": [None]}

TAGS = {
    "releases": "Releases: a version with its features and tasks, moving through approval (submit, approve, "
    "reject) and deployments (deploy, rollback); metrics, history, and the analytics of all releases.",
    "deployments": "Deployments and rollbacks, created by the release actions; CI/CD pipelines report the result "
    "of an `in_progress` deployment with `PATCH`.",
    "environments": "Deployment targets in promotion order (development → staging → production): configuration, "
    "approval policy, health; `…/status` shows what runs there.",
    "freezes": "The freeze calendar: one-off and recurring freezes (RFC 5545 RRULE, EXDATEs, a duration, an IANA "
    "time zone) scoped to environments, tiers and teams; `…/occurrences` expands it.",
    "teams": "Teams own releases; their members link to users by username (Engineers may change the releases of "
    "their teams).",
    "workflows": "Promotion paths: the ordered stages a release goes through (stage N only after N-1 succeeded), "
    "and triggers.",
    "dashboard": "Figures for the web frontend's dashboard: releases by status, pending approvals, deployment "
    "counts and trends, health.",
    "audit": "The append-only, hash-chained audit trail of every write (Release Managers).",
    "tokens": "API tokens for CI/CD pipelines: named, scoped (read, report deployments, deploy, report incidents; "
    "teams), expiring and revocable; the secret is shown once, when the token is created.",
    "incidents": "Incidents: failures in an environment, linked to the deployment (and release) that caused them; "
    "reported by CI/CD tokens, Engineers of the environment's teams and Release Managers; resolved.",
    "dora": "The DORA metrics in GitLab's shape: deployment frequency, lead time for changes, time to restore "
    "service, change failure rate and deployment rework rate, with their performance levels.",
    "evidence": "Release evidence for auditors: the Ed25519 public key that verifies signed evidence offline.",
    "auth": "JSON Web Tokens: exchange a username and password for an access and a refresh token.",
    "events": "Events (CDEvents envelope) of every change consumers follow: their catalogue, the list, and the live "
    "Server-Sent Events stream, resumable with `Last-Event-ID`.",
    "webhooks": "Webhook subscriptions (Standard Webhooks signatures, secret rotation, test event) and their "
    "delivery log: every attempt, replay, redelivery.",
}

SECURITY_DESCRIPTIONS = {
    "jwtAuth": 'A JWT access token: `POST /api/v1/auth/token/` with `{"username": …, "password": …}` answers '
    '`{"access": …, "refresh": …}`; send `Authorization: Bearer <access>`. An access token lives '
    '`JWT_ACCESS_MINUTES` (30 by default); `POST /api/v1/auth/token/refresh/` with `{"refresh": …}` gives a '
    "new one. In Swagger UI, paste the access token alone (without `Bearer`).",
    "cookieAuth": "The Django session cookie (`sessionid`) of a user signed in at `/admin/`: the admin and the "
    "browsable API use it (writes also send the `X-CSRFToken` header). Scripts and other clients use the "
    "bearer token.",
}
FIRST_SCHEMES, LAST_SCHEMES = ("jwtAuth",), ("cookieAuth",)


def finish_schema(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """The `POSTPROCESSING_HOOKS` entry (after drf-spectacular's enum hook)."""
    _header_components(result)
    _strict_nullable_references(result)
    _parameter_enums_as_components(result)
    _security_schemes(result)
    _tags(result)
    _path_parameter_examples(result)
    _pagination_examples(result)
    return result


def _header_components(result: dict[str, Any]) -> None:
    from opsportal.api.schema import HEADER_SCHEMAS

    prefix = "#/components/headers/"
    used = {
        node["$ref"][len(prefix) :]
        for node in _walk(result.get("paths", {}))
        if str(node.get("$ref", "")).startswith(prefix)
    }
    if used:
        headers = result.setdefault("components", {}).setdefault("headers", {})
        headers.update({name: HEADER_SCHEMAS[name] for name in sorted(used)})


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _strict_nullable_references(result: dict[str, Any]) -> None:
    for node in list(_walk(result)):
        if node.get("nullable") is not True:
            continue
        parts = node.get("allOf") or node.get("oneOf") or node.get("anyOf")
        if "$ref" in node:
            parts = [{"$ref": node.pop("$ref")}]
        if not parts or "type" in node:
            continue
        for key in ("allOf", "oneOf", "anyOf", "nullable"):
            node.pop(key, None)
        accepts_null = any(
            part == {"$ref": "#/components/schemas/NullEnum"} or None in part.get("enum", []) for part in parts
        )
        node["oneOf"] = parts if accepts_null else [*parts, dict(NULL)]


def _parameter_enums_as_components(result: dict[str, Any]) -> None:
    """A parameter's values are the enum component with the same values; one is made where none has them."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    by_values = {
        frozenset(schema["enum"]): name
        for name, schema in schemas.items()
        if "enum" in schema and None not in schema["enum"] and len(schema["enum"]) > 1
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema", {})
                holder, key = (schema, "items") if schema.get("type") == "array" else (parameter, "schema")
                target = holder.get(key, {})
                values = target.get("enum")
                if not values or None in values or "default" in target:
                    continue
                name = by_values.get(frozenset(values))
                if name is None:
                    name = _free_name(schemas, _camel(parameter["name"]), _camel(operation.get("operationId", "")))
                    schemas[name] = {"type": target.get("type", "string"), "enum": list(values)}
                    by_values[frozenset(values)] = name
                holder[key] = {"$ref": f"#/components/schemas/{name}"}
    result["components"]["schemas"] = dict(sorted(schemas.items()))


def _camel(words: str) -> str:
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", words) if word)


def _free_name(schemas: dict[str, Any], name: str, qualifier: str) -> str:
    for candidate in (f"{name}Enum", f"{qualifier}{name}Enum"):
        if candidate not in schemas:
            return candidate
    raise ValueError(f"No free component name for the values of parameter {name!r}")


def _security_schemes(result: dict[str, Any]) -> None:
    schemes = result.get("components", {}).get("securitySchemes")
    if not schemes:
        return

    def rank(name: str) -> tuple[int, str]:
        return (0 if name in FIRST_SCHEMES else 2 if name in LAST_SCHEMES else 1, name)

    for name, scheme in schemes.items():
        if name in SECURITY_DESCRIPTIONS:
            scheme["description"] = SECURITY_DESCRIPTIONS[name]
    result["components"]["securitySchemes"] = {name: schemes[name] for name in sorted(schemes, key=rank)}
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation["security"].sort(key=lambda requirement: rank(next(iter(requirement), "~")))


def _tags(result: dict[str, Any]) -> None:
    used = {
        tag
        for operations in result.get("paths", {}).values()
        for op in operations.values()
        for tag in op.get("tags", [])
    }
    order = [*TAGS, *sorted(used - set(TAGS))]
    result["tags"] = [
        {"name": name, **({"description": TAGS[name]} if name in TAGS else {})} for name in order if name in used
    ]


def _response_example_values(operation: dict[str, Any], status: str) -> list[Any]:
    content = operation.get("responses", {}).get(status, {}).get("content", {}).get("application/json", {})
    return [example.get("value") for example in content.get("examples", {}).values()]


def _path_parameter_examples(result: dict[str, Any]) -> None:
    """A path's `{id}` shows the id of the detail's example (Swagger's "Try it out" starts from it)."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        if not path.endswith("/{id}/"):
            continue
        ids = [value["id"] for value in _response_example_values(operations.get("get", {}), "200") if "id" in value]
        if not ids:
            continue
        for other_path, other_operations in paths.items():
            if not other_path.startswith(path):
                continue
            for operation in other_operations.values():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "path" and parameter["name"] == "id":
                        parameter.setdefault("example", str(ids[0]))


def _page_url(path: str, operation: dict[str, Any], page: int | None) -> str:
    ids = {p["name"]: p.get("example", "…") for p in operation.get("parameters", []) if p["in"] == "path"}
    url = DEMO_BASE_URL + re.sub(r"\{(\w+)\}", lambda match: str(ids.get(match.group(1), "…")), path).rstrip("/")
    return f"{url}?page={page}" if page and page > 1 else url


def _pagination_examples(result: dict[str, Any]) -> None:
    """Page 2 of 3 of the list itself (DRF's `previous` of page 2 leaves `page` out)."""
    schemas = result.get("components", {}).get("schemas", {})
    for path, operations in result.get("paths", {}).items():
        operation = operations.get("get")
        if not operation:
            continue
        response = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
        ref = response.get("schema", {}).get("$ref", "")
        name = ref.rsplit("/", 1)[-1]
        if not name.startswith("Paginated") or name not in schemas:
            continue
        properties = schemas[name]["properties"]
        properties["count"]["example"] = 41
        properties["next"]["example"] = _page_url(path, operation, 3)
        properties["previous"]["example"] = _page_url(path, operation, 1)
        for example in response.get("examples", {}).values():
            value = example.get("value")
            if isinstance(value, dict) and "results" in value:
                value.update(count=41, next=_page_url(path, operation, 3), previous=_page_url(path, operation, 1))
