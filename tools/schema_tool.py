"""Refresh schema.graphql from a live Kraken endpoint, and report what a schema change does to us.

Usage:
    python tools/schema_tool.py fetch         what `make schema` runs
    python tools/schema_tool.py check PATH    what `make schema-check SCHEMA=PATH` runs

`fetch` sends graphql-core's introspection query to KRAKEN_URL (default: the test endpoint
https://api.oeus-kraken.systems/v1/graphql/), with `Authorization: <KRAKEN_TOKEN>` (the bare
token, as Kraken expects) when KRAKEN_TOKEN is set. On success it prints the report below,
comparing the current schema.graphql with the introspected schema, then replaces schema.graphql
(atomically: a temporary file in the same folder, renamed over it) with a header naming the URL
and the UTC date, followed by the printed SDL. If the endpoint cannot be reached or does not
answer with an introspection result, it prints one line to stderr and leaves schema.graphql as
it was. The token is never printed.

`check PATH` prints the same report comparing schema.graphql with the candidate schema at PATH,
and changes nothing.

The report lists:
  * breaking and dangerous changes (graphql-core's find_breaking_changes and
    find_dangerous_changes), one line each, marked `[used by ...]` with our operations that
    select, pass or receive what changed (judged against the current schema);
  * how many types and fields were only added (safe for us);
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
  3  `fetch` only: the endpoint could not be reached or gave no usable introspection result;
     schema.graphql is unchanged
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
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    InlineFragmentNode,
    OperationDefinitionNode,
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
    label = display_path(path)
    try:
        sdl = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ToolError(f"cannot read schema {label}: {reason}") from None
    return build_checked_schema(sdl, label)


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
) -> Report:
    """Report what replacing `old_schema` (None: there is none) by `new_schema` does to us."""
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
    return Report(
        old_label, new_label, queries_label, breaking, dangerous, added_types, added_fields, files
    )


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


def run_check(candidate: Path, schema_path: Path, queries_dir: Path, out: Output = print) -> int:
    _require_folder(queries_dir)
    new = load_schema(candidate)  # first: a bad candidate fails before the big build
    old = load_schema(schema_path)
    report = compare(
        old,
        new,
        queries_dir,
        old_label=display_path(schema_path),
        new_label=display_path(candidate),
    )
    out(report.render())
    return report.exit_code


def run_fetch(
    schema_path: Path, queries_dir: Path, url: str, token: str | None, out: Output = print
) -> int:
    label = display_path(schema_path)
    _require_folder(queries_dir)
    try:
        new = fetch_schema(url, token)
    except FetchError as error:
        raise ToolError(
            f"{error}; {label} left unchanged ({error.hint})", error.exit_code
        ) from None
    old = load_schema(schema_path) if schema_path.exists() else None
    report = compare(
        old, new, queries_dir, old_label=label, new_label=f"{display_url(url)} (introspected)"
    )
    out(report.render())
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
        help="report what a candidate schema breaks for us (exit 0, 1 or 2)",
        description="Report what replacing the schema file by CANDIDATE would change for us."
        " Exit 0: nothing breaks us; 1: an operation no longer validates, or a breaking change"
        " touches what our operations use; 2: bad input.",
    )
    check.add_argument("candidate", type=Path, help="the candidate schema (SDL)")
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
            return run_check(args.candidate, args.schema, args.queries, out)
        url = os.environ.get(URL_ENV) or DEFAULT_URL
        return run_fetch(args.schema, args.queries, url, token, out)
    except ToolError as error:
        print(redact(f"schema: {error}"), file=sys.stderr)
        return error.exit_code


if __name__ == "__main__":
    sys.exit(main())
