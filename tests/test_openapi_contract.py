"""The OpenAPI contract that generated clients rely on (issue #14).

The schema is valid OpenAPI 3.0 (openapi-spec-validator); operations are tagged by resource with
readable, stable ids; every field a response always carries is `required`; embedded shapes and value
sets are named components; nullable references pass strict validators; every error body and header is
declared; examples are realistic and valid. The checker that validates every API response of the test
suite (`opsportal.testing.openapi_contract`) is tested here too.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from openapi_spec_validator import OpenAPIV30SpecValidator
from rest_framework import serializers
from rest_framework.fields import empty

from opsportal.api.schema import ErrorSerializer
from opsportal.testing.openapi_contract import Contract, closed_world

METHODS = ("get", "post", "put", "patch", "delete")
RESOURCES = ("releases", "deployments", "environments", "teams", "workflows", "dashboard", "audit", "auth")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, Any], SchemaGenerator]:
    generator = SchemaGenerator()
    schema = generator.get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema)), generator


@pytest.fixture(scope="module")
def schema(generated) -> dict[str, Any]:
    return generated[0]


@pytest.fixture(scope="module")
def contract(schema) -> Contract:
    return Contract(schema)


def operations(schema: dict[str, Any]):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def walk(node: Any, where: str = "#"):
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from walk(item, f"{where}/{index}")


def component_name(node: dict[str, Any]) -> str:
    """The component a property refers to (`$ref`, or drf-spectacular's `allOf: [$ref]` beside a description)."""
    if "allOf" in node and len(node["allOf"]) == 1:
        node = node["allOf"][0]
    return node["$ref"].rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- valid OpenAPI 3.0


def test_the_schema_is_valid_openapi_3_0_as_json_and_as_yaml(generated):
    schema, _ = generated
    OpenAPIV30SpecValidator(schema).validate()
    served_yaml = yaml.safe_load(OpenApiYamlRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))
    OpenAPIV30SpecValidator(json.loads(json.dumps(served_yaml, default=str))).validate()


# --------------------------------------------------------------------------- tags and operation ids

# A generated client's functions are named after these: changing one breaks its users (issue #14).
STABLE_OPERATION_IDS = {
    ("get", "/api/v1/releases/"): "releases_list",
    ("post", "/api/v1/releases/"): "releases_create",
    ("get", "/api/v1/releases/{id}/"): "releases_retrieve",
    ("put", "/api/v1/releases/{id}/"): "releases_update",
    ("patch", "/api/v1/releases/{id}/"): "releases_partial_update",
    ("delete", "/api/v1/releases/{id}/"): "releases_destroy",
    ("post", "/api/v1/releases/{id}/submit/"): "releases_submit",
    ("post", "/api/v1/releases/{id}/approve/"): "releases_approve",
    ("post", "/api/v1/releases/{id}/reject/"): "releases_reject",
    ("post", "/api/v1/releases/{id}/deploy/"): "releases_deploy",
    ("post", "/api/v1/releases/{id}/rollback/"): "releases_rollback",
    ("get", "/api/v1/releases/{id}/deploy-check/"): "releases_deploy_check",
    ("get", "/api/v1/releases/{id}/metrics/"): "releases_metrics",
    ("get", "/api/v1/releases/{id}/history/"): "releases_history",
    ("get", "/api/v1/releases/analytics/"): "releases_analytics",
    ("get", "/api/v1/deployments/"): "deployments_list",
    ("get", "/api/v1/deployments/{id}/"): "deployments_retrieve",
    ("patch", "/api/v1/deployments/{id}/"): "deployments_partial_update",
    ("get", "/api/v1/environments/"): "environments_list",
    ("post", "/api/v1/environments/"): "environments_create",
    ("get", "/api/v1/environments/{id}/"): "environments_retrieve",
    ("put", "/api/v1/environments/{id}/"): "environments_update",
    ("patch", "/api/v1/environments/{id}/"): "environments_partial_update",
    ("delete", "/api/v1/environments/{id}/"): "environments_destroy",
    ("get", "/api/v1/environments/{id}/status/"): "environments_status",
    ("get", "/api/v1/teams/"): "teams_list",
    ("post", "/api/v1/teams/"): "teams_create",
    ("get", "/api/v1/teams/{id}/"): "teams_retrieve",
    ("put", "/api/v1/teams/{id}/"): "teams_update",
    ("patch", "/api/v1/teams/{id}/"): "teams_partial_update",
    ("delete", "/api/v1/teams/{id}/"): "teams_destroy",
    ("get", "/api/v1/teams/{id}/members/"): "teams_members",
    ("get", "/api/v1/workflows/"): "workflows_list",
    ("post", "/api/v1/workflows/"): "workflows_create",
    ("get", "/api/v1/workflows/{id}/"): "workflows_retrieve",
    ("put", "/api/v1/workflows/{id}/"): "workflows_update",
    ("patch", "/api/v1/workflows/{id}/"): "workflows_partial_update",
    ("delete", "/api/v1/workflows/{id}/"): "workflows_destroy",
    ("get", "/api/v1/dashboard/stats/"): "dashboard_stats",
    ("get", "/api/v1/dashboard/metrics/"): "dashboard_metrics",
    ("get", "/api/v1/dashboard/health/"): "dashboard_health",
    ("get", "/api/v1/audit-events/"): "audit_events_list",
    ("get", "/api/v1/audit-events/{id}/"): "audit_events_retrieve",
    ("get", "/api/v1/audit-events/verify/"): "audit_events_verify",
    ("post", "/api/v1/auth/token/"): "auth_token",
    ("post", "/api/v1/auth/token/refresh/"): "auth_token_refresh",
}


