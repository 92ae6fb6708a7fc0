"""Reading a Kraken answer: the GraphQL `data`, or the KrakenError that says what went wrong.

Pure functions over an `httpx.Response`, shared by both clients. Kraken answers most failures
with HTTP 200 and GraphQL errors whose `extensions.errorCode` is a KT-CT code; a CDN in front of it
may answer 403/5xx with an HTML page instead.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import httpx

from ._errors import (
    APIStatusError,
    AuthenticationError,
    GraphQLError,
    InvalidResponseError,
    KrakenError,
    PermissionDeniedError,
    RateLimitError,
)
from ._tokens import REFRESH_TOKEN_REJECTED_CODES, TOKEN_REJECTED_CODES

RATE_LIMIT_CODES = frozenset({"KT-CT-1199"})
PERMISSION_CODES = frozenset({"KT-CT-1111", "KT-CT-4177"})

# Plain words for the codes a user may see in an AuthenticationError.
AUTHENTICATION_REASONS = {
    "KT-CT-1112": "no Authorization header was sent; the operation needs credentials",
    "KT-CT-1120": "the Kraken token has expired",
    "KT-CT-1124": "the Kraken token's signature has expired",
    "KT-CT-1125": "the API's token keys have rotated",
    "KT-CT-1126": "the Kraken token's signature could not be verified",
    "KT-CT-1127": "the Kraken token's issuer could not be verified",
    "KT-CT-1134": "the refresh token has expired",
    "KT-CT-1135": "the refresh token is not valid",
    "KT-CT-1136": "the token request needs both email and password",
    "KT-CT-1137": "the token request had a wrong combination of credential fields",
    "KT-CT-1138": "the email and password were not accepted",
    "KT-CT-1139": "the credential was not accepted (for an API key: check the key)",
    "KT-CT-1140": "the organization secret key was not accepted",
    "KT-CT-1141": "the credential was not accepted",
    "KT-CT-1142": "the credential was not accepted",
    "KT-CT-1143": "the Authorization header is not a valid credential",
    "KT-CT-1144": "the Authorization header is not a valid credential",
    "KT-CT-1146": "the account user's password has expired; reset it, then use the new one",
    "KT-CT-1148": "multi-factor authentication is required for this account user",
    "KT-CT-11100": "API-key authentication is not available",
}
AUTHENTICATION_CODES = frozenset(AUTHENTICATION_REASONS) - TOKEN_REJECTED_CODES

# How much of an unexpected body an error message quotes.
BODY_EXCERPT_CHARS = 200


class TokenRejectedError(AuthenticationError):
    """The API would not accept the token a data call carried (KT-CT-1124 and kin, HTTP 401).
    The client retries such a call once with a fresh token; a second rejection reaches the user
    as this AuthenticationError."""


def error_code(error: object) -> str | None:
    if isinstance(error, dict):
        extensions = error.get("extensions")
        if isinstance(extensions, dict):
            code = extensions.get("errorCode")
            if isinstance(code, str):
                return code
    return None


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # rare path; keeps `email` out of import time

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


_HTML_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"<[^>]*>")


def body_excerpt(response: httpx.Response) -> str:
    """A short, readable excerpt of an unexpected body: an HTML page's title (or its text
    without tags), else the start of the body."""
    raw = response.content[: BODY_EXCERPT_CHARS * 20]
    if _is_html(response):
        title = _HTML_TITLE.search(raw)
        text = raw.decode("utf-8", errors="replace")
        text = "HTML page: " + (
            title.group(1).decode("utf-8", errors="replace") if title else _HTML_TAG.sub(" ", text)
        )
    else:
        text = raw[: BODY_EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    if len(text) > BODY_EXCERPT_CHARS:
        text = text[:BODY_EXCERPT_CHARS] + "..."
    return text or "(empty body)"


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
    """The KrakenError subclass for a GraphQL `errors` list."""
    codes = [code for code in map(error_code, errors) if code]
    first = codes[0] if codes else None
    context: dict[str, Any] = {
        "operation_name": operation_name,
        "status_code": status_code,
        "errors": errors,
        "data": data,
    }
    what = f"{operation_name or 'GraphQL request'}"
    if any(code in RATE_LIMIT_CODES for code in codes):
        return RateLimitError(
            f"{what}: the Kraken API is rate limiting this client (KT-CT-1199, too many "
            "requests); wait before retrying. This is not a credentials problem.",
            retry_after=retry_after,
            error_code="KT-CT-1199",
            **context,
        )
    for kind, family in (
        (TokenRejectedError, TOKEN_REJECTED_CODES),
        (AuthenticationError, AUTHENTICATION_CODES | REFRESH_TOKEN_REJECTED_CODES),
    ):
        code = next((c for c in codes if c in family), None)
        if code is not None:
            return kind(
                f"{what}: authentication failed: {AUTHENTICATION_REASONS[code]} ({code}). "
                f"API said: {_describe(errors)}",
                error_code=code,
                **context,
            )
    if any(code in PERMISSION_CODES for code in codes):
        return PermissionDeniedError(
            f"{what}: not allowed: {_describe(errors)}. The credentials work, but this account "
            "user or organisation may not see what was asked for.",
            error_code=first,
            **context,
        )
    return GraphQLError(f"{what}: {_describe(errors)}", error_code=first, **context)


def read_response(response: httpx.Response, operation_name: str | None) -> dict[str, Any]:
    """The `data` of a successful GraphQL answer; otherwise raises the matching KrakenError."""
    status = response.status_code
    what = operation_name or "GraphQL request"
    context: dict[str, Any] = {"operation_name": operation_name, "status_code": status}
    if status == 429:
        retry_after = retry_after_seconds(response)
        raise (
            RateLimitError(
                f"{what}: HTTP 429 Too Many Requests; wait "
                + (f"{retry_after:.0f} s" if retry_after is not None else "a while")
                + " before retrying.",
                retry_after=retry_after,
                **context,
            )
        )
    if status == 401:
        raise (
            TokenRejectedError(
                f"{what}: HTTP 401 Unauthorized: the API did not accept the credentials sent",
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
        body = json.loads(response.content)
    except ValueError as exc:
        raise _not_graphql(response, what, context, "is not JSON") from exc
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        raise _not_graphql(response, what, context, "has neither `data` nor `errors`")
    data = body.get("data")
    errors = body.get("errors")
    if data is not None and not isinstance(data, dict):
        raise _not_graphql(response, what, context, "has a `data` that is not an object")
    if errors:
        if not isinstance(errors, list) or not all(isinstance(e, dict) for e in errors):
            raise _not_graphql(response, what, context, "has malformed `errors`")
        raise graphql_error(
            errors,
            data,
            operation_name=operation_name,
            status_code=status,
            retry_after=retry_after_seconds(response),
        )
    if not 200 <= status <= 299 or data is None:
        raise _not_graphql(response, what, context, "has no `data`")
    return data


def _not_graphql(
    response: httpx.Response, what: str, context: dict[str, Any], problem: str
) -> KrakenError:
    status = response.status_code
    if 200 <= status <= 299:
        return InvalidResponseError(
            f"{what}: HTTP {status} but the body {problem}, so it is not a GraphQL answer: "
            f"{body_excerpt(response)}",
            **context,
        )
    return APIStatusError(
        f"{what}: HTTP {status} {response.reason_phrase}: {body_excerpt(response)}", **context
    )
