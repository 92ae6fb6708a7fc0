"""What one operation (or fragment) uses of a schema, where, and what of it is deprecated.

One walk over a definition, with graphql-core's TypeInfo tracking where in the schema each node
is, gives three things:

  * `uses`: each schema element the definition uses, as a coordinate ("ProductType.code",
    "Query.products(prepay:)", "LoadZone.LZ_WEST", or a type's name), with the place that uses
    it. Written uses are in the operation's text. Reached uses come through a variable: a
    variable of an input type reaches every field of that type (the generated input model
    carries them all), one of an enum type every value (the generated enum offers them all).
  * `deprecated`: each deprecated field, argument, enum value and input field the definition
    writes, with the deprecation's reason. What a variable merely reaches is not counted: the
    operation does not use a deprecated input field or enum value unless it writes it; whether
    the calling code sends one, no schema check can see.
  * `coordinates`: for each node that can carry a validation error, the element it stands for,
    and the fields around it (innermost first), so that an error found against one schema can
    be traced to the change that caused it, through the old schema's view of the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    ArgumentNode,
    DirectiveNode,
    EnumValueNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLNamedType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    NamedTypeNode,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    visit,
)

from ._operations import Location, location_of
from ._sources import shown_reason

__all__ = ["DeprecatedUse", "Element", "NodeKey", "Use", "Walk", "node_key", "walk"]

NodeKey = tuple[str, int, str]  # (source name, offset, node class): one node of a document


def node_key(node: Node) -> NodeKey | None:
    if node.loc is None:
        return None
    return (node.loc.source.name, node.loc.start, type(node).__name__)


@dataclass(frozen=True)
class Use:
    """A schema element used, and where; `written` False: reached through a variable.
    `literal`: in a value written in the text (`{code: "x"}`, `A`), which validation against
    the new schema judges as the server will."""

    kind: str  # as Element.kind
    coordinate: str
    location: Location | None
    written: bool = True
    literal: bool = False


@dataclass(frozen=True)
class DeprecatedUse:
    """A deprecated element an operation writes, where, and the deprecation's reason."""

    kind: str  # "field", "argument", "enum value", "input field"
    coordinate: str
    reason: str
    location: Location | None

    def line(self) -> str:
        """`ops/a.graphql:3: field ProductType.oldField is deprecated: <reason>`"""
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.kind} {self.coordinate} is deprecated: {shown_reason(self.reason)}"


@dataclass(frozen=True)
class Element:
    """What a node stands for in the schema, and the fields around it, innermost first."""

    kind: str  # "field", "argument", "input field", "enum value", "type", "directive"
    coordinate: str
    around: tuple[str, ...] = ()


@dataclass
class Walk:
    uses: list[Use] = field(default_factory=list)
    deprecated: list[DeprecatedUse] = field(default_factory=list)
    elements: dict[NodeKey, Element] = field(default_factory=dict)