def test_operation_ids_are_readable_unique_and_stable(schema):
    ids = {(method, path): operation["operationId"] for method, path, operation in operations(schema)}
    assert {key: ids.get(key) for key in STABLE_OPERATION_IDS} == STABLE_OPERATION_IDS
    assert len(set(ids.values())) == len(ids)
    for (_, path), operation_id in ids.items():
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation_id), operation_id
        first_word = path.split("/")[3].replace("-", "_")
        assert operation_id.startswith(first_word), (path, operation_id)


def test_each_operation_has_one_resource_tag_and_every_tag_a_description(schema):
    tags = {method + " " + path: operation.get("tags") for method, path, operation in operations(schema)}
    assert all(len(found or []) == 1 for found in tags.values()), tags
    declared = {tag["name"]: tag.get("description", "") for tag in schema["tags"]}
    assert set(RESOURCES) <= set(declared)
    assert {tag for found in tags.values() for tag in found} == set(declared)
    assert all(description for description in declared.values()), declared
    assert [tag for tag in declared if tag in RESOURCES] == list(RESOURCES)  # the order of the docs
    by_path = {path: operation["tags"][0] for _, path, operation in operations(schema)}
    assert by_path["/api/v1/releases/{id}/deploy/"] == "releases"
    assert by_path["/api/v1/releases/analytics/"] == "releases"
    assert by_path["/api/v1/environments/{id}/status/"] == "environments"
    assert by_path["/api/v1/audit-events/"] == "audit"
    assert by_path["/api/v1/auth/token/"] == "auth"


# --------------------------------------------------------------------------- required fields


def sent_whenever_rendered(serializer: serializers.Serializer, field: serializers.Field) -> bool:
    """DRF's `Field.get_attribute`: a field is left out of a response only when its source lacks the
    attribute or key AND it has no default, is not nullable and is not required. A model instance has
    every attribute, so a ModelSerializer sends every readable field."""
    if field.write_only:
        return False
    if isinstance(serializer, serializers.ModelSerializer):
        return True
    return field.required or field.read_only or field.default is not empty or field.allow_null


def test_every_field_a_response_always_carries_is_required(generated):
    """Fails when a response field the serializer always sends is not `required` (issue #14)."""
    schema, generator = generated
    missing = {}
    checked = 0
    for component in generator.registry._components.values():
        serializer = component.object
        if component.type != "schemas" or not isinstance(serializer, serializers.Serializer):
            continue
        if component.name.endswith("Request") or isinstance(serializer, ErrorSerializer):
            continue  # request bodies; error envelopes are built key by key, not rendered
        published = schema["components"]["schemas"].get(component.name)
        if published is None:
            continue
        checked += 1
        required = set(published.get("required", []))
        always = {
            name
            for name, field in serializer.fields.items()
            if name in published["properties"] and sent_whenever_rendered(serializer, field)
        }
        if always - required:
            missing[component.name] = sorted(always - required)
    assert checked >= 30
    assert missing == {}


def test_ids_and_always_sent_fields_are_required_where_clients_complained(schema):
    components = schema["components"]["schemas"]
    for name in ("Environment", "Team", "Workflow"):
        assert "id" in components[name]["required"], name
    assert {"team", "workflow", "description", "features", "target_date"} <= set(components["Release"]["required"])
    page = components["PaginatedReleaseListItemList"]
    assert page["required"] == ["count", "next", "previous", "results"]


