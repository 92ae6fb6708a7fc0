"""The executable schema: schema.graphql plus the sandbox's resolvers, built once per process.

Building it from ~700 KB of SDL takes a second or two, so `executable_schema()` caches it. The
schema holds no server state (resolvers find it in the request context), so every server in the
process shares it.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ariadne import make_executable_schema
from graphql import GraphQLEnumType, GraphQLSchema

from .._resources import schema_path
from ._agreements import agreement_bindables
from ._fake import install_defaults
from ._resolvers import bindables, gate_root_fields
from ._us_resolvers import us_bindables

__all__ = ["executable_schema", "schema_path"]

_lock = threading.Lock()
_cache: dict[Path, GraphQLSchema] = {}


def executable_schema(path: Path | None = None) -> GraphQLSchema:
    """The sandbox's executable schema for `path` (default: `schema_path()`), built on first use."""
    resolved = (path or schema_path()).resolve()
    with _lock:
        schema = _cache.get(resolved)
        if schema is None:
            schema = make_executable_schema(
                resolved.read_text(encoding="utf-8"),
                *bindables(),
                *us_bindables(),
                *agreement_bindables(),
            )
            _fix_enum_parse_value(schema)
            install_defaults(schema)
            gate_root_fields(schema)
            _cache[resolved] = schema
        return schema


def _takes_two_arguments(function: Callable[..., Any]) -> bool:
    try:
        inspect.signature(function).bind("value", False)
    except TypeError:
        return False
    return True


def _fix_enum_parse_value(schema: GraphQLSchema) -> None:
    """ariadne 1.1 replaces each enum's `parse_value` with a one-argument function, while
    graphql-core 3.2.14 calls `parse_value(value, hide_suggestions)` for enum values inside
    variables, so `{"serviceProvider": "ONCOR"}` as a variable fails. Accept the second argument.
    (A no-op with versions that agree.)"""
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLEnumType):
            continue
        patched = vars(type_).get("parse_value")
        if patched is None or _takes_two_arguments(patched):
            continue

        def parse_value(
            input_value: Any, hide_suggestions: bool = False, _parse: Any = patched
        ) -> Any:
            return _parse(input_value)

        type_.parse_value = parse_value  # type: ignore[method-assign]
