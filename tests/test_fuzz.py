"""Schemathesis against the live schema of a running gunicorn (issue #4): every operation,
authenticated as a release manager, a bounded number of examples each. No 5xx, and every
response conforms to the documented schema (status code, content type, body).

Schema-valid requests that break a business rule (an unknown environment id, a version that
already exists) are rightly refused with a documented 4xx, so schemathesis's
"positive data acceptance" heuristic is not applied. Its negative data — requests that break the
schema, the documented limits included (`maxLength`, `maxItems`, … of `opsportal.limits` and each
app's `schemas.py`) — must be refused with a 4xx ("negative data rejection", issue #10), and so
must the bodies every endpoint's parser refuses whatever the schema says: a lone surrogate, a NUL,
nesting past the limit, a body over the size limit."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from opsportal.limits import MAX_BODY_BYTES, MAX_DEPTH

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

MAX_EXAMPLES = int(os.environ.get("OPSPORTAL_FUZZ_EXAMPLES", "15"))
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)


@pytest.fixture(scope="session")
def live_schema(live_gunicorn_fuzz):
    return schemathesis.openapi.from_url(f"{live_gunicorn_fuzz.base_url}/api/schema/?format=json")


# The event stream never ends by itself (without new events schemathesis would wait for ever):
# events/tests/test_live.py reads it instead.
schema = schemathesis.pytest.from_fixture("live_schema").exclude(path_regex=r"/events/stream/?$")


@schema.parametrize()
@FUZZ_SETTINGS
def test_api_conforms_to_its_schema(case, live_gunicorn_fuzz):
    token = live_gunicorn_fuzz.token("rm1")
    case.call_and_validate(
        base_url=live_gunicorn_fuzz.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
    )


# The documented limits, as schemathesis's negative data breaks them (keywords of its mutations,
# descriptions of its coverage phase).
LIMIT_KEYWORDS = {"maxLength", "maxItems", "maxProperties"}
LIMIT_DESCRIPTIONS = {
    "String larger than maxLength",
    "Array with more items than allowed by maxItems",
    "Object with more properties than allowed by maxProperties",
}


def breaks_only_a_limit(case) -> bool:
    """Whether this negative case's body breaks a documented limit and nothing else."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return False
    data = meta.phase.data
    if getattr(data, "mutations", ()):
        return all(
            mutation.parameter_location == ParameterLocation.BODY and set(mutation.keywords) <= LIMIT_KEYWORDS
            for mutation in data.mutations
            if mutation.keywords
        ) and any(mutation.keywords for mutation in data.mutations)
    return getattr(data, "parameter_location", None) == ParameterLocation.BODY and (
        getattr(data, "description", None) in LIMIT_DESCRIPTIONS
    )


@schemathesis.check
def limits_are_enforced(ctx, response, case) -> bool | None:
    """A body over a documented length or count is refused (400, or another 4xx when the request is refused
    before its body is read: an unknown id, a missing role).

    Schemathesis's own "negative data rejection" is not applied wholesale: DRF's fields read `0` as
    `false` and `1` as `"1"`, and an empty reference as none, which that heuristic counts as accepting
    a wrong type; limits are never coerced."""
    if breaks_only_a_limit(case) and not 400 <= response.status_code < 500:
        raise AssertionError(f"A body over a documented limit was answered {response.status_code}, not 4xx.")
    return None


@pytest.fixture(scope="session")
def live_schema_negative(live_gunicorn_fuzz):
    schema = schemathesis.openapi.from_url(f"{live_gunicorn_fuzz.base_url}/api/schema/?format=json")
    # No made-up extra headers: a garbage `Content-Length` is refused by gunicorn itself, before the portal.
    schema.config.generation.update(modes=[GenerationMode.NEGATIVE], allow_extra_parameters=False)
    return schema


# The event stream has no body to break (and answers an endless stream, not an envelope). The evidence public
# key takes no input at all, not even credentials (it is public, issue #13): nothing to make invalid.
negative_schema = schemathesis.pytest.from_fixture("live_schema_negative").exclude(
    path_regex=r"/stream/?$|/evidence/public-key/?$"
)


# gunicorn's own refusals, before any request reaches the portal: a request line over its 4 KiB
# `limit_request_line` (414) or an oversized header field (431). Plain HTML from the server, as a reverse
# proxy's would be; the API contract covers what reaches the application.
SERVER_REFUSALS = {414: b"Request Line is too large", 431: b"Request Header"}


@negative_schema.parametrize()
@FUZZ_SETTINGS
def test_api_refuses_what_its_schema_forbids(case, live_gunicorn_fuzz):
    """issue #10: negative data gets no 5xx and documented answers, and a body over a documented limit is refused."""
    token = live_gunicorn_fuzz.token("rm1")
    headers = {"Authorization": f"Bearer {token}"}
    response = case.call(base_url=live_gunicorn_fuzz.base_url, headers=headers)
    refusal = SERVER_REFUSALS.get(response.status_code)
    if refusal is not None and refusal in response.content:
        return
    case.validate_response(response, checks=[*CHECKS, limits_are_enforced], headers=headers)


def _nested(levels: int) -> bytes:
    return b'{"name": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