# --------------------------------------------------------------------------- components


@pytest.mark.parametrize(
    ("owner", "field", "shape"),
    [
        ("Release", "features", "Feature"),
        ("Release", "approvals", "Approval"),
        ("ApprovalPolicy", "rules", "ApprovalRule"),
        ("Team", "members", "Member"),
        ("Workflow", "stages", "Stage"),
        ("Workflow", "triggers", "Trigger"),
        ("TeamMemberList", "members", "Member"),
    ],
)
def test_embedded_shapes_are_named_components(schema, owner, field, shape):
    components = schema["components"]["schemas"]
    assert component_name(components[owner]["properties"][field]["items"]) == shape
    feature = components["Feature"]
    assert component_name(feature["properties"]["tasks"]["items"]) == "Task"
    # Lists, detail and writes of a release share one Feature (a write takes `FeatureRequest`, whose
    # defaulted fields are optional).
    for name in ("Release", "ReleaseListItem"):
        assert component_name(components[name]["properties"]["features"]["items"]) == "Feature"
    for name in ("ReleaseRequest", "PatchedReleaseRequest"):
        assert component_name(components[name]["properties"]["features"]["items"]) == "FeatureRequest"


def test_one_enum_component_per_set_of_values(schema):
    components = schema["components"]["schemas"]
    enums = {name: frozenset(s["enum"]) for name, s in components.items() if "enum" in s}
    assert len(set(enums.values())) == len(enums), enums
    for name in (
        "ReleaseStatusEnum",
        "ReleaseActionEnum",
        "FeatureStatusEnum",
        "TaskStatusEnum",
        "DeployBlockerCodeEnum",
    ):
        assert name in enums
    stray = [
        where
        for where, node in walk(schema["paths"])
        if "enum" in node and "/headers/" not in where and node != {"nullable": True, "enum": [None]}
    ]
    stray += [
        f"#/components/schemas/{name}{where[1:]}"
        for name, component in components.items()
        for where, node in walk(component)
        if "enum" in node and where != "#" and node != {"nullable": True, "enum": [None]}
    ]
    assert stray == []  # every other enum is a `$ref` to its component


def test_nullable_references_are_accepted_by_strict_validators(schema, contract):
    for where, node in walk(schema):
        if node.get("nullable") and "type" not in node:
            assert node == {"nullable": True, "enum": [None]}, where
    deployment = schema["components"]["schemas"]["ReleaseEnvironmentSummary"]["properties"]["deployment"]
    assert deployment["oneOf"][0] == {"$ref": "#/components/schemas/Deployment"}
    validator = contract.validator(schema["components"]["schemas"]["ReleaseEnvironmentSummary"])
    value = {
        "environment": "production",
        "name": "Production",
        "tier": "production",
        "health": "healthy",
        "is_current": False,
        "current_release": None,
        "deployment": None,
    }
    assert list(validator.iter_errors(value)) == []
    assert list(validator.iter_errors({**value, "deployment": {"id": "x"}}))  # not a Deployment


# --------------------------------------------------------------------------- errors and headers


def response(schema, method: str, path: str, status: str) -> dict[str, Any]:
    return schema["paths"][path][method]["responses"][status]


def body_schema(schema, method: str, path: str, status: str) -> dict[str, Any]:
    ref = response(schema, method, path, status)["content"]["application/json"]["schema"]
    return schema["components"]["schemas"][component_name(ref)]


def test_every_operation_declares_the_errors_any_request_can_meet(schema):
    for method, path, operation in operations(schema):
        assert {"401", "429", "500", "503"} <= set(operation["responses"]), (method, path)
        if "{" in path:
            assert "404" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "415"} <= set(operation["responses"]), (method, path)


def test_release_refusals_carry_their_context_with_enums(schema):
    conflict = body_schema(schema, "post", "/api/v1/releases/{id}/deploy/", "409")
    properties = conflict["properties"]
    assert component_name(properties["status"]) == "ReleaseStatusEnum"
    assert component_name(properties["allowed_actions"]["items"]) == "ReleaseActionEnum"
    assert component_name(properties["blockers"]["items"]) == "ReleaseDeployBlocker"
    assert properties["current_release"]["nullable"] is True  # 409 `not_current_release`
    rollback = body_schema(schema, "post", "/api/v1/releases/{id}/rollback/", "409")
    assert "current_release" in rollback["properties"]
    stale = body_schema(schema, "patch", "/api/v1/releases/{id}/", "412")
    assert {"etag", "revision"} <= set(stale["properties"])
    blocker = schema["components"]["schemas"]["ReleaseDeployBlocker"]["properties"]
    assert component_name(blocker["code"]) == "DeployBlockerCodeEnum"
    report = body_schema(schema, "patch", "/api/v1/deployments/{id}/", "409")
    assert component_name(report["properties"]["status"]) == "DeploymentStatusEnum"


