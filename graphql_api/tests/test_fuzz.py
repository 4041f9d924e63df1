"""Property-based fuzzing of /graphql from its own schema (hypothesis-graphql: schemathesis, which fuzzes REST,
does not cover GraphQL). Every generated query and mutation — valid by the schema, with arbitrary values,
NUL characters included — gets an answer that is not a server error: data, or errors that carry the REST
envelope's `code` and `status` (or are the GraphQL validation errors of the spec)."""

from __future__ import annotations

import pytest
from graphql import StringValueNode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, queries

from graphql_api.schema import schema
from graphql_api.tests.conftest import graphql
from opsportal.testing.factories import make_release, make_standard_environments

pytestmark = pytest.mark.django_db

SCHEMA = schema.as_str()
SCALARS = {"Date": st.dates().map(lambda day: StringValueNode(value=day.isoformat()))}
FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(answer) -> None:
    assert answer.status in (200, 400), answer.body
    for error in answer.body.get("errors") or []:
        extensions = error.get("extensions")
        if extensions is None:
            continue  # the spec's own validation and syntax errors
        assert extensions["code"] != "internal_error", error
        assert 400 <= extensions["status"] < 500, error


@pytest.fixture
def data(db, manager):
    make_standard_environments()
    make_release()
    return manager


@FUZZ
@given(query=queries(SCHEMA, custom_scalars=SCALARS))
def test_queries_never_fail_on_the_server(data, query):
    _check(graphql(query, user=data))


@FUZZ
@given(mutation=mutations(SCHEMA, custom_scalars=SCALARS))
def test_mutations_never_fail_on_the_server(data, mutation):
    _check(graphql(mutation, user=data))
