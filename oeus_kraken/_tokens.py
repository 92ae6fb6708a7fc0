"""The Kraken token lifecycle, written once, with no I/O.

`TokenManager` decides; the async and sync clients only carry out its decisions:

    step = manager.next_step()        # UseToken(token) or a TokenRequest to send
    ... send the TokenRequest with the generated get_kraken_token / refresh_kraken_token ...
    manager.token_received(step, result)   or   manager.token_request_failed(step, error)

and, when the API rejects a token on a data call, `manager.token_rejected(token, code)`.

Rules it implements (see the README's "How the client handles tokens"):
- a token is used until `refresh_margin` seconds before its `exp` claim;
- then it is refreshed with the refresh token, unless the refresh token is past its
  `refreshExpiresIn` (an absolute Unix time), or was rejected (KT-CT-1134/1135): then the primary
  credential obtains a new one;
- rejected credentials are remembered for a cooldown, so callers don't hammer the token endpoint.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._credentials import Credentials, RefreshToken
from ._errors import AuthenticationError, KrakenError, RateLimitError
from ._token_store import StoredTokens, TokenStore

if TYPE_CHECKING:
    from oeus_kraken_generated.fragments import KrakenToken
    from oeus_kraken_generated.input_types import ObtainJSONWebTokenInput

logger = logging.getLogger("oeus_kraken")

# A refresh token the API rejects: drop it and obtain a new token with the primary credential.
REFRESH_TOKEN_REJECTED_CODES = frozenset({"KT-CT-1134", "KT-CT-1135"})
# An access token the API will not accept (expired, keys rotated, signature or issuer failed, not
# a valid credential): obtain a new one and retry the call once.
TOKEN_REJECTED_CODES = frozenset(
    {"KT-CT-1124", "KT-CT-1125", "KT-CT-1126", "KT-CT-1127", "KT-CT-1143", "KT-CT-1144"}
)
# Only an expired signature can be cured by the refresh token; after the others the refresh token
# was issued under the same rejected conditions, so the primary credential starts over.
REFRESHABLE_REJECTION_CODES = frozenset({"KT-CT-1124", "KT-CT-1120"})

# How long rejected credentials are remembered before the client tries them again.
AUTH_FAILURE_COOLDOWN = 300.0
# After a token request fails for another reason (rate limit, network, 5xx), nobody asks again
# for this long, doubling with each consecutive failure up to the cap, or for as long as the
# API's Retry-After says. This is what stops a token-request storm turning into a lock-out.
TOKEN_RETRY_BACKOFF = 1.0
TOKEN_RETRY_BACKOFF_CAP = 60.0


class TokenUse(str, Enum):
    """Which generated operation a token request goes out as."""

    OBTAIN = "getKrakenToken"
    REFRESH = "refreshKrakenToken"


@dataclass(frozen=True)
class UseToken:
    """The held token is good: attach it."""

    token: str

    def __repr__(self) -> str:
        return "UseToken(token='***')"


@dataclass(frozen=True)
class TokenRequest:
    """Send `obtainKrakenToken` with `input` as the `use` operation."""

    use: TokenUse
    input: ObtainJSONWebTokenInput
    credential: str  # what the input holds, for logs and messages ("API key", "refresh token")

    def __repr__(self) -> str:
        return f"TokenRequest(use={self.use.name}, credential={self.credential!r})"


@dataclass(frozen=True)
class TokenInfo:
    """What the client knows about the token it holds. The token itself is a secret: it is not
    part of the repr; read `.token` only to hand it to something that needs it."""

    expires_at: datetime | None  # from the `exp` claim; None if the token has none
    refresh_expires_at: datetime | None  # when the refresh token stops working, if known
    claims: dict[str, Any]  # the token's claims (`sub`, `gty`, `iat`, `exp`, ...)
    token: str = field(repr=False)


@dataclass(frozen=True)
class HeldToken:
    token: str
    claims: dict[str, Any]
    expires_at: float | None  # None: the token carries no readable `exp`
    refresh_at: float | None  # when to stop using it and refresh: see TokenManager.refresh_time


def token_claims(token: str, payload: object) -> dict[str, Any]:
    """The token's claims: the `payload` the API returned, else the JWT decoded.

    The signature is not verified: we cannot (the key is Kraken's) and need not (we only read when
    to refresh; the API verifies the token on every call).
    """
    if isinstance(payload, dict) and "exp" in payload:
        return payload
    import jwt  # PyJWT costs ~40 ms to import; Kraken's `payload` usually makes it unnecessary.

    try:
        decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return payload if isinstance(payload, dict) else {}
    return decoded


# The last second a datetime can hold (9999-12-31T23:59:59Z).
_LAST_UNIX_TIME = 253_402_300_799


def _unix_time(value: object) -> float | None:
    """`value` as a Unix time, or None if it is not one a datetime can hold (not a number, NaN,
    negative, past the year 9999): an answer's or a store's garbage must not crash the client
    when it is logged or turned into a datetime."""
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value <= _LAST_UNIX_TIME
    ):
        return float(value)
    return None


def claim_expiry(claims: dict[str, Any]) -> float | None:
    return _unix_time(claims.get("exp"))


def _datetime(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


class TokenManager:
    """Holds the token state for one client and decides what to do next. No I/O, no locking:
    callers serialise `next_step` .. `token_received` under their own lock."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        refresh_margin: float,
        clock: Callable[[], float] = time.time,
        store: TokenStore | None = None,
        store_key: str = "",
    ) -> None:
        self.credentials = credentials
        self.refresh_margin = refresh_margin
        self.clock = clock
        self._token: HeldToken | None = None
        self._refresh_token: str | None = (
            credentials.token if isinstance(credentials, RefreshToken) else None
        )
        self._refresh_expires_at: float | None = None
        self._failure: KrakenError | None = None
        self._failure_until = 0.0
        self._consecutive_failures = 0
        self._store = store if credentials is not None else None
        self._store_key = store_key
        self._load()

    # -- persistence (opt-in) ----------------------------------------------------------------

    def _load(self) -> None:
        stored = self._store.load(self._store_key) if self._store is not None else None
        if stored is None:
            return
        expires_at = claim_expiry(stored.claims)
        self._token = HeldToken(
            stored.token, stored.claims, expires_at, self.refresh_time(expires_at, self.clock())
        )
        if stored.refresh_token:
            self._refresh_token = stored.refresh_token
            self._refresh_expires_at = _unix_time(stored.refresh_expires_at)
        logger.debug("Kraken token loaded from the token store")

    def _save(self) -> None:
        if self._store is None:
            return
        held = self._token
        self._store.save(
            self._store_key,
            None
            if held is None
            else StoredTokens(
                held.claims, held.token, self._refresh_token, self._refresh_expires_at
            ),
        )

    # -- decisions ---------------------------------------------------------------------------

    def refresh_time(self, expires_at: float | None, now: float) -> float | None:
        """When to refresh a token received at `now`: `refresh_margin` seconds before it expires,
        or halfway through its remaining life if it arrives with less than the margin left (a
        short-lived token, or our clock ahead of the API's). Without the second rule such a
        token would be refreshed again on every call."""
        if expires_at is None:
            return None
        refresh_at = expires_at - self.refresh_margin
        return refresh_at if refresh_at > now else now + max(0.0, expires_at - now) / 2

    def current_token(self, *, until_expiry: bool = False) -> str | None:
        """The held token if it is not due for refresh (or, with `until_expiry`, not expired)."""
        held = self._token
        if held is None:
            return None
        deadline = held.expires_at if until_expiry else held.refresh_at
        if deadline is not None and deadline <= self.clock():
            return None
        return held.token

    def next_step(self, *, refresh_under_way: bool = False) -> UseToken | TokenRequest:
        """What the client must do to have a usable token. Raises AuthenticationError when no
        token can be had (no credentials, credentials recently rejected, refresh token dead).

        `refresh_under_way`: another caller is obtaining a token right now. A token that is due
        for refresh but not expired is then still used, rather than waited on."""
        token = self.current_token(until_expiry=refresh_under_way)
        if token is not None:
            return UseToken(token)
        if self.credentials is None:
            raise AuthenticationError(
                "This operation needs authentication, but the client has no credentials. "
                "Pass credentials= (OrganizationSecretKey, APIKey, EmailPassword or RefreshToken) "
                "or set KRAKEN_* variables and use from_env()."
            )
        now = self.clock()
        if self._failure is not None and now < self._failure_until:
            # While token requests are cooling down, a token inside its refresh margin but not
            # yet expired still works: keep using it rather than fail.
            still_valid = self.current_token(until_expiry=True)
            if still_valid is not None:
                return UseToken(still_valid)
            raise self._remembered_failure(now)
        if self._refresh_token is not None and (
            self._refresh_expires_at is None or self._refresh_expires_at > now
        ):
            refresh = RefreshToken(self._refresh_token)
            return TokenRequest(TokenUse.REFRESH, refresh.token_input(), refresh.description)
        if self._refresh_token is not None:
            logger.info("Kraken refresh token expired at %s", _iso(self._refresh_expires_at or 0))
            self._refresh_token = None
        if isinstance(self.credentials, RefreshToken):
            raise self._remember(
                AuthenticationError(
                    "The refresh token has expired or was rejected, and the client has no other "
                    "credential to obtain a new token with. Create the client with a new "
                    "RefreshToken, or with an APIKey, OrganizationSecretKey or EmailPassword."
                ),
                now,
                forever=True,
            )
        return TokenRequest(
            TokenUse.OBTAIN, self.credentials.token_input(), self.credentials.description
        )

    def token_info(self) -> TokenInfo:
        """The held token, described. Call after the client has obtained one."""
        held = self._token
        if held is None:
            raise AuthenticationError("no Kraken token is held (it was just rejected); try again")
        return TokenInfo(
            expires_at=_datetime(held.expires_at),
            refresh_expires_at=_datetime(self._refresh_expires_at),
            claims=dict(held.claims),
            token=held.token,
        )

    # -- outcomes ----------------------------------------------------------------------------

    def token_received(self, step: TokenRequest, result: KrakenToken) -> str:
        """Hold the new token and return it: the caller uses it for the call that asked for it,
        whatever its expiry says (the API, not our clock, has the last word on that)."""
        claims = token_claims(result.token, result.payload)
        expires_at = claim_expiry(claims)
        now = self.clock()
        self._token = HeldToken(
            result.token, claims, expires_at, self.refresh_time(expires_at, now)
        )
        if result.refresh_token:
            self._refresh_token = result.refresh_token
            self._refresh_expires_at = (
                _unix_time(result.refresh_expires_in) if result.refresh_expires_in else None
            )
        self._failure = None
        self._consecutive_failures = 0
        self._save()
        if expires_at is None:
            logger.warning(
                "Kraken token from %s has no readable exp claim; it will be replaced only when "
                "the API rejects it",
                step.credential,
            )
        else:
            logger.info(
                "Kraken token %s with %s; expires at %s",
                "refreshed" if step.use is TokenUse.REFRESH else "obtained",
                step.credential,
                _iso(expires_at),
            )
            if expires_at - now < self.refresh_margin:
                logger.warning(
                    "Kraken token arrived with %.0f s to live, less than refresh_margin (%.0f s): "
                    "a short-lived token or a clock difference with the API",
                    expires_at - now,
                    self.refresh_margin,
                )
        return result.token

    def token_request_failed(self, step: TokenRequest, error: KrakenError) -> None:
        """Record a failed token request. Returns if the client should ask `next_step` again
        (a rejected refresh token was dropped); otherwise raises what the caller should see."""
        if step.use is TokenUse.REFRESH and error.error_code in REFRESH_TOKEN_REJECTED_CODES:
            logger.info("Kraken refresh token rejected (%s); dropping it", error.error_code)
            self._refresh_token = None
            self._refresh_expires_at = None
            self._save()
            if isinstance(self.credentials, RefreshToken):
                # Nothing else to obtain a token with. Remembered rather than raised: a held
                # token that has not expired yet is still used until it does (see next_step).
                dead = AuthenticationError(
                    "The refresh token was rejected and the client has no other credential to "
                    f"obtain a new token with ({error.error_code}). Create the client with a new "
                    "RefreshToken, or with an APIKey, OrganizationSecretKey or EmailPassword.",
                    operation_name=error.operation_name,
                    status_code=error.status_code,
                    error_code=error.error_code,
                    errors=error.errors,
                )
                dead.__cause__ = error
                self._remember(dead, self.clock(), forever=True)
            return
        now = self.clock()
        if isinstance(error, AuthenticationError):
            raise self._remember(error, now)
        self._consecutive_failures += 1
        backoff = min(
            TOKEN_RETRY_BACKOFF * 2 ** (self._consecutive_failures - 1), TOKEN_RETRY_BACKOFF_CAP
        )
        retry_after = getattr(error, "retry_after", None)
        self._failure = error
        self._failure_until = now + max(backoff, retry_after or 0.0)
        logger.warning(
            "Kraken token request failed (%s); no new token request for %.0f s",
            type(error).__name__,
            self._failure_until - now,
        )
        raise error

    def token_rejected(self, token: str, error_code: str | None) -> None:
        """A data call was refused with `token`. Forget exactly that token (a newer one that
        another caller obtained meanwhile stays) so that `next_step` obtains a fresh one."""
        if self._token is None or self._token.token != token:
            return
        logger.info("Kraken token rejected by the API (%s); obtaining a new one", error_code)
        self._token = None
        if error_code not in REFRESHABLE_REJECTION_CODES and not isinstance(
            self.credentials, RefreshToken
        ):
            self._refresh_token = None
            self._refresh_expires_at = None
        self._save()

    # -- remembered failures -----------------------------------------------------------------

    def _remember(
        self, error: AuthenticationError, now: float, *, forever: bool = False
    ) -> AuthenticationError:
        """Rejected credentials stay rejected: don't ask the API again for a while."""
        self._failure = error
        self._failure_until = float("inf") if forever else now + AUTH_FAILURE_COOLDOWN
        return error

    def _remembered_failure(self, now: float) -> KrakenError:
        """A fresh error, of the same kind as the remembered one, for a caller who arrives
        during the cooldown."""
        failure = self._failure
        assert failure is not None
        if self._failure_until == float("inf"):
            wait = "until it is given new credentials"
        else:
            wait = f"for {max(1, math.ceil(self._failure_until - now))} more seconds"
        message = (
            f"{failure.message} (an earlier token request failed this way; the client will not "
            f"request a token again {wait})"
        )
        context: dict[str, Any] = {
            "operation_name": failure.operation_name,
            "status_code": failure.status_code,
            "error_code": failure.error_code,
            "errors": failure.errors,
            "data": failure.data,
        }
        if isinstance(failure, RateLimitError):
            fresh: KrakenError = RateLimitError(
                message, retry_after=self._failure_until - now, **context
            )
        else:
            fresh = type(failure)(message, **context)
        fresh.__cause__ = failure
        return fresh