def test_list_400_examples_carry_no_release_only_fields(schema):
    for method, path, operation in operations(schema):
        if method != "get" or "400" not in operation["responses"]:
            continue
        for example in operation["responses"]["400"]["content"]["application/json"].get("examples", {}).values():
            assert set(example["value"]) <= {"code", "detail", "errors"}, (path, example)


def headers(schema, method: str, path: str, status: str) -> set[str]:
    return set(response(schema, method, path, status).get("headers", {}))


def test_response_headers_are_declared_where_the_api_sets_them(schema):
    for method, path, operation in operations(schema):
        for status, declared in operation["responses"].items():
            assert "X-Request-ID" in declared.get("headers", {}), (method, path, status)
            if status == "201":
                assert "Location" in declared["headers"], (method, path)
            if status in ("429", "503"):
                assert "Retry-After" in declared["headers"], (method, path)
    assert "ETag" in headers(schema, "get", "/api/v1/releases/{id}/", "200")
    assert "ETag" in headers(schema, "patch", "/api/v1/environments/{id}/", "200")
    assert "ETag" not in headers(schema, "get", "/api/v1/deployments/{id}/", "200")  # no ETag there
    assert "Idempotent-Replayed" in headers(schema, "post", "/api/v1/releases/{id}/approve/", "200")
    assert "Idempotent-Replayed" in headers(schema, "post", "/api/v1/releases/{id}/approve/", "409")
    assert "WWW-Authenticate" in headers(schema, "get", "/api/v1/releases/", "401")


# --------------------------------------------------------------------------- descriptions and examples


def test_every_response_and_path_parameter_is_described(schema):
    undescribed = [
        f"{method} {path} {status}"
        for method, path, operation in operations(schema)
        for status, declared in operation["responses"].items()
        if not declared.get("description")
    ]
    undescribed += [
        f"{method} {path} {parameter['name']}"
        for method, path, operation in operations(schema)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path" and not parameter.get("description")
    ]
    assert undescribed == []


def test_examples_are_ours_not_placeholders(schema):
    text = json.dumps(schema)
    for placeholder in ("example.org", "additionalProp1"):
        assert placeholder not in text
    placeholders = [where for where, _, value, _ in all_examples(schema) if "string" in json.dumps(value)]
    assert placeholders == []
    page = schema["components"]["schemas"]["PaginatedReleaseListItemList"]["properties"]
    assert page["next"]["example"].startswith("http://127.0.0.1:8080/api/v1/releases?page=")
    history = response(schema, "get", "/api/v1/releases/{id}/history/", "200")["content"]["application/json"]
    (example,) = history["examples"].values()
    assert re.fullmatch(r"http://127\.0\.0\.1:8080/api/v1/releases/[^/]+/history\?page=3", example["value"]["next"])


def all_examples(schema):
    for method, path, operation in operations(schema):
        for media in operation.get("requestBody", {}).get("content", {}).values():
            for name, example in media.get("examples", {}).items():
                yield f"{method} {path} request {name}", media["schema"], example["value"], True
        for status, declared in operation["responses"].items():
            for media in declared.get("content", {}).values():
                for name, example in media.get("examples", {}).items():
                    yield f"{method} {path} {status} {name}", media["schema"], example["value"], False


def test_every_example_is_valid_against_its_schema(schema, contract):
    problems = [
        f"{where}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
        for where, body, value, request in all_examples(schema)
        for error in contract.validator(body, request=request).iter_errors(value)
    ]
    assert problems == []


# --------------------------------------------------------------------------- security schemes


def test_bearer_jwt_comes_first_and_says_where_tokens_come_from(schema):
    schemes = schema["components"]["securitySchemes"]
    assert next(iter(schemes)) == "jwtAuth"
    assert schemes["jwtAuth"]["scheme"] == "bearer"
    assert "POST /api/v1/auth/token/" in schemes["jwtAuth"]["description"]
    assert "/api/v1/auth/token/refresh/" in schemes["jwtAuth"]["description"]
    assert list(schemes)[-1] == "cookieAuth"
    assert "admin" in schemes["cookieAuth"]["description"] and "browsable API" in schemes["cookieAuth"]["description"]
    for method, path, operation in operations(schema):
        if operation.get("security"):
            assert operation["security"][0] == {"jwtAuth": []}, (method, path)


