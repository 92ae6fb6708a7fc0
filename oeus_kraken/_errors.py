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
API's own messages, never from request variables or headers.
"""

from __future__ import annotations

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
