"""Every exception the client raises.

    KrakenError                      base: catch this to catch everything the client raises
    ├── ConfigurationError           bad arguments or environment (also a ValueError)
    ├── APIConnectionError           the request did not get an answer
    │   └── APITimeoutError          ... because a timeout expired
    ├── APIStatusError               an HTTP error status with no GraphQL answer in the body
    ├── InvalidResponseError         a 2xx answer that is not a GraphQL response (HTML, not JSON)
    ├── GraphQLError                 the API answered with GraphQL errors (KT-CT codes)
    │   ├── PermissionDeniedError    authenticated, but not allowed (KT-CT-1111, KT-CT-4177)
    │   └── QueryTooLargeError       too complex or too many nodes (KT-CT-1188, KT-CT-1189)
    ├── AuthenticationError          credentials missing or rejected, token unusable
    └── RateLimitError               HTTP 429, KT-CT-1199 or a CDN block; see .retry_after

Each error carries what a caller needs to act on it: `operation_name`, `status_code` (when an
HTTP answer came back), `error_code` (the first KT-CT code), the GraphQL `errors` and the partial
`data`. AuthenticationError and RateLimitError are raised whichever way the API signals them (HTTP
status or KT-CT code), so they are not GraphQLError subclasses: a rate limit is never reported as
bad credentials, and neither is mistaken for an ordinary query error.

Messages never contain a secret: the client builds them from the operation name, codes and the
API's own messages, never from request variables or headers; where the API's messages quote a
token request's credential back (`KrakenError.masking`), it is masked.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "ConfigurationError",
    "GraphQLError",
    "InvalidResponseError",
    "KrakenError",
    "PermissionDeniedError",
    "QueryTooLargeError",
    "RateLimitError",
]


class KrakenError(Exception):
    """Base class of every error raised by oeus-kraken."""

    def __init__(
        self,
        message: str,
        *,
        operation_name: str | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation_name = operation_name
        self.status_code = status_code
        self.error_code = error_code
        self.errors: list[dict[str, Any]] = errors or []
        self.data = data

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, operation_name={self.operation_name!r}, "
            f"status_code={self.status_code!r}, error_code={self.error_code!r})"
        )

    def context(self) -> dict[str, Any]:
        """What the error carries besides its message, as keyword arguments."""
        return {
            "operation_name": self.operation_name,
            "status_code": self.status_code,
            "error_code": self.error_code,
            "errors": self.errors,
            "data": self.data,
        }

    def copy(self, message: str | None = None) -> KrakenError:
        """A new error of the same kind and context (for another caller that shares this
        outcome), optionally with another message."""
        return type(self)(self.message if message is None else message, **self.context())

    def masking(self, secrets: Iterable[str]) -> KrakenError:
        """This error, or a copy with each of `secrets` shown as *** wherever the API's words
        carried it into the message, `errors` or `data`: a server quotes a request it could not
        read (graphql-core repeats a variable's value whole), and a token request's holds the
        credential."""
        spellings = spellings_of(secrets)
        message = _masked(self.message, spellings)
        errors, data = _masked(self.errors, spellings), _masked(self.data, spellings)
        if (message, errors, data) == (self.message, self.errors, self.data):
            return self
        masked = self.copy(message)
        masked.errors, masked.data = errors, data
        return masked


def spellings_of(secrets: Iterable[str]) -> list[str]:
    """Each of `secrets` as it is, and as a Python repr, a JSON string or an HTML page (an
    error page quoting a form) would quote it; the longest first, as one can hold another."""
    forms = {
        form for secret in secrets if len(secret) >= SHORTEST_MASKED for form in _spellings(secret)
    }
    return sorted(forms, key=len, reverse=True)


# A "secret" shorter than this (a test's APIKey("k")) cannot be told apart from the words around
# it: masked, every k of a message went ("Name or service not ***nown", "getKra***enToken"), and
# it hides nothing (a server can guess it in a moment). Longer ones are masked wherever they are.
SHORTEST_MASKED = 4


def _spellings(secret: str) -> set[str]:
    from html import escape  # (rare path: kept out of import time)

    # JSON both ways: with letters beyond ASCII as \u00e4 (Python's json), and as they are (how
    # our requests spell them, so a server quoting the body it got quotes them).
    in_json = {json.dumps(secret, ensure_ascii=only)[1:-1] for only in (True, False)}
    return {secret, repr(secret)[1:-1], *in_json, escape(secret)} - {""}


def mask(text: str, spellings: list[str]) -> str:
    """`text` with each of `spellings` (from `spellings_of`) shown as ***."""
    return _masked(text, spellings)  # type: ignore[no-any-return]


def _masked(value: Any, spellings: list[str]) -> Any:
    if isinstance(value, str):
        for spelling in spellings:
            value = value.replace(spelling, "***")
        return value
    if isinstance(value, list):
        return [_masked(item, spellings) for item in value]
    if isinstance(value, dict):
        return {_masked(k, spellings): _masked(v, spellings) for k, v in value.items()}
    return value


class ConfigurationError(KrakenError, ValueError):
    """The client was given arguments or environment it cannot work with."""


class APIConnectionError(KrakenError):
    """The request did not get an HTTP answer (DNS, refused, reset, TLS)."""


class APITimeoutError(APIConnectionError):
    """A connect, read, write or pool timeout expired."""


class APIStatusError(KrakenError):
    """An HTTP error status whose body is not a GraphQL answer."""


class InvalidResponseError(KrakenError):
    """A successful HTTP status whose body is not a GraphQL response."""


class GraphQLError(KrakenError):
    """The API answered with GraphQL errors; `error_code` is the first KT-CT code."""


class PermissionDeniedError(GraphQLError):
    """Authenticated, but the account user or organisation may not see this."""


class QueryTooLargeError(GraphQLError):
    """The API refused the query as too complex (KT-CT-1188) or as asking for too many nodes
    (KT-CT-1189). Retrying cannot help: ask for fewer fields, or fewer items per page."""


class AuthenticationError(KrakenError):
    """Credentials are missing, were rejected, or the API would not accept the token."""


class RateLimitError(KrakenError):
    """The API or the CDN in front of it asks us to slow down.

    `retry_after` is the wait in seconds the answer asked for, or None if it did not say.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **context: Any) -> None:
        super().__init__(message, **context)
        self.retry_after = retry_after

    def copy(self, message: str | None = None, *, retry_after: float | None = None) -> KrakenError:
        return RateLimitError(
            self.message if message is None else message,
            retry_after=self.retry_after if retry_after is None else retry_after,
            **self.context(),
        )