# --------------------------------------------------------------------------- the checker itself

MINI = {
    "openapi": "3.0.3",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/api/v1/things/{id}/": {
            "get": {
                "operationId": "things_retrieve",
                "responses": {
                    "200": {
                        "description": "A thing.",
                        "headers": {"ETag": {"schema": {"type": "string"}, "required": True}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}},
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "at": {"type": "string", "format": "date-time"},
                    "parent": {"oneOf": [{"$ref": "#/components/schemas/Thing"}, {"nullable": True, "enum": [None]}]},
                },
                "required": ["id", "at", "parent"],
            }
        }
    },
}
THING = {"id": "x", "at": "2026-01-01T00:00:00Z", "parent": None}


def violations(body: Any, status: int = 200, headers: dict[str, str] | None = None, path: str = "/api/v1/things/x"):
    return list(
        Contract(MINI).violations(
            method="GET",
            path=path,
            status=status,
            headers={"ETag": '"x-1"', **(headers or {})},
            content_type="application/json",
            body=json.dumps(body).encode(),
        )
    )


def test_the_checker_accepts_what_the_schema_declares():
    assert violations(THING) == []
    assert violations({**THING, "parent": THING}) == []
    assert violations(THING, path="/api/v1/things/x/") == []
    assert violations(THING, path="/api/v1/other") == []  # not an operation: nothing to check


@pytest.mark.parametrize(
    ("body", "status", "extra_headers", "fragment"),
    [
        ({**THING, "undeclared": 1}, 200, {}, "Additional properties are not allowed"),
        ({k: v for k, v in THING.items() if k != "parent"}, 200, {}, "'parent' is a required property"),
        ({**THING, "at": "yesterday"}, 200, {}, "is not a 'date-time'"),
        ({**THING, "id": None}, 200, {}, "None for not nullable"),
        (THING, 409, {}, "status 409 is not declared"),
        (THING, 200, {"Location": "/api/v1/things/y"}, "header Location is sent but not declared"),
    ],
)
def test_the_checker_refuses_what_the_schema_does_not_declare(body, status, extra_headers, fragment):
    found = violations(body, status, extra_headers)
    assert any(fragment in problem for problem in found), found


def test_the_checker_wants_required_headers():
    found = list(
        Contract(MINI).violations(
            method="GET", path="/api/v1/things/x", status=200, headers={}, content_type="application/json",
            body=json.dumps(THING).encode(),
        )
    )  # fmt: skip
    assert found == ["GET /api/v1/things/x → 200 (things_retrieve): header ETag is declared required but not sent"]


def test_closed_world_leaves_open_maps_open():
    assert closed_world({"type": "object", "additionalProperties": {"type": "string"}}) == {
        "type": "object",
        "additionalProperties": {"type": "string"},
    }
    assert closed_world({"properties": {}})["additionalProperties"] is False


@pytest.mark.django_db
def test_the_suite_s_api_client_is_checked(api):
    """The shared fixtures' clients go through the checker (`opsportal.testing.openapi_contract`)."""
    from django.test.client import Client

    assert Client.request.__name__ == "request_checked"
    assert api.get("/api/v1/teams").status_code == 200


# --------------------------------------------------------------------------- bad tokens


@pytest.mark.django_db
def test_an_expired_token_is_refused_with_a_sentence_not_a_repr(api_client, django_user_model):
    """issue #14: the 401 `detail` was `"{'detail': ErrorDetail(string='Given token not valid…"`."""
    from rest_framework_simplejwt.tokens import AccessToken

    user = django_user_model.objects.create_user("tess", "tess@example.com", "tess-password-123")
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(minutes=1))
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    refused = api_client.get("/api/v1/releases")
    assert refused.status_code == 401
    assert refused.json() == {"code": "token_not_valid", "detail": "The access token is not valid: Token is expired."}
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    garbled = api_client.get("/api/v1/releases").json()
    assert garbled["code"] == "token_not_valid"
    assert "ErrorDetail" not in garbled["detail"] and "{" not in garbled["detail"]
    assert garbled["detail"].startswith("The access token is not valid: ")
