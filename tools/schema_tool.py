"""Refresh schema.graphql from a live Kraken endpoint, and report what a schema change does to us.

Usage:
    python tools/schema_tool.py fetch             what `make schema` runs
    python tools/schema_tool.py check PATH        what `make schema-check SCHEMA=PATH` runs
    python tools/schema_tool.py check --url URL   what `make schema-check URL=URL` runs

`fetch` sends graphql-core's introspection query to KRAKEN_URL (default: the test endpoint
https://api.oeus-kraken.systems/v1/graphql/), with `Authorization: <KRAKEN_TOKEN>` (the bare
token, as Kraken expects) when KRAKEN_TOKEN is set. On success it prints the report below,
comparing the current schema.graphql with the introspected schema. If both have the same types
(compared without descriptions and in name order: schema.graphql keeps its notes in `#`
comments, which a server cannot send back), schema.graphql is left byte for byte as it is, with
its comments and `# guessed` markers. Otherwise it is replaced (atomically: a temporary file in
the same folder, renamed over it) by a header naming the URL and the UTC date, followed by the
printed SDL with the server's descriptions. If the endpoint cannot be reached or does not answer
with an introspection result, it prints one line to stderr and leaves schema.graphql as it was.
The token is never printed.

`check PATH` prints the same report comparing schema.graphql with the candidate schema at PATH;
`check --url URL` introspects URL (with KRAKEN_TOKEN, as `fetch` does) and compares with that.
Both are dry runs: they change nothing, and say whether `fetch` would replace the file.

The report lists:
  * breaking and dangerous changes (graphql-core's find_breaking_changes and
    find_dangerous_changes), one line each, marked `[used by ...]` with our operations that
    select, pass or receive what changed (judged against the current schema);
  * how many types and fields were only added (safe for us);
  * each part of schema.graphql marked as guessed (a `#` comment containing "guessed", on a type,
    field or enum value or just above it), and whether the new schema confirmed the guess (the
    type, or the field with the type we wrote, is there), contradicted it (it is not, or differs;
    a type absent under our name but found under another, through the fields that return it,
    was misnamed), or left it unknown (neither the type nor any field that has it is there);
  * every file in queries/, validated as one document (fragments are shared within a file)
    against the new schema, with the operations that no longer validate and why.

An operation can still validate and yet break: a field we select that becomes nullable or
changes type, or a required field added to an input type we send. That is why a breaking change
that touches what our operations use counts as breaking us, not only a failed validation.

Exit codes (both commands):
  0  nothing in the new schema breaks our operations (breaking changes to things we do not use,
     and dangerous changes, are reported but do not fail)
  1  some operation in queries/ no longer validates against the new schema, or a breaking change
     touches a type or field one of our operations uses (`fetch` has still replaced the file)
  2  bad input: a schema file that is missing or does not build, queries/ missing or not
     parsing, schema.graphql not writable, or bad arguments
  3  `fetch` and `check --url`: the endpoint could not be reached or gave no usable
     introspection result; schema.graphql is unchanged
"""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    Token,
    TokenKind,
    TypeDefinitionNode,
    TypeExtensionNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    Visitor,
    build_client_schema,
    build_schema,
    find_breaking_changes,
    find_dangerous_changes,
    get_introspection_query,
    get_named_type,
    introspection_from_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
    type_from_ast,
    validate,
    validate_schema,
    visit,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT / "schema.graphql"
DEFAULT_QUERIES = ROOT / "queries"
DEFAULT_URL = "https://api.oeus-kraken.systems/v1/graphql/"
URL_ENV = "KRAKEN_URL"
TOKEN_ENV = "KRAKEN_TOKEN"  # noqa: S105 - the name of the variable, not a token
# Introspecting a large schema can take the server a while; failing to connect should not.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)

EXIT_OK = 0
EXIT_BREAKS_US = 1
EXIT_BAD_INPUT = 2
EXIT_FETCH_FAILED = 3

# In graphql-core's change descriptions: "Type.field arg name ...", "Type.field", a name.
_ARGUMENT = re.compile(r"\b([_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*) arg ([_A-Za-z]\w*)\b")
_COORDINATE = re.compile(r"\b[_A-Za-z][_0-9A-Za-z]*\.[_A-Za-z][_0-9A-Za-z]*\b")
_NAME = re.compile(r"\b[_A-Za-z][_0-9A-Za-z]*\b")


