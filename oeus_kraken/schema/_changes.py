"""What changed between two schemas, in three groups: breaking, dangerous, safe.

graphql-core's `find_breaking_changes` and `find_dangerous_changes` find the breaking and
dangerous changes, each as a type name and a sentence. We add what they do not see:

  * newly deprecated fields, arguments, enum values and input fields, with their reasons
    (dangerous: nothing breaks today, but it will be removed);
  * an input field's default value changed or removed (dangerous, as graphql-core says of an
    argument's: an operation sending the input type without that field now means otherwise);
  * what was only added (types, fields, directives), deprecations lifted, and types changed in
    a way that breaks no operation: a field made non-null, an argument or input field made
    nullable (safe; regenerating still changes the models and parameters).

Each change also names, as a schema coordinate ("Type", "Type.field", "Type.field(arg:)",
"Enum.VALUE", "@directive"), the element it changed and the element whose use by an operation
it affects: a required argument added to `Query.products` affects whoever selects
`Query.products`. graphql-core 3.2 (pinned) gives only sentences, so the coordinates are read
from them with one pattern per change type (`_PATTERNS`; a test checks every type has one).

`breaks_valid_use` says whether using the affected element breaks an operation even when it
still validates: a selected field whose type changed (our generated model expects the old type),
an input type we send that gained a required field (our generated input model cannot send it).
Where validation decides (an argument removed or retyped), it is False.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Literal

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    ast_from_value,
    find_breaking_changes,
    find_dangerous_changes,
    is_non_null_type,
    print_ast,
)

from ._sources import shown_reason

__all__ = ["GROUPS", "Group", "SchemaChange", "find_changes"]

Group = Literal["breaking", "dangerous", "safe"]
GROUPS: tuple[Group, ...] = ("breaking", "dangerous", "safe")


@dataclass(frozen=True)
class SchemaChange:
    """One change from the old schema to the new."""

    group: Group
    type: str  # graphql-core's BreakingChangeType / DangerousChangeType name, or one of ours
    description: str
    coordinate: str | None  # the element changed
    affects: str | None  # the element whose use by an operation this change affects
    breaks_valid_use: bool = False
    reason: str | None = None  # a deprecation's reason, as the schema gives it
    used_by: tuple[str, ...] = ()  # operations using `affects` (filled in by the diff)

    def render(self) -> str:
        return f"{self.type}: {self.description}"


# A name, in each place graphql-core's sentences put one.
_NAMES = {
    key: rf"(?P<{key}>[_A-Za-z][_0-9A-Za-z]*)" for key in ("t", "f", "a", "v", "m", "i", "d", "l")
}
_ARG = "{t}.{f}({a}:)"
# Change type -> (its sentence, the coordinate changed, the coordinate affected, breaks_valid_use)
_PATTERNS: dict[str, tuple[str, str, str, bool]] = {
    "TYPE_REMOVED": (
        r"(?:Standard scalar )?{t} was removed(?: because it is not referenced anymore)?\.",
        "{t}",
        "{t}",
        True,
    ),
    "TYPE_CHANGED_KIND": (r"{t} changed from .+", "{t}", "{t}", True),
    "TYPE_REMOVED_FROM_UNION": (r"{m} was removed from union type {t}\.", "{t}", "{t}", False),
    "VALUE_REMOVED_FROM_ENUM": (
        r"{v} was removed from enum type {t}\.",
        "{t}.{v}",
        "{t}.{v}",
        True,
    ),
    "REQUIRED_INPUT_FIELD_ADDED": (
        r"A required field {f} on input type {t} was added\.",
        "{t}.{f}",
        "{t}",
        True,
    ),
    "IMPLEMENTED_INTERFACE_REMOVED": (
        r"{t} no longer implements interface {i}\.",
        "{t}",
        "{t}",
        False,
    ),
    "FIELD_REMOVED": (r"{t}\.{f} was removed\.", "{t}.{f}", "{t}.{f}", True),
    "FIELD_CHANGED_KIND": (r"{t}\.{f} changed type from .+", "{t}.{f}", "{t}.{f}", True),
    "REQUIRED_ARG_ADDED": (r"A required arg {a} on {t}\.{f} was added\.", _ARG, "{t}.{f}", False),
    "ARG_REMOVED": (r"{t}\.{f} arg {a} was removed\.", _ARG, _ARG, False),
    "ARG_CHANGED_KIND": (r"{t}\.{f} arg {a} has changed type from .+", _ARG, _ARG, False),
    "DIRECTIVE_REMOVED": (r"{d} was removed\.", "@{d}", "@{d}", False),
    "DIRECTIVE_ARG_REMOVED": (r"{a} was removed from {d}\.", "@{d}({a}:)", "@{d}({a}:)", False),
    "REQUIRED_DIRECTIVE_ARG_ADDED": (
        r"A required arg {a} on directive {d} was added\.",
        "@{d}({a}:)",
        "@{d}",
        False,
    ),
    "DIRECTIVE_REPEATABLE_REMOVED": (
        r"Repeatable flag was removed from {d}\.",
        "@{d}",
        "@{d}",
        False,
    ),
    "DIRECTIVE_LOCATION_REMOVED": (r"{l} was removed from {d}\.", "@{d}", "@{d}", False),
    "VALUE_ADDED_TO_ENUM": (r"{v} was added to enum type {t}\.", "{t}.{v}", "{t}", False),
    "TYPE_ADDED_TO_UNION": (r"{m} was added to union type {t}\.", "{t}", "{t}", False),
    "OPTIONAL_INPUT_FIELD_ADDED": (
        r"An optional field {f} on input type {t} was added\.",
        "{t}.{f}",
        "{t}",
        False,
    ),
    "OPTIONAL_ARG_ADDED": (r"An optional arg {a} on {t}\.{f} was added\.", _ARG, "{t}.{f}", False),
    "IMPLEMENTED_INTERFACE_ADDED": (
        r"{i} added to interfaces implemented by {t}\.",
        "{t}",
        "{t}",
        False,
    ),
    "ARG_DEFAULT_VALUE_CHANGE": (
        r"{t}\.{f} arg {a} (?:defaultValue was removed|has changed defaultValue from .+)\.",
        _ARG,
        "{t}.{f}",
        False,
    ),
}
_COMPILED = {
    kind: (re.compile(sentence.format(**_NAMES)), changed, affected, breaks)
    for kind, (sentence, changed, affected, breaks) in _PATTERNS.items()
}


def _core_change(group: Group, kind: str, description: str) -> SchemaChange:
    pattern = _COMPILED.get(kind)
    match = pattern[0].fullmatch(description) if pattern else None
    if pattern is None or match is None:  # a sentence this version does not write: listed only
        return SchemaChange(group, kind, description, None, None)
    names = match.groupdict()
    return SchemaChange(
        group,
        kind,
        description,
        pattern[1].format(**names),
        pattern[2].format(**names),
        breaks_valid_use=pattern[3],
    )


# -- what graphql-core does not report ------------------------------------------------------------

_KIND_WORDS = {
    "FIELD": "field",
    "ARG": "argument",
    "ENUM_VALUE": "enum value",
    "INPUT_FIELD": "input field",
}


def _deprecatable(schema: GraphQLSchema) -> Iterator[tuple[str, str, str | None]]:
    """(kind, coordinate, deprecation reason or None) for every field, argument, enum value and
    input field of `schema`'s own types, and every argument of its directives."""
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
            for field_name, field in type_.fields.items():
                yield "FIELD", f"{name}.{field_name}", field.deprecation_reason
                for arg_name, arg in field.args.items():
                    yield "ARG", f"{name}.{field_name}({arg_name}:)", arg.deprecation_reason
        elif isinstance(type_, GraphQLEnumType):
            for value_name, value in type_.values.items():
                yield "ENUM_VALUE", f"{name}.{value_name}", value.deprecation_reason
        elif isinstance(type_, GraphQLInputObjectType):
            for field_name, input_field in type_.fields.items():
                yield "INPUT_FIELD", f"{name}.{field_name}", input_field.deprecation_reason
    for directive in schema.directives:  # a directive's arguments are arguments too
        for arg_name, arg in directive.args.items():
            yield "ARG", f"@{directive.name}({arg_name}:)", arg.deprecation_reason


