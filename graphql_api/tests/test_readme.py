"""The README's GraphQL examples are valid against the schema and within the budget."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from graphql import parse, validate

from graphql_api.limits import CostRule
from graphql_api.schema import schema

README = Path(settings.BASE_DIR) / "README.md"


def graphql_examples() -> list[str]:
    section = README.read_text(encoding="utf-8").split("\n## GraphQL\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```graphql\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_shows_a_query_a_mutation_and_a_subscription_that_validate():
    examples = graphql_examples()
    assert [example.split()[0] for example in examples] == ["query", "mutation", "subscription"]
    for example in examples:
        assert validate(schema._schema, parse(example), [CostRule]) == [], example
        assert validate(schema._schema, parse(example)) == [], example
