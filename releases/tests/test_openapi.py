"""The OpenAPI document of the release and deployment endpoints."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from releases.schemas import APPROVALS, FEATURES


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def own_operations(schema: dict):
    for path, operations in schema["paths"].items():
        if path.startswith(("/api/v1/releases", "/api/v1/deployments")) and "analytics" not in path:
            for method, operation in operations.items():
                yield f"{method.upper()} {path}", operation


def has_example(operation: dict) -> bool:
    contents = [*operation.get("requestBody", {}).get("content", {}).values()]
    contents += [
        content for response in operation["responses"].values() for content in response.get("content", {}).values()
    ]
    return any(content.get("examples") for content in contents)


def test_every_operation_has_an_example(schema):
    operations = dict(own_operations(schema))
    # releases: 6 CRUD + 5 actions + 3 reads + evidence (read, collect); deployments: 3 + cancel
    assert len(operations) == 20
    assert [name for name, operation in operations.items() if not has_example(operation)] == []


def component(schema: dict, ref_holder: dict) -> dict:
    return schema["components"]["schemas"][ref_holder["$ref"].rsplit("/", 1)[-1]]


def test_embedded_documents_show_their_real_shape(schema):
    # issue #14: named components, one per embedded shape, shared by the release's read and write shapes
    release = schema["components"]["schemas"]["Release"]["properties"]
    feature = component(schema, release["features"]["items"])
    task = component(schema, feature["properties"]["tasks"]["items"])
    assert task["properties"].keys() == {"title", "status", "assignee"}
    assert feature["required"] == ["name", "description", "status", "tasks"]  # the services store the defaults
    request_feature = component(
        schema, schema["components"]["schemas"]["ReleaseRequest"]["properties"]["features"]["items"]
    )
    assert request_feature["required"] == FEATURES["items"]["required"]
    approval = component(schema, release["approvals"]["items"])
    assert approval["properties"].keys() == APPROVALS["items"]["properties"].keys()
    assert release["approvals"]["readOnly"] is True


def test_lifecycle_refusals_are_documented(schema):
    operations = dict(own_operations(schema))
    for action in ("submit", "approve", "reject", "deploy", "rollback"):
        assert "409" in operations[f"POST /api/v1/releases/{{id}}/{action}/"]["responses"]
    assert "409" in operations["PATCH /api/v1/deployments/{id}/"]["responses"]
