"""Kraken tokens: `obtainKrakenToken` for each credential kind, and checking the Authorization
header of every other request.

Access tokens are HS256 JWTs signed with the sandbox key, with Kraken's claims (`sub`, `gty`,
`email`, `tokenUse`, `iss`, `iat`, `exp`, `origIat`). Refresh tokens are random opaque strings kept
in memory with their absolute expiry. Time comes from an injectable clock, so tests can move it.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import jwt

from ._data import Account, AccountUser, SandboxData
from ._errors import KrakenAPIError

__all__ = [
    "DEFAULT_ACCESS_TOKEN_LIFETIME",
    "DEFAULT_REFRESH_TOKEN_LIFETIME",
    "SANDBOX_ISSUER",
    "SANDBOX_SIGNING_KEY",
    "Principal",
    "TokenService",
]

# HS256 wants at least 32 bytes. Not a secret: it signs sandbox tokens only, and tests verify
# them with it.
SANDBOX_SIGNING_KEY = "oeus-kraken-sandbox-signing-key-not-a-secret-0123456789"
SANDBOX_ISSUER = "https://sandbox.oeus-kraken.invalid/"
DEFAULT_ACCESS_TOKEN_LIFETIME = 3600.0
DEFAULT_REFRESH_TOKEN_LIFETIME = 7 * 24 * 3600.0

GrantType = Literal["EMAIL-AND-PASSWORD", "API-KEY", "ORGANIZATION-SECRET-KEY", "REFRESH-TOKEN"]

# The input fields of ObtainJSONWebTokenInput, grouped by credential kind.
_CREDENTIAL_KINDS: dict[str, tuple[str, ...]] = {
    "email": ("email", "password"),
    "APIKey": ("APIKey",),
    "organizationSecretKey": ("organizationSecretKey",),
    "preSignedKey": ("preSignedKey",),
    "refreshToken": ("refreshToken",),
}


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: an account user, or an organisation."""

    kind: Literal["account-user", "organization"]
    id: str
    email: str | None = None

    @property
    def subject(self) -> str:
        return f"kraken|{self.kind}:{self.id}"

    def may_see(self, account: Account) -> bool:
        return self.kind == "organization" or account.owner_id == self.id


@dataclass(frozen=True)
class _RefreshGrant:
    principal: Principal
    expires_at: int
    orig_iat: int


def _same(given: str, expected: str | None) -> bool:
    return expected is not None and hmac.compare_digest(given.encode(), expected.encode())


