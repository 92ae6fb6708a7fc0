"""Reading a Kraken answer: the GraphQL `data`, or the KrakenError that says what went wrong.

Pure functions over an `httpx.Response`, shared by both clients. Kraken answers most failures
with HTTP 200 and GraphQL errors whose `extensions.errorCode` is a KT-CT code; a CDN in front of it
may answer 403/5xx with an HTML page instead.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx

from . import _deadline
from ._durations import say_seconds
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    GraphQLError,
    InvalidResponseError,
    KrakenError,
    PermissionDeniedError,
    QueryTooLargeError,
    RateLimitError,
    mask,
    spellings_of,
)
from ._kt_codes import CODES, Category, KrakenCode
from ._tokens import TokenUse

# How much of an unexpected body an error message quotes.
BODY_EXCERPT_CHARS = 200
# The longest wait a Retry-After can impose. Kraken's rate-limit budget is hourly, so no honest
# answer asks for more; a larger (or absurd: "1e999", 99999999) value is read as this.
MAX_RETRY_AFTER = 3600.0


class TokenRejectedError(AuthenticationError):
    """The API would not accept the token a request carried (KT-CT-1124 and kin, HTTP 401).
    The auth flow renews the token and resends the request once; a second rejection reaches the
    user as this AuthenticationError."""


# The KrakenError raised for each category of KT-CT code.
_ERROR_CLASSES: dict[Category, type[KrakenError]] = {
    Category.TOKEN_REJECTED: TokenRejectedError,
    Category.REFRESH_TOKEN_REJECTED: AuthenticationError,
    Category.BAD_CREDENTIALS: AuthenticationError,
    Category.NOT_AUTHENTICATED: AuthenticationError,
    Category.PERMISSION: PermissionDeniedError,
    Category.TOO_LARGE: QueryTooLargeError,
    Category.REQUEST_ERROR: GraphQLError,
}
# When errors carry several codes, the one that decides the error class: the most actionable.
_PRECEDENCE = (
    Category.RATE_LIMIT,
    Category.TOKEN_REJECTED,
    Category.REFRESH_TOKEN_REJECTED,
    Category.BAD_CREDENTIALS,
    Category.NOT_AUTHENTICATED,
    Category.PERMISSION,
    Category.TOO_LARGE,
    Category.REQUEST_ERROR,
)

# The bytes any JSON spelling of the key "errors" must contain: the literal key, or a \u escape of
# one of its letters (e, r, o, s). Anything else cannot be an `errors` key, so a body without
# these is error-free without being decoded.
_ESCAPED_ERRORS_LETTER = re.compile(rb"\\u00(?:6[5fF]|7[23])")


def may_have_errors(content: bytes) -> bool:
    """False only if `content` provably has no `errors` key, however the JSON spells it."""
    # A one-byte search is a memchr, some twenty times faster than a longer one: most answers
    # have no backslash at all, so the escape search is skipped.
    return b'"errors"' in content or (
        b"\\" in content
        and b"\\u00" in content
        and _ESCAPED_ERRORS_LETTER.search(content) is not None
    )


def read_capped(response: httpx.Response, limit: int) -> None:
    """Read a streamed answer's body, decompressed, up to `limit` bytes and the attempt's
    deadline: a gzip bomb or a trickling server is cut off, not read to its end."""
    deadline = _deadline.DEADLINE.get()
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or (deadline is not None and time.monotonic() >= deadline):
            raise _stopped_reading(response, limit, size)
    # httpx has no public way to give a streamed response the body read from it: this is what
    # its own Response.read() does, so that httpx and everyone after us find the body read.
    # (One join: a body that came in one chunk is that chunk, not a copy of it.)
    response._content = b"".join(chunks)


async def aread_capped(response: httpx.Response, limit: int) -> None:
    """read_capped, awaiting."""
    deadline = _deadline.DEADLINE.get()
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit or (deadline is not None and time.monotonic() >= deadline):
            raise _stopped_reading(response, limit, size)
    response._content = b"".join(chunks)  # (as read_capped)


def _stopped_reading(response: httpx.Response, limit: int, size: int) -> KrakenError:
    operation = operation_of(response)
    what = f"{operation}: " if operation else ""
    if size > limit:
        # A token answer is a few hundred bytes: asking for less is no advice for it.
        advice = (
            "A token answer is a few hundred bytes, so this is not the Kraken API answering: "
            "check that the URL is the Kraken GraphQL endpoint itself."
            if operation in _TOKEN_OPERATIONS
            else "Ask for less (smaller pages), or raise max_response_bytes=."
        )
        return InvalidResponseError(
            f"{what}the answer is larger than max_response_bytes ({limit:,} bytes after "
            f"decompression); it was not read further. {advice}",
            operation_name=operation,
            status_code=response.status_code,
        )
    return APITimeoutError(
        f"{what}the call's time limit passed while the answer was still arriving; retry later, "
        "or raise timeout=.",
        operation_name=operation,
        status_code=response.status_code,
    )


_TOKEN_OPERATIONS = frozenset(use.value for use in TokenUse)


def operation_of(response: httpx.Response) -> str | None:
    """The operationName of the request `response` answers, for an error read from it: every
    error names its operation (error paths only). None when there is none to read: no request,
    a body not read (RequestNotRead), no JSON. (A token request's body reads with the
    credential masked.)"""
    try:
        body = decode_json(response.request.content)
    except (RuntimeError, ValueError, AttributeError):
        return None
    name = body.get("operationName") if isinstance(body, dict) else None
    return name if isinstance(name, str) else None


def decode_json(content: bytes) -> object:
    """json.loads, with absurd nesting (which makes json.loads overflow the stack) reported
    as the ValueError every other undecodable body gives, and that ValueError without the body."""
    try:
        return json.loads(content)
    except RecursionError:
        problem = "JSON nested too deeply"
    except ValueError as exc:
        # Its words only, raised out here with no context: a JSONDecodeError keeps the whole
        # body (`doc`), which can quote a secret, and it becomes the `__cause__` of our error.
        problem = str(exc)
    raise ValueError(problem)


def error_code(error: object) -> str | None:
    if isinstance(error, dict):
        extensions = error.get("extensions")
        if isinstance(extensions, dict):
            code = extensions.get("errorCode")
            if isinstance(code, str):
                return code
    return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date. Given more than once
    (a proxy adding its own copy), the longest of those that read: headers.get joined them
    into "3600, 3600", which reads as neither, and the client retried at once an API that had
    said to wait an hour. (get_list keeps each field whole: an HTTP date holds a comma.)"""
    waits = [_retry_after(value) for value in response.headers.get_list("retry-after")]
    return max((wait for wait in waits if wait is not None), default=None)


