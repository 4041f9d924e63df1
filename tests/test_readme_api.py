"""The README's endpoint tables and the API stay in step (issue #14: the README said metrics has
`mean_deployment_seconds`; the API answers `mean_deployment_duration_seconds`).

Every JSON key the tables show must be a field of the OpenAPI schema, every other name they quote or
put in backticks must be a field, a parameter or a value the schema knows, and every query parameter
of an example must be one its operation declares.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer

README = Path(__file__).resolve().parent.parent / "README.md"
ROW = re.compile(r"^\| `(?P<endpoint>.+?)` \| (?P<example>.*) \| (?P<answer>.*) \|$")
NAME = r"[a-z][a-z0-9_]*"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


def endpoint_rows() -> list[dict[str, str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Endpoints", 1)[1].split("\n## ", 1)[0]
    rows = [match.groupdict() for line in section.splitlines() if (match := ROW.match(line))]
    return [row for row in rows if "/health" not in row["endpoint"]]


def field_names(schema: dict[str, Any]) -> set[str]:
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(schema)
    return names


def known_strings(schema: dict[str, Any]) -> set[str]:
    """Every string the schema holds: field and parameter names, enum values, codes in examples."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            found.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.add(node)

    walk(schema)
    return found


def operation(schema: dict[str, Any], endpoint: str) -> dict[str, Any] | None:
    match = re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) (/[^ `\[]+)", endpoint)
    if match is None:
        return None
    method, path = match.groups()
    return schema["paths"].get(f"/api/v1{path.rstrip('/')}/", {}).get(method.lower())


def test_the_readme_has_endpoint_tables():
    rows = endpoint_rows()
    assert len(rows) >= 25
    assert any(row["endpoint"] == "GET /releases/{id}/metrics" for row in rows)


def test_every_json_key_in_the_endpoint_tables_is_a_field_of_the_api(schema):
    fields = field_names(schema)
    unknown = {
        (row["endpoint"], key)
        for row in endpoint_rows()
        for column in (row["example"], row["answer"])
        for key in re.findall(rf'"({NAME})"\s*:', column)
        if key not in fields
    }
    assert unknown == set()


def test_every_name_the_answers_quote_is_known_to_the_schema(schema):
    known = known_strings(schema)
    unknown = set()
    for row in endpoint_rows():
        answer = row["answer"]
        # `"a","b"` in `{"a","b"}` or `["a","b"]`: names and values, not a value after a key (user data)
        quoted = re.findall(rf'(?<![:\w])"({NAME})"(?!\s*:)', answer)
        backticked = [
            part
            for code in re.findall(r"`([^`]+)`", answer)
            if re.fullmatch(rf"{NAME}(\[\])?(\.{NAME}(\[\])?)*", code)
            for part in re.findall(NAME, code)
        ]
        unknown |= {(row["endpoint"], name) for name in quoted + backticked if name not in known}
    assert unknown == set()


def test_every_query_parameter_of_an_example_is_declared(schema):
    undeclared = set()
    checked = 0
    for row in endpoint_rows():
        found = operation(schema, row["endpoint"])
        query = re.search(r"\?([^\"' ]+)", row["example"])
        if found is None or query is None:
            continue
        checked += 1
        declared = {p["name"] for p in found.get("parameters", []) if p["in"] == "query"}
        names = {pair.split("=", 1)[0] for pair in query.group(1).split("&")}
        undeclared |= {(row["endpoint"], name) for name in names - declared}
    assert checked >= 5
    assert undeclared == set()
