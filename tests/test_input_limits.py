"""Input limits, enforced where the body is parsed (issue #10): lone surrogates, NUL characters,
deep nesting, large bodies, documented lengths and counts; refusals in the error envelope that
quote at most a short excerpt of the input. Each "Why" case of the issue is a test here."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from opsportal.limits import DESCRIPTION_MAX_LENGTH, EXCERPT_CHARS, MAX_BODY_BYTES, MAX_DEPTH
from opsportal.testing.factories import make_release, make_team
from releases.models import Release
from teams.models import Team

pytestmark = pytest.mark.django_db

LONE_SURROGATE = "\ud83d"  # the first half of 😀, alone


@pytest.fixture
def api(api):
    api.raise_request_exception = False  # a 500 is an answer to assert on, not an exception in the test
    return api


def post_raw(client, path: str, body: str | bytes, **extra):
    """POST a body exactly as given (the test client would re-encode a dict)."""
    data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    return client.generic("POST", path, data, content_type="application/json", **extra)


def release_body(**fields) -> str:
    # ensure_ascii: a lone surrogate travels as the escape `\ud83d`, as a hostile client sends it.
    return json.dumps({"name": "Hostile", "version": "6.6.6", **fields})


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    detail = body["detail"]
    assert detail[:1].isupper() and detail.endswith("."), detail  # a sentence for people
    assert "Traceback" not in detail and "Error(" not in detail and "<" not in detail
    return body


def assert_nothing_stored() -> None:
    assert not Release.objects.exists()
    assert not AuditEvent.objects.filter(object_type="release").exists()


# --------------------------------------------------------------------------- text that cannot be stored


def test_lone_surrogate_in_an_embedded_name_is_refused_and_nothing_stored(api):
    """issue #10: it answered 500 — after committing the release and its audit event."""
    body = release_body(features=[{"name": LONE_SURROGATE, "status": "planned"}])
    response = post_raw(api, "/api/v1/releases", body)
    envelope = assert_envelope(response, 400, "invalid")
    assert envelope["errors"]["features"] == ["features[0].name: contains a lone UTF-16 surrogate: “\\ud83d”."]
    assert "features[0].name" in envelope["detail"]
    assert_nothing_stored()
    assert api.get("/api/v1/releases").status_code == 200


@pytest.mark.parametrize(
    "fields",
    [
        {"description": f"half a smiley {LONE_SURROGATE}"},
        {
            "features": [
                {"name": "Login", "status": "planned", "tasks": [{"title": "x" + LONE_SURROGATE, "status": "todo"}]}
            ]
        },
        {"features": [{"name": "Login", "status": "planned", LONE_SURROGATE: "a key"}]},
    ],
    ids=["string", "deep-string", "key"],
)
def test_lone_surrogate_anywhere_is_refused(api, fields):
    assert_envelope(post_raw(api, "/api/v1/releases", release_body(**fields)), 400, "invalid")
    assert_nothing_stored()


def test_a_surrogate_pair_is_an_ordinary_character(api):
    body = release_body(features=[{"name": "Smile \ud83d\ude00", "status": "planned"}])
    response = post_raw(api, "/api/v1/releases", body)
    assert response.status_code == 201, response.content
    assert response.json()["features"][0]["name"] == "Smile 😀"


def test_nul_character_in_an_embedded_name_is_refused_and_nothing_stored(api):
    """issue #10: a NUL inside an embedded name was stored."""
    body = release_body(features=[{"name": "Log\u0000in", "status": "planned"}])
    envelope = assert_envelope(post_raw(api, "/api/v1/releases", body), 400, "invalid")
    assert envelope["errors"]["features"] == ["features[0].name: contains a NUL character: “Log\\x00in”."]
    assert_nothing_stored()


def test_nul_character_is_refused_in_every_endpoint_body(api):
    make_team(id="platform", name="Platform")
    response = api.generic(
        "PATCH", "/api/v1/teams/platform", json.dumps({"projects": ["web\u0000"]}), content_type="application/json"
    )
    assert_envelope(response, 400, "invalid")
    assert Team.objects.get(pk="platform").projects == []


# --------------------------------------------------------------------------- structure