class ToolError(Exception):
    """A failure reported as one line on stderr, ending the command with `exit_code`."""

    def __init__(self, message: str, exit_code: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class FetchError(ToolError):
    """The endpoint could not be reached or gave no usable introspection result."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message, EXIT_FETCH_FAILED)
        self.hint = hint


# --- Report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SchemaChange:
    """One breaking or dangerous change, with our operations that use what changed."""

    type: str  # graphql-core's BreakingChangeType / DangerousChangeType name
    description: str
    used_by: tuple[str, ...]

    def render(self) -> str:
        used = f"  [used by {', '.join(self.used_by)}]" if self.used_by else ""
        return f"{self.type}: {self.description}{used}"


@dataclass(frozen=True)
class Problem:
    """One validation error in an operation file, with the operations it breaks."""

    location: str  # path:line:column
    message: str
    operations: tuple[str, ...]


@dataclass(frozen=True)
class OperationFile:
    """An operation file validated against the new schema."""

    path: str
    operations: tuple[str, ...]
    problems: tuple[Problem, ...]

    @property
    def broken_operations(self) -> tuple[str, ...]:
        broken = {op for problem in self.problems for op in problem.operations}
        return tuple(op for op in self.operations if op in broken)


@dataclass(frozen=True)
class Report:
    """What changes between two schemas, for the operations in queries/."""

    old_label: str | None  # None: there was no current schema to compare with
    new_label: str
    queries_label: str
    breaking: tuple[SchemaChange, ...]
    dangerous: tuple[SchemaChange, ...]
    added_types: tuple[str, ...]
    added_fields: tuple[str, ...]
    files: tuple[OperationFile, ...]
    # Whether the new schema has exactly the old one's types (descriptions and order aside).
    same_types: bool = False
    # What the new schema says about each part of the old schema file marked as guessed.
    guesses: tuple[GuessVerdict, ...] = ()

    @property
    def failing_files(self) -> tuple[OperationFile, ...]:
        return tuple(f for f in self.files if f.problems)

    @property
    def broken_operations(self) -> tuple[str, ...]:
        return tuple(op for f in self.files for op in f.broken_operations)

    @property
    def breaking_for_us(self) -> tuple[SchemaChange, ...]:
        return tuple(c for c in self.breaking if c.used_by)

    @property
    def breaks_us(self) -> bool:
        return bool(self.failing_files or self.breaking_for_us)

    @property
    def exit_code(self) -> int:
        return EXIT_BREAKS_US if self.breaks_us else EXIT_OK

    def render(self) -> str:
        lines: list[str] = []
        if self.old_label is None:
            lines.append(f"No current schema to compare {self.new_label} with.")
        else:
            lines.append(f"Comparing {self.old_label} with {self.new_label}.")
            lines.append("")
            for title, changes in (("Breaking", self.breaking), ("Dangerous", self.dangerous)):
                lines.append(f"{title} changes: {len(changes) or 'none'}")
                lines.extend(f"  {change.render()}" for change in changes)
            lines.append(
                f"Only added (safe for us): {_count(len(self.added_types), 'type')}, "
                f"{_count(len(self.added_fields), 'field')}"
            )
            lines.extend(self._guess_lines())
        lines.append("")
        operations = sum(len(f.operations) for f in self.files)
        lines.append(
            f"Operations in {self.queries_label}: {_count(operations, 'operation')} in "
            f"{_count(len(self.files), 'file')}, validated against {self.new_label}"
        )
        for file in self.files:
            if not file.problems:
                lines.append(f"  ok    {file.path}: {', '.join(file.operations)}")
                continue
            broken = file.broken_operations
            lines.append(
                f"  FAIL  {file.path}: "
                + (f"{', '.join(broken)} {_validate(len(broken))}" if broken else "invalid")
            )
            lines.extend(f"        {p.location}: {p.message}" for p in file.problems)
        lines.append("")
        lines.append(self._verdict())
        return "\n".join(lines)

    def _guess_lines(self) -> list[str]:
        if not self.guesses:
            return []
        comments = len({verdict.part.line for verdict in self.guesses})
        title = (
            f"Guessed parts of {self.old_label}: {_count(len(self.guesses), 'part')} "
            f"(marked in {_count(comments, 'comment')})"
        )
        if self.same_types:
            return ["", f"{title}: all agree with {self.new_label}, which has the same types."]
        counts = {v: sum(g.verdict == v for g in self.guesses) for v in GUESS_VERDICTS}
        lines = [
            "",
            f"{title}, judged by {self.new_label}: "
            + ", ".join(f"{n} {GUESS_VERDICT_WORDS[v]}" for v, n in counts.items()),
        ]
        order = {v: i for i, v in enumerate(GUESS_VERDICTS)}
        for guess in sorted(self.guesses, key=lambda g: (order[g.verdict], g.part.line)):
            lines.append(f"  {guess.render(self.old_label or '')}")
        return lines

    def _verdict(self) -> str:
        if self.breaks_us:
            reasons = []
            if self.failing_files:
                broken = self.broken_operations
                count = len(broken) or len(self.failing_files)
                noun = "operation" if broken else "file"
                names = f" ({', '.join(broken)})" if broken else ""
                reasons.append(f"{_count(count, noun)} {_validate(count)}{names}")
            if self.breaking_for_us:
                count = len(self.breaking_for_us)
                touch = "touches" if count == 1 else "touch"
                reasons.append(
                    f"{_count(count, 'breaking change')} {touch} what our operations use"
                    " (marked [used by ...])"
                )
            return f"BREAKS US: {'; '.join(reasons)}."
        if self.breaking or self.dangerous:
            verdict = (
                "Does not break us: every operation validates and no breaking change touches "
                "what our operations use."
            )
            if any(c.used_by for c in self.dangerous):
                verdict += (
                    " Review the dangerous changes marked [used by ...]: e.g. a new enum value"
                    " is one our generated enums do not know yet."
                )
            return verdict
        return (
            "Nothing changed for us: no breaking or dangerous changes, and every operation "
            f"in {self.queries_label} validates."
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _validate(n: int) -> str:
    return "no longer validates" if n == 1 else "no longer validate"


# --- Schemas and operations -------------------------------------------------------------------


def display_path(path: Path) -> str:
    """`path` relative to the repository root when it is inside it, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def build_checked_schema(sdl: str, label: str) -> GraphQLSchema:
    """Build and validate a schema from SDL; ToolError (exit 2) naming `label` if it fails."""
    try:
        schema = build_schema(sdl)
    except (GraphQLError, TypeError, ValueError) as error:
        raise ToolError(f"{label} is not a valid GraphQL schema: {_one_line(str(error))}") from None
    errors = validate_schema(schema)
    if errors:
        raise ToolError(f"{label} is not a valid GraphQL schema: {_one_line(errors[0].message)}")
    return schema


def load_schema(path: Path) -> GraphQLSchema:
    """Read and build the schema file at `path`; ToolError (exit 2) if that fails."""
    return read_schema(path)[1]


def read_schema(path: Path) -> tuple[str, GraphQLSchema]:
    """The schema file at `path`: its text and the schema it builds; ToolError (exit 2)."""
    label = display_path(path)
    try:
        sdl = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ToolError(f"cannot read schema {label}: {reason}") from None
    return sdl, build_checked_schema(sdl, label)


def canonical_sdl(schema: GraphQLSchema) -> str:
    """`schema` printed without descriptions, types and fields in name order: two schemas with
    the same types print the same, however each was written down or described."""
    bare = build_client_schema(introspection_from_schema(schema, descriptions=False))
    return print_schema(lexicographic_sort_schema(bare))


def _operation_name(node: OperationDefinitionNode) -> str:
    return node.name.value if node.name else f"<anonymous {node.operation.value}>"


class _SpreadCollector(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: object) -> None:
        self.names.add(node.name.value)


@dataclass(frozen=True)
class _OperationDocument:
    path: str
    document: DocumentNode

    @property
    def operations(self) -> tuple[OperationDefinitionNode, ...]:
        return tuple(d for d in self.document.definitions if isinstance(d, OperationDefinitionNode))

    def fragments_of(self) -> dict[str, set[str]]:
        """Each operation's name -> the fragments it spreads, directly or through fragments."""
        direct: dict[str, set[str]] = {}
        for definition in self.document.definitions:
            if isinstance(definition, FragmentDefinitionNode):
                collector = _SpreadCollector()
                visit(definition, collector)
                direct[definition.name.value] = collector.names
        result: dict[str, set[str]] = {}
        for operation in self.operations:
            collector = _SpreadCollector()
            visit(operation, collector)
            seen: set[str] = set()
            pending = list(collector.names)
            while pending:
                name = pending.pop()
                if name not in seen:
                    seen.add(name)
                    pending.extend(direct.get(name, ()))
            result[_operation_name(operation)] = seen
        return result


def _require_folder(queries_dir: Path) -> None:
    if not queries_dir.is_dir():
        raise ToolError(f"operations folder {display_path(queries_dir)} not found")


def load_operations(queries_dir: Path) -> list[_OperationDocument]:
    """Parse every .graphql file under `queries_dir`, each as one document."""
    _require_folder(queries_dir)
    documents = []
    for path in sorted(queries_dir.rglob("*.graphql")):
        label = display_path(path)
        try:
            document = parse(path.read_text(encoding="utf-8"))
        except GraphQLError as error:
            raise ToolError(f"{label} does not parse: {_one_line(error.message)}") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ToolError(f"cannot read {label}: {error}") from None
        documents.append(_OperationDocument(label, document))
    return documents


def _validate_file(schema: GraphQLSchema, doc: _OperationDocument) -> OperationFile:
    operations = tuple(_operation_name(op) for op in doc.operations)
    fragments_of = doc.fragments_of()
    problems = []
    for error in validate(schema, doc.document):
        affected: set[str] = set()
        for position in error.positions or ():
            for definition in doc.document.definitions:
                loc = definition.loc
                if loc is None or not loc.start <= position < loc.end:
                    continue
                if isinstance(definition, OperationDefinitionNode):
                    affected.add(_operation_name(definition))
                elif isinstance(definition, FragmentDefinitionNode):
                    name = definition.name.value
                    affected.update(op for op, frags in fragments_of.items() if name in frags)
        if not error.positions:
            affected.update(operations)
        where = doc.path
        if error.locations:
            where += f":{error.locations[0].line}:{error.locations[0].column}"
        problems.append(
            Problem(where, error.message, tuple(op for op in operations if op in affected))
        )
    return OperationFile(doc.path, operations, tuple(problems))


class _UsageCollector(Visitor):
    """Collect the types and `Type.field` coordinates one definition uses."""

    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo) -> None:
        super().__init__()
        self.schema = schema
        self.type_info = type_info
        self.used: set[str] = set()

    def _use_type(self, type_: GraphQLType | None) -> None:
        if type_ is None:
            return
        named = get_named_type(type_)
        if named.name in self.used:
            return
        self.used.add(named.name)
        # Our generated input models carry every field of an input type we send.
        if isinstance(named, GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                self.used.add(f"{named.name}.{field_name}")
                self._use_type(field.type)

    def enter_operation_definition(self, _node: OperationDefinitionNode, *_: object) -> None:
        self._use_type(self.type_info.get_type())

    def enter_fragment_definition(self, _node: FragmentDefinitionNode, *_: object) -> None:
        self._use_type(self.type_info.get_type())

    def enter_inline_fragment(self, _node: InlineFragmentNode, *_: object) -> None:
        self._use_type(self.type_info.get_type())

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: object) -> None:
        self._use_type(type_from_ast(self.schema, node.type))

    def enter_field(self, node: FieldNode, *_: object) -> None:
        parent = self.type_info.get_parent_type()
        field = self.type_info.get_field_def()
        if parent is None or field is None or node.name.value.startswith("__"):
            return
        self.used.add(f"{parent.name}.{node.name.value}")
        self._use_type(field.type)
        for argument in node.arguments or ():
            arg = field.args.get(argument.name.value)
            if arg is not None:
                self.used.add(f"{parent.name}.{node.name.value}({argument.name.value}:)")
                self._use_type(arg.type)


