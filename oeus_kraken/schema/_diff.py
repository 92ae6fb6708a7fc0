"""The verdict on each operation when the schema changes: breaks, deprecated, or fine.

For each operation, against the new schema:

  * breaks: it no longer validates (each error named by file, line and the element it is on,
    with the schema change that caused it, traced through the old schema's view of the node and
    then of the fields around it), or it still validates but a breaking change touches what it
    uses in a way validation cannot see (a selected field that changed type, an input type it
    sends that gained a required field);
  * deprecated: it writes a deprecated field, argument, enum value or input field (each with its
    reason; marked new when the old schema did not deprecate it);
  * fine: neither.

An operation of an optional folder (the package's own) that does not validate against the old
schema is skipped, not judged: the old schema is not one it was written for.

Exit statuses for a command built on it: 0 when nothing the operations use breaks, 1 when an
operation breaks, and 1 too with `fail_on_deprecated` when an operation uses a deprecated element.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from graphql import (
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    ValidationRule,
    specified_rules,
    validate,
)

from ._changes import GROUPS, Group, SchemaChange, find_changes
from ._operations import Location, Operation, OperationFolder, location_of
from ._sources import LoadedSchema
from ._walk import DeprecatedUse, Element, NodeKey, Use, Walk, node_key, walk

__all__ = [
    "EXIT_BREAKS",
    "EXIT_FINE",
    "Break",
    "OperationVerdict",
    "SchemaDiff",
    "Verdict",
    "diff_schemas",
]

Verdict = Literal["breaks", "deprecated", "fine"]
EXIT_FINE = 0
EXIT_BREAKS = 1


@dataclass(frozen=True)
class Break:
    """One reason an operation breaks."""

    location: Location | None
    element: Element | None  # what the failing node stands for, in the old schema
    message: str  # the validation error, or the breaking change's sentence
    changes: tuple[SchemaChange, ...]  # the schema changes that caused it (may be none)
    touched: bool = False  # True: no validation error, but a breaking change touches it
    validates: bool = False  # the operation still validates (a `touched` break can say so)
    already_invalid: bool = False  # it did not validate against the old schema either

    def render(self) -> str:
        where = f"{self.location}: " if self.location else ""
        what = f"{self.element.kind} {self.element.coordinate}: " if self.element else ""
        if self.touched:
            return f"{where}{what}{self.touched_words()}{self.message}"
        cause = "; ".join(change.render() for change in self.changes)
        if self.already_invalid:
            cause = "it did not validate against the old schema either"
        return f"{where}{what}{self.message}" + (f" [{cause}]" if cause else "")

    def touched_words(self) -> str:
        """What a `touched` break says before the change: that the operation still validates
        only if it does (before, also beside its own validation errors)."""
        return "still validates, but breaks: " if self.validates else "breaks: "


@dataclass(frozen=True)
class OperationVerdict:
    """What the new schema does to one operation."""

    name: str
    kind: str  # query, mutation, subscription
    location: Location | None
    folder: str
    breaks: tuple[Break, ...]
    deprecated: tuple[DeprecatedUse, ...]
    newly_deprecated: frozenset[str] = frozenset()  # coordinates the old schema did not deprecate

    @property
    def verdict(self) -> Verdict:
        if self.breaks:
            return "breaks"
        return "deprecated" if self.deprecated else "fine"


@dataclass(frozen=True)
class SchemaDiff:
    """What changed from the old schema to the new, and what that does to each operation."""

    old_label: str | None  # None: no old schema (operations checked against the new one only)
    new_label: str
    folders: tuple[str, ...]
    changes: tuple[SchemaChange, ...]
    operations: tuple[OperationVerdict, ...]
    unattached: tuple[Break, ...] = ()  # errors in no operation (e.g. in an unused fragment)
    skipped: tuple[tuple[str, Location | None], ...] = ()  # optional, invalid against the old

    def group(self, name: Group) -> tuple[SchemaChange, ...]:
        return tuple(c for c in self.changes if c.group == name)

    def counts(self) -> dict[str, int]:
        return {name: len(self.group(name)) for name in GROUPS}

    def with_verdict(self, verdict: Verdict) -> tuple[OperationVerdict, ...]:
        return tuple(op for op in self.operations if op.verdict == verdict)

    @property
    def verdict(self) -> Verdict:
        if self.unattached or self.with_verdict("breaks"):
            return "breaks"
        return "deprecated" if self.with_verdict("deprecated") else "fine"

    def exit_status(self, *, fail_on_deprecated: bool = False) -> int:
        verdict = self.verdict
        if verdict == "breaks" or (verdict == "deprecated" and fail_on_deprecated):
            return EXIT_BREAKS
        return EXIT_FINE


# -- tracing an error to its change ---------------------------------------------------------------


def _related(change: SchemaChange, coordinate: str) -> bool:
    """Whether `change` concerns the element at `coordinate`: the element itself, its field
    (for an argument) or its arguments (for a field), or its type."""
    owner = coordinate.split(".", 1)[0]
    for subject in (change.coordinate, change.affects):
        if subject is not None and (
            subject in (coordinate, owner)
            or subject.startswith(coordinate + "(")
            or coordinate.startswith(subject + "(")
        ):
            return True
    return False


def _causes(element: Element | None, breaking: Sequence[SchemaChange]) -> tuple[SchemaChange, ...]:
    """The breaking changes concerning the element, else the nearest field around it that one
    concerns."""
    if element is None:
        return ()
    for coordinate in (element.coordinate, *element.around):
        found = tuple(c for c in breaking if _related(c, coordinate))
        if found:
            return found
    return ()


def _failing_node(
    error: GraphQLError, elements: dict[NodeKey, Element]
) -> tuple[Node | None, Element | None]:
    """The error's node to name, and what it stands for: an argument, field or value before a
    bare type (a variable's definition), else the first node."""
    known = []
    for node in error.nodes or ():
        key = node_key(node)
        element = elements.get(key) if key is not None else None
        if element is not None:
            known.append((element.kind == "type", node, element))
    if not known:
        return (error.nodes[0] if error.nodes else None), None
    _, node, element = min(known, key=lambda found: found[0])
    return node, element


def _signature(error: GraphQLError) -> tuple[str, tuple[int, ...]]:
    """The same error against both schemas (suggestions aside: they name what each has)."""
    message = error.message.split(" Did you mean ", 1)[0]
    return message, tuple(n.loc.start for n in error.nodes or () if n.loc is not None)


class _KnownOperationType(ValidationRule):
    """A mutation against a schema with no Mutation type is invalid (graphql-core 3.2 has no
    rule for it; graphql-js 17 adds one)."""

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: object) -> None:
        if self.context.schema.get_root_type(node.operation) is None:
            kind = node.operation.value
            self.report_error(GraphQLError(f"The schema has no {kind} type.", node))