def _deprecation_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    before = {coordinate: reason for _, coordinate, reason in _deprecatable(old)}
    changes = []
    for kind, coordinate, reason in _deprecatable(new):
        if coordinate not in before:
            continue  # added: listed with the additions
        was = before[coordinate]
        what = f"{_KIND_WORDS[kind].capitalize()} {coordinate}"
        if reason is not None and was is None:
            changes.append(
                SchemaChange(
                    "dangerous",
                    f"{kind}_DEPRECATED",
                    f"{what} was deprecated: {shown_reason(reason)}",
                    coordinate,
                    coordinate,
                    reason=reason,
                )
            )
        elif reason is None and was is not None:
            changes.append(
                SchemaChange(
                    "safe",
                    "DEPRECATION_REMOVED",
                    f"{what} is no longer deprecated.",
                    coordinate,
                    coordinate,
                )
            )
        elif reason is not None and was is not None and reason != was:
            changes.append(
                SchemaChange(
                    "safe",
                    "DEPRECATION_REASON_CHANGED",
                    f"{what} is deprecated for a new reason: {shown_reason(reason)}",
                    coordinate,
                    coordinate,
                    reason=reason,
                )
            )
    return changes


def _shown_default(value: object, type_: GraphQLInputType) -> str:
    node = ast_from_value(value, type_)
    return print_ast(node) if node is not None else repr(value)


