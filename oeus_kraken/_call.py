"""One GraphQL call, from request to checked answer: what both clients run for every operation.

    build:  check_call_keywords (only those a call gives), request_body (the document and
            variables checked), RequestBuilder.build ──► Call (the request, and what the call's
            flow needs to know)
    send:   retrying(attempt):  each attempt has its deadline; a failure is retried or raised
                                as RetryPolicy says (never a mutation that may have run)
            attempt:            a public operation is sent bare; any other goes through
                                KrakenAuth.authorized (the token, renewed and resent once if
                                rejected); the answer's KrakenError, if it carries one, is raised
    parse:  the client's parse_result validates the answer into the operation's model

Build and parse are pure; the send is a flow of effects (`_steps`) that each client carries out
its own way, blocking or awaiting: one logic for both.
"""

from __future__ import annotations

import json
import logging
import re
import time
import weakref
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar

import httpx
from pydantic_core import PydanticSerializationError, to_json

from ._auth import KrakenAuth, TokenCaller
from ._config import check_timeout, timeout_error, timeout_seconds_ok
from ._errors import ConfigurationError, KrakenError
from ._responses import may_have_errors, read_response_masking, transport_error
from ._retry import RetryPolicy
from ._steps import Effect, Send, Sleep

__all__ = [
    "NO_RATE_LIMIT_RETRY",
    "Call",
    "CallKeywords",
    "CallOptions",
    "RequestBuilder",
    "attempt",
    "check_call_keywords",
    "retrying",
]

logger = logging.getLogger("oeus_kraken")

_T = TypeVar("_T")


@dataclass(frozen=True)
class CallOptions:
    """What an operation method takes besides its variables and httpx's `headers=`/`timeout=`/
    `extensions=`: `options=CallOptions(...)`."""

    retry_rate_limits: bool = True  # False: a rate limit is raised at once, never waited out

    def __post_init__(self) -> None:
        # A flag read from a config file is a string, and "false" is true: it would wait.
        if not isinstance(self.retry_rate_limits, bool):
            raise ConfigurationError(
                "CallOptions: retry_rate_limits must be True or False, got "
                f"{type(self.retry_rate_limits).__name__} {self.retry_rate_limits!r}"
            )


class CallKeywords(TypedDict, total=False):
    """The keywords every operation method takes besides its variables (its `**kwargs`), typed,
    so that mypy refuses a misspelt one: `client.get_viewer(timeout=5.0, options=...)`."""

    headers: Mapping[str, str] | None  # added to the http_client's own (never Authorization)
    timeout: float | httpx.Timeout | None  # this call's, instead of the client's
    extensions: Mapping[str, Any] | None  # httpx request extensions
    options: CallOptions | None


DEFAULT_OPTIONS = CallOptions()
# For callers that stop and resume rather than wait (a usage sync).
NO_RATE_LIMIT_RETRY = CallOptions(retry_rate_limits=False)


@dataclass(slots=True)
class Call(TokenCaller):
    """One call under way: its request, what its flow must know, what its attempts leave."""

    mutation: bool = False  # never retried once it may have run
    public: bool = False  # served without authentication: sent with no token
    limit: float | None = None  # each attempt's time limit in seconds (the read timeout)
    retry_rate_limits: bool = True


def retrying(
    attempt: Callable[[], Generator[Effect, Any, _T]], call: Call, policy: RetryPolicy
) -> Generator[Effect, Any, _T]:
    """`attempt` until it succeeds, or retrying is unsafe or used up."""
    retries = 0
    while True:
        call.deadline = None if call.limit is None else time.monotonic() + call.limit
        call.sent = False
        call.retries_left = policy.max_retries - retries
        call.retry_in = None
        try:
            return (yield from attempt())
        except KrakenError as error:
            delay = policy.delay(
                retries,
                error,
                mutation=call.mutation and call.sent,
                rate_limits=call.retry_rate_limits,
                together=call.retry_in,
            )
            if delay is None:
                if call.mutation and call.sent and policy.may_have_run(error):
                    raise _may_have_run(error) from error.__cause__
                raise
            logger.warning(
                "%s failed (%s: %s); retry %d of %d in %.1f s",
                error.operation_name or "GraphQL request",
                type(error).__name__,
                error.error_code or error.status_code or "no answer",
                retries + 1,
                policy.max_retries,
                delay,
            )
        retries += 1
        yield Sleep(delay)