class _Walker(Visitor):
    def __init__(self, type_info: TypeInfo) -> None:
        super().__init__()
        self.info = type_info
        self.result = Walk()
        self.fields: list[str] = []  # the coordinates of the fields we are inside
        self.inputs: list[str] = []  # the argument or input field whose value we are inside

    # -- recording ------------------------------------------------------------------------------

    def _element(self, node: Node, kind: str, coordinate: str) -> None:
        key = node_key(node)
        if key is not None:
            around = tuple(reversed([f for f in self.fields if f != coordinate]))
            self.result.elements[key] = Element(kind, coordinate, around)

    def _use(
        self, kind: str, coordinate: str, node: Node, *, written: bool = True, literal: bool = False
    ) -> None:
        self.result.uses.append(Use(kind, coordinate, location_of(node), written, literal))

    def _use_type(
        self, type_: GraphQLType | None, node: Node, *, written: bool = True, literal: bool = False
    ) -> None:
        if type_ is not None:
            self._use("type", get_named_type(type_).name, node, written=written, literal=literal)

    def _deprecated(self, kind: str, coordinate: str, reason: str | None, node: Node) -> None:
        if reason is not None:
            self.result.deprecated.append(
                DeprecatedUse(kind, coordinate, reason, location_of(node))
            )

    def _reach(self, named: GraphQLNamedType, node: Node, seen: set[str]) -> None:
        """Every field of an input type sent through a variable, every value of an enum."""
        if named.name in seen:
            return
        seen.add(named.name)
        if isinstance(named, GraphQLEnumType):
            for value in named.values:
                self._use("enum value", f"{named.name}.{value}", node, written=False)
        elif isinstance(named, GraphQLInputObjectType):
            for name, input_field in named.fields.items():
                self._use("input field", f"{named.name}.{name}", node, written=False)
                self._use_type(input_field.type, node, written=False)
                self._reach(get_named_type(input_field.type), node, seen)

    # -- definitions and types ------------------------------------------------------------------

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        self._use_type(self.info.get_type(), node)

    def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: object) -> None:
        self._use_type(self.info.get_type(), node)

    def enter_inline_fragment(self, node: InlineFragmentNode, *_: object) -> None:
        if node.type_condition is not None:
            self._use_type(self.info.get_type(), node)

    def enter_named_type(self, node: NamedTypeNode, *_: object) -> None:
        self._element(node, "type", node.name.value)

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: object) -> None:
        type_ = self.info.get_input_type()
        if type_ is None:
            return
        named = get_named_type(type_)
        self._use("type", named.name, node)
        self._element(node, "type", named.name)
        self._reach(named, node, set())

    def enter_directive(self, node: DirectiveNode, *_: object) -> None:
        self._element(node, "directive", f"@{node.name.value}")
        self._use("directive", f"@{node.name.value}", node)

    # -- fields, arguments, values --------------------------------------------------------------

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.info.get_parent_type()
        name = node.name.value
        coordinate = f"{parent.name}.{name}" if parent is not None else name
        self._element(node, "field", coordinate)
        self.fields.append(coordinate)
        definition = self.info.get_field_def()
        if parent is None or definition is None or name.startswith("__"):
            return
        self._use("field", coordinate, node)
        self._use_type(definition.type, node)
        self._deprecated("field", coordinate, definition.deprecation_reason, node)

    def leave_field(self, *_: object) -> None:
        self.fields.pop()

    def enter_argument(self, node: ArgumentNode, *_: object) -> None:
        directive = self.info.get_directive()
        owner = f"@{directive.name}" if directive is not None else self.fields[-1]
        coordinate = f"{owner}({node.name.value}:)"
        self._element(node, "argument", coordinate)
        self.inputs.append(coordinate)
        argument = self.info.get_argument()
        if argument is None:
            return
        self._use("argument", coordinate, node)
        self._use_type(argument.type, node, literal=not isinstance(node.value, VariableNode))
        self._deprecated("argument", coordinate, argument.deprecation_reason, node)

    def leave_argument(self, *_: object) -> None:
        self.inputs.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: object) -> None:
        parent = self.info.get_parent_input_type()
        owner = get_named_type(parent) if parent is not None else None
        coordinate = f"{owner.name if owner else '?'}.{node.name.value}"
        self._element(node, "input field", coordinate)
        self.inputs.append(coordinate)
        if not isinstance(owner, GraphQLInputObjectType):
            return
        definition = owner.fields.get(node.name.value)
        if definition is None:
            return
        self._use("input field", coordinate, node, literal=True)  # only literals have fields
        self._use_type(definition.type, node, literal=not isinstance(node.value, VariableNode))
        self._deprecated("input field", coordinate, definition.deprecation_reason, node)

    def leave_object_field(self, *_: object) -> None:
        self.inputs.pop()

    def enter_variable(self, node: VariableNode, *_: object) -> None:
        if self.inputs:  # a variable passed as (part of) an argument
            self._element(node, "argument", self.inputs[-1])

    def _literal(self, node: Node, *_: object) -> None:
        """A value written in the operation (3, "x", null, [...], {...}): an error on it (a type
        it no longer fits) is the argument's or input field's it is given to, whose change the
        break then names; unnamed, it was a bare 'Expected value of type ...' with no cause."""
        if self.inputs:
            where = self.inputs[-1]
            self._element(node, "argument" if where.endswith(":)") else "input field", where)

    enter_int_value = enter_float_value = enter_string_value = enter_boolean_value = _literal
    enter_null_value = enter_list_value = enter_object_value = _literal

    def enter_enum_value(self, node: EnumValueNode, *_: object) -> None:
        type_ = self.info.get_input_type()
        enum = get_named_type(type_) if type_ is not None else None
        if not isinstance(enum, GraphQLEnumType):
            return
        coordinate = f"{enum.name}.{node.value}"
        self._element(node, "enum value", coordinate)
        value = enum.values.get(node.value)
        if value is None:
            return
        self._use("enum value", coordinate, node, literal=True)
        self._deprecated("enum value", coordinate, value.deprecation_reason, node)


def walk(schema: GraphQLSchema, definition: Node) -> Walk:
    """What `definition` (an operation or a fragment) uses of `schema`."""
    type_info = TypeInfo(schema)
    walker = _Walker(type_info)
    visit(definition, TypeInfoVisitor(type_info, walker))
    return walker.result