def _default_changes(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Input fields whose default value changed or was removed. graphql-core 3.2 reports this of
    arguments only (ARG_DEFAULT_VALUE_CHANGE); of an input field it said nothing, and a schema
    turning `limit: Int = 10` into `= 20` was "0 dangerous" for every operation sending it.
    The type name and sentences are those graphql-core 3.3 gives the same change."""
    changes = []
    for name, type_ in new.type_map.items():
        before = old.type_map.get(name)
        if not (
            isinstance(type_, GraphQLInputObjectType) and isinstance(before, GraphQLInputObjectType)
        ):
            continue
        for field_name, input_field in type_.fields.items():
            was = before.fields.get(field_name)
            if was is None or was.default_value is Undefined:
                continue
            coordinate = f"{name}.{field_name}"
            if input_field.default_value is Undefined:
                description = f"{coordinate} defaultValue was removed."
            else:
                shown_was = _shown_default(was.default_value, was.type)
                shown_now = _shown_default(input_field.default_value, input_field.type)
                if shown_was == shown_now:
                    continue
                description = (
                    f"{coordinate} has changed defaultValue from {shown_was} to {shown_now}."
                )
            changes.append(
                SchemaChange(
                    "dangerous", "INPUT_FIELD_DEFAULT_VALUE_CHANGE", description, coordinate, name
                )
            )
    return changes


def _additions(old: GraphQLSchema, new: GraphQLSchema) -> list[SchemaChange]:
    """Types, output fields and directives only added (input fields, arguments and enum values
    added are graphql-core's dangerous or breaking changes)."""
    changes = []
    for name, type_ in new.type_map.items():
        if name.startswith("__"):
            continue
        before = old.type_map.get(name)
        if before is None:
            changes.append(SchemaChange("safe", "TYPE_ADDED", f"{name} was added.", name, None))
            continue
        with_fields = (GraphQLObjectType, GraphQLInterfaceType)
        if isinstance(type_, with_fields) and isinstance(before, with_fields):
            changes.extend(
                SchemaChange(
                    "safe", "FIELD_ADDED", f"{name}.{field} was added.", f"{name}.{field}", None
                )
                for field in type_.fields
                if field not in before.fields
            )
    known = {directive.name for directive in old.directives}
    changes.extend(
        SchemaChange("safe", "DIRECTIVE_ADDED", f"@{d.name} was added.", f"@{d.name}", None)
        for d in new.directives
        if d.name not in known
    )
    return changes


def _safe_type_changes(
    old: GraphQLSchema, new: GraphQLSchema, reported: set[str | None]
) -> list[SchemaChange]:
    """Fields, arguments and input fields whose type changed where graphql-core reported no
    change (`reported`: the coordinates it did): it sees a field made non-null, or an argument
    made nullable, as no change at all, and the report said "0 safe" for a schema whose
    generated models differ."""
    changes = []

    def changed(kind: str, coordinate: str, what: str, was: object, now: object) -> None:
        if str(was) != str(now) and coordinate not in reported:
            description = f"{what} changed type from {was} to {now}."
            changes.append(SchemaChange("safe", kind, description, coordinate, coordinate))

    for name, type_ in new.type_map.items():
        before = old.type_map.get(name)
        if name.startswith("__"):
            continue
        with_fields = (GraphQLObjectType, GraphQLInterfaceType)
        if isinstance(type_, with_fields) and isinstance(before, with_fields):
            for field_name, field in type_.fields.items():
                was = before.fields.get(field_name)
                if was is None:
                    continue
                coordinate = f"{name}.{field_name}"
                changed("FIELD_TYPE_CHANGED", coordinate, coordinate, was.type, field.type)
                for arg_name, arg in field.args.items():
                    if arg_name in was.args:
                        changed(
                            "ARG_TYPE_CHANGED",
                            f"{coordinate}({arg_name}:)",
                            f"{coordinate} arg {arg_name}",
                            was.args[arg_name].type,
                            arg.type,
                        )
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(
            before, GraphQLInputObjectType
        ):
            fields = before.fields
            for field_name, input_field in type_.fields.items():
                if field_name in fields:
                    coordinate = f"{name}.{field_name}"
                    kind = "INPUT_FIELD_TYPE_CHANGED"
                    changed(kind, coordinate, coordinate, fields[field_name].type, input_field.type)
    return changes


def _input_value(
    schema: GraphQLSchema, coordinate: str
) -> GraphQLArgument | GraphQLInputField | None:
    """The argument ("T.f(a:)") or input field ("T.f") at `coordinate`, if there is one."""
    match = re.fullmatch(r"(\w+)\.(\w+)(?:\((\w+):\))?", coordinate)
    if match is None:
        return None
    owner, name, arg = match.groups()
    type_ = schema.type_map.get(owner)
    found: GraphQLArgument | GraphQLInputField | None = None
    if arg is not None and isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType)):
        field = type_.fields.get(name)
        found = field.args.get(arg) if field is not None else None
    elif arg is None and isinstance(type_, GraphQLInputObjectType):
        found = type_.fields.get(name)
    return found