def _retry_after(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        # A negative number is no delay the header can give ("retry at once" would let a broken
        # proxy make every retry immediate): as if there were none.
        invalid = math.isnan(seconds) or seconds < 0
        return None if invalid else min(seconds, MAX_RETRY_AFTER)
    from email.utils import parsedate_to_datetime  # rare path; keeps `email` out of import time

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return min(max(0.0, (when - datetime.now(timezone.utc)).total_seconds()), MAX_RETRY_AFTER)


_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")


def body_excerpt(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """A short, readable excerpt of an unexpected body: an HTML page's title (or its text
    without tags), else the start of the body; each of `secrets` the body quotes shown as ***."""
    text = _masked_start(response.content, spellings_of(secrets), BODY_EXCERPT_CHARS * 20)
    if _is_html(response):
        title = _HTML_TITLE.search(text)
        text = "HTML page: " + (title.group(1) if title else _HTML_TAG.sub(" ", text))
    else:
        text = text[: BODY_EXCERPT_CHARS * 4]
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[:BODY_EXCERPT_CHARS] + "..."
    return text or "(empty body)"


def _masked_start(content: bytes, spellings: list[str], chars: int) -> str:
    """About the first `chars` characters of `content`, `spellings` masked. Masked before
    anything is cut or squeezed: a cut inside a secret, or its spaces squeezed, would leave
    what no longer matches it, and is shown. A secret the window itself cuts is left out."""
    longest = len(spellings[0]) if spellings else 0
    window = content[: 4 * (chars + longest)]  # (a character is 1 to 4 bytes of UTF-8)
    text = mask(window.decode("utf-8", errors="replace"), spellings)
    if len(window) < len(content):
        text = text[: len(text) - longest]  # a secret cut by the window ends in these
    return text[:chars]


def _is_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    return "html" in content_type or response.content.lstrip()[:1] == b"<"


def _describe(errors: list[dict[str, Any]]) -> str:
    parts = []
    for error in errors[:3]:
        message = str(error.get("message", "")).strip().rstrip(".") or "(no message)"
        code = error_code(error)
        parts.append(f"{code}: {message}" if code else message)
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "; ".join(parts)


def graphql_error(
    errors: list[dict[str, Any]],
    data: dict[str, Any] | None,
    *,
    operation_name: str | None,
    status_code: int,
    retry_after: float | None = None,
) -> KrakenError:
    """The KrakenError for a GraphQL `errors` list, chosen by the table of KT-CT codes."""
    codes = [code for code in map(error_code, errors) if code]
    context: dict[str, Any] = {
        "operation_name": operation_name,
        "status_code": status_code,
        "errors": errors,
        "data": data,
    }
    what = operation_name or "GraphQL request"
    by_category: dict[Category, KrakenCode] = {}
    for code in codes:
        entry = CODES.get(code)
        if entry is not None:
            by_category.setdefault(entry.category, entry)
    category = next((c for c in _PRECEDENCE if c in by_category), None)
    if category is None:
        return GraphQLError(
            f"{what}: {_describe(errors)}", error_code=codes[0] if codes else None, **context
        )
    entry = by_category[category]
    if category is Category.RATE_LIMIT:
        return RateLimitError(
            f"{what}: the Kraken API is rate limiting this client ({entry.code}, too many "
            "requests); wait before retrying. This is not a credentials problem.",
            retry_after=retry_after,
            error_code=entry.code,
            **context,
        )
    if category is Category.PERMISSION:
        message = (
            f"{what}: not allowed: {entry.meaning} ({entry.code}). API said: {_describe(errors)}. "
            "The credentials work, but this account user or organisation may not see what was "
            "asked for; check the account number."
        )
    elif category is Category.TOO_LARGE:
        message = (
            f"{what}: {entry.meaning} ({entry.code}). Ask for less: fewer fields, fewer items "
            "per page (`first`), or a shorter time window. Retrying the same query cannot help."
        )
    elif category is Category.REQUEST_ERROR:
        message = f"{what}: {entry.meaning} ({entry.code}). API said: {_describe(errors)}"
    else:
        message = (
            f"{what}: authentication failed: {entry.meaning} ({entry.code}). "
            f"API said: {_describe(errors)}"
        )
    return _ERROR_CLASSES[category](message, error_code=entry.code, **context)


def token_rejection(response: httpx.Response) -> str | None:
    """Why the API rejected the token `response` answers to ("HTTP 401" or the KT-CT code), or
    None if it did not. Decodes the body only when it may hold errors."""
    if response.status_code == 401:
        return "HTTP 401"
    if not may_have_errors(response.content):
        return None
    try:
        body = decode_json(response.content)
    except ValueError:
        return None
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return None
    for error in errors:
        code = error_code(error)
        entry = CODES.get(code) if code else None
        if entry is not None and entry.category is Category.TOKEN_REJECTED:
            return entry.code
    return None


def read_response(
    response: httpx.Response, operation_name: str | None, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """The `data` of a successful GraphQL answer; otherwise raises the matching KrakenError
    (quoting the body, if at all, with each of `secrets` masked)."""
    status = response.status_code
    what = operation_name or "GraphQL request"
    context: dict[str, Any] = {"operation_name": operation_name, "status_code": status}
    if status == 429:
        retry_after = retry_after_seconds(response)
        raise (
            RateLimitError(
                f"{what}: HTTP 429 Too Many Requests; wait "
                # Rounded up: a caller that waits what this says must not call again early.
                + (say_seconds(retry_after) if retry_after is not None else "a while")
                + " before retrying.",
                retry_after=retry_after,
                **context,
            )
        )
    if status == 401:
        sent_a_token = "authorization" in response.request.headers
        raise (
            TokenRejectedError(
                f"{what}: HTTP 401 Unauthorized: the API did not accept the credentials sent",
                **context,
            )
            if sent_a_token
            else AuthenticationError(
                f"{what}: HTTP 401 Unauthorized: the API wants authentication, and this request "
                "carried no token (it went out as a public operation: see public_operations in "
                "codegen.toml, or the client's kraken_public_operations)",
                **context,
            )
        )
    if status == 403 and _is_html(response):
        raise (
            RateLimitError(
                f"{what}: HTTP 403 with an HTML page: a CDN in front of the API blocked the "
                "request, usually for too many requests. Wait before retrying; this is not a "
                "credentials problem.",
                retry_after=retry_after_seconds(response),
                **context,
            )
        )
    try:
        body = decode_json(response.content)
    except ValueError as exc:
        raise _not_graphql(response, what, context, "is not JSON", secrets) from exc
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        raise _not_graphql(response, what, context, "has neither `data` nor `errors`", secrets)
    data = body.get("data")
    errors = body.get("errors")
    if data is not None and not isinstance(data, dict):
        raise _not_graphql(response, what, context, "has a `data` that is not an object", secrets)
    if errors:
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise _not_graphql(response, what, context, "has malformed `errors`", secrets)
        raise graphql_error(
            errors,
            data,
            operation_name=operation_name,
            status_code=status,
            retry_after=retry_after_seconds(response),
        )
    if not 200 <= status <= 299 or data is None:
        raise _not_graphql(response, what, context, "has no `data`", secrets)
    return data


class Hidden:
    """Secrets an error must mask, iterable as often as needed, whose repr says only how many:
    a traceback printer that shows each frame's locals (`pytest --showlocals`, Sentry's
    include_local_variables, on by default, rich's show_locals) prints every argument of the
    frames an error passes through, and a list of them printed the token, the refresh token
    and the credential whole."""

    __slots__ = ("_values",)

    def __init__(self, values: Iterable[str]) -> None:
        self._values = tuple(values)

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __repr__(self) -> str:
        return f"<{len(self._values)} secrets, hidden>"


def read_response_masking(
    response: httpx.Response, operation_name: str | None, secrets: Iterable[str]
) -> dict[str, Any]:
    """`read_response`, the error it raises with each of `secrets` the answer quotes back shown
    as *** (`KrakenError.masking`): a token request's credential, a call's token."""
    secrets = Hidden(secrets)  # rebound: this frame, and read_response's, show no secret
    try:
        return read_response(response, operation_name, secrets)
    except KrakenError as error:
        masked = error.masking([*secrets, *_secrets_sent(response), *secrets_in(error.data)])
        if masked is error:
            raise
    raise masked  # out here, so that the unmasked error is not its context


def _secrets_sent(response: httpx.Response) -> list[str]:
    """The values of secret fields in the variables of the request `response` answers: a call
    that sends a credential itself (the typed get_kraken_token) masks it as the client's own
    token request does."""
    try:
        body = json.loads(response.request.content)
    except (RuntimeError, ValueError):  # no request, or its body not read (a token request's)
        return []
    return secrets_in(body.get("variables")) if isinstance(body, dict) else []


# Model fields (by Python name) whose values are secrets: credentials and tokens, in inputs
# (ObtainJSONWebTokenInput) and results (obtainKrakenToken, smart-device and OAuth tokens). The
# generated models' repr hides them (codegen's plugins), and errors mask them (secrets_in).
SECRET_FIELD_NAMES = frozenset(
    {"token", "password", "api_key", "auth_code", "client_secret", "secret", "secret_key"}
)
SECRET_FIELD_SUFFIXES = ("_token", "_password", "_secret", "_secret_key", "_api_key", "signed_key")
# The same, spelt as the API's JSON names are when lower-cased and without underscores:
# `token`, `refreshToken`, `APIKey`, `organizationSecretKey`...
_SECRET_NAMES = frozenset(name.replace("_", "") for name in SECRET_FIELD_NAMES)
_SECRET_ENDINGS = tuple(suffix.replace("_", "") for suffix in SECRET_FIELD_SUFFIXES)


def secrets_in(data: object) -> list[str]:
    """The values of secret fields anywhere in an answer's partial `data`: an error carries
    that data, and a token issued beside an error (a token request's, createSmartDeviceToken's)
    would otherwise reach every error reporter whole."""
    found: list[str] = []
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                name = str(key).replace("_", "").lower()
                secret = name in _SECRET_NAMES or name.endswith(_SECRET_ENDINGS)
                if secret and isinstance(item, str):
                    found.append(item)
                else:
                    pending.append(item)
        elif isinstance(value, list):
            pending += value
    return found


def _not_graphql(
    response: httpx.Response,
    what: str,
    context: dict[str, Any],
    problem: str,
    secrets: Iterable[str],
) -> KrakenError:
    status = response.status_code
    excerpt = body_excerpt(response, secrets)
    if 200 <= status <= 299:
        return InvalidResponseError(
            f"{what}: HTTP {status} but the body {problem}, so it is not a GraphQL answer: "
            f"{excerpt}",
            **context,
        )
    return APIStatusError(f"{what}: HTTP {status} {response.reason_phrase}: {excerpt}", **context)


def transport_error(
    exc: BaseException, operation_name: str | None, secrets: Iterable[str] = ()
) -> KrakenError:
    """The KrakenError for an httpx error that left a request without an answer, raised `from`
    it scrubbed (see `scrubbed`), each of `secrets` its message quotes shown as ***. Raise it
    outside the `except` that caught `exc`, or the original, request and all, becomes its
    __context__."""
    what = operation_name or "GraphQL request"
    # h11 quotes a malformed status or header line, and httpx a Location: a server may have
    # echoed the request there, credential or token included.
    text = mask(str(exc), spellings := spellings_of(secrets))
    where = _where(exc)
    error: KrakenError
    if isinstance(exc, httpx.HTTPStatusError):
        error = _raised_for_status(exc, operation_name)
    elif isinstance(exc, httpx.RemoteProtocolError) and "location header" in str(exc):
        # httpx reads the Location of any redirect, followed or not, and raises this when it is
        # no URL: the API did answer, with a redirect to nowhere.
        error = APIStatusError(
            f"{what}: the API{where} answered with a redirect to an address that is not a URL "
            f"({text}); nothing was sent there. Point the client at the GraphQL endpoint itself.",
            operation_name=operation_name,
        )
    elif isinstance(exc, httpx.DecodingError):
        # The API answered, in an encoding its Content-Encoding header misnames: no network
        # trouble, and no "check the URL".
        error = InvalidResponseError(
            f"{what}: the API{where} answered with a body that cannot be decoded as its "
            f"Content-Encoding header says ({text}).",
            operation_name=operation_name,
        )
    elif isinstance(exc, httpx.TimeoutException):
        error = APITimeoutError(
            f"{what}: timed out ({type(exc).__name__}); the API{where} did not answer in time. "
            "Retry later, or raise timeout=.",
            operation_name=operation_name,
        )
    else:
        detail = text or "no detail"
        error = APIConnectionError(
            f"{what}: could not reach the Kraken API{where} ({type(exc).__name__}: {detail}). "
            "Check the URL and the network.",
            operation_name=operation_name,
        )
    error.__cause__ = scrubbed(exc, spellings)
    return error


def _raised_for_status(exc: httpx.HTTPStatusError, operation_name: str | None) -> KrakenError:
    """The error of the status an answer had, when an event hook of the http_client raised for
    it (`raise_for_status()`): the API did answer, so this is no "could not reach" to retry as
    one, and a 429 is a rate limit. httpx closed the answer unread: only its status and the
    headers that say what it was are judged."""
    answer = exc.response
    hook = f"a response event hook of the http_client raised {type(exc).__name__} for it"
    kept = {k: v for k, v in answer.headers.items() if k in ("content-type", "retry-after")}
    try:
        judged = httpx.Response(answer.status_code, headers=kept, request=answer.request)
        read_response(judged, operation_name)  # (a 401 asks whether its request had a token)
    except (RateLimitError, AuthenticationError) as error:  # (known by status and headers)
        return error.copy(f"{error.message} ({hook})")
    except KrakenError:
        pass
    return APIStatusError(
        f"{operation_name or 'GraphQL request'}: HTTP {answer.status_code} "
        f"{answer.reason_phrase}: {hook}, so its body was not read",
        operation_name=operation_name,
        status_code=answer.status_code,
    )


def _where(exc: BaseException) -> str:
    """ " at <URL>" of the request `exc` is about (without userinfo, query or fragment), or
    ""."""
    try:
        url = exc.request.url  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # not an httpx error, or no request attached
        return ""
    return f" at {url.copy_with(username=None, password=None, query=None, fragment=None)}"


def scrubbed(exc: BaseException, spellings: list[str] | None = None) -> BaseException:
    """`exc` without what could hold a secret, for use as a `__cause__`: an httpx error keeps
    its type and message (`spellings` of secrets in it masked) but loses `.request` (its body
    holds the credentials of a token request, its headers the token) and its own chain."""
    if isinstance(exc, httpx.HTTPError):
        text = mask(str(exc), spellings or [])
        try:
            clean: BaseException = type(exc)(text)
        except TypeError:  # an httpx error class with another constructor
            clean = APIConnectionError(f"{type(exc).__name__}: {text}")
        clean.__suppress_context__ = True
        return clean
    return exc
