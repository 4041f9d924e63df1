"""The OpenAPI document shows the real shapes and an example for every operation of
environments, teams and workflows (issue #3)."""

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema


@pytest.fixture(scope="module")
def schema():
    document = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(document)
    return document


def operations(schema, prefix):
    for path, item in schema["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                if method in {"get", "post", "put", "patch", "delete"}:
                    yield f"{method.upper()} {path}", operation


def has_example(operation) -> bool:
    bodies = [operation.get("requestBody", {}), *operation.get("responses", {}).values()]
    return any(media.get("examples") for body in bodies for media in body.get("content", {}).values())


@pytest.mark.parametrize("prefix", ["/api/v1/environments", "/api/v1/teams", "/api/v1/workflows"])
def test_every_operation_has_an_example(schema, prefix):
    found = dict(operations(schema, prefix))
    assert len(found) >= 6
    assert [name for name, operation in found.items() if not has_example(operation)] == []


def test_custom_actions_are_documented(schema):
    status = schema["paths"]["/api/v1/environments/{id}/status/"]["get"]
    assert status["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/EnvironmentStatus")
    members = schema["paths"]["/api/v1/teams/{id}/members/"]["get"]
    assert members["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TeamMemberList")
    assert "404" in status["responses"] and "404" in members["responses"]


@pytest.mark.parametrize(
    ("component", "field", "item_keys"),
    [
        ("Team", "members", {"name", "email", "role", "username"}),
        ("Workflow", "stages", {"environment", "requires_approval"}),
        ("Workflow", "triggers", {"event", "action", "params"}),
    ],
)
def test_embedded_documents_show_their_nested_shape(schema, component, field, item_keys):
    prop = schema["components"]["schemas"][component]["properties"][field]
    assert prop["type"] == "array"
    assert set(resolve(schema, prop["items"])["properties"]) == item_keys


def resolve(schema, node):
    """The component a `$ref` names (issue #14: embedded shapes are named components)."""
    if "$ref" not in node:
        return node
    return schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]


def test_config_values_are_scalars(schema):
    config = resolve(schema, schema["components"]["schemas"]["Environment"]["properties"]["config"])
    assert config["type"] == "object"
    values = config["additionalProperties"]["oneOf"]
    assert {v.get("type") for v in values} == {"string", "number", "boolean", None}
    assert {"nullable": True, "enum": [None]} in values  # null, as strict OpenAPI 3.0 validators accept it