def _usage(schema: GraphQLSchema, docs: Iterable[_OperationDocument]) -> dict[str, set[str]]:
    """Map each type name and `Type.field` our operations use to the operations using it."""
    users: dict[str, set[str]] = {}
    for doc in docs:
        by_definition: dict[str, set[str]] = {}
        fragments: dict[str, set[str]] = {}
        for definition in doc.document.definitions:
            if not isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode)):
                continue
            type_info = TypeInfo(schema)
            collector = _UsageCollector(schema, type_info)
            visit(definition, TypeInfoVisitor(type_info, collector))
            if isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = collector.used
            else:
                by_definition[_operation_name(definition)] = collector.used
        for operation, spread in doc.fragments_of().items():
            used = set(by_definition.get(operation, ()))
            for fragment in spread:
                used |= fragments.get(fragment, set())
            for key in used:
                users.setdefault(key, set()).add(operation)
    return users


def _used_by(description: str, users: Mapping[str, set[str]]) -> tuple[str, ...]:
    # A description naming an argument ("Query.x arg y has changed type ...") concerns only the
    # operations passing it; one naming a field ("Query.x was removed.", "A required arg y on
    # Query.x was added.") those selecting it; any other ("LZ_X was added to enum type
    # LoadZone.") those using a type it names.
    keys = [f"{field}({arg}:)" for field, arg in _ARGUMENT.findall(description)]
    keys = keys or _COORDINATE.findall(description) or _NAME.findall(description)
    return tuple(sorted({op for key in keys for op in users.get(key, ())}))


