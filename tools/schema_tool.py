"""Refresh schema.graphql from a live Kraken endpoint, and report what a schema change does to us.

Usage:
    python tools/schema_tool.py fetch [--allow-breaking]   what `make schema` runs
    python tools/schema_tool.py check PATH                 what `make schema-check SCHEMA=PATH` runs
    python tools/schema_tool.py check --url URL            what `make schema-check URL=URL` runs

`fetch` sends graphql-core's introspection query to KRAKEN_URL (default: the test endpoint
https://api.oeus-kraken.systems/v1/graphql/), with `Authorization: <KRAKEN_TOKEN>` (the bare
token, as Kraken expects) when KRAKEN_TOKEN is set. On success it prints the report below,
comparing the current schema.graphql with the introspected schema. If both have the same types
(compared without descriptions and in name order: schema.graphql keeps its notes in `#`
comments, which a server cannot send back), schema.graphql is left byte for byte as it is, with
its comments and `# guessed` markers. If the new schema breaks one of our operations, it is not
written either: the report says which operations and why, and `--allow-breaking` (`make schema
ALLOW_BREAKING=1`) writes it anyway, for when queries/ is to be fixed against it. Otherwise it
is replaced (atomically: a temporary file in the same folder, renamed over it) by a header
naming the URL and the UTC date, followed by the printed SDL with the server's descriptions. If
the endpoint cannot be reached or does not answer with an introspection result (an answer not
whole within 120 s, or over 64 MiB once decompressed, counts as none), it prints one line to
stderr and leaves schema.graphql as it was. The token is never printed.

`check PATH` prints the same report comparing schema.graphql with the candidate schema at PATH
(SDL, or an introspection result saved as JSON, as `oeus-kraken schema diff` reads it);
`check --url URL` introspects URL (with KRAKEN_TOKEN, as `fetch` does) and compares with that.
Both are dry runs: they change nothing, and say whether `fetch` would replace the file.

The report is `oeus-kraken schema diff`'s, from the same engine (oeus_kraken.schema), for the
operations in queries/:
  * the breaking, dangerous and safe changes (graphql-core's find_breaking_changes and
    find_dangerous_changes, newly deprecated elements with their reasons, additions), each
    marked `[used by ...]` with our operations that use what changed;
  * each operation's verdict against the new schema: breaks (it no longer validates, or a
    breaking change touches what it selects or sends: file:line, the field and the change),
    deprecated (each deprecated element it uses, with the reason), or fine;
and, beside it, each part of schema.graphql marked as guessed (a `#` comment containing
"guessed", on a type, field or enum value or just above it), and whether the new schema
confirmed the guess (the type, or the field with the type we wrote, is there), contradicted it
(it is not, or differs; a type absent under our name but found under another, through the fields
that return it, was misnamed), or left it unknown (neither the type nor any field that has it is
there).

Exit codes (both commands):
  0  nothing in the new schema breaks our operations (breaking changes to things we do not use,
     dangerous changes and deprecations are reported but do not fail)
  1  some operation in queries/ breaks against the new schema (`fetch` then leaves the file as
     it was, unless --allow-breaking)
  2  bad input: a schema file that is missing or does not build, queries/ missing or not
     parsing, schema.graphql not writable, KRAKEN_TOKEN for a plain http:// URL off loopback,
     or bad arguments
  3  `fetch` and `check --url`: the endpoint could not be reached or gave no usable
     introspection result; schema.graphql is unchanged
  130  interrupted (Ctrl-C), in one line; schema.graphql is unchanged
  141  the report's reader went away (`| head`), quietly; `fetch` did all the same what it
       would have done (replaced the file, or left it)
Also 2 when the report cannot be written (a full disk): nothing is written after it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from graphql import (
    EnumTypeDefinitionNode,
    EnumTypeExtensionNode,
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Token,
    TokenKind,
    TypeDefinitionNode,
    TypeExtensionNode,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    introspection_from_schema,
    lexicographic_sort_schema,
    parse,
    print_schema,
)

from oeus_kraken._config import is_loopback
from oeus_kraken.cli._output import discard_stdout
from oeus_kraken.schema import (
    IntrospectionError,
    LoadedSchema,
    OperationsError,
    SchemaDiff,
    SchemaFileError,
    diff_schemas,
    display_url,
    one_line,
    read_operations,
    read_schema_file,
    render_text,
    schema_from_introspection,
    schema_from_sdl,
)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCHEMA = ROOT / "schema.graphql"
DEFAULT_QUERIES = ROOT / "queries"
DEFAULT_URL = "https://api.oeus-kraken.systems/v1/graphql/"
URL_ENV = "KRAKEN_URL"
TOKEN_ENV = "KRAKEN_TOKEN"  # noqa: S105 - the name of the variable, not a token
# Introspecting a large schema can take the server a while; failing to connect should not.
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
# TIMEOUT bounds each read, not the whole: a server sending a byte every 29 s never times out.
# The whole exchange gets ANSWER_SECONDS, and the answer ANSWER_BYTES once decompressed (a
# gzip bomb turns one megabyte into gigabytes; it is checked after each network read, which
# inflates to at most about a thousand times its size); our schema's introspection is 2 MB.
ANSWER_SECONDS = 120.0
ANSWER_BYTES = 64 * 1024 * 1024

EXIT_OK = 0
EXIT_BREAKS_US = 1
EXIT_BAD_INPUT = 2
EXIT_FETCH_FAILED = 3
EXIT_INTERRUPTED = 130  # as the shell reports Ctrl-C
EXIT_READER_GONE = 141  # the report's reader went away (`| head`): 128 + SIGPIPE, as the CLI


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
class Report:
    """What changes between two schemas for the operations in queries/ (`diff`, the engine's),
    and what the new schema says about the old schema file's guessed parts."""

    diff: SchemaDiff
    # Whether the new schema has exactly the old one's types (descriptions and order aside).
    same_types: bool = False
    # What the new schema says about each part of the old schema file marked as guessed.
    guesses: tuple[GuessVerdict, ...] = ()

    @property
    def breaks_us(self) -> bool:
        return self.diff.verdict == "breaks"

    @property
    def broken_operations(self) -> tuple[str, ...]:
        return tuple(op.name for op in self.diff.with_verdict("breaks"))

    @property
    def operations_broken(self) -> str:
        """How many of our operations it breaks, named: "2 of our operations (getViewer, ...)"."""
        broken = self.broken_operations
        return f"{len(broken)} of our operations ({', '.join(broken) or 'see above'})"

    @property
    def exit_code(self) -> int:
        return EXIT_BREAKS_US if self.breaks_us else EXIT_OK

    def render(self) -> str:
        lines = [render_text(self.diff)]
        if self.diff.old_label is None:
            lines.insert(0, f"No current schema to compare {self.diff.new_label} with.\n")
        lines.extend(self._guess_lines())
        return "\n".join(lines)

    def _guess_lines(self) -> list[str]:
        if not self.guesses:
            return []
        old_label = self.diff.old_label or ""
        new_label = self.diff.new_label
        comments = len({verdict.part.line for verdict in self.guesses})
        title = (
            f"Guessed parts of {old_label}: {_count(len(self.guesses), 'part')} "
            f"(marked in {_count(comments, 'comment')})"
        )
        if self.same_types:
            return ["", f"{title}: all agree with {new_label}, which has the same types."]
        counts = {v: sum(g.verdict == v for g in self.guesses) for v in GUESS_VERDICTS}
        lines = [
            "",
            f"{title}, judged by {new_label}: "
            + ", ".join(f"{n} {GUESS_VERDICT_WORDS[v]}" for v, n in counts.items()),
        ]
        order = {v: i for i, v in enumerate(GUESS_VERDICTS)}
        for guess in sorted(self.guesses, key=lambda g: (order[g.verdict], g.part.line)):
            lines.append(f"  {guess.render(old_label)}")
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --- Schemas and operations -------------------------------------------------------------------


def display_path(path: Path) -> str:
    """`path` relative to the repository root when it is inside it, else as given."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def build_checked_schema(sdl: str, label: str) -> GraphQLSchema:
    """Build and validate a schema from SDL; ToolError (exit 2) naming `label` if it fails."""
    try:
        return schema_from_sdl(sdl, label)
    except SchemaFileError as error:
        raise ToolError(str(error)) from None


def load_schema(path: Path) -> GraphQLSchema:
    """Read and build the candidate schema file at `path`: SDL, or an introspection result
    saved as JSON, as `oeus-kraken schema diff` reads it; ToolError (exit 2) if that fails."""
    try:
        return read_schema_file(path, display_path(path)).schema
    except SchemaFileError as error:
        raise ToolError(str(error)) from None


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


def _require_folder(queries_dir: Path) -> None:
    if not queries_dir.is_dir():
        raise ToolError(f"operations folder {display_path(queries_dir)} not found")


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
    _require_folder(queries_dir)
    try:
        folder = read_operations(queries_dir, display_path(queries_dir))
    except OperationsError as error:
        raise ToolError(str(error)) from None
    old = LoadedSchema(old_label, old_schema) if old_schema is not None else None
    diff = diff_schemas(old, LoadedSchema(new_label, new_schema), [folder])
    if old_schema is None:
        return Report(diff)
    # A change found means different types; only without one is the (slower) full comparison
    # needed, for what the engine does not list (a description, say).
    same_types = not diff.changes and (
        old_schema is new_schema or canonical_sdl(old_schema) == canonical_sdl(new_schema)
    )
    guesses = (
        judge_guesses(find_guessed_parts(old_sdl), old_schema, new_schema)
        if old_sdl is not None
        else ()
    )
    return Report(diff, same_types, guesses)


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
        note = one_line(self.part.note, 80)
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
    unreachable = "check your network and KRAKEN_URL, then rerun `make schema`"
    try:
        response, content = _within(ANSWER_SECONDS, lambda: _post(http, url, body, headers))
    except TimeoutError:
        own_client = False  # the worker may still be using it; it ends with the process
        raise FetchError(
            f"cannot reach {shown}: no whole answer within {ANSWER_SECONDS:.0f} s",
            unreachable,
        ) from None
    except _TooBigError:
        raise FetchError(
            f"{shown} answered more than {ANSWER_BYTES // 2**20} MiB, far more than a schema",
            check_url,
        ) from None
    except httpx.TimeoutException as error:
        raise FetchError(
            f"cannot reach {shown}: no answer in time ({type(error).__name__})", unreachable
        ) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        reason = one_line(str(error)).rstrip(".") or type(error).__name__
        raise FetchError(f"cannot reach {shown}: {reason}", unreachable) from None
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
        elif response.status_code == httpx.codes.TOO_MANY_REQUESTS:
            wait = response.headers.get("retry-after", "").strip()
            after = f"after {wait} s" if wait.isdigit() else "later"
            hint = f"rate limited: rerun `make schema` {after}"
        elif response.is_redirect and "location" in response.headers:
            hint = f"{check_url} (it redirects to {display_url(response.headers['location'])})"
        raise FetchError(f"{shown} answered {status}", hint)
    try:
        answer: Any = json.loads(content)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        content_type = response.headers.get("content-type", "no content type")
        raise FetchError(f"{shown} did not answer with JSON ({content_type})", check_url) from None
    if not isinstance(answer, dict):
        raise FetchError(f"{shown} did not answer with a GraphQL response", check_url)
    errors = answer.get("errors")
    if errors:
        first = errors[0].get("message") if isinstance(errors, list) and errors else None
        quoted = str(first if isinstance(first, str) else errors)
        # The token masked before the cut to one line: main masks whole tokens only, so one the
        # server quoted across the cut was shown in part.
        message = one_line(quoted.replace(token, "***") if token else quoted)
        raise FetchError(
            f"{shown} refused the introspection query: {message}",
            f"if introspection needs a token, set {TOKEN_ENV}",
        )
    try:
        return schema_from_introspection(answer.get("data"), shown)
    except IntrospectionError as error:
        raise FetchError(str(error), check_url) from None


class _TooBigError(Exception):
    """The answer grew past ANSWER_BYTES."""


def _post(
    http: httpx.Client, url: str, body: Any, headers: dict[str, str]
) -> tuple[httpx.Response, bytes]:
    """POST `body`; the response and its decoded content, read up to ANSWER_BYTES (_TooBigError)."""
    with http.stream("POST", url, json=body, headers=headers) as response:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > ANSWER_BYTES:
                raise _TooBigError
            chunks.append(chunk)
    return response, b"".join(chunks)


def _within(seconds: float, work: Callable[[], Any]) -> Any:
    """`work()`'s result or exception, or TimeoutError when it takes more than `seconds`. It
    runs in a daemon thread: a socket read cannot be cut short, but the process need not wait."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the caller's thread
            outcome["error"] = error

    worker = threading.Thread(target=run, name="schema-fetch", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


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


def replaceable_file(path: Path) -> Path:
    """The file to replace for `path`: a symlink's target (renaming over the link would cut it
    off from the file it points to); ToolError (exit 2) if that file was made read-only, which
    a rename in a writable folder would otherwise ignore."""
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    # Both: os.access is True for root whatever the mode, the mode alone misses ACLs.
    if not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(target, os.W_OK):
        raise ToolError(
            f"{display_path(path)} is read-only, so it is left unchanged (make it writable"
            " to refresh it, or `make schema-check URL=...` for the report alone)"
        )
    return target


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


class InterruptedAfterReplacing(KeyboardInterrupt):
    """Ctrl-C once the schema file was replaced (while the last line was written): the line
    main() prints must say so, not that the file was left unchanged."""


Output = Callable[[str], None]


def _introspect(url: str, token: str | None, consequence: str) -> GraphQLSchema:
    if token and _plain_http_off_loopback(url):
        # The clients' rule (check_url): a token never travels unencrypted, but to a local
        # sandbox or server.
        raise ToolError(
            f"refusing to send KRAKEN_TOKEN over plain http:// to {display_url(url)}: it would "
            f"travel unencrypted; use https://, or http:// only on loopback; {consequence}"
        )
    try:
        return fetch_schema(url, token)
    except FetchError as error:
        raise ToolError(f"{error}; {consequence} ({error.hint})", error.exit_code) from None


def _plain_http_off_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme.lower() == "http" and not is_loopback(parts.hostname or "")


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
    elif report.breaks_us:  # as run_fetch refuses it
        out(
            f"\nDry run: `make schema` would leave {label} as it is: it breaks"
            f" {report.operations_broken}. Fix queries/ first, or"
            " `make schema ALLOW_BREAKING=1` to write it anyway."
        )
    else:
        out(
            f"\nDry run: `make schema` would replace {label}, and its comments and guessed"
            " markers with it (what the new schema says about each guess is above)."
        )
    return report.exit_code


def run_fetch(
    schema_path: Path,
    queries_dir: Path,
    url: str,
    token: str | None,
    out: Output = print,
    *,
    allow_breaking: bool = False,
) -> int:
    label = display_path(schema_path)
    _require_folder(queries_dir)
    target = replaceable_file(schema_path)  # before asking: a refusal need not wait for it
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
    if report.breaks_us and not allow_breaking:
        out(
            f"\nLeft {label} as it is: {display_url(url)} breaks {report.operations_broken}."
            " Fix queries/ first (the reasons are above),"
            " or `make schema ALLOW_BREAKING=1` to write it anyway."
        )
        return report.exit_code
    text = schema_file_text(new, url, datetime.now(timezone.utc), schema_path.name)
    if token:  # the file is committed: a description quoting the token must not carry it there
        text = text.replace(token, "***")
    write_atomically(target, text)
    try:
        if report.breaks_us:
            out(
                f"\nReplaced {label} (--allow-breaking), though it breaks us (see above): fix"
                f" queries/ before `make generate`, or `git checkout {label}` to go back."
            )
        else:
            out(f"\nReplaced {label}. Next: `make generate`.")
    except KeyboardInterrupt:
        raise InterruptedAfterReplacing from None
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
    fetch = commands.add_parser(
        "fetch",
        parents=[paths],
        help=f"introspect {URL_ENV} and replace the schema file (exit 0, 1, 2 or 3)",
        description=f"Introspect {URL_ENV} (default {DEFAULT_URL}), sending {TOKEN_ENV} if set,"
        " report the changes, and replace the schema file unless it breaks one of our"
        " operations. Exit 0: nothing breaks us; 1: it breaks an operation, and the file is"
        " left as it was (with --allow-breaking: replaced all the same); 2: bad input; 3:"
        " endpoint unreachable or unusable, file unchanged; 130: interrupted, file unchanged.",
    )
    fetch.add_argument(
        "--allow-breaking",
        action="store_true",
        help="replace the schema file even if it breaks one of our operations (exit 1 still)",
    )
    check = commands.add_parser(
        "check",
        parents=[paths],
        help="report what a candidate schema breaks for us (exit 0, 1, 2 or 3)",
        description="Report what replacing the schema file by CANDIDATE, or by what --url"
        " introspects to, would change for us; write nothing."
        " Exit 0: nothing breaks us; 1: an operation breaks (it no longer validates, or a"
        " breaking change touches what it uses); 2: bad input; 3: --url unreachable or"
        " unusable; 130: interrupted.",
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

    reader_gone = False

    def out(text: str) -> None:
        # Exit 1 says "breaks our operations": an output that fails must not end in it by a
        # traceback. A reader gone (`| head`) wants no more of the report, but the command
        # still does what it was asked (fetch writes the file), then exits 141. Any other
        # failure (a full disk) stops it before anything else is written: exit 2.
        nonlocal reader_gone
        if reader_gone:
            return
        try:
            print(redact(text), flush=True)
        except BrokenPipeError:
            reader_gone = True
            discard_stdout()
        except OSError as error:
            discard_stdout()
            raise ToolError(f"cannot write the report: {error.strerror or error}") from None

    try:
        if args.command == "check":
            code = run_check(
                args.candidate, args.schema, args.queries, out, url=args.url, token=token
            )
        else:
            url = os.environ.get(URL_ENV) or DEFAULT_URL
            code = run_fetch(
                args.schema, args.queries, url, token, out, allow_breaking=args.allow_breaking
            )
        return EXIT_READER_GONE if reader_gone else code
    except ToolError as error:
        print(redact(f"schema: {error}"), file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt as interrupt:
        # Ctrl-C: one line, not a traceback. The file is only ever replaced whole (a rename),
        # and the temporary file is removed on the way out (write_atomically).
        if isinstance(interrupt, InterruptedAfterReplacing):
            kept = f"{display_path(args.schema)} was replaced all the same; next: `make generate`"
        elif args.command == "check":
            kept = "nothing written"
        else:
            kept = f"{display_path(args.schema)} left unchanged"
        print(f"schema: interrupted; {kept}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
