"""The default resolver: seeded values where there are some, schema-derived values elsewhere.

Every field without a resolver of its own resolves through `default_resolver`. It returns the
parent's value for the field (a mapping key, or the snake_case attribute of a seeded object); if
there is none, or it is null where the schema says non-null, it fabricates a deterministic value
from the field's GraphQL type. So any valid query executes, and non-null fields are never null.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ariadne import convert_camel_case_to_snake
from graphql import (
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
)

__all__ = [
    "FakeObject",
    "default_resolver",
    "fabricate",
    "fabricating_resolver",
    "install_defaults",
    "resolve_type",
]

# Below this many path segments a nullable object field is still built; deeper ones are null.
MAX_FAKE_DEPTH = 12

# Values for scalars by name; String fields get their own field name instead.
_SCALAR_VALUES: dict[str, object] = {
    "Int": 0,
    "Float": 0.0,
    "Boolean": False,
    "ID": "1",
    "DateTime": "2025-01-01T00:00:00+00:00",
    "Date": "2025-01-01",
    "Time": "00:00:00",
    "Decimal": "0.00",
    "FloatSafeDecimal": "0.00",
    "NormalizedDecimal": "0.00",
    "BigInt": 0,
    "GenericScalar": {},
    "JSONString": "{}",
    "UUID": "00000000-0000-4000-8000-000000000000",
    "Email": "user@example.com",
}


@dataclass(frozen=True)
class FakeObject:
    """A fabricated object of a concrete GraphQL type: all its fields are fabricated too."""

    typename: str


_MISSING = object()


@lru_cache(maxsize=4096)
def _attribute_name(field_name: str) -> str:
    return convert_camel_case_to_snake(field_name)


def _seeded_value(parent: object, field_name: str) -> object:
    if isinstance(parent, Mapping):
        return parent.get(field_name, _MISSING)
    if parent is None or isinstance(parent, FakeObject):
        return _MISSING
    value = getattr(parent, _attribute_name(field_name), _MISSING)
    return _MISSING if callable(value) else value


def default_resolver(parent: object, info: GraphQLResolveInfo, **_arguments: object) -> object:
    value = _seeded_value(parent, info.field_name)
    if value is _MISSING or (value is None and isinstance(info.return_type, GraphQLNonNull)):
        return fabricate(info.return_type, info)
    return value


def fabricating_resolver(_parent: object, info: GraphQLResolveInfo, **_arguments: object) -> object:
    """A typed placeholder, whatever the parent holds: for a field whose seeded value is of
    another type (served under a schema where the field's type changed)."""
    return fabricate(info.return_type, info)


def _depth(info: GraphQLResolveInfo) -> int:
    return sum(1 for key in info.path.as_list() if isinstance(key, str))


def fabricate(type_: GraphQLOutputType, info: GraphQLResolveInfo, *, non_null: bool = False) -> Any:
    """A deterministic value of `type_` for the field `info` resolves."""
    if isinstance(type_, GraphQLNonNull):
        return fabricate(type_.of_type, info, non_null=True)
    if isinstance(type_, GraphQLList):
        return [fabricate(type_.of_type, info)]
    if isinstance(type_, GraphQLScalarType):
        if type_.name == "String":
            return info.field_name
        return _SCALAR_VALUES.get(type_.name, info.field_name)
    if isinstance(type_, GraphQLEnumType):
        name, value = next(iter(type_.values.items()))
        return name if value.value is None else value.value
    if not non_null and _depth(info) > MAX_FAKE_DEPTH:
        return None
    if isinstance(type_, GraphQLObjectType):
        return FakeObject(type_.name)
    if isinstance(type_, (GraphQLInterfaceType, GraphQLUnionType)):
        possible = info.schema.get_possible_types(type_)
        if possible:
            return FakeObject(possible[0].name)
    if non_null:
        raise TypeError(f"cannot fabricate a value of {type_}")
    return None


def resolve_type(obj: object, info: GraphQLResolveInfo, abstract_type: GraphQLAbstractType) -> str:
    """The concrete type of an interface or union value."""
    if isinstance(obj, Mapping) and isinstance(obj.get("__typename"), str):
        return str(obj["__typename"])
    typename = getattr(obj, "typename", None)
    if isinstance(typename, str):
        return typename
    return info.schema.get_possible_types(abstract_type)[0].name


def install_defaults(schema: GraphQLSchema) -> None:
    """Give every field without a resolver `default_resolver`, and every interface and union
    `resolve_type`."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, GraphQLObjectType):
            for field in type_.fields.values():
                if field.resolve is None:
                    field.resolve = default_resolver
        if (
            isinstance(type_, (GraphQLInterfaceType, GraphQLUnionType))
            and type_.resolve_type is None
        ):
            type_.resolve_type = resolve_type