def _additions(old: GraphQLSchema, new: GraphQLSchema) -> tuple[tuple[str, ...], tuple[str, ...]]:
    types = tuple(n for n in new.type_map if n not in old.type_map and not n.startswith("__"))
    fields: list[str] = []
    with_fields = (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)
    for name, new_type in new.type_map.items():
        old_type = old.type_map.get(name)
        if isinstance(new_type, with_fields) and isinstance(old_type, with_fields):
            fields.extend(f"{name}.{f}" for f in new_type.fields if f not in old_type.fields)
    return types, tuple(fields)


def compare(
    old_schema: GraphQLSchema | None,
    new_schema: GraphQLSchema,
    queries_dir: Path,
    *,
    old_label: str = "the old schema",
    new_label: str = "the new schema",
    old_sdl: str | None = None,
) -> Report:
    """Report what replacing `old_schema` (None: there is none) by `new_schema` does to us;
    with `old_sdl` (the old schema's file text), what it says about the parts marked guessed."""
    docs = load_operations(queries_dir)
    files = tuple(_validate_file(new_schema, doc) for doc in docs)
    queries_label = display_path(queries_dir).rstrip("/") + "/"
    if old_schema is None:
        return Report(None, new_label, queries_label, (), (), (), (), files)
    users = _usage(old_schema, docs)
    breaking = tuple(
        SchemaChange(c.type.name, c.description, _used_by(c.description, users))
        for c in find_breaking_changes(old_schema, new_schema)
    )
    dangerous = tuple(
        SchemaChange(c.type.name, c.description, _used_by(c.description, users))
        for c in find_dangerous_changes(old_schema, new_schema)
    )
    added_types, added_fields = _additions(old_schema, new_schema)
    # Any change found above means different types; only without one is the (slower) full
    # comparison needed, for what those lists do not cover (deprecations, say).
    same_types = not (breaking or dangerous or added_types or added_fields) and (
        canonical_sdl(old_schema) == canonical_sdl(new_schema)
    )
    guesses = (
        judge_guesses(find_guessed_parts(old_sdl), old_schema, new_schema)
        if old_sdl is not None
        else ()
    )
    return Report(
        old_label,
        new_label,
        queries_label,
        breaking,
        dangerous,
        added_types,
        added_fields,
        files,
        same_types,
        guesses,
    )