def _may_have_run(error: KrakenError) -> KrakenError:
    """A mutation's failure after it left: not "could not reach" alone, as it may have run."""
    return error.copy(
        f"{error.message} The mutation was sent, so the API may have carried it out; it is not "
        "sent again: check (the account's quotes, payments, ...) before you send it again."
    )


def attempt(auth: KrakenAuth, call: Call) -> Generator[Effect, Any, httpx.Response]:
    """Send the call's request once (its token renewed and the request resent once if the API
    rejects the token); the answer, or the KrakenError it carries."""
    failure: KrakenError | None = None
    try:
        if call.public:
            call.request.headers.pop("Authorization", None)
            call.sent = True
            response: httpx.Response = yield Send(call.request, call.deadline)
        else:
            response = yield from auth.authorized(call)
    except httpx.HTTPError as exc:  # no answer (a token request's are KrakenErrors already)
        # (A server may echo the token into a malformed status line, which h11 quotes.)
        failure = transport_error(exc, call.operation, _secrets(auth, call))
    if failure is not None:
        raise failure
    clean = call.errors_ruled_out or not may_have_errors(response.content)
    if response.status_code != 200 or not clean:
        # Raises what the answer carries, if anything, with `_secrets` masked.
        read_response_masking(response, call.operation, _secrets(auth, call))
    return response


def _secrets(auth: KrakenAuth, call: Call) -> list[str]:
    """What an error about the call must show as ***: the token its request carried (a server
    may quote the request's Authorization back, and that token may still work), and the
    credential and refresh tokens, which the server saw in a token request before."""
    return [call.request.headers.get("Authorization") or "", *auth.secrets]


def check_call_keywords(
    timeout: Any,
    extensions: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
    options: object,
) -> None:
    """A call's own keywords, when it gives any, checked before anything is built: a timeout of
    NaN, inf, zero or less fails deep in httpx (ValueError, OverflowError) or times out at once,
    after retries, as if the API had not answered; headers as below."""
    if timeout is not httpx.USE_CLIENT_DEFAULT:
        check_timeout(timeout)
    if extensions is not None and not isinstance(extensions, Mapping):
        # (A list of pairs, as httpx takes headers, raised a bare AttributeError in build.)
        raise ConfigurationError(
            "extensions= must be a dict of httpx request extensions, got "
            f"{type(extensions).__name__}"
        )
    if extensions and "timeout" in extensions:
        chosen = extensions["timeout"]
        if not isinstance(chosen, Mapping) or not chosen.keys() <= _TIMEOUT_PARTS:
            raise ConfigurationError(
                'extensions={"timeout": ...} must be a dict with some of the keys connect, read, '
                f"write, pool (as httpx.Timeout(...).as_dict() gives), got {type(chosen).__name__}"
            )
        if not all(map(timeout_seconds_ok, chosen.values())):
            raise timeout_error(dict(chosen))
    if headers:
        _check_headers(headers)
    if options is not None and not isinstance(options, CallOptions):
        raise ConfigurationError(f"options= must be a CallOptions, got {type(options).__name__}")


_TIMEOUT_PARTS = frozenset(("connect", "read", "write", "pool"))
# Headers a call may not set: the body's framing is ours (a second Content-Length raised h11's
# LocalProtocolError, untyped), and Host would route the request, with its token, to another
# virtual host than the origin KrakenAuth checked.
_REFUSED_HEADERS = frozenset(("content-length", "transfer-encoding", "host"))


def _check_headers(headers: Mapping[str, str]) -> None:
    """Names and values HTTP/1.1 can carry, as h11 checks them as the request is written (later,
    it was an APIConnectionError, after retries). The value is not quoted in the error: a
    header may hold a secret."""
    if not isinstance(headers, Mapping):
        raise ConfigurationError(
            f"headers= must be a dict of header names to values, got {type(headers).__name__}"
        )
    for name, value in headers.items():
        # (httpx takes names in bytes too: b"Host" is the Host header as much as "Host" is.)
        spelt = name.decode("latin-1") if isinstance(name, bytes) else name
        if isinstance(spelt, str) and spelt.lower() in _REFUSED_HEADERS:
            raise ConfigurationError(
                f"headers= may not set {name!r}: the client sets it for the request it sends"
            )
        if not (_header_text(name, _NAME) and _header_text(value, _VALUE)):
            raise ConfigurationError(
                f"headers=: the header {name!r} cannot be sent: a name is letters, digits and "
                "!#$%&'*+-.^_`|~ only; a value is ASCII text without line breaks or NUL, and "
                "without spaces at either end (encode others, e.g. as percent-escapes)"
            )


