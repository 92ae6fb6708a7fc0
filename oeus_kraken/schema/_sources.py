"""Where a schema to compare comes from: a schema file (SDL, or an introspection result saved as
JSON), or a GraphQL endpoint, introspected.

An endpoint is asked through the package's own client (`SyncKrakenClient.execute`), so it gets
the usual authentication, retries and typed errors: with credentials (the KRAKEN_* variables, as
every command reads them) it sends a token; without, the introspection query is one of the
client's public operations (`kraken_public_operations`), asked as anyone may, which a public
endpoint answers. The introspection query asks for deprecated arguments and input fields too
(`includeDeprecated`), so that a deprecated argument is seen as deprecated, not as removed; a
server that does not know that argument is asked again without it.

Failures are typed: `SchemaFileError` (a file missing, unreadable, not a valid schema) is a
ConfigurationError, what a user fixes in their command; `IntrospectionError` is an endpoint that
answered, but not with a usable schema (an error status, a page that is not GraphQL, GraphQL
errors, an answer that is no schema): an APIConnectionError, because for whoever wanted the
schema the endpoint is as good as unreachable. What else the client raises (unreachable,
credentials refused, rate limited) passes through unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from graphql import (
    GraphQLError as GraphQLCoreError,
)
from graphql import (
    GraphQLSchema,
    build_client_schema,
    build_schema,
    get_introspection_query,
    is_wrapping_type,
    validate_schema,
)

from .._config import shown_url as display_url
from .._credentials import Credentials
from .._errors import (
    APIConnectionError,
    APIStatusError,
    ConfigurationError,
    GraphQLError,
    InvalidResponseError,
)
from .._token_store import TokenStore

# The client only when an endpoint is asked: codegen (`make generate`, `check-generated`) imports
# this package for its operation files and reasons, and must work while the generated package it
# rebuilds is missing or broken; before, it stopped on a traceback ("No module named
# 'oeus_kraken_generated'"), and the one command that rebuilds generated/ could not run.
if TYPE_CHECKING:
    from .._client import SyncKrakenClient

__all__ = [
    "IntrospectionError",
    "LoadedSchema",
    "SchemaFileError",
    "display_url",
    "introspect",
    "is_url",
    "one_line",
    "read_schema_file",
    "schema_from_introspection",
    "schema_from_sdl",
    "schema_from_text",
]

INTROSPECTION_OPERATION = "IntrospectionQuery"


class SchemaFileError(ConfigurationError):
    """A schema file that is missing, unreadable, or not a valid GraphQL schema."""


class IntrospectionError(APIConnectionError):
    """An endpoint answered, but gave no usable introspection result."""


@dataclass(frozen=True)
class LoadedSchema:
    """A schema and what to call it in a report: a file's path, or an endpoint's URL."""

    label: str
    schema: GraphQLSchema
    sdl: str | None = None  # a file's text (None for an endpoint)


def one_line(text: str, limit: int = 300) -> str:
    """`text` with its whitespace runs as single spaces, cut to `limit` characters. Any other
    character a terminal would act on (an escape code, a bell) is spelt as Python spells it
    (`\\x1b`), as the CLI shows API text: a schema may be an endpoint's, its deprecation
    reasons a server's words."""
    text = " ".join(text.split())
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def shown_reason(reason: str) -> str:
    """A deprecation's reason in one line; `@deprecated(reason: "")` gave a line ending in
    "is deprecated: " and nothing after it."""
    return one_line(reason, 500) or "(no reason given)"


def is_url(source: str) -> bool:
    """Whether a command-line schema source names an endpoint rather than a file."""
    text = source.strip()
    try:
        return urlsplit(text).scheme.lower() in ("http", "https")
    except ValueError:  # a malformed host ("https://[::1/"): a URL still, refused as one
        # (one line, exit 2); before, urllib's ValueError was a traceback, exit 1.
        return text.partition(":")[0].lower() in ("http", "https")


def schema_from_sdl(sdl: str, label: str, *, check_sdl: bool = True) -> GraphQLSchema:
    """Build and validate a schema from SDL; SchemaFileError naming `label` if it fails.
    `check_sdl` False skips the SDL rules (duplicate names, unknown directives: half the build
    time), for a file that another step validates anyway."""
    try:
        schema = build_schema(sdl, assume_valid_sdl=not check_sdl)
    except GraphQLCoreError as error:
        where = f" (line {error.locations[0].line})" if error.locations else ""
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: {one_line(error.message)}{where}"
        ) from None
    except (TypeError, ValueError) as error:
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: {one_line(str(error))}"
        ) from None
    errors = validate_schema(schema)
    if errors:
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: {one_line(errors[0].message)}"
        )
    return schema


def read_schema_file(
    path: Path, label: str | None = None, *, check_sdl: bool = True
) -> LoadedSchema:
    """The schema file at `path`, built and validated; SchemaFileError if that fails. A file
    whose text starts with `{` is an introspection result saved as JSON: an endpoint's answer
    (`{"data": {"__schema": ...}}`) or its `data` alone."""
    shown = label or str(path)
    try:
        # utf-8-sig: a byte order mark (Windows PowerShell writes one) is not part of the text;
        # kept, it hid that the file is JSON, and json.loads refuses it.
        sdl = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise SchemaFileError(f"cannot read schema {shown}: {reason}") from None
    return schema_from_text(sdl, shown, check_sdl=check_sdl)


