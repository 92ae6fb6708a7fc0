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

from .._kt_codes import CODES

__all__ = ["ERROR_CATALOGUE", "ErrorType", "KrakenAPIError", "format_error"]

ErrorType = Literal["AUTHORIZATION", "VALIDATION", "NOT_FOUND", "APPLICATION"]


@dataclass(frozen=True)
class ErrorSpec:
    error_type: ErrorType
    message: str
    description: str


def _description(meaning: str) -> str:
    return meaning[:1].upper() + meaning[1:] + "."


# The codes the sandbox answers with: the client's own table of KT-CT codes (one table, so the
# sandbox and the client can never disagree on what a code means), with Kraken-like messages.
ERROR_CATALOGUE: dict[str, ErrorSpec] = {
    code: ErrorSpec(entry.error_type, entry.api_message, _description(entry.meaning))
    for code, entry in CODES.items()
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