def test_json_nested_10000_levels_deep_is_a_400_not_a_500(api):
    """issue #10: it answered 500 (Python's parser gave up with a RecursionError)."""
    response = post_raw(api, "/api/v1/releases", "[" * 10_000 + "]" * 10_000)
    envelope = assert_envelope(response, 400, "invalid")
    assert f"more than {MAX_DEPTH} levels deep" in envelope["detail"]


def test_nesting_limit_is_exact(api):
    def nested(levels: int) -> str:
        # {"features": [[[…]]]}: the body object is level 1.
        return '{"name": "Deep", "version": "1", "features": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"

    too_deep = assert_envelope(post_raw(api, "/api/v1/releases", nested(MAX_DEPTH + 1)), 400, "invalid")
    assert too_deep["errors"]["features"][0].endswith(f"is nested more than {MAX_DEPTH} levels deep.")
    at_limit = post_raw(api, "/api/v1/releases", nested(MAX_DEPTH)).json()
    # Within the limit the parser lets it through; the document's schema refuses it, for what it is.
    assert "levels deep" not in json.dumps(at_limit)
    assert at_limit["errors"]["features"][0].startswith("features[0]: [")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"name": ', "expecting value at line 1, column 10"),
        ('{"name": NaN}', "NaN and Infinity are not JSON numbers"),
        ('{"n": ' + "9" * 5000 + "}", "a number has more than 4,300 digits"),
    ],
    ids=["truncated", "nan", "huge-number"],
)
def test_malformed_json_is_a_sentence(api, body, reason):
    envelope = assert_envelope(post_raw(api, "/api/v1/releases", body), 400, "parse_error")
    assert envelope["detail"] == f"The request body is not valid JSON: {reason}."


def test_invalid_utf8_is_refused(api):
    envelope = assert_envelope(post_raw(api, "/api/v1/releases", b'{"name": "\xff"}'), 400, "parse_error")
    assert envelope["detail"] == "The request body is not valid utf-8 text (at byte 10)."


# --------------------------------------------------------------------------- sizes


def test_a_6_mb_body_is_a_413_in_the_envelope(api):
    """issue #10: Django's HTML "Bad Request (400)" page answered."""
    body = release_body(description="a" * 6_000_000)
    envelope = assert_envelope(post_raw(api, "/api/v1/releases", body), 413, "payload_too_large")
    assert f"{MAX_BODY_BYTES:,} bytes" in envelope["detail"]
    assert_nothing_stored()


def test_a_body_over_the_limit_is_a_413_on_updates_and_actions_too(api):
    release = make_release()
    big = "x" * (MAX_BODY_BYTES + 1)
    patch = api.generic("PATCH", f"/api/v1/releases/{release.pk}", big, content_type="application/json")
    assert_envelope(patch, 413, "payload_too_large")
    action = post_raw(api, f"/api/v1/releases/{release.pk}/reject", big)
    assert_envelope(action, 413, "payload_too_large")


def test_a_1_mb_description_is_refused(api):
    """issue #10: it was stored."""
    envelope = assert_envelope(
        post_raw(api, "/api/v1/releases", release_body(description="d" * 1_000_000)), 400, "invalid"
    )
    assert envelope["errors"]["description"] == [
        f"Ensure this field has no more than {DESCRIPTION_MAX_LENGTH} characters."
    ]
    assert_nothing_stored()
    at_limit = post_raw(api, "/api/v1/releases", release_body(description="d" * DESCRIPTION_MAX_LENGTH))
    assert at_limit.status_code == 201


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/teams", {"id": "t", "name": "T", "description": "d" * (DESCRIPTION_MAX_LENGTH + 1)}, "description"),
        ("/api/v1/teams", {"id": "t", "name": "n" * 201}, "name"),
        (
            "/api/v1/teams",
            {"id": "t", "name": "T", "members": [{"name": "A", "email": "a@example.com"}] * 501},
            "members",
        ),
        ("/api/v1/workflows", {"id": "w", "name": "W", "stages": [{"environment": "dev"}] * 21}, "stages"),
        (
            "/api/v1/freezes",
            {"name": "F", "starts_at": "2030-01-01T00:00:00Z", "exdates": ["2030-01-01"] * 501},
            "exdates",
        ),
        ("/api/v1/environments", {"id": "e", "name": "E", "config": {f"k{n}": n for n in range(101)}}, "config"),
        (
            "/api/v1/releases",
            {"name": "R", "version": "1", "features": [{"name": "f" * 201, "status": "planned"}]},
            "features",
        ),
        (
            "/api/v1/releases",
            {"name": "R", "version": "1", "features": [{"name": "f", "status": "planned"}] * 201},
            "features",
        ),
    ],
    ids=["description", "name", "members", "stages", "freeze-windows", "config", "feature-name", "features"],
)
def test_documented_lengths_and_counts(api, path, body, field):
    envelope = assert_envelope(api.post(path, body, format="json"), 400, "invalid")
    assert field in envelope["errors"]