def schema_from_text(text: str, label: str, *, check_sdl: bool = True) -> LoadedSchema:
    """A schema file's text (already read), built and validated as `read_schema_file` builds
    the file's: SDL, or an introspection result saved as JSON when it starts with `{`.
    SchemaFileError naming `label` if that fails. For text that cannot be read twice: reading
    `<(cat intro.json)` again found the pipe empty."""
    if text.lstrip().startswith("{"):  # SDL never starts with a brace
        return LoadedSchema(label, _schema_from_json(text, label))
    return LoadedSchema(label, schema_from_sdl(text, label, check_sdl=check_sdl), text)


def _schema_from_json(text: str, label: str) -> GraphQLSchema:
    try:
        document = json.loads(text)
    except ValueError as error:
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: not JSON ({error})"
        ) from None
    except RecursionError:  # deeper than Python reads: a traceback, and exit 1, before
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: JSON nested too deeply to read"
        ) from None
    data = document.get("data", document) if isinstance(document, dict) else document
    try:
        return _client_schema(data)
    except ValueError as error:
        raise SchemaFileError(
            f"{label} is not a valid GraphQL schema: JSON, but no introspection result "
            f"({one_line(str(error))})"
        ) from None


def schema_from_introspection(data: Any, label: str) -> GraphQLSchema:
    """The schema an introspection answer's `data` describes; IntrospectionError if it is none."""
    try:
        return _client_schema(data)
    except ValueError as error:
        raise IntrospectionError(
            f"{label} gave no usable introspection result: {one_line(str(error))}"
        ) from None


def _client_schema(data: Any) -> GraphQLSchema:
    """The schema introspection `data` describes; ValueError saying why if it is none."""
    try:
        if not isinstance(data, dict) or not isinstance(data.get("__schema"), dict):
            raise TypeError("no data.__schema in the answer")
        schema = build_client_schema(data)  # type: ignore[arg-type]
        _check_wrapping(schema)
        errors = validate_schema(schema)
        if errors:
            raise TypeError(errors[0].message)
    except (GraphQLCoreError, TypeError, ValueError, KeyError, AttributeError) as error:
        raise ValueError(str(error)) from None
    except RecursionError:
        raise ValueError(_TOO_DEEP) from None
    return schema


# SDL's parser refuses a type wrapped deeper than this (graphql-core's MAX_NESTING_DEPTH);
# JSON has no such limit, and a field typed [[[...Int]]] a few hundred deep built fine, then
# ended `schema diff`, codegen and the sandbox in a RecursionError traceback (exit 1) when
# graphql-core spelt the type out.
MAX_WRAPPING = 200
_TOO_DEEP = f"a type is wrapped in lists or non-null more than {MAX_WRAPPING} deep"


def _check_wrapping(schema: GraphQLSchema) -> None:
    """TypeError if any field, argument or input field's type is wrapped too deep to print."""
    for named in schema.type_map.values():
        fields = getattr(named, "fields", {})
        for field in fields.values():
            for typed in (field, *getattr(field, "args", {}).values()):
                kind, depth = typed.type, 0
                while is_wrapping_type(kind):
                    depth += 1
                    if depth > MAX_WRAPPING:
                        raise TypeError(_TOO_DEEP)
                    kind = kind.of_type


def introspect(
    url: str,
    *,
    credentials: Credentials | None = None,
    token_store: TokenStore | None = None,
    allow_insecure_http: bool = False,
) -> LoadedSchema:
    """The schema the endpoint at `url` serves, asked with `credentials` (None: with no token)."""
    from .._client import SyncKrakenClient

    class _AnyoneMayAsk(SyncKrakenClient):
        """Our client, with the introspection query among the operations sent with no token."""

        kraken_public_operations = SyncKrakenClient.kraken_public_operations | {
            INTROSPECTION_OPERATION
        }

    client_class = SyncKrakenClient if credentials is not None else _AnyoneMayAsk
    with client_class(
        url,
        credentials=credentials,
        token_store=token_store,
        allow_insecure_http=allow_insecure_http,
    ) as client:
        return _introspect(client, display_url(url))


def _introspect(client: SyncKrakenClient, label: str) -> LoadedSchema:
    try:
        try:
            data = _ask(client, input_value_deprecation=True)
        except GraphQLError:
            # A server on an older GraphQL implementation refuses `includeDeprecated` there.
            data = _ask(client, input_value_deprecation=False)
    except GraphQLError as error:
        said = str(error).removeprefix(f"{INTROSPECTION_OPERATION}: ")
        raise IntrospectionError(
            f"{label} refused the introspection query: {one_line(said)} (if it needs "
            "credentials that may introspect, set them in the KRAKEN_* variables)",
            error_code=error.error_code,
        ) from None
    except (APIStatusError, InvalidResponseError) as error:
        raise IntrospectionError(
            f"{label} gave no usable introspection result: {one_line(str(error))}",
            status_code=error.status_code,
        ) from None
    return LoadedSchema(label, schema_from_introspection(data, label))


def _ask(client: SyncKrakenClient, *, input_value_deprecation: bool) -> Any:
    query = get_introspection_query(
        descriptions=True, input_value_deprecation=input_value_deprecation
    )
    response = client.execute(query, INTROSPECTION_OPERATION)
    return client.get_data(response)