# --- Guessed parts ----------------------------------------------------------------------------

GUESS_VERDICTS = ("contradicted", "unknown", "confirmed")
GUESS_VERDICT_WORDS = {
    "contradicted": "contradicted",
    "unknown": "left unknown",
    "confirmed": "confirmed",
}
_GUESSED = re.compile(r"\bguessed\b")
# "guessed type names (ProductRatesType, RateGroupType, ...)": every name listed is a subject.
_NAME_LIST = re.compile(r"\(([_A-Za-z]\w*(?:\s*,\s*[_A-Za-z]\w*)+)\)")


@dataclass(frozen=True)
class GuessedPart:
    """A type ("ProductType") or a member ("ProductType.band", "LoadZone.LZ_WEST") that a
    comment in the schema file marks as guessed."""

    line: int  # the comment's line in the schema file
    note: str  # the comment's text
    subject: str


@dataclass(frozen=True)
class GuessVerdict:
    """What a new schema says about a guessed part: one of GUESS_VERDICTS, and why."""

    part: GuessedPart
    verdict: str
    detail: str

    def render(self, file_label: str) -> str:
        where = f"{file_label}:{self.part.line}"
        note = _one_line(self.part.note, 80)
        return f"{self.verdict:<12}  {where}  {self.part.subject}: {self.detail}  [# {note}]"


def _token_key(token: Token) -> int:
    return token.start


def find_guessed_parts(sdl: str) -> tuple[GuessedPart, ...]:
    """Every part of `sdl` a comment marks as guessed: a comment containing "guessed" at the end
    of a type's first line or of a member's last line, or in the comment block right above a
    type or member. Comments anywhere else (file headers, conventions) mark nothing."""
    try:
        document = parse(sdl)
    except GraphQLError:
        return ()
    starting: dict[int, str] = {}  # first token of a definition or member -> its subject
    ending: dict[int, str] = {}  # last token of a member -> its subject
    named_on_line: dict[int, str] = {}  # line of a type definition's name -> the type
    defined: set[str] = set()
    for definition in document.definitions:
        if not isinstance(definition, (TypeDefinitionNode, TypeExtensionNode)):
            continue
        type_name = definition.name.value
        if isinstance(definition, TypeDefinitionNode) and definition.loc is not None:
            defined.add(type_name)
            starting[_token_key(definition.loc.start_token)] = type_name
            if definition.name.loc is not None:
                named_on_line[definition.name.loc.start_token.line] = type_name
        members: list[Any] = list(getattr(definition, "fields", None) or ())
        if isinstance(definition, (EnumTypeDefinitionNode, EnumTypeExtensionNode)):
            members = list(definition.values or ())
        for member in members:
            if member.loc is not None:
                subject = f"{type_name}.{member.name.value}"
                starting[_token_key(member.loc.start_token)] = subject
                ending[_token_key(member.loc.end_token)] = subject

    parts: list[GuessedPart] = []
    token: Token | None = document.loc.start_token if document.loc else None
    while token is not None:
        if token.kind == TokenKind.COMMENT and _GUESSED.search(token.value or ""):
            marked = _commented_subject(token, starting, ending, named_on_line)
            if marked is not None:
                note = (token.value or "").strip()
                parts.append(GuessedPart(token.line, note, marked))
                if "." not in marked:  # a type: the names it lists are guessed too
                    for listed in _NAME_LIST.findall(note):
                        names = [name.strip() for name in listed.split(",")]
                        if all(name in defined for name in names):
                            parts.extend(
                                GuessedPart(token.line, note, name)
                                for name in names
                                if name != marked
                            )
        token = token.next
    return tuple(parts)


def _commented_subject(
    comment: Token,
    starting: Mapping[int, str],
    ending: Mapping[int, str],
    named_on_line: Mapping[int, str],
) -> str | None:
    before = comment.prev
    if before is not None and before.kind != TokenKind.SOF and before.line == comment.line:
        # At the end of a line: the member that ends there, or the type named there.
        if before.kind != TokenKind.COMMENT and _token_key(before) in ending:
            return ending[_token_key(before)]
        return named_on_line.get(comment.line)
    # A whole-line comment: the type or member right after its comment block (no blank line).
    last = comment
    after = comment.next
    while after is not None and after.kind == TokenKind.COMMENT and after.line == last.line + 1:
        last, after = after, after.next
    if after is None or after.line != last.line + 1:
        return None
    return starting.get(_token_key(after))


