"""Kraken's per-request caps and hourly points budget, as the sandbox enforces them.

Other Krakens publish a complexity cap of 200 (KT-CT-1188), a cap of 10,000 nodes (KT-CT-1189),
and an hourly points allowance per caller read through `rateLimitInfo` (KT-CT-1199 once spent).
Their exact formulas are not public, so the sandbox uses this one, which a client can work out
for itself before sending:

    Every Relay connection the request resolves (`measurements`, `transactions`, `payments`,
    `bills`, ...), once per parent object it is resolved under (so a property list's measurements
    count once per property), with page size n = `first` (or `last`; 100 when neither is given):

        weight = n x (fields selected inside one edge + the weight of each connection nested in it)
        nodes  = n x (1 + the nodes of each connection nested in it)

    A field is any field selected inside `edges`, at any depth, counted once however often the
    selection repeats it (fragments and inline fragments expanded); `__typename` is free. A nested
    connection counts with its own n, whatever the data holds, like the outer one.

        complexity = 1 + the sum over resolved connections of ceil(weight / 40)
        nodes      = the sum over resolved connections of nodes

    A request over 10,000 nodes is refused with KT-CT-1189; otherwise over 200 complexity with
    KT-CT-1188. A refused request returns no data.

For example a measurements page of `first: 100` selecting 31 fields per edge (queries/usage.graphql)
weighs 3,100, costs ceil(3100 / 40) = 78 and holds 100 nodes: one or two properties fit in a
request, three (1 + 3 x 78 = 235) do not. `bills(first: 100)` with `transactions(first: 100)` inside
each bill holds 100 x (1 + 100) = 10,100 nodes: refused with KT-CT-1189.

Points: each answered request costs its complexity (a refused one costs 1), charged to the caller
the token speaks for (unauthenticated requests share one anonymous allowance; token requests cost
nothing here, they are rate limited on their own). The allowance is 50,000 points an hour for an
account user and 100,000 for an organisation, or `Faults.points_allowance` when set; the hour
starts at the caller's first charged request. `rateLimitInfo` shows the allowance as it stood
when the request arrived; once it is spent, every request gets KT-CT-1199 until `ttl`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    value_from_ast,
)

__all__ = [
    "COMPLEXITY_DIVISOR",
    "COMPLEXITY_LIMIT",
    "DEFAULT_PAGE_SIZE",
    "NODE_LIMIT",
    "POINTS_PER_HOUR",
    "Allowance",
    "ConnectionCost",
    "PointsBudget",
    "connection_cost",
    "is_nested_connection",
]

COMPLEXITY_LIMIT = 200
NODE_LIMIT = 10_000
COMPLEXITY_DIVISOR = 40
DEFAULT_PAGE_SIZE = 100
POINTS_PER_HOUR = {"account-user": 50_000, "organization": 100_000, "anonymous": 50_000}
WINDOW_SECONDS = 3600


@dataclass(frozen=True)
class ConnectionCost:
    weight: int
    nodes: int

    @property
    def complexity(self) -> int:
        return math.ceil(self.weight / COMPLEXITY_DIVISOR)


def _is_connection(type_: Any) -> bool:
    named = get_named_type(type_)
    return (
        isinstance(named, GraphQLObjectType)
        and "edges" in named.fields
        and "pageInfo" in named.fields
    )


def _page_size(node: FieldNode, field_args: Mapping[str, Any], variables: Mapping[str, Any]) -> int:
    for name in ("first", "last"):
        argument = next((a for a in node.arguments if a.name.value == name), None)
        if argument is None or name not in field_args:
            continue
        value = value_from_ast(argument.value, field_args[name].type, dict(variables))
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, value)
    return DEFAULT_PAGE_SIZE


class _Walker:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def _fields(
        self, selection_set: SelectionSetNode | None, type_: Any
    ) -> Iterable[tuple[FieldNode, Any]]:
        """(field node, its parent type) for every field selected here, fragments expanded."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, type_
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.schema.get_type(condition.name.value) if condition else type_
                yield from self._fields(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    inner = self.schema.get_type(fragment.type_condition.name.value)
                    yield from self._fields(fragment.selection_set, inner)

    def connection(
        self, nodes: Sequence[FieldNode], field_type: Any, field_args: Mapping[str, Any]
    ) -> ConnectionCost:
        """The cost of one connection field, selected by `nodes` (one response key: GraphQL
        merges repeated selections of it, and so does the count)."""
        n = _page_size(nodes[0], field_args, self.variables)
        connection_type = get_named_type(field_type)
        per_edge_fields, nested_weight, nested_nodes = 0, 0, 0
        # A field is counted once per path below the edge, so a field selected both directly
        # and through a fragment counts once.
        counted: set[tuple[str, ...]] = set()
        stack: list[tuple[FieldNode, Any, tuple[str, ...]]] = [
            (child, parent, ())
            for node in nodes
            for child, parent in self._fields(node.selection_set, connection_type)
            if child.name.value == "edges"
        ]
        while stack:
            field_node, parent_type, above = stack.pop()
            name = field_node.name.value
            definition = getattr(get_named_type(parent_type), "fields", {}).get(name)
            if definition is None:  # __typename, or a field the schema lacks
                continue
            path = (*above, name) if above or name != "edges" else ()
            nested = bool(path) and _is_connection(definition.type)
            if path and path not in counted:
                counted.add(path)
                per_edge_fields += 1
                if nested:
                    same = [field_node]  # its repeated selections were merged above
                    inner = self.connection(same, definition.type, definition.args)
                    nested_weight += inner.weight
                    nested_nodes += inner.nodes
            if nested:
                continue
            stack.extend(
                (grandchild, grandparent, path or ("edges",))
                for grandchild, grandparent in self._fields(
                    field_node.selection_set, definition.type
                )
            )
        return ConnectionCost(
            weight=n * (per_edge_fields + nested_weight), nodes=n * (1 + nested_nodes)
        )


def is_nested_connection(info: GraphQLResolveInfo) -> bool:
    """Whether this connection field sits inside another connection's edges (its cost is then
    part of the outer one's)."""
    return "edges" in info.path.as_list()[:-1]


def connection_cost(info: GraphQLResolveInfo) -> ConnectionCost:
    """The weight and nodes of the connection field `info` resolves (see the module docstring)."""
    walker = _Walker(info.schema, info.fragments, info.variable_values)
    field = info.parent_type.fields[info.field_name]
    return walker.connection(info.field_nodes, field.type, field.args)


# -- the hourly points budget ----------------------------------------------------------------------


@dataclass(frozen=True)
class Allowance:
    """One caller's points this hour (what `rateLimitInfo.pointsAllowanceRateLimit` shows)."""

    limit: int
    used: int
    resets_at: int  # Unix time

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def blocked(self) -> bool:
        return self.used >= self.limit

    def to_graphql(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "remainingPoints": self.remaining,
            "usedPoints": self.used,
            "ttl": self.resets_at,
            "isBlocked": self.blocked,
        }


class PointsBudget:
    """Points used per caller per hour. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # caller -> (window start, points used)

    @staticmethod
    def limit_for(kind: str, override: int) -> int:
        return override if override > 0 else POINTS_PER_HOUR.get(kind, POINTS_PER_HOUR["anonymous"])

    def allowance(self, caller: str, limit: int, now: float) -> Allowance:
        with self._lock:
            start, used = self._current(caller, now)
        return Allowance(limit, used, int(start + WINDOW_SECONDS))

    def charge(self, caller: str, points: int, now: float) -> None:
        with self._lock:
            start, used = self._current(caller, now)
            self._windows[caller] = (start, used + points)

    def _current(self, caller: str, now: float) -> tuple[float, int]:
        window = self._windows.get(caller)
        if window is None or now >= window[0] + WINDOW_SECONDS:
            return now, 0
        return window

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
