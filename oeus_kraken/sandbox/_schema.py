"""The executable schema: schema.graphql (or another schema file) plus the sandbox's resolvers,
built once per process and file.

Building it from ~700 KB of SDL takes a second or two, so `executable_schema()` caches it. The
schema holds no server state (resolvers find it in the request context), so every server in the
process shares it.

Another schema (`oeus-kraken sandbox --schema FILE`: tomorrow's schema, before Kraken ships it)
gets the resolvers of schema.graphql where they still fit: a field of the same type, whose
arguments the resolver still takes. Every other field resolves to a typed placeholder, as
fields without seeded data always have (`_fake.py`): a field that is new, or whose type changed
(the seeded value would be of the old type). Custom scalars keep their parsing and printing. So
any operation that validates against the other schema executes, with the seeded data wherever
the two schemas agree.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ariadne import make_executable_schema
from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    print_schema,
    validate_schema,
)

from .._resources import schema_path
from ._agreements import agreement_bindables
from ._fake import fabricating_resolver, install_defaults
from ._resolvers import bindables, gate_root_fields
from ._us_resolvers import us_bindables

__all__ = ["executable_schema", "schema_path"]

MAX_SCHEMA_BYTES = 64 << 20  # the largest schema file served (64 MiB)
_lock = threading.Lock()
_cache: dict[Path, GraphQLSchema] = {}


def executable_schema(path: Path | None = None) -> GraphQLSchema:
    """The sandbox's executable schema for `path` (default: `schema_path()`), built on first use.
    ValueError, saying why, for a file that cannot be read or is not a valid schema."""
    shipped = schema_path().resolve()
    resolved = (path or shipped).resolve()
    with _lock:
        schema = _cache.get(resolved)
        if schema is None:
            # Read as given: resolving /dev/fd/N (`--schema <(curl ...)`) gives a pipe's
            # /proc/PID/fd/pipe:[N], which is no path; the resolved one is only the cache's key.
            schema = _bound(shipped) if resolved == shipped else _other(path or shipped, shipped)
            install_defaults(schema)
            gate_root_fields(schema)
            _cache[resolved] = schema
        return schema


def _bound(shipped: Path) -> GraphQLSchema:
    """schema.graphql with the sandbox's resolvers (not yet gated or defaulted)."""
    sdl = shipped.read_text(encoding="utf-8")
    schema = make_executable_schema(sdl, *bindables(), *us_bindables(), *agreement_bindables())
    _fix_enum_parse_value(schema)
    return schema


def _other(path: Path, shipped: Path) -> GraphQLSchema:
    """The schema at `path`, with the resolvers and scalars of schema.graphql where they fit."""
    try:
        sdl = _sdl_of(path)  # its own ValueError, saying why, for JSON that is no schema
    except OSError as error:
        raise ValueError(f"cannot read schema {path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a valid GraphQL schema: {error}") from None
    try:
        schema = make_executable_schema(sdl)
    except GraphQLError as error:
        where = f" (line {error.locations[0].line})" if error.locations else ""
        raise ValueError(f"{path} is not a valid GraphQL schema: {error.message}{where}") from None
    except (TypeError, ValueError) as error:
        message = " ".join(str(error).split())
        raise ValueError(f"{path} is not a valid GraphQL schema: {message}") from None
    errors = validate_schema(schema)
    if errors:
        raise ValueError(f"{path} is not a valid GraphQL schema: {errors[0].message}")
    _fix_enum_parse_value(schema)
    _adopt(schema, _bound(shipped))
    return schema


def _sdl_of(path: Path) -> str:
    """The schema file's SDL: its text, or the SDL of an introspection result saved as JSON (as
    `schema diff`, `codegen --schema` and `make schema-check` read it), a byte order mark
    aside. ValueError for JSON that is no introspection result."""
    with path.open("rb") as file:
        # Read up to a limit: /dev/zero, or a pipe that never ends, was read into memory whole
        # (a MemoryError traceback). schema.graphql is under 1 MB, an introspection result a few.
        data = file.read(MAX_SCHEMA_BYTES + 1)
    if len(data) > MAX_SCHEMA_BYTES:
        raise ValueError(f"{path} is larger than {MAX_SCHEMA_BYTES >> 20} MiB: not a schema file")
    text = data.decode("utf-8-sig")
    if not text.lstrip().startswith("{"):  # SDL never starts with a brace
        return text
    from ..schema import SchemaFileError, schema_from_text

    try:  # from the text read above: read again, a pipe (`--schema <(cat intro.json)`) is empty
        return print_schema(schema_from_text(text, str(path)).schema)
    except SchemaFileError as error:  # the ValueError executable_schema() promises
        raise ValueError(str(error)) from None


def _adopt(schema: GraphQLSchema, shipped: GraphQLSchema) -> None:
    for name, type_ in schema.type_map.items():
        ours = shipped.type_map.get(name)
        if name.startswith("__") or ours is None:
            continue
        if isinstance(type_, GraphQLScalarType) and isinstance(ours, GraphQLScalarType):
            type_.serialize = ours.serialize  # type: ignore[method-assign]
            type_.parse_value = ours.parse_value  # type: ignore[method-assign]
            type_.parse_literal = ours.parse_literal  # type: ignore[method-assign]
        elif isinstance(type_, GraphQLObjectType) and isinstance(ours, GraphQLObjectType):
            for field_name, field in type_.fields.items():
                our_field = ours.fields.get(field_name)
                if our_field is None:
                    continue  # new: the default resolver finds no seeded value, and fabricates
                if _fits(field, our_field):
                    field.resolve = our_field.resolve
                else:  # the seeded value, if any, is of the old type: a placeholder instead
                    field.resolve = fabricating_resolver


def _fits(field: GraphQLField, ours: GraphQLField) -> bool:
    """Whether our resolver serves `field`: the same type, and it takes the field's arguments
    (every one may be given; those it cannot do without are required)."""
    if str(field.type) != str(ours.type):
        return False
    resolver = ours.resolve
    if resolver is None:
        return True
    required = [name for name, arg in field.args.items() if _required(arg)]
    return _takes(resolver, list(field.args)) and _takes(resolver, required)


def _required(argument: GraphQLArgument) -> bool:
    return isinstance(argument.type, GraphQLNonNull) and argument.default_value is Undefined


def _takes(resolver: Callable[..., Any], names: list[str]) -> bool:
    try:
        inspect.signature(resolver).bind(None, None, **dict.fromkeys(names))
    except (TypeError, ValueError):
        return False
    return True


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