class TokenService:
    """Issues and checks tokens. Thread-safe: the server thread and a test thread both use it."""

    def __init__(
        self,
        data: SandboxData,
        *,
        clock: Callable[[], float],
        signing_key: str = SANDBOX_SIGNING_KEY,
        issuer: str = SANDBOX_ISSUER,
        access_token_lifetime: float = DEFAULT_ACCESS_TOKEN_LIFETIME,
        refresh_token_lifetime: float = DEFAULT_REFRESH_TOKEN_LIFETIME,
    ) -> None:
        if len(signing_key.encode()) < 32:
            raise ValueError("signing_key must be at least 32 bytes for HS256")
        if access_token_lifetime <= 0 or refresh_token_lifetime <= 0:
            raise ValueError("token lifetimes must be positive numbers of seconds")
        self.data = data
        self.clock = clock
        self.signing_key = signing_key
        self.issuer = issuer
        self.access_token_lifetime = access_token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self._lock = threading.Lock()
        self._refresh_grants: dict[str, _RefreshGrant] = {}
        self._issued: set[str] = set()
        self._expired: set[str] = set()
        self._expired_code = "KT-CT-1124"  # what a token made to expire is answered with

    # -- obtainKrakenToken -----------------------------------------------------------------------

    def obtain(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """The `ObtainKrakenJSONWebToken` value for an `ObtainJSONWebTokenInput`."""
        given = {name: value for name, value in fields.items() if value is not None}
        kinds = [k for k, names in _CREDENTIAL_KINDS.items() if any(n in given for n in names)]
        if len(kinds) != 1:
            raise KrakenAPIError("KT-CT-1137")
        kind = kinds[0]
        if kind == "email":
            if "email" not in given or "password" not in given:
                raise KrakenAPIError("KT-CT-1136")
            user = self.data.user_by_email(str(given["email"]))
            if user is None or not _same(str(given["password"]), user.password):
                raise KrakenAPIError("KT-CT-1138")
            return self._grant(_user_principal(user), "EMAIL-AND-PASSWORD")
        if kind == "APIKey":
            user = self.data.user_by_api_key(str(given["APIKey"]))
            if user is None:
                raise KrakenAPIError("KT-CT-1139")
            return self._grant(_user_principal(user), "API-KEY")
        if kind == "organizationSecretKey":
            organization = self.data.organization
            if not _same(str(given["organizationSecretKey"]), organization.secret_key):
                raise KrakenAPIError("KT-CT-1140")
            principal = Principal("organization", organization.id)
            return self._grant(principal, "ORGANIZATION-SECRET-KEY")
        if kind == "refreshToken":
            return self._refresh(str(given["refreshToken"]))
        raise KrakenAPIError(
            "KT-CT-1139",
            description="The sandbox does not issue or accept pre-signed keys.",
        )

    def _grant(self, principal: Principal, grant_type: GrantType) -> dict[str, Any]:
        now = int(self.clock())
        refresh_token = secrets.token_hex(32)
        grant = _RefreshGrant(principal, int(now + self.refresh_token_lifetime), orig_iat=now)
        with self._lock:
            self._refresh_grants[refresh_token] = grant
        return self._token_result(principal, grant_type, now, orig_iat=now) | {
            "refreshToken": refresh_token,
            "refreshExpiresIn": grant.expires_at,
        }

    def _refresh(self, refresh_token: str) -> dict[str, Any]:
        now = int(self.clock())
        with self._lock:
            grant = self._refresh_grants.get(refresh_token)
        if grant is None:
            raise KrakenAPIError("KT-CT-1135")
        if grant.expires_at <= now:
            raise KrakenAPIError("KT-CT-1134")
        # The refresh token stays the same, with its original expiry.
        return self._token_result(grant.principal, "REFRESH-TOKEN", now, grant.orig_iat) | {
            "refreshToken": refresh_token,
            "refreshExpiresIn": grant.expires_at,
        }

    def _token_result(
        self, principal: Principal, grant_type: GrantType, now: int, orig_iat: int
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": principal.subject, "gty": grant_type}
        if principal.email is not None:
            claims["email"] = principal.email
        claims |= {
            "tokenUse": "access",
            "iss": self.issuer,
            "iat": now,
            "exp": int(now + self.access_token_lifetime),
            "origIat": orig_iat,
        }
        token = jwt.encode(claims, self.signing_key, algorithm="HS256")
        with self._lock:
            self._expired.discard(token)
            self._issued.add(token)
        return {"token": token, "payload": claims}

    # -- the Authorization header ------------------------------------------------------------------

    def authenticate(self, header: str | None) -> Principal | None:
        """The principal an Authorization header speaks for; None without a header.

        Raises KT-CT-1124 for an expired token, KT-CT-1143 for anything else that is not a valid
        sandbox token (garbage, bad signature, `Bearer <token>`, unknown subject).
        """
        if header is None or not header.strip():
            return None
        token = header.strip()
        if token[:4].upper() == "JWT ":
            token = token[4:].strip()
        try:
            claims = jwt.decode(
                token,
                self.signing_key,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={
                    # Expiry is checked below against the injectable clock.
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "require": ["sub", "exp", "iat"],
                },
            )
        except jwt.PyJWTError:
            raise KrakenAPIError("KT-CT-1143") from None
        exp = claims.get("exp")
        if not isinstance(exp, int) or claims.get("tokenUse") != "access":
            raise KrakenAPIError("KT-CT-1143")
        with self._lock:
            force_expired = token in self._expired
        if force_expired:
            raise KrakenAPIError(self._expired_code)
        if exp <= self.clock():
            raise KrakenAPIError("KT-CT-1124")
        principal = self._principal(str(claims["sub"]))
        if principal is None:
            raise KrakenAPIError("KT-CT-1143")
        return principal

    def _principal(self, subject: str) -> Principal | None:
        kind, _, ident = subject.removeprefix("kraken|").partition(":")
        if kind == "account-user":
            user = self.data.user(ident)
            return _user_principal(user) if user is not None else None
        if kind == "organization" and ident == self.data.organization.id:
            return Principal("organization", ident)
        return None

    # -- faults ------------------------------------------------------------------------------------

    def expire_access_tokens(self, code: str = "KT-CT-1124") -> None:
        """Every access token issued so far is treated as expired from now on, answered with
        `code`: KT-CT-1124 (the signature has expired) or KT-CT-1120 (the token has expired)."""
        with self._lock:
            self._expired_code = code
            self._expired |= self._issued
            self._issued.clear()

    def revoke_refresh_tokens(self) -> None:
        """Every refresh token issued so far is forgotten (KT-CT-1135)."""
        with self._lock:
            self._refresh_grants.clear()

    def reset(self) -> None:
        with self._lock:
            self._refresh_grants.clear()
            self._issued.clear()
            self._expired.clear()


def _user_principal(user: AccountUser) -> Principal:
    return Principal("account-user", user.id, user.email)
