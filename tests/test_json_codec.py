"""orjson renders and parses (issue #18): the bytes a client receives are exactly what DRF's `json` renderer
wrote, and a body parses to what `json` read, with the same refusals."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ParseError

from opsportal.api.parsers import JSONParser
from opsportal.api.renderers import JSONRenderer
from opsportal.errors import ValidationFailed

SAMPLES = [
    {"id": "665f", "n": 3, "ok": True, "none": None, "ratio": 0.5, "pct": 100.0, "tiny": 0.001},
    {"text": 'quote " backslash \\ slash / tab \t newline \n bell \x07 del \x7f'},
    {"unicode": "é ü 漢字 🚀", "separators": "line\u2028paragraph\u2029end"},
    {"at": datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC), "no_fraction": datetime(2024, 1, 2, tzinfo=UTC)},
    {"day": date(2024, 3, 31), "naive": datetime(2024, 1, 2, 3, 4, 5)},
    {"lazy": gettext_lazy("This field is required."), "decimal": Decimal("1.25"), "uuid": uuid.UUID(int=7)},
    {"duration": timedelta(seconds=90), "tuple": (1, 2), "nested": [{"a": [[], {}]}]},
    {"big": 2**70, "negative": -(2**63)},
    {1: "int key", "list": []},
    [],
    "a string",
    42,
]


@pytest.mark.parametrize("data", SAMPLES, ids=range(len(SAMPLES)))
def test_the_renderer_writes_the_bytes_drf_writes(data):
    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_a_lone_surrogate_is_still_drawn_as_a_replacement_character():
    assert JSONRenderer().render({"name": "a\ud800b"}) == '{"name":"a\ufffdb"}'.encode()


def test_indented_output_for_people_stays():
    body = JSONRenderer().render({"a": [1]}, "application/json; indent=4")
    assert body == b'{\n    "a": [\n        1\n    ]\n}'


def test_nothing_renders_as_an_empty_body():
    assert JSONRenderer().render(None) == b""


BODIES = [
    b'{"name": "Checkout", "version": "1.0.0", "features": [{"name": "x", "tasks": []}]}',
    b'{"n": 1.5e3, "neg": -0.25, "t": true, "f": false, "z": null, "u": "\\u00e9\\u2028"}',
    b'{"big": 123456789012345678901234567890}',
    '{"unicode": "漢字 🚀"}'.encode(),
    b"[]",
    b"null",
]


def parse(body: bytes, media_type: str = "application/json"):
    return JSONParser().parse(_Stream(body), media_type, {})


class _Stream:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def read(self) -> bytes:
        return self.body


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_the_parser_reads_what_json_reads(body):
    parsed = parse(body)
    assert parsed == json.loads(body)
    assert type(parsed) is type(json.loads(body))


def test_an_integer_beyond_64_bits_stays_exact():
    assert parse(b'{"big": 123456789012345678901234567890}')["big"] == 123456789012345678901234567890


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"a": NaN}', "NaN and Infinity are not JSON numbers"),
        (b'{"a": 1,}', "at line 1, column 9"),
        (b"\xff{}", "is not valid utf-8 text"),
    ],
)
def test_refusals_keep_their_wording(body, message):
    with pytest.raises(ParseError) as refused:
        parse(body)
    assert message in str(refused.value.detail)


def test_a_lone_surrogate_in_a_body_is_named_by_its_place():
    with pytest.raises(ValidationFailed) as refused:
        parse(b'{"name": "a\\ud800"}')
    assert "name" in str(refused.value)


def test_deep_nesting_is_refused_by_the_input_limits():
    with pytest.raises(ValidationFailed):
        parse(b"[" * 2000 + b"]" * 2000)
