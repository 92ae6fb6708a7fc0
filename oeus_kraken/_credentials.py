"""Credentials a client can obtain a Kraken token with.

Each is a frozen value object. Its repr shows the kind of credential and never the secret, so a
client or credential can be logged or printed safely.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, TypeAlias

from ._errors import ConfigurationError
from ._text import is_utf8

__all__ = ["APIKey", "Credentials", "EmailPassword", "OrganizationSecretKey", "RefreshToken"]

_REDACTED = "'***'"


def _require_text(kind: str, field: str, value: object, *, padded_ok: bool = False) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{kind}: `{field}` must be a non-empty string")
    if "\0" in value:  # no credential holds one; the token store's key joins fields with it
        raise ConfigurationError(f"{kind}: `{field}` holds a NUL character (\\0)")
    if not is_utf8(value):
        # Bytes that are not UTF-8 (an environment variable set in another encoding) cannot go
        # into the token request's JSON; before, the first call failed with a serialisation
        # traceback. (Not echoed: a secret.)
        raise ConfigurationError(
            f"{kind}: `{field}` holds bytes that are not UTF-8 text (as a variable set in "
            "another encoding gives); set it again as UTF-8"
        )
    # No key, refresh token or email address starts or ends with one: a value read from a file
    # keeps its newline, the API rejects it, and nothing says that the newline was the matter.
    # (Not echoed: the value is a secret.) A password may: `padded_ok`.
    if not padded_ok and value != value.strip():
        raise ConfigurationError(
            f"{kind}: `{field}` has a space or a line break at its start or end (a value read "
            "from a file keeps its newline); remove them, e.g. with .strip()"
        )


@dataclass(frozen=True, repr=False)
class OrganizationSecretKey:
    """An affiliate organisation's live secret key (`sk_live_...`)."""

    key: str
    description: ClassVar[str] = "organization secret key"

    def __post_init__(self) -> None:
        _require_text(type(self).__name__, "key", self.key)

    def __repr__(self) -> str:
        return f"OrganizationSecretKey(key={_REDACTED})"

    def token_variables(self) -> dict[str, str]:
        """The `input` of the token request (ObtainJSONWebTokenInput): it holds the secret."""
        return {"organizationSecretKey": self.key}


@dataclass(frozen=True, repr=False)
class EmailPassword:
    """A customer's email address and password."""

    email: str
    password: str
    description: ClassVar[str] = "email and password"

    def __post_init__(self) -> None:
        _require_text(type(self).__name__, "email", self.email)
        _require_text(type(self).__name__, "password", self.password, padded_ok=True)

    def __repr__(self) -> str:
        return f"EmailPassword(email={self.email!r}, password={_REDACTED})"

    def token_variables(self) -> dict[str, str]:
        return {"email": self.email, "password": self.password}


@dataclass(frozen=True, repr=False)
class APIKey:
    """An account user's API key."""

    key: str
    description: ClassVar[str] = "API key"

    def __post_init__(self) -> None:
        _require_text(type(self).__name__, "key", self.key)

    def __repr__(self) -> str:
        return f"APIKey(key={_REDACTED})"

    def token_variables(self) -> dict[str, str]:
        return {"APIKey": self.key}


@dataclass(frozen=True, repr=False)
class RefreshToken:
    """A Kraken refresh token. With it alone, the client works until the refresh token expires."""

    token: str
    description: ClassVar[str] = "refresh token"

    def __post_init__(self) -> None:
        _require_text(type(self).__name__, "token", self.token)

    def __repr__(self) -> str:
        return f"RefreshToken(token={_REDACTED})"

    def token_variables(self) -> dict[str, str]:
        return {"refreshToken": self.token}


Credentials: TypeAlias = OrganizationSecretKey | EmailPassword | APIKey | RefreshToken
"""Any one kind of credential."""