def _required(value: GraphQLArgument | GraphQLInputField | None) -> bool:
    """Whether an operation must give the argument or input field (graphql-core's rule)."""
    return value is not None and is_non_null_type(value.type) and value.default_value is Undefined


def _made_required(change: SchemaChange, old: GraphQLSchema, new: GraphQLSchema) -> SchemaChange:
    """An argument or input field made required affects whoever leaves it out too: its field
    (as REQUIRED_ARG_ADDED's), or its input type (as REQUIRED_INPUT_FIELD_ADDED's). Before,
    only the operations writing it were listed as using the change, and not the one it broke
    (`req` selected without its argument)."""
    coordinate = change.coordinate
    if change.type not in ("ARG_CHANGED_KIND", "FIELD_CHANGED_KIND") or coordinate is None:
        return change
    was = _input_value(old, coordinate)
    if was is None or _required(was) or not _required(_input_value(new, coordinate)):
        return change
    owner = coordinate.rsplit("(" if coordinate.endswith(":)") else ".", 1)[0]
    return replace(change, affects=owner)


def find_changes(old: GraphQLSchema, new: GraphQLSchema) -> tuple[SchemaChange, ...]:
    """Every change from `old` to `new`: breaking, then dangerous, then safe."""
    changes = [
        _made_required(_core_change("breaking", c.type.name, c.description), old, new)
        for c in find_breaking_changes(old, new)
    ]
    changes += [
        _core_change("dangerous", c.type.name, c.description)
        for c in find_dangerous_changes(old, new)
    ]
    deprecations = _deprecation_changes(old, new)
    changes += [c for c in deprecations if c.group == "dangerous"]
    changes += _additions(old, new)
    changes += _safe_type_changes(old, new, {c.coordinate for c in changes})
    # After: an input field whose default changed may also have changed type (made nullable).
    changes += _default_changes(old, new)
    changes += [c for c in deprecations if c.group == "safe"]
    return tuple(sorted(changes, key=lambda change: GROUPS.index(change.group)))  # stable