def _kind(type_: GraphQLNamedType) -> str:
    kinds: list[tuple[type[GraphQLNamedType], str]] = [
        (GraphQLObjectType, "an object type"),
        (GraphQLInterfaceType, "an interface"),
        (GraphQLInputObjectType, "an input type"),
        (GraphQLEnumType, "an enum"),
        (GraphQLUnionType, "a union"),
        (GraphQLScalarType, "a scalar"),
    ]
    return next((word for cls, word in kinds if isinstance(type_, cls)), "a type")


def _members(type_: GraphQLNamedType) -> dict[str, str]:
    """A type's fields with their types, an enum's values, or a union's member types."""
    if isinstance(type_, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
        return {name: str(field.type) for name, field in type_.fields.items()}
    if isinstance(type_, GraphQLEnumType):
        return dict.fromkeys(type_.values, "")
    if isinstance(type_, GraphQLUnionType):
        return {member.name: "" for member in type_.types}
    return {}


def _list_some(names: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class _GuessJudge:
    """Judges guessed parts of `old` against `new`."""

    def __init__(self, old: GraphQLSchema, new: GraphQLSchema) -> None:
        self.old, self.new = old, new
        # Where the old schema uses each named type: (owner type, field).
        self.fields_of_type: dict[str, list[tuple[str, str]]] = {}
        for owner_name, owner in old.type_map.items():
            if isinstance(owner, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
                for field_name, field in owner.fields.items():
                    named = get_named_type(field.type).name
                    self.fields_of_type.setdefault(named, []).append((owner_name, field_name))

    def new_names(self, type_name: str) -> dict[str, str]:
        """For a type the new schema lacks: the other names it has there, each with a field
        (in both schemas) that has it, judged by the fields that have it in the old schema."""
        names: dict[str, str] = {}
        for owner_name, field_name in self.fields_of_type.get(type_name, ()):
            owner = self.new.type_map.get(owner_name)
            members = (
                owner.fields
                if isinstance(
                    owner, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)
                )
                else {}
            )
            field = members.get(field_name)
            if field is not None:
                named = get_named_type(field.type).name
                if named != type_name:
                    names.setdefault(named, f"{owner_name}.{field_name}: {field.type}")
        return names

    def judge(self, part: GuessedPart) -> GuessVerdict:
        type_name, _, member = part.subject.partition(".")
        verdict, detail = (
            self._judge_member(type_name, member) if member else self._judge_type(type_name)
        )
        return GuessVerdict(part, verdict, detail)

    def _judge_type(self, name: str) -> tuple[str, str]:
        ours = self.old.type_map.get(name)
        theirs = self.new.type_map.get(name)
        if ours is None:
            return "unknown", "not a type of the old schema"
        if theirs is None:
            renamed = self.new_names(name)
            if renamed:
                other, where = next(iter(renamed.items()))
                return "contradicted", f"no type {name}; it is {other} there ({where})"
            return "unknown", f"no type {name}, nor any field of ours that has it"
        if _kind(theirs) != _kind(ours):
            return "contradicted", f"{_kind(theirs)} there, not {_kind(ours)}"
        our_members, their_members = _members(ours), _members(theirs)
        missing = [m for m in our_members if m not in their_members]
        differ = [
            f"{m} is {their_members[m]}, not {our_members[m]}"
            for m in our_members
            if m in their_members and their_members[m] != our_members[m]
        ]
        if missing or differ:
            problems = ([f"lacks {_list_some(missing)}"] if missing else []) + differ[:3]
            return "contradicted", f"{_kind(theirs)} there, but differs: " + "; ".join(problems)
        extra = [m for m in their_members if m not in our_members]
        also = f", and has {_list_some(extra)} too" if extra else ""
        return "confirmed", f"{_kind(theirs)} there, as guessed{also}"

    def _judge_member(self, type_name: str, member: str) -> tuple[str, str]:
        ours_type = self.old.type_map.get(type_name)
        ours = _members(ours_type).get(member) if ours_type is not None else None
        owner_name, renamed = type_name, ""
        if owner_name not in self.new.type_map:
            others = list(self.new_names(type_name))
            if len(others) != 1:
                return "unknown", f"no type {type_name}, nor any field of ours that has it"
            owner_name = others[0]
            renamed = f" (on {owner_name}, its name there)"
        their_members = _members(self.new.type_map[owner_name])
        if member not in their_members:
            return "contradicted", f"{owner_name} has no {member} there"
        theirs = their_members[member]
        if ours is None or theirs == ours:
            shown = f"{theirs} " if theirs else ""
            return "confirmed", f"{shown}as guessed{renamed}"
        return "contradicted", f"{ours} guessed, {theirs} there{renamed}"


def judge_guesses(
    parts: Iterable[GuessedPart], old: GraphQLSchema, new: GraphQLSchema
) -> tuple[GuessVerdict, ...]:
    """What `new` says about each guessed part of `old`."""
    judge = _GuessJudge(old, new)
    return tuple(judge.judge(part) for part in parts)


# --- Fetching ---------------------------------------------------------------------------------


def display_url(url: str) -> str:
    """`url` without any user:password part."""
    try:
        return str(httpx.URL(url).copy_with(userinfo=b""))
    except (httpx.InvalidURL, TypeError, ValueError):
        return url


def fetch_schema(url: str, token: str | None, client: httpx.Client | None = None) -> GraphQLSchema:
    """Introspect the GraphQL endpoint at `url`; FetchError if there is no usable answer.

    `token` goes in the Authorization header as it is (Kraken takes the bare token, no
    "Bearer"). Without `client`, a client with TIMEOUT is made and closed.
    """
    shown = display_url(url)
    check_url = "check that KRAKEN_URL is the GraphQL endpoint"
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = token
    body = {"query": get_introspection_query(descriptions=True)}
    own_client = client is None
    http = httpx.Client(timeout=TIMEOUT) if client is None else client
    try:
        response = http.post(url, json=body, headers=headers)
    except httpx.TimeoutException as error:
        raise FetchError(
            f"cannot reach {shown}: no answer in time ({type(error).__name__})",
            "check your network and KRAKEN_URL, then rerun `make schema`",
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        reason = _one_line(str(error)).rstrip(".") or type(error).__name__
        raise FetchError(
            f"cannot reach {shown}: {reason}",
            "check your network and KRAKEN_URL, then rerun `make schema`",
        ) from None
    except (UnicodeEncodeError, ValueError):  # e.g. a token that is no valid header value
        raise ToolError(
            f"cannot send the request: {TOKEN_ENV} is not a valid header value"
        ) from None
    finally:
        if own_client:
            http.close()

    if response.status_code != httpx.codes.OK:
        status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
        hint = check_url
        if response.status_code in (httpx.codes.UNAUTHORIZED, httpx.codes.FORBIDDEN):
            hint = f"set {TOKEN_ENV} to a Kraken token that may introspect the schema"
        elif response.is_redirect and "location" in response.headers:
            hint = f"{check_url} (it redirects to {display_url(response.headers['location'])})"
        raise FetchError(f"{shown} answered {status}", hint)
    try:
        answer: Any = response.json()
    except ValueError:
        content_type = response.headers.get("content-type", "no content type")
        raise FetchError(f"{shown} did not answer with JSON ({content_type})", check_url) from None
    if not isinstance(answer, dict):
        raise FetchError(f"{shown} did not answer with a GraphQL response", check_url)
    errors = answer.get("errors")
    if errors:
        first = errors[0].get("message") if isinstance(errors, list) and errors else None
        message = _one_line(str(first if isinstance(first, str) else errors))
        raise FetchError(
            f"{shown} refused the introspection query: {message}",
            f"if introspection needs a token, set {TOKEN_ENV}",
        )
    data = answer.get("data")
    try:
        if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
            raise TypeError("no data.__schema in the answer")
        schema = build_client_schema(data)  # type: ignore[arg-type]
        schema_errors = validate_schema(schema)
        if schema_errors:
            raise TypeError(schema_errors[0].message)
    except (GraphQLError, TypeError, ValueError, KeyError, AttributeError) as error:
        raise FetchError(
            f"{shown} gave no usable introspection result: {_one_line(str(error))}", check_url
        ) from None
    return schema


def schema_file_text(schema: GraphQLSchema, url: str, when: datetime, file_name: str) -> str:
    """The new schema file: a header naming where and when it was introspected, then the SDL."""
    header = (
        f"# {file_name}: the GraphQL schema oeus-kraken's generated client is compiled from.\n"
        "#\n"
        f"# Introspected from {display_url(url)} on {when.astimezone(timezone.utc):%Y-%m-%d}"
        " (UTC) by `make schema`\n"
        "# (tools/schema_tool.py fetch). Do not edit by hand: rerun `make schema`, then\n"
        "# `make generate`.\n"
    )
    return f"{header}\n{print_schema(schema).rstrip()}\n"


def write_atomically(path: Path, text: str) -> None:
    """Replace `path` by `text` all at once: a temporary file in its folder, renamed over it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    try:
        with tempfile.NamedTemporaryFile(
            "w",
            encoding="utf-8",
            newline="\n",
            dir=path.parent,
            prefix=f".{path.name}.",
            suffix=".tmp",
            delete=False,
        ) as handle:
            temporary = Path(handle.name)
            try:
                handle.write(text)
            except BaseException:
                handle.close()
                temporary.unlink()
                raise
        try:
            os.chmod(temporary, mode)
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
    except OSError as error:
        raise ToolError(f"cannot write {display_path(path)}: {error}") from None


# --- Commands ---------------------------------------------------------------------------------

Output = Callable[[str], None]


def _introspect(url: str, token: str | None, consequence: str) -> GraphQLSchema:
    try:
        return fetch_schema(url, token)
    except FetchError as error:
        raise ToolError(f"{error}; {consequence} ({error.hint})", error.exit_code) from None


def run_check(
    candidate: Path | None,
    schema_path: Path,
    queries_dir: Path,
    out: Output = print,
    *,
    url: str | None = None,
    token: str | None = None,
) -> int:
    """Compare schema.graphql with the candidate file, or with what `url` introspects to;
    write nothing. Exactly one of `candidate` and `url`."""
    _require_folder(queries_dir)
    label = display_path(schema_path)
    if url is not None:
        new = _introspect(url, token, "nothing compared")
        new_label = f"{display_url(url)} (introspected)"
    elif candidate is not None:
        new = load_schema(candidate)  # first: a bad candidate fails before the big build
        new_label = display_path(candidate)
    else:
        raise ToolError("check needs a candidate schema file or --url")
    old_sdl, old = read_schema(schema_path)
    report = compare(old, new, queries_dir, old_label=label, new_label=new_label, old_sdl=old_sdl)
    out(report.render())
    if report.same_types:
        out(f"\nDry run: `make schema` would leave {label} as it is (same types).")
    else:
        out(
            f"\nDry run: `make schema` would replace {label}, and its comments and guessed"
            " markers with it (what the new schema says about each guess is above)."
        )
    return report.exit_code


def run_fetch(
    schema_path: Path, queries_dir: Path, url: str, token: str | None, out: Output = print
) -> int:
    label = display_path(schema_path)
    _require_folder(queries_dir)
    new = _introspect(url, token, f"{label} left unchanged")
    old_sdl, old = read_schema(schema_path) if schema_path.exists() else (None, None)
    report = compare(
        old,
        new,
        queries_dir,
        old_label=label,
        new_label=f"{display_url(url)} (introspected)",
        old_sdl=old_sdl,
    )
    out(report.render())
    if report.same_types:
        # Rewriting would only lose what the server cannot give back: our comments, the
        # "# guessed" markers, the header saying where the schema came from.
        out(
            f"\nLeft {label} as it is: {display_url(url)} has the same types (descriptions and"
            " order aside), so its comments and guessed markers stay. Nothing to generate."
        )
        return report.exit_code
    text = schema_file_text(new, url, datetime.now(timezone.utc), schema_path.name)
    write_atomically(schema_path, text)
    if report.breaks_us:
        out(
            f"\nReplaced {label}, but it breaks us (see above): fix queries/ before"
            f" `make generate`, or `git checkout {label}` to go back."
        )
    else:
        out(f"\nReplaced {label}. Next: `make generate`.")
    return report.exit_code


def _parser() -> argparse.ArgumentParser:
    doc = __doc__ or ""
    parser = argparse.ArgumentParser(
        prog="schema_tool.py",
        description=doc.split("\n\n", 1)[0],
        epilog=doc.split("\n\n", 2)[2],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    paths = argparse.ArgumentParser(add_help=False)
    paths.add_argument(
        "--schema",
        type=Path,
        default=DEFAULT_SCHEMA,
        help="the current schema file (default: schema.graphql in the repository root)",
    )
    paths.add_argument(
        "--queries",
        type=Path,
        default=DEFAULT_QUERIES,
        help="the folder of operation files (default: queries/ in the repository root)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "fetch",
        parents=[paths],
        help=f"introspect {URL_ENV} and replace the schema file (exit 0, 1, 2 or 3)",
        description=f"Introspect {URL_ENV} (default {DEFAULT_URL}), sending {TOKEN_ENV} if set,"
        " report the changes, and replace the schema file. Exit 0: nothing breaks us; 1:"
        " replaced, but it breaks us; 2: bad input; 3: endpoint unreachable or unusable, file"
        " unchanged.",
    )
    check = commands.add_parser(
        "check",
        parents=[paths],
        help="report what a candidate schema breaks for us (exit 0, 1, 2 or 3)",
        description="Report what replacing the schema file by CANDIDATE, or by what --url"
        " introspects to, would change for us; write nothing."
        " Exit 0: nothing breaks us; 1: an operation no longer validates, or a breaking change"
        " touches what our operations use; 2: bad input; 3: --url unreachable or unusable.",
    )
    candidate = check.add_mutually_exclusive_group(required=True)
    candidate.add_argument("candidate", type=Path, nargs="?", help="the candidate schema (SDL)")
    candidate.add_argument(
        "--url",
        help=f"introspect this GraphQL endpoint instead (sending {TOKEN_ENV} if set); exit 3"
        " if it cannot be reached",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    token = (os.environ.get(TOKEN_ENV) or "").strip() or None

    # Nothing we print may hold the token; a server could echo it in an error message.
    def redact(text: str) -> str:
        return text.replace(token, "***") if token else text

    def out(text: str) -> None:
        print(redact(text))

    try:
        if args.command == "check":
            return run_check(
                args.candidate, args.schema, args.queries, out, url=args.url, token=token
            )
        url = os.environ.get(URL_ENV) or DEFAULT_URL
        return run_fetch(args.schema, args.queries, url, token, out)
    except ToolError as error:
        print(redact(f"schema: {error}"), file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