def test_a_400_for_too_many_features_does_not_echo_the_input(api):
    """issue #10: the 400 carried the whole 1.5 MB input back."""
    features = [{"name": f"feature {n:05d} " + "x" * 100, "status": "planned"} for n in range(12_000)]
    body = release_body(features=features)
    assert 1_400_000 < len(body) < MAX_BODY_BYTES
    response = post_raw(api, "/api/v1/releases", body)
    envelope = assert_envelope(response, 400, "invalid")
    assert len(response.content) < 2_000
    assert envelope["errors"]["features"] == ["features: is too long: 12,000 items, at most 200 allowed"]
    assert_nothing_stored()


def test_an_invalid_value_is_quoted_as_a_short_excerpt(api):
    release = make_release()
    huge = "p" * 200_000
    response = post_raw(api, f"/api/v1/releases/{release.pk}/deploy", json.dumps({"environment": huge}))
    envelope = assert_envelope(response, 400, "invalid")
    assert envelope["errors"]["environment"] == [f'Invalid pk "{"p" * EXCERPT_CHARS}…" - object does not exist.']
    many = [{"name": "f", "status": "s" * 20_000}] * 50
    response = post_raw(api, "/api/v1/releases", release_body(features=many))
    assert_envelope(response, 400, "invalid")
    assert len(response.content) < 6_000
    messages = response.json()["errors"]["features"]
    assert len(messages) == 11 and messages[-1] == "features: 40 more problems not listed"
    assert all("s" * (EXCERPT_CHARS + 1) not in message for message in messages)


# --------------------------------------------------------------------------- the admin's forms and JSON widgets


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ('[{"name": "Log\\u0000in", "status": "planned"}]', "features[0].name: contains a NUL character"),
        ('[{"name": "\\ud83d", "status": "planned"}]', "features[0].name: contains a lone UTF-16 surrogate"),
        ("[" * 10_000 + "]" * 10_000, f"Nested more than {MAX_DEPTH} levels deep."),
        ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), f"is nested more than {MAX_DEPTH} levels deep."),
    ],
    ids=["nul", "lone-surrogate", "10000-deep", "too-deep"],
)
def test_the_admin_forms_apply_the_same_limits(client, superuser, features, message):
    client.raise_request_exception = False
    client.force_login(superuser)
    data = {"name": "Hostile", "version": "6.6.6", "description": "", "team": "", "workflow": "", "features": features}
    response = client.post(reverse("admin:releases_release_add"), data)
    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors["features"]
    assert any(message in error for error in errors), errors
    assert_nothing_stored()


def test_the_admin_refuses_a_description_over_the_limit(client, superuser):
    client.force_login(superuser)
    data = {"name": "Long", "version": "7.0.0", "description": "d" * (DESCRIPTION_MAX_LENGTH + 1), "features": "[]"}
    response = client.post(reverse("admin:releases_release_add"), {**data, "team": "", "workflow": ""})
    assert response.status_code == 200
    assert "description" in response.context["adminform"].form.errors
    assert_nothing_stored()


def test_a_body_over_the_limit_in_the_admin_is_a_413_page(client, superuser):
    client.raise_request_exception = False
    client.force_login(superuser)
    data = {"name": "Big", "version": "8.0.0", "description": "x" * (MAX_BODY_BYTES + 1), "features": "[]"}
    response = client.post(reverse("admin:releases_release_add"), data)
    assert response.status_code == 413
    assert_nothing_stored()
