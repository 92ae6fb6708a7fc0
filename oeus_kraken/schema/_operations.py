"""Operation files, read the way code generation reads them, and the operations in them.

A folder of `.graphql` files is one document, as ariadne-codegen reads it: a fragment defined in
one file may be spread in another. Each file is parsed as its own source, named as the user
gave it (`ops/viewer.graphql`), so that every node knows its file, line and column. An
operation is reported with the fragments it spreads (directly or through other fragments), so
that a break inside a fragment is a break of every operation that spreads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from graphql import (
    DefinitionNode,
    DocumentNode,
    ExecutableDefinitionNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLSyntaxError,
    Node,
    OperationDefinitionNode,
    Source,
    Visitor,
    parse,
    visit,
)

from .._errors import ConfigurationError
from ._sources import one_line

__all__ = [
    "OPERATION_SUFFIXES",
    "Location",
    "Operation",
    "OperationFolder",
    "OperationsError",
    "distinct_folders",
    "location_of",
    "operation_files",
    "operation_name",
    "read_operations",
    "shown_path",
]


class OperationsError(ConfigurationError):
    """Operation files that are missing, unreadable or not GraphQL; the message says where."""


@dataclass(frozen=True, order=True)
class Location:
    """A place in an operation file (line and column count from 1)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


def location_of(node: Node | None) -> Location | None:
    if node is None or node.loc is None:
        return None
    where = node.loc.source.get_location(node.loc.start)
    return Location(node.loc.source.name, where.line, where.column)


def shown_path(path: Path) -> str:
    """`path` as a report shows it: as given when relative, else relative to the working
    directory when it is inside it."""
    if not path.is_absolute():
        return str(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def operation_name(node: OperationDefinitionNode) -> str:
    return node.name.value if node.name else f"<anonymous {node.operation.value}>"


@dataclass(frozen=True)
class Operation:
    """One operation, with the fragments it spreads."""

    name: str
    location: Location | None
    node: OperationDefinitionNode
    fragments: tuple[FragmentDefinitionNode, ...]

    @property
    def definitions(self) -> tuple[ExecutableDefinitionNode, ...]:
        return (self.node, *self.fragments)


@dataclass(frozen=True)
class OperationFolder:
    """Every operation file under one folder (or one file), as one document.

    `optional`: its operations are checked only where they validate against the old schema,
    and skipped elsewhere (the package's own operations, written for Kraken's schema: against
    another schema they say nothing about the change)."""

    label: str
    document: DocumentNode
    optional: bool = False

    def operations(self) -> tuple[Operation, ...]:
        fragments = {
            d.name.value: d
            for d in self.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        return tuple(
            Operation(
                operation_name(d),
                location_of(d),
                d,
                tuple(fragments[name] for name in _spread_by(d, fragments) if name in fragments),
            )
            for d in self.document.definitions
            if isinstance(d, OperationDefinitionNode)
        )

    def fragment_users(self) -> dict[str, tuple[str, ...]]:
        """Each fragment's name -> the operations spreading it."""
        users: dict[str, list[str]] = {}
        for operation in self.operations():
            for fragment in operation.fragments:
                users.setdefault(fragment.name.value, []).append(operation.name)
        return {name: tuple(ops) for name, ops in users.items()}


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.append(node.name.value)


def _spreads(node: Node) -> list[str]:
    collector = _Spreads()
    visit(node, collector)
    return collector.names


def _spread_by(node: Node, fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments `node` spreads, directly or through fragments, in first-spread order."""
    seen: list[str] = []
    pending = list(reversed(_spreads(node)))
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.append(name)
        if name in fragments:
            pending.extend(reversed(_spreads(fragments[name])))
    return seen


# The files ariadne-codegen reads as operations in a folder (its walk_graphql_files): codegen
# generates from every one of them, so every one is checked, not only those ending .graphql.
OPERATION_SUFFIXES = (".graphql", ".graphqls", ".gql")


def operation_files(folder: Path) -> list[Path]:
    """The operation files under `folder`, in path order: every one ariadne-codegen reads."""
    return sorted(path for path in folder.rglob("*") if path.suffix in OPERATION_SUFFIXES)


def _files(path: Path, label: str) -> list[Path]:
    if path.is_dir():
        files = operation_files(path)
        if not files:
            raise OperationsError(f"{label}: no .graphql operation files there")
        return files
    if path.is_file():
        return [path]
    raise OperationsError(f"{label}: no such operation folder or file")


def read_operations(
    path: Path, label: str | None = None, *, optional: bool = False
) -> OperationFolder:
    """The `.graphql` files under `path` (a folder, or one file) as one document; their nodes'
    sources are named `label` (default: `path` as shown) plus the file's path below it."""
    label = label or shown_path(path)
    definitions: list[DefinitionNode] = []
    for file in _files(path, label):
        name = label if file == path else str(Path(label) / file.relative_to(path))
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else error
            raise OperationsError(f"cannot read {name}: {reason}") from None
        try:
            document = parse(Source(text, name))
        except GraphQLSyntaxError as error:
            at = error.locations[0] if error.locations else None
            where = f"{name}:{at.line}:{at.column}" if at else name
            raise OperationsError(f"{where}: {one_line(error.message)}") from None
        definitions.extend(document.definitions)
    return OperationFolder(label, DocumentNode(definitions=tuple(definitions)), optional)


def distinct_folders(paths: Iterable[Path]) -> list[Path]:
    """`paths` without repeats of the same folder or file (however each was spelt)."""
    seen: set[Path] = set()
    kept = []
    for path in paths:
        resolved = path.resolve()
        if resolved not in seen:
            seen.add(resolved)
            kept.append(path)
    return kept
