"""The sandbox's ASGI application.

    POST /v1/graphql/      GraphQL (GET serves the GraphiQL explorer)
    GET  /sandbox/faults   the fault switches;  POST a JSON object to change them, e.g.
                           {"token_rate_limit": 2, "expire_tokens": true}
    POST /sandbox/reset    faults off, counters zero, issued tokens forgotten, usage knobs and
                           points budgets back to their seeded state
    GET  /sandbox/stats    requests by operation name, token requests
    GET  /sandbox/usage    the usage knobs;  POST a JSON object to turn them (see _usage.py):
                           {"late_share": 0.05, "revised_share": 0.05} from now on, and/or
                           {"fill_gap": true} to deliver the seeded gap now

What arrives at the GraphQL endpoint is checked before anything else runs, as a production
server's front does: a POST must be `application/json` (a form or text is a 400), a JSON object
(malformed, empty or absurdly nested JSON is a 400), at most `MAX_BODY_BYTES` (a 413, read no
further), and its document at most `MAX_DOCUMENT_TOKENS` tokens (a VALIDATION error: ten thousand
aliases would otherwise hold the one event loop, and every other client, for a minute). Each
answer is Kraken's error shape, `{"errors": [{"message": ..., "extensions": {...}}]}`.

HTTP-level faults (delay, 502 with an HTML body, 429 with Retry-After) are applied here, before
GraphQL runs; KT-CT faults are raised by the resolvers.

A client sends the same few documents again and again (a usage walk: the same query for every
page), so each document is parsed once and validated once per schema (`_Documents`), as a
production GraphQL server does: a quarter of the time a page took went into doing both again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

from ariadne.asgi import GraphQL
from ariadne.asgi.handlers import GraphQLHTTPHandler
from ariadne.explorer import ExplorerGraphiQL
from ariadne.types import GraphQLResult
from graphql import DocumentNode, GraphQLError, GraphQLSchema, TypeInfo, parse, validate
from graphql.validation import ASTValidationRule
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send

from ._auth import DEFAULT_ACCESS_TOKEN_LIFETIME, DEFAULT_REFRESH_TOKEN_LIFETIME
from ._errors import ERROR_LOGGER_NAME, format_error
from ._resolvers import RequestContext
from ._schema import executable_schema
from ._state import SandboxState

__all__ = ["GRAPHQL_PATH", "MAX_BODY_BYTES", "MAX_DOCUMENT_TOKENS", "SandboxApp", "create_app"]

GRAPHQL_PATH = "/v1/graphql/"
# Our largest operations file is about 400 tokens and a few kilobytes: these leave room for any
# real document and variables, and refuse a flood.
MAX_BODY_BYTES = 1_000_000
MAX_DOCUMENT_TOKENS = 5_000
_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)")
_ACTIONS = ("expire_tokens", "revoke_refresh_tokens")
_USAGE_KNOBS = frozenset({"late_share", "revised_share", "fill_gap"})

BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><p>The upstream server did not answer (sandbox fault).</p>"
    "</body></html>"
)
TOO_MANY_REQUESTS_HTML = (
    "<html><head><title>429 Too Many Requests</title></head>"
    "<body><h1>429 Too Many Requests</h1><p>Slow down (sandbox fault).</p></body></html>"
)


class _KrakenHTTPHandler(GraphQLHTTPHandler):
    """Kraken answers every GraphQL result, errors included, with HTTP 200. A request over a
    complexity or node cap answers only that error, and every answer is charged to the caller's
    points (`RequestContext.finish`)."""

    async def execute_graphql_query(
        self,
        request: Any,
        data: Any,
        *,
        context_value: Any = None,
        query_document: DocumentNode | None = None,
    ) -> GraphQLResult:
        if context_value is None:
            context_value = await self.get_context_for_request(request, data)
        success, result = await super().execute_graphql_query(
            request, data, context_value=context_value, query_document=query_document
        )
        if isinstance(context_value, RequestContext) and isinstance(result, dict):
            result = context_value.finish(result)
        return success, result

    async def create_json_response(
        self, request: Request, result: dict[Any, Any], success: bool
    ) -> Response:
        return JSONResponse(result, status_code=200)


def operation_name(payload: dict[str, Any]) -> str:
    """The operation name a GraphQL request names, for the request counters."""
    name = payload.get("operationName")
    if isinstance(name, str) and name:
        return name
    query = payload.get("query")
    match = _OPERATION.search(query) if isinstance(query, str) else None
    return match.group(1) if match else "(anonymous)"


class _RefusedRequestError(Exception):
    """A request refused before GraphQL runs: its HTTP status and what to say."""

    def __init__(self, status: int, message: str, error_type: str = "VALIDATION") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type

    def response(self) -> Response:
        error = {
            "message": self.message,
            "extensions": {"errorType": self.error_type, "errorDescription": self.message},
        }
        return JSONResponse({"errors": [error]}, status_code=self.status)


def _check_content_type(headers: dict[bytes, bytes]) -> None:
    media_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    if media_type != b"application/json":
        raise _RefusedRequestError(
            400, "Send the GraphQL request as a JSON body (Content-Type: application/json)."
        )


async def _read_body(headers: dict[bytes, bytes], receive: Receive) -> bytes:
    """The whole body, refused (413) as soon as it is known to exceed MAX_BODY_BYTES."""
    too_big = _RefusedRequestError(413, f"The request body is over {MAX_BODY_BYTES:,} bytes.")
    length = headers.get(b"content-length", b"")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_big
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_big
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise _RefusedRequestError(400, "The request body is not valid JSON.") from None
    if not isinstance(payload, dict):
        raise _RefusedRequestError(400, "The request body must be a JSON object with a `query`.")
    return payload


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


class _Documents:
    """ariadne's `query_parser` and `query_validator`, remembering their results: a document by
    its text, its validation errors by the schema, the document and the rules. Documents are
    never changed once parsed, and validation depends on nothing else. Bounded: the oldest half
    is dropped when full."""

    LIMIT = 512

    def __init__(self) -> None:
        self._parsed: dict[str, DocumentNode] = {}
        self._errors: dict[tuple[Any, ...], list[GraphQLError]] = {}

    def parse(self, _context: object, data: dict[str, Any]) -> DocumentNode:
        query = data["query"]
        document = self._parsed.get(query)
        if document is None:
            # A syntax error, or over MAX_DOCUMENT_TOKENS: raised, not kept.
            document = self._parsed[query] = parse(query, max_tokens=MAX_DOCUMENT_TOKENS)
            self._bound(self._parsed)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        document_ast: DocumentNode,
        rules: Collection[type[ASTValidationRule]] | None = None,
        max_errors: int | None = None,
        type_info: TypeInfo | None = None,
    ) -> list[GraphQLError]:
        if type_info is not None:  # (ariadne passes none): state of its own, not kept
            return validate(schema, document_ast, rules, max_errors, type_info)
        key = (id(schema), id(document_ast), tuple(rules or ()), max_errors)
        errors = self._errors.get(key)
        if errors is None:
            errors = self._errors[key] = validate(schema, document_ast, rules, max_errors)
            self._bound(self._errors)
        return errors

    def _bound(self, kept: dict[Any, Any]) -> None:
        if len(kept) > self.LIMIT:
            for key in list(kept)[: self.LIMIT // 2]:
                del kept[key]


class SandboxApp:
    """ASGI app serving one `SandboxState`."""

    def __init__(self, state: SandboxState, schema: GraphQLSchema) -> None:
        self.state = state
        documents = _Documents()
        self.graphql = GraphQL(
            schema,
            context_value=self._context,
            error_formatter=format_error,
            http_handler=_KrakenHTTPHandler(),
            logger=ERROR_LOGGER_NAME,
            explorer=ExplorerGraphiQL(title="oeus-kraken sandbox"),
            query_parser=documents.parse,
            query_validator=documents.validate,
        )

    def _context(self, request: Request, data: object) -> RequestContext:
        return RequestContext(self.state, request.headers.get("authorization"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            await send({"type": "websocket.close", "code": 1000})
            return
        try:
            await self._route(scope, receive, send)
        except asyncio.CancelledError:
            # uvicorn cancels a request still running when its graceful shutdown runs out
            # (Ctrl-C while a client is mid-request): answer it, rather than a 500 and a traceback
            # on the console. (A response already under way cannot be answered again.)
            shutting_down = _RefusedRequestError(
                503, "The sandbox is shutting down.", "SERVICE_AVAILABILITY"
            )
            with contextlib.suppress(Exception):
                await shutting_down.response()(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        if path in (GRAPHQL_PATH, GRAPHQL_PATH.rstrip("/")):
            await self._graphql_endpoint(scope, receive, send)
        elif path.startswith("/sandbox/"):
            response = await self._control(Request(scope, receive))
            await response(scope, receive, send)
        else:
            response = PlainTextResponse(
                f"oeus-kraken sandbox: the GraphQL endpoint is {GRAPHQL_PATH}\n", status_code=404
            )
            await response(scope, receive, send)

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _graphql_endpoint(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] != "POST":
            await self.graphql(scope, receive, send)  # the explorer, or 405
            return
        headers = dict(scope["headers"])
        try:
            _check_content_type(headers)
            body = await _read_body(headers, receive)
            payload = _json_object(body)
        except _RefusedRequestError as refused:
            self.state.switches.record_request("(invalid)")
            await refused.response()(scope, receive, send)
            return
        switches = self.state.switches
        switches.record_request(operation_name(payload))
        with switches.answering():
            faults = self.state.faults
            if faults.delay > 0:
                await asyncio.sleep(faults.delay)
            response: Response | None = None
            if switches.take("bad_gateway"):
                response = HTMLResponse(BAD_GATEWAY_HTML, status_code=502)
            elif switches.take("too_many_requests"):
                response = HTMLResponse(
                    TOO_MANY_REQUESTS_HTML,
                    status_code=429,
                    headers={"Retry-After": str(faults.retry_after)},
                )
            if response is not None:
                await response(scope, receive, send)
                return
            await self.graphql(scope, _replay(body, receive), send)

    async def _control(self, request: Request) -> Response:
        path = request.url.path.rstrip("/")
        if path == "/sandbox/stats" and request.method == "GET":
            return JSONResponse(self.state.stats.to_json())
        if path == "/sandbox/faults" and request.method == "GET":
            return JSONResponse(self.state.faults.to_json())
        if path == "/sandbox/faults" and request.method == "POST":
            return await self._set_faults(request)
        if path == "/sandbox/usage" and request.method == "GET":
            return JSONResponse(self.state.usage.settings.to_json())
        if path == "/sandbox/usage" and request.method == "POST":
            return await self._set_usage(request)
        if path == "/sandbox/reset" and request.method == "POST":
            self.state.reset()
            return JSONResponse({"reset": True})
        return JSONResponse(
            {
                "error": f"no {request.method} {request.url.path}",
                "endpoints": [
                    "GET /sandbox/faults",
                    "POST /sandbox/faults",
                    "POST /sandbox/reset",
                    "GET /sandbox/stats",
                    "GET /sandbox/usage",
                    "POST /sandbox/usage",
                ],
            },
            status_code=404,
        )

    async def _set_faults(self, request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        if not isinstance(changes, dict):
            return JSONResponse({"error": "the body must be a JSON object"}, status_code=400)
        refused = _not_a_switch(changes, _ACTIONS)
        if refused is not None:
            return refused
        actions = {name: changes.pop(name) for name in _ACTIONS if name in changes}
        try:
            faults = self.state.set_faults(**changes)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if actions.get("expire_tokens"):
            self.state.expire_tokens()
        if actions.get("revoke_refresh_tokens"):
            self.state.revoke_refresh_tokens()
        return JSONResponse(faults.to_json())

    async def _set_usage(self, request: Request) -> Response:
        try:
            changes = json.loads(await request.body())
        except ValueError:
            changes = None
        if not isinstance(changes, dict) or not set(changes) <= _USAGE_KNOBS or not changes:
            return JSONResponse(
                {
                    "error": "the body must be a JSON object with some of "
                    + ", ".join(sorted(_USAGE_KNOBS))
                },
                status_code=400,
            )
        refused = _not_a_switch(changes, ("fill_gap",))
        if refused is not None:
            return refused
        try:
            if "late_share" in changes or "revised_share" in changes:
                current = self.state.usage.settings.epochs[-1]
                self.state.set_usage_churn(
                    late_share=changes.get("late_share", current.late_share),
                    revised_share=changes.get("revised_share", current.revised_share),
                )
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if changes.get("fill_gap"):
            self.state.fill_usage_gap()
        return JSONResponse(self.state.usage.settings.to_json())


def _not_a_switch(changes: dict[str, Any], names: Sequence[str]) -> Response | None:
    """A 400 for a switch that is not a JSON boolean, checked before anything is changed:
    bool("false") is True, and {"fill_gap": "false"} filled the gap."""
    for name in names:
        if name in changes and not isinstance(changes[name], bool):
            error = f"{name} must be true or false, got {changes[name]!r}"
            return JSONResponse({"error": error}, status_code=400)
    return None


def create_app(
    state: SandboxState | None = None,
    *,
    clock: Callable[[], float] | None = None,
    access_token_lifetime: float = DEFAULT_ACCESS_TOKEN_LIFETIME,
    refresh_token_lifetime: float = DEFAULT_REFRESH_TOKEN_LIFETIME,
    schema: Path | None = None,
) -> SandboxApp:
    """The sandbox ASGI app serving `state`, or a new SandboxState made from the options;
    `schema`: another schema file to serve instead of schema.graphql (see `_schema`).

    Builds (or reuses) the executable schema, so the first call in a process takes a second or two.
    ValueError for a schema file that cannot be read or is not a valid schema.
    """
    if state is None:
        state = SandboxState(
            clock=clock,
            access_token_lifetime=access_token_lifetime,
            refresh_token_lifetime=refresh_token_lifetime,
        )
    return SandboxApp(state, executable_schema(schema))