_RULES = [*specified_rules, _KnownOperationType]


def _validate(schema: GraphQLSchema, folder: OperationFolder) -> list[GraphQLError]:
    # Every error: graphql-core stops after 100 (a server's guard against hostile documents)
    # with an error of no operation, and our own 30-odd operations pass that against a schema
    # not written for them.
    return validate(schema, folder.document, _RULES, max_errors=sys.maxsize)


# -- the diff -------------------------------------------------------------------------------------


@dataclass
class _Folder:
    """One folder's operations, walked against both schemas and validated against the new."""

    folder: OperationFolder
    operations: tuple[Operation, ...]
    old_walks: dict[int, Walk]  # by id() of each definition node
    new_walks: dict[int, Walk]
    errors: list[GraphQLError]
    old_errors: list[GraphQLError]
    fragment_users: dict[str, tuple[str, ...]]
    skipped: set[str] = field(default_factory=set)  # see _skipped

    def uses(self, operation: Operation) -> list[Use]:
        """What `operation` and its fragments use, in the old schema's view."""
        return [use for d in operation.definitions for use in self.old_walks[id(d)].uses]


def _prepare(folder: OperationFolder, old: GraphQLSchema | None, new: GraphQLSchema) -> _Folder:
    definitions = [
        d
        for d in folder.document.definitions
        if isinstance(d, (OperationDefinitionNode, FragmentDefinitionNode))
    ]
    before = old or new
    old_errors = _validate(old, folder) if old else []
    prepared = _Folder(
        folder,
        folder.operations(),
        {id(d): walk(before, d) for d in definitions},
        {id(d): walk(new, d) for d in definitions},
        _validate(new, folder),
        old_errors,
        folder.fragment_users(),
    )
    prepared.skipped = _skipped(prepared)
    return prepared


def _owners(node: Node, prepared: _Folder) -> list[str]:
    """The operations whose text (or a fragment they spread) contains `node`."""
    loc = node.loc
    if loc is None:
        return []
    for operation in prepared.operations:
        for definition in operation.definitions:
            d = definition.loc
            if d is not None and d.source is loc.source and d.start <= loc.start < d.end:
                if isinstance(definition, FragmentDefinitionNode):
                    return list(prepared.fragment_users.get(definition.name.value, ()))
                return [operation.name]
    return []


def _error_owners(error: GraphQLError, prepared: _Folder) -> list[str]:
    return sorted({o for n in error.nodes or () for o in _owners(n, prepared)})


def _validation_breaks(
    prepared: _Folder, breaking: Sequence[SchemaChange]
) -> tuple[dict[str, list[Break]], list[Break]]:
    before = {_signature(e) for e in prepared.old_errors}
    elements: dict[NodeKey, Element] = {}
    for result in prepared.old_walks.values():
        elements.update(result.elements)
    by_operation: dict[str, list[Break]] = {}
    unattached: list[Break] = []
    for error in prepared.errors:
        node, element = _failing_node(error, elements)
        found = Break(
            location_of(node),
            element,
            error.message,
            _causes(element, breaking),
            already_invalid=_signature(error) in before,
        )
        owners = _error_owners(error, prepared)
        if not owners:
            unattached.append(found)
        for owner in owners:
            by_operation.setdefault(owner, []).append(found)
    return by_operation, unattached


