"""Kraken's GraphQL error shape: the exception resolvers raise, and the error formatter.

Kraken answers failures with HTTP 200 and GraphQL errors such as

    {"message": "Signature of the JWT has expired.", "path": ["viewer"],
     "extensions": {"errorType": "AUTHORIZATION", "errorCode": "KT-CT-1124",
                    "errorDescription": "..."}}

A resolver raises `KrakenAPIError(code)`; `format_error` (ariadne's `error_formatter`) turns it into
that shape. Errors graphql-core raises itself (syntax, validation, bad variables) get errorType
VALIDATION and no code; anything unexpected gets APPLICATION.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from ariadne.utils import unwrap_graphql_error
from graphql import GraphQLError

__all__ = ["ERROR_CATALOGUE", "ErrorType", "KrakenAPIError", "format_error"]

ErrorType = Literal["AUTHORIZATION", "VALIDATION", "NOT_FOUND", "APPLICATION"]


@dataclass(frozen=True)
class ErrorSpec:
    error_type: ErrorType
    message: str
    description: str


# The codes the sandbox answers with. Messages are ours, modelled on the public Kraken catalogue.
ERROR_CATALOGUE: dict[str, ErrorSpec] = {
    "KT-CT-1111": ErrorSpec(
        "AUTHORIZATION",
        "Unauthorized.",
        "The token is valid, but it does not carry the permission this field needs.",
    ),
    "KT-CT-1112": ErrorSpec(
        "AUTHORIZATION",
        "Authorization header not provided.",
        "This field requires an Authorization header with a Kraken token.",
    ),
    "KT-CT-1124": ErrorSpec(
        "AUTHORIZATION",
        "Signature of the JWT has expired.",
        "The Kraken token has expired. Refresh it, or obtain a new one.",
    ),
    "KT-CT-1134": ErrorSpec(
        "AUTHORIZATION",
        "Refresh token has expired.",
        "The refresh token has expired. Obtain a new token with the original credentials.",
    ),
    "KT-CT-1135": ErrorSpec(
        "AUTHORIZATION",
        "Invalid refresh token.",
        "The refresh token is not valid. Obtain a new token with the original credentials.",
    ),
    "KT-CT-1136": ErrorSpec(
        "VALIDATION",
        "Both email and password are required.",
        "Provide both `email` and `password` to authenticate with them.",
    ),
    "KT-CT-1137": ErrorSpec(
        "VALIDATION",
        "Invalid combination of input fields.",
        "Provide exactly one of: email and password, APIKey, organizationSecretKey, "
        "preSignedKey, refreshToken.",
    ),
    "KT-CT-1138": ErrorSpec(
        "VALIDATION",
        "Invalid data.",
        "Please make sure the provided details are correct.",
    ),
    "KT-CT-1139": ErrorSpec(
        "AUTHORIZATION",
        "Authentication failed.",
        "The API key is not valid.",
    ),
    "KT-CT-1140": ErrorSpec(
        "AUTHORIZATION",
        "Invalid organization secret key.",
        "The organization secret key is not valid.",
    ),
    "KT-CT-1143": ErrorSpec(
        "AUTHORIZATION",
        "Invalid token.",
        "The Authorization header is not a valid Kraken token.",
    ),
    "KT-CT-1188": ErrorSpec(
        "VALIDATION",
        "Query is too complex.",
        "The query's complexity is over the limit of 200: ask for fewer fields or smaller pages.",
    ),
    "KT-CT-1189": ErrorSpec(
        "VALIDATION",
        "Query exceeds maximum node count.",
        "The query could return more than 10,000 nodes: ask for smaller pages.",
    ),
    "KT-CT-1199": ErrorSpec(
        "AUTHORIZATION",
        "Too many requests.",
        "You have made too many requests. Please try again later.",
    ),
    "KT-CT-1201": ErrorSpec(
        "VALIDATION",
        "Invalid pagination parameters.",
        "This connection must be paginated with `first` (1 to 100).",
    ),
    "KT-CT-4177": ErrorSpec(
        "AUTHORIZATION",
        "Unauthorized.",
        "You are not allowed to see this account.",
    ),
    "KT-CT-8413": ErrorSpec(
        "VALIDATION",
        "Invalid data.",
        "Please make sure the provided details are correct.",
    ),
}


class KrakenAPIError(Exception):
    """A Kraken error, usually with a KT-CT code. Raise it from a resolver."""

    def __init__(
        self,
        code: str | None,
        message: str | None = None,
        *,
        description: str | None = None,
        error_type: ErrorType | None = None,
    ) -> None:
        spec = ERROR_CATALOGUE.get(code) if code else None
        self.code = code
        self.message = message or (spec.message if spec else code or "Error.")
        self.description = description or (spec.description if spec else self.message)
        self.error_type: ErrorType = error_type or (spec.error_type if spec else "APPLICATION")
        super().__init__(self.message)

    def extensions(self) -> dict[str, Any]:
        extensions: dict[str, Any] = {"errorType": self.error_type}
        if self.code is not None:
            extensions["errorCode"] = self.code
        extensions["errorDescription"] = self.description
        return extensions


def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
    """ariadne `error_formatter`: Kraken's error shape."""
    formatted: dict[str, Any] = dict(error.formatted)
    original = unwrap_graphql_error(error)
    if isinstance(original, KrakenAPIError):
        formatted["message"] = original.message
        formatted["extensions"] = original.extensions()
    elif original is None or isinstance(original, GraphQLError):
        # Raised by graphql-core itself: a syntax, validation or variable error.
        formatted["extensions"] = {
            "errorType": "VALIDATION",
            "errorDescription": error.message,
        }
    else:
        formatted["extensions"] = {
            "errorType": "APPLICATION",
            "errorDescription": f"{type(original).__name__}: {original}",
        }
    return formatted


class _QuietExpectedErrors(logging.Filter):
    """ariadne logs every GraphQL error with a traceback; a KT-CT error is an answer, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, GraphQLError):
            original = unwrap_graphql_error(exc)
            if isinstance(original, KrakenAPIError) or original is None:
                return False
        return True


ERROR_LOGGER_NAME = "oeus_kraken.sandbox.errors"
logging.getLogger(ERROR_LOGGER_NAME).addFilter(_QuietExpectedErrors())