# Bodies every parser refuses, whatever the operation's schema: (body, the statuses it may get).
# Raw bytes, sent as they are: a lone surrogate as the JSON escape a hostile client writes.
HOSTILE_BODIES = {
    "lone-surrogate": (b'{"name": "\\ud83d", "description": "\\ud83d"}', {400}),
    "nul": (b'{"name": "a\\u0000b", "description": "a\\u0000b"}', {400}),
    "too-deep": (_nested(MAX_DEPTH + 1), {400}),
    "10000-deep": (b"[" * 10_000 + b"]" * 10_000, {400}),
    "too-large": (b'{"description": "' + b"x" * MAX_BODY_BYTES + b'"}', {413}),
}


@pytest.fixture(scope="session")
def documents(live_gunicorn_fuzz) -> dict[str, str]:
    """An object of each kind, by path segment, for the operations on one (created afresh: other tests delete)."""
    server = live_gunicorn_fuzz
    release = server.request("POST", "/api/v1/releases", {"name": "Hostile", "version": "9.9.9-fuzz"}, "rm1")[1]
    environment = server.request("POST", "/api/v1/environments", {"id": "fuzz-env", "name": "Fuzz env"}, "rm1")[1]
    deployment = server.request(
        "POST", f"/api/v1/releases/{release['id']}/deploy", {"environment": "fuzz-env", "status": "in_progress"}, "rm1"
    )[1]
    team = server.request("POST", "/api/v1/teams", {"id": "fuzz-team", "name": "Fuzz team"}, "rm1")[1]
    workflow = server.request("POST", "/api/v1/workflows", {"id": "fuzz-flow", "name": "Fuzz flow"}, "rm1")[1]
    return {
        "releases": release["id"],
        "environments": environment["id"],
        "deployments": deployment["id"],
        "teams": team["id"],
        "workflows": workflow["id"],
    }


def test_every_body_is_parsed_within_the_limits(live_schema, live_gunicorn_fuzz, documents):
    """issue #10: every operation with a body refuses the bodies of HOSTILE_BODIES in the error envelope
    (a documented 400 or 413, no 5xx), checked against the schema like the generated cases."""
    token = live_gunicorn_fuzz.token("rm1")
    ids = documents
    checked = 0
    for result in live_schema.get_all_operations():
        operation = result.ok()
        if not any(alternative.media_type == "application/json" for alternative in operation.body):
            continue
        segment = operation.path.removeprefix("/api/v1/").split("/", 1)[0]
        path_parameters = {parameter.name: ids.get(segment, "none") for parameter in operation.path_parameters}
        for name, (body, statuses) in HOSTILE_BODIES.items():
            case = operation.Case(body=body, media_type="application/json", path_parameters=path_parameters)
            response = case.call_and_validate(
                base_url=live_gunicorn_fuzz.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            label = f"{operation.label} {name}"
            if response.status_code in (403, 404, 405):  # refused before the body is read (role, object, method)
                continue
            assert response.status_code in statuses, (label, response.status_code, response.text[:300])
            assert response.json()["code"] in ("invalid", "parse_error", "payload_too_large"), label
            assert len(response.content) < 4_000, label  # quotes excerpts, never the input
            checked += 1
    assert checked > 40


LIMIT_KEYS = ("maxLength", "maxItems", "maxProperties")


def _over(value, schema: dict, keyword: str):
    """A value one past the schema's limit, shaped like the example's `value` where it has one."""
    limit = schema[keyword]
    if keyword == "maxLength":
        return "x" * (limit + 1)
    if keyword == "maxItems":
        return [value[0] if isinstance(value, list) and value else "x"] * (limit + 1)
    return {f"key{n}": "x" for n in range(limit + 1)}


def test_every_documented_limit_of_a_body_is_enforced(live_schema, live_gunicorn_fuzz, documents):
    """issue #10: each `maxLength`/`maxItems`/`maxProperties` the schema documents on a body field is
    refused one past it (400 naming the field), starting from the operation's own example."""
    token = live_gunicorn_fuzz.token("rm1")
    ids = documents
    checked = []
    for result in live_schema.get_all_operations():
        operation = result.ok()
        for body in operation.body:
            if body.media_type != "application/json":
                continue
            examples = [example for example in body.examples or () if isinstance(example, dict)]
            properties = body.resolved_schema.get("properties", {})
            segment = operation.path.removeprefix("/api/v1/").split("/", 1)[0]
            path_parameters = {parameter.name: ids.get(segment, "none") for parameter in operation.path_parameters}
            for name, schema in properties.items():
                for keyword in LIMIT_KEYS:
                    if keyword not in schema or schema.get("readOnly") or not examples:
                        continue
                    payload = {**examples[0], name: _over(examples[0].get(name), schema, keyword)}
                    case = operation.Case(body=payload, media_type="application/json", path_parameters=path_parameters)
                    response = case.call_and_validate(
                        base_url=live_gunicorn_fuzz.base_url,
                        headers={"Authorization": f"Bearer {token}"},
                        checks=CHECKS,
                    )
                    label = f"{operation.label} {name} {keyword}"
                    assert 400 <= response.status_code < 500, (label, response.status_code)
                    if response.status_code in (403, 404, 405):
                        continue  # refused before the body is read
                    assert response.status_code == 400, label
                    assert name in response.json().get("errors", {}), (label, response.text[:300])
                    checked.append(label)
    assert len(checked) > 30, checked