# h11's rules: a name is an RFC 9110 token; a value, visible characters with single spaces or
# tabs between them.
_NAME = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_VALUE = re.compile(rb"(?:[^\x00\s]+(?:[ \t]+[^\x00\s]+)*)?")


def _header_text(text: object, rule: re.Pattern[bytes]) -> bool:
    if isinstance(text, str):
        if not text.isascii():  # (httpx encodes a str header as ASCII)
            return False
        text = text.encode("ascii")
    return isinstance(text, bytes) and rule.fullmatch(text) is not None


# -- building requests ----------------------------------------------------------------------------

# The start of each operation's body, up to its variables: documents are constants, so each is
# encoded once. Bounded, for callers that send documents made on the fly.
_body_starts: dict[tuple[str, str | None], bytes] = {}
_MAX_BODY_STARTS = 256


def request_body(query: str, operation_name: str | None, variables: dict[str, Any]) -> bytes:
    """`to_json({"query": ..., "operationName": ..., "variables": ...})`, byte for byte; what
    is no document, or cannot be sent as JSON, is a ConfigurationError."""
    try:
        start = _body_starts.get((query, operation_name))
    except TypeError:  # (unhashable: no document, refused by _body_start)
        start = None
    if start is None:
        start = _body_start(query, operation_name)
    try:
        encoded = to_json(variables)
    except PydanticSerializationError:
        raise _unsendable(operation_name, variables) from None
    # NaN and inf are encoded as bare NaN / Infinity, which JSON does not have.
    if (b"NaN" in encoded or b"Infinity" in encoded) and not _is_json(encoded):
        raise _unsendable(operation_name, variables)
    return start + b'"variables":' + encoded + b"}"


def _body_start(query: object, operation_name: object) -> bytes:
    """A document's body start, the document checked (once, as the start is kept)."""
    if not (isinstance(query, str) and query and not query.isspace()):
        raise ConfigurationError(
            f"the query must be a GraphQL document (a non-empty str), got {type(query).__name__}"
        )
    if not (operation_name is None or isinstance(operation_name, str)):
        raise ConfigurationError(
            f"operation_name must be a str or None, got {type(operation_name).__name__}"
        )
    if len(_body_starts) >= _MAX_BODY_STARTS:
        _body_starts.clear()
    start = _body_starts[(query, operation_name)] = b'{"query":%s,"operationName":%s,' % (
        to_json(query),
        to_json(operation_name),
    )
    return start


def _unsendable(operation_name: str | None, variables: dict[str, Any]) -> ConfigurationError:
    """Names the variables JSON cannot carry, never their values (which may be secrets)."""
    bad = [name for name, value in variables.items() if not _is_json_value(value)]
    return ConfigurationError(
        f"{operation_name or 'the operation'}: the variables {bad} cannot be sent as JSON: use "
        "str, int, float (not NaN or inf), bool, None, lists and dicts of these, or the "
        "generated input models"
    )


def _is_json_value(value: Any) -> bool:
    try:
        return _is_json(to_json(value))
    except PydanticSerializationError:
        return False


def _is_json(encoded: bytes) -> bool:
    try:
        json.loads(encoded, parse_constant=_refused_constant)
    except ValueError:
        return False
    return True


def _refused_constant(name: str) -> Any:
    raise ValueError(name)


_FRAMING = (b"content-length", b"transfer-encoding")
_LENGTHS_KEPT = 32