def _silent_breaks(
    uses: Iterable[Use], breaking: Sequence[SchemaChange], seen: Sequence[Break]
) -> list[Break]:
    """Breaking changes that touch what the operation uses although it still validates."""
    explained = {c for b in seen for c in b.changes}
    first_use: dict[str, Use] = {}
    for use in uses:
        # A value written in the text is the server's to judge, and validation is that
        # judgement: `{code: "x"}` to a field made String! still works. Counted, it broke
        # such operations "although they validate" (and ones that did not, saying they did).
        if not use.literal:
            first_use.setdefault(use.coordinate, use)
    found = []
    for change in breaking:
        # The element changed where the operation uses it (an input field made required, sent
        # through a variable), else the one the change affects (the input type it is in).
        used = first_use.get(change.coordinate or "") or first_use.get(change.affects or "")
        if change.breaks_valid_use and used is not None and change not in explained:
            found.append(
                Break(
                    used.location,
                    Element(used.kind, used.coordinate),
                    change.render(),
                    (change,),
                    touched=True,
                    validates=not seen,
                )
            )
    return found


def _deprecations(operation: Operation, walks: dict[int, Walk]) -> tuple[DeprecatedUse, ...]:
    seen: dict[tuple[str, Location | None], DeprecatedUse] = {}
    for definition in operation.definitions:
        for use in walks[id(definition)].deprecated:
            seen.setdefault((use.coordinate, use.location), use)
    return tuple(seen.values())


def _skipped(prepared: _Folder) -> set[str]:
    """An optional folder's operations that do not validate against the old schema."""
    if not prepared.folder.optional:
        return set()
    return {owner for e in prepared.old_errors for owner in _error_owners(e, prepared)}


def _verdicts(
    prepared: _Folder, changes: Sequence[SchemaChange]
) -> tuple[list[OperationVerdict], list[Break]]:
    breaking = [c for c in changes if c.group == "breaking"]
    newly = frozenset(
        c.coordinate for c in changes if c.type.endswith("_DEPRECATED") and c.coordinate
    )
    invalid, unattached = _validation_breaks(prepared, breaking)
    verdicts = []
    for operation in prepared.operations:
        if operation.name in prepared.skipped:
            continue
        breaks = invalid.get(operation.name, [])
        breaks = breaks + _silent_breaks(prepared.uses(operation), breaking, breaks)
        verdicts.append(
            OperationVerdict(
                operation.name,
                operation.node.operation.value,
                operation.location,
                prepared.folder.label,
                tuple(breaks),
                _deprecations(operation, prepared.new_walks),
                newly,
            )
        )
    if prepared.folder.optional:
        unattached = [b for b in unattached if not b.already_invalid]
    return verdicts, unattached


def _users(prepared: Sequence[_Folder]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Each coordinate -> the operations using it at all, and those writing it."""
    using: dict[str, set[str]] = {}
    writing: dict[str, set[str]] = {}
    for folder in prepared:
        for operation in folder.operations:
            if operation.name in folder.skipped:
                continue
            for use in folder.uses(operation):
                using.setdefault(use.coordinate, set()).add(operation.name)
                if use.written:
                    writing.setdefault(use.coordinate, set()).add(operation.name)
    return using, writing


def _with_users(
    changes: Sequence[SchemaChange], prepared: Sequence[_Folder]
) -> tuple[SchemaChange, ...]:
    """`changes`, each with the operations using what it affects (a deprecation: writing it)."""
    using, writing = _users(prepared)
    found = []
    for change in changes:
        users = writing if change.type.endswith("_DEPRECATED") else using
        names = users.get(change.affects, set()) if change.affects else set()
        found.append(replace(change, used_by=tuple(sorted(names))))
    return tuple(found)


def diff_schemas(
    old: LoadedSchema | None, new: LoadedSchema, folders: Sequence[OperationFolder]
) -> SchemaDiff:
    """What replacing `old` by `new` does to the operations in `folders` (with no `old`: the
    operations against `new` alone)."""
    changes = find_changes(old.schema, new.schema) if old is not None else ()
    prepared = [_prepare(f, old.schema if old else None, new.schema) for f in folders]
    operations: list[OperationVerdict] = []
    unattached: list[Break] = []
    skipped: list[tuple[str, Location | None]] = []
    for folder in prepared:
        found, loose = _verdicts(folder, changes)
        operations += found
        unattached += loose
        skipped += [(op.name, op.location) for op in folder.operations if op.name in folder.skipped]
    return SchemaDiff(
        old.label if old is not None else None,
        new.label,
        tuple(f.label for f in folders),
        _with_users(changes, prepared),
        tuple(operations),
        tuple(unattached),
        tuple(skipped),
    )
