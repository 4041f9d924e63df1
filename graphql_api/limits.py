"""What one GraphQL request may cost, checked while the query is validated, before anything runs.

- depth: at most `MAX_DEPTH` levels of nested selections;
- aliases: at most `MAX_ALIASES` (one query asking for the same list a thousand times under aliases);
- page size: `page_size` at most `MAX_PAGE_SIZE` (as REST's `?page_size=`), a nested `limit` at most
  `types.NESTED_LIMIT`;
- complexity: every selected field costs 1, and what is selected inside a list costs once per item the
  list can hold: `page_size` (default 20) for pages, `limit` (default 20) for a release's deployments and
  history, `LIST_ESTIMATE` for other lists (features, approvals, environments, members…). A size given by a
  variable counts at the variable's value (at its maximum when the variable is missing). The total of an
  operation must stay within `MAX_COMPLEXITY`.

A refused query comes back as a GraphQL error with `extensions.code` `query_too_deep`,
`query_too_complex`, `too_many_aliases` or `page_size_too_large`, and nothing was read.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from strawberry.extensions import SchemaExtension

from graphql_api.types import NESTED_DEFAULT, NESTED_LIMIT

MAX_DEPTH = 10
# A document longer than this is refused while it is parsed (before the other checks even see it).
MAX_TOKENS = 5000
MAX_ALIASES = 30
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_COMPLEXITY = 20_000
LIST_ESTIMATE = 10

# The arguments that size a list: name → (default, maximum).
SIZE_ARGUMENTS = {"page_size": (DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE), "limit": (NESTED_DEFAULT, NESTED_LIMIT)}


# The variables of the operation being validated (validation rules only see the document).
OPERATION_VARIABLES: ContextVar[dict[str, Any]] = ContextVar("graphql_operation_variables", default={})  # noqa: B039


class OperationVariables(SchemaExtension):
    """Lets `CostRule` size lists by the variables the request sends (`page_size: $size`)."""

    def on_operation(self):
        variables = self.execution_context.variables
        token = OPERATION_VARIABLES.set(variables if isinstance(variables, dict) else {})
        try:
            yield
        finally:
            OPERATION_VARIABLES.reset(token)


def _error(message: str, code: str, node: Any, **extra: Any) -> GraphQLError:
    return GraphQLError(message, nodes=[node], extensions={"code": code, "status": 400, **extra})


class CostRule(ValidationRule):
    """Page sizes, aliases and complexity of each operation (see the module docstring)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> None:
        self.aliases = 0
        self.refused = False
        root = self.context.schema.get_root_type(node.operation)
        self.depth = 0
        cost = self._cost(node.selection_set, root, frozenset())
        if self.refused:
            return
        if self.depth > MAX_DEPTH:
            self.report_error(
                _error(
                    f"The query nests {self.depth} levels deep; at most {MAX_DEPTH} are allowed.",
                    "query_too_deep",
                    node,
                )
            )
        elif self.aliases > MAX_ALIASES:
            self.report_error(
                _error(
                    f"The query uses {self.aliases} aliases; at most {MAX_ALIASES} are allowed.",
                    "too_many_aliases",
                    node,
                )
            )
        elif cost > MAX_COMPLEXITY:
            self.report_error(
                _error(
                    f"The query's complexity is {cost}, over the budget of {MAX_COMPLEXITY}: ask for smaller "
                    "pages or fewer nested fields.",
                    "query_too_complex",
                    node,
                    complexity=cost,
                    max_complexity=MAX_COMPLEXITY,
                )
            )

    def _size(self, field: FieldNode, definition: Any, is_list: bool) -> int:
        for argument in field.arguments or ():
            name = argument.name.value
            if name not in SIZE_ARGUMENTS:
                continue
            maximum = SIZE_ARGUMENTS[name][1]
            if isinstance(argument.value, IntValueNode):
                size = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                size = OPERATION_VARIABLES.get().get(argument.value.name.value)
                if not isinstance(size, int) or isinstance(size, bool):
                    return maximum  # not given (its default) or not a number (refused later): count the maximum
            else:
                return maximum
            if size > maximum:
                self.refused = True
                self.report_error(
                    _error(f"`{name}` is {size}; at most {maximum} is allowed.", "page_size_too_large", field)
                )
            return max(size, 0)
        for name, (default, _maximum) in SIZE_ARGUMENTS.items():
            if definition is not None and name in definition.args:
                return default
        return LIST_ESTIMATE if is_list else 1

    def _cost(
        self, selection_set: SelectionSetNode | None, parent: Any, fragments: frozenset[str], depth: int = 1
    ) -> int:
        if selection_set is None:
            return 0
        self.depth = max(self.depth, depth)
        if depth > MAX_DEPTH:
            return 0  # refused for its depth: no need to look further down
        total = 0
        context: ValidationContext = self.context
        schema = context.schema
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.alias is not None:
                    self.aliases += 1
                total += 1 + self._field_cost(selection, parent, fragments, depth)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = schema.get_type(condition.name.value) if condition is not None else parent
                total += self._cost(selection.selection_set, inner, fragments, depth)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = context.get_fragment(name)
                if fragment is not None and name not in fragments:  # cycles are refused by the standard rules
                    inner = schema.get_type(fragment.type_condition.name.value)
                    total += self._cost(fragment.selection_set, inner, fragments | {name}, depth)
        return total

    def _field_cost(self, field: FieldNode, parent: Any, fragments: frozenset[str], depth: int) -> int:
        if field.selection_set is None or not isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            return 0
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0  # an unknown field: the standard rules report it
        field_type = definition.type
        if isinstance(field_type, GraphQLNonNull):
            field_type = field_type.of_type
        # A page's `results` hold `page_size` items: the page field (which has the argument) counts them.
        is_list = isinstance(field_type, GraphQLList) and "page_size" not in parent.fields
        inner = self._cost(field.selection_set, get_named_type(field_type), fragments, depth + 1)
        return inner * self._size(field, definition, is_list=is_list)