class RequestBuilder:
    """Builds a client's requests exactly as its http_client's `build_request` would.

    build_request parses the endpoint URL and merges the http_client's headers anew for every
    call: more than the rest of a call costs. So while the http_client is a plain httpx client
    with no cookies or params and the same headers as last time, and the call brings no headers
    of its own, the URL and headers build_request made once are reused (kept, with Content-Length
    and the call's token added, for each body length and token); otherwise build_request builds
    the request. (tests/test_fast_path.py checks that both give the same requests.)
    """

    __slots__ = (
        "_check",
        "_client",
        "_client_headers",
        "_headers",
        "_kept_headers",
        "_url",
        "_usable",
        "url",
    )

    def __init__(self, url: str, check: Callable[[httpx.Request], None]) -> None:
        self.url = url
        # Refuses what the http_client's own headers would send elsewhere (a Host header):
        # run on each request build_request makes, and once on the headers kept for reuse.
        self._check = check
        # Weakly: a client replaced (a new event loop, a fork) is dropped, and its connections
        # closed, at once, not after this builder's next request.
        self._client: weakref.ref[httpx.Client | httpx.AsyncClient] | None = None
        self._client_headers: list[tuple[bytes, bytes]] = []
        self._url = httpx.URL(url)
        self._headers = httpx.Headers()
        self._kept_headers: dict[tuple[int, str | None], httpx.Headers] = {}
        self._usable = False

    def build(
        self,
        http: httpx.Client | httpx.AsyncClient,
        body: bytes,
        headers: Mapping[str, str] | None,
        timeout: Any,
        extensions: Mapping[str, Any] | None,
        token: str | None = None,
    ) -> httpx.Request:
        """The call's request, with `token` as its Authorization header (last) if given."""
        parts = extensions.get("timeout") if extensions else None
        if extensions and parts is not None and not parts.keys() >= _TIMEOUT_PARTS:
            # httpx reads a missing part of a timeout extension as no limit: a call naming only
            # its connect timeout had no read timeout, so no deadline (README: every attempt
            # ends within the read timeout). The parts it leaves out are the call's timeout's.
            given = http.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)
            extensions = {**extensions, "timeout": {**given.as_dict(), **parts}}
        # Cookies and params are merged into each request by httpx's rules: left to httpx.
        fast = not (headers or http.cookies or http.params)
        known = self._client is not None and self._client() is http
        if fast and not (known and http.headers.raw == self._client_headers):
            self._remember(http)
        if not (fast and self._usable):
            request = http.build_request(
                "POST",
                self.url,
                content=body,
                # The token is the client's to attach: a caller's Authorization would be stale.
                headers={
                    "Content-Type": "application/json",
                    **{k: v for k, v in (headers or {}).items() if k.lower() != "authorization"},
                },
                timeout=timeout,
                extensions=extensions,
            )
            self._check(request)
            if token is not None:
                request.headers["Authorization"] = token
            return request
        extensions = dict(extensions or {})
        if "timeout" not in extensions:  # as build_request does: the caller's extension wins
            chosen = http.timeout if timeout is httpx.USE_CLIENT_DEFAULT else httpx.Timeout(timeout)
            extensions["timeout"] = chosen.as_dict()
        kind = (len(body), token)
        headers = self._kept_headers.get(kind) or self._headers_for(kind)
        request = httpx.Request(
            "POST", self._url, headers=headers, stream=httpx.ByteStream(body), extensions=extensions
        )
        # httpx's copy of the kept headers forgets their encoding, found again by decoding every
        # header of every request (~1 µs): it is the kept headers' (found once).
        request.headers.encoding = headers.encoding
        request.read()  # as build_request leaves it: the body read, ready to send again
        return request

    def _remember(self, http: httpx.Client | httpx.AsyncClient) -> None:
        """Take what build_request makes for `http` as it is now. Not usable: a subclass of
        httpx's clients (it may build requests its own way), or headers of the http_client's
        own that would set the body's framing."""
        from ._transport import PLAIN_CLIENTS  # (loaded already, or httpcore loads: rare)

        self._client, self._client_headers = weakref.ref(http), http.headers.raw
        self._kept_headers.clear()
        self._usable = False
        if type(http) not in PLAIN_CLIENTS:
            return
        probe = http.build_request(
            "POST", self.url, content=b"0", headers={"Content-Type": "application/json"}
        )
        self._check(probe)
        raw = probe.headers.raw
        if raw[-1] != (b"Content-Length", b"1") or any(k.lower() in _FRAMING for k, _ in raw[:-1]):
            return
        self._url, self._headers, self._usable = probe.url, httpx.Headers(raw[:-1]), True

    def _headers_for(self, kind: tuple[int, str | None]) -> httpx.Headers:
        """Our headers with Content-Length and the token last; an operation's bodies often have
        one length (the same variables), so each length's are kept (a few) for each token."""
        length, token = kind
        headers = httpx.Headers(self._headers)
        headers["Content-Length"] = str(length)
        if token is not None:
            headers["Authorization"] = token
        if len(self._kept_headers) >= _LENGTHS_KEPT:
            self._kept_headers.clear()
        self._kept_headers[kind] = headers
        return headers
