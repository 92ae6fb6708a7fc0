"""The Kraken token lifecycle as a state machine: it decides, and does no I/O and no locking.

`TokenManager` holds one credential's token state. The auth flow (`_auth.KrakenAuth`) asks it what
to do and tells it what happened, always under one lock, and carries out every decision itself
(sending, waiting, writing the token store):

    decide(now)  ->  UseToken(token)             attach it
                 ->  WaitFor(flight)             another caller is requesting a token: wait
                 ->  RequestToken(flight)        you request one (`flight.request`), then report:
                        token_received(flight, token, now)
                        token_request_failed(flight, error, now) -> ask again, or raise
                        flight_abandoned(flight, error)  (no answer: connection, cancellation)
    token_accepted(token)                        the API answered a call made with it
    token_rejected(token, reason, now)           the API refused it (KT-CT-1124 and kin, HTTP 401)
    pending_save()                               what to write to the token store, if anything

The rules (README, "How the client handles tokens"):
- A token's life is measured from its arrival on the local clock, for as long as the token says it
  lasts (`exp - iat`): a client clock that is ahead of or behind the API's does not matter.
- It is used until `refresh_margin` seconds before that end (halfway through, if it lasts less
  than the margin), then refreshed with the refresh token, unless that is past its
  `refreshExpiresIn` or was rejected: then the primary credential obtains a new one.
- One token request at a time: callers arriving meanwhile wait for it and share its outcome; while
  it is under way, a token that has not yet expired is still used.
- A failed token request is not held against later calls (they try again, through their own
  retries), except where trying again cannot help: rejected credentials are never sent again,
  and a rate limit is waited out for its `Retry-After` (capped).
- A token the API rejects is forgotten (only that one). Freshly issued tokens rejected one after
  another (two in a row) pace further token requests: 1 s, doubling to 60 s, for every caller.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any

from ._credentials import Credentials, RefreshToken
from ._errors import AuthenticationError, KrakenError, RateLimitError
from ._kt_codes import REFRESHABLE_REJECTIONS, Category, category_of
from ._token_store import StoredTokens

if TYPE_CHECKING:
    from oeus_kraken_generated.input_types import ObtainJSONWebTokenInput

logger = logging.getLogger("oeus_kraken")

# After a rate-limited token request with no Retry-After, nobody asks again for this long,
# doubling with each consecutive rate limit up to the cap.
RATE_LIMIT_BACKOFF = 1.0
RATE_LIMIT_BACKOFF_CAP = 60.0
# Pacing after freshly issued tokens are rejected one after another.
REJECTION_BACKOFF = 1.0
REJECTION_BACKOFF_CAP = 60.0
# A token whose `iat` is further than this from the local clock at arrival means the clocks
# disagree; worth one warning (the lifecycle itself is immune to it).
CLOCK_SKEW_WARNING = 120.0


class TokenUse(str, Enum):
    """Which operation a token request goes out as."""

    OBTAIN = "getKrakenToken"
    REFRESH = "refreshKrakenToken"


@dataclass(frozen=True)
class TokenRequest:
    """Send `obtainKrakenToken` with `input` as the `use` operation."""

    use: TokenUse
    input: ObtainJSONWebTokenInput = field(repr=False)
    credential: str  # what the input holds, for logs and messages ("API key", "refresh token")


@dataclass(eq=False)
class Flight:
    """One token request under way, and its outcome once it ends: `error` is None for "got a
    token" and for "ended without an answer of its own" (the waiters then decide again)."""

    request: TokenRequest
    done: bool = False
    error: KrakenError | None = None

    def finish(self, error: KrakenError | None = None) -> None:
        self.done = True
        self.error = error


@dataclass(frozen=True)
class UseToken:
    token: str

    def __repr__(self) -> str:
        return "UseToken(token='***')"


@dataclass(frozen=True)
class WaitFor:
    flight: Flight


@dataclass(frozen=True)
class RequestToken:
    flight: Flight


Decision = UseToken | WaitFor | RequestToken


@dataclass(frozen=True)
class TokenInfo:
    """What the client knows about the token it holds. The token itself is a secret: it is not
    part of the repr; read `.token` only to hand it to something that needs it."""

    expires_at: datetime | None  # from the `exp` claim; None if the token has none
    refresh_expires_at: datetime | None  # when the refresh token stops working, if known
    claims: dict[str, Any]  # the token's claims (`sub`, `gty`, `iat`, `exp`, ...)
    token: str = field(repr=False)


@dataclass(frozen=True)
class ReceivedToken:
    """A token answer, as the token request's response carries it."""

    token: str = field(repr=False)
    claims: dict[str, Any]
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_in: object = None  # the API's `refreshExpiresIn`: an absolute Unix time


@dataclass(frozen=True)
class HeldToken:
    token: str = field(repr=False)
    claims: dict[str, Any]
    received_at: float  # local clock
    expires_at: float | None  # local clock; None: the token carries no usable lifetime
    refresh_at: float | None  # local clock: when to stop using it and refresh
    accepted: bool = False  # has the API answered a call made with it?


@dataclass(frozen=True)
class _Block:
    """Token requests are not made until `until` (local clock; inf: never)."""

    error: KrakenError
    until: float


# -- time --------------------------------------------------------------------------------------

# The last second a datetime can hold (9999-12-31T23:59:59Z).
_LAST_UNIX_TIME = 253_402_300_799


def unix_time(value: object) -> float | None:
    """`value` as a Unix time, or None if it is not one a datetime can hold (not a number, NaN,
    negative, past the year 9999): an answer's or a store's garbage must not crash the client."""
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value <= _LAST_UNIX_TIME
    ):
        return float(value)
    return None


def _datetime(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def say_seconds(seconds: float) -> str:
    """A wait in a user's words: "1 second", "45 seconds", "3 minutes", "5 hours"."""
    if not math.isfinite(seconds):
        return "a very long time"
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    if minutes < 120:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


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


# -- the state machine -------------------------------------------------------------------------


class TokenManager:
    """The token state of one credential at one endpoint. Not thread-safe by itself: the auth
    flow calls it under its lock, and never does I/O while holding it."""

    def __init__(
        self,
        credentials: Credentials | None,
        *,
        refresh_margin: float,
        has_store: bool = False,
    ) -> None:
        self.credentials = credentials
        self.refresh_margin = refresh_margin
        self.flight: Flight | None = None
        self.store_loaded = not has_store or credentials is None
        self._held: HeldToken | None = None
        self._refresh_token: str | None = (
            credentials.token if isinstance(credentials, RefreshToken) else None
        )
        self._refresh_expires_at: float | None = None  # local clock
        self._block: _Block | None = None
        self._rate_limits_in_a_row = 0
        self._rejections_in_a_row = 0
        self._paced_until = 0.0
        self._skew_warned = False
        self._dirty = False

    # -- the store (loaded and saved by the driver) -------------------------------------------

    def load(self, stored: StoredTokens | None, now: float) -> None:
        """What the token store held, read by the driver on first use."""
        if self.store_loaded:
            return
        self.store_loaded = True
        if stored is None or self._held is not None:
            return
        claims = stored.claims
        received_at = unix_time(stored.received_at)
        if received_at is None:
            # Written before arrival times were kept: assume the API's clock and ours agreed.
            received_at = unix_time(claims.get("iat")) or now
        self._held = self._hold(stored.token, claims, received_at)
        if stored.refresh_token:
            self._refresh_token = stored.refresh_token
            self._refresh_expires_at = unix_time(stored.refresh_expires_at)
        logger.debug("Kraken token loaded from the token store")

    def pending_save(self) -> tuple[bool, StoredTokens | None]:
        """(True, what to keep) when the store is out of date, else (False, None)."""
        if not self._dirty:
            return False, None
        self._dirty = False
        held = self._held
        if held is None:
            return True, None
        return True, StoredTokens(
            held.claims,
            held.token,
            self._refresh_token,
            self._refresh_expires_at,
            held.received_at,
        )

    # -- deciding -----------------------------------------------------------------------------

    def _hold(self, token: str, claims: dict[str, Any], received_at: float) -> HeldToken:
        """A token that arrived at `received_at`, with its end measured from then by its own
        stated lifetime (`exp - iat`), so that a skewed local clock does not shorten it."""
        exp, iat = unix_time(claims.get("exp")), unix_time(claims.get("iat"))
        if exp is not None and iat is not None and exp > iat:
            lifetime: float | None = exp - iat
        elif exp is not None and exp > received_at:
            lifetime = exp - received_at
        else:
            lifetime = None  # no readable lifetime: used until the API rejects it
        if lifetime is None:
            return HeldToken(token, claims, received_at, None, None)
        expires_at = received_at + lifetime
        early = lifetime - self.refresh_margin if lifetime > self.refresh_margin else lifetime / 2
        return HeldToken(token, claims, received_at, expires_at, received_at + early)

    def decide(self, now: float) -> Decision:
        """What to do to have a usable token. Raises AuthenticationError or RateLimitError when
        none can be had right now (no credentials, rejected credentials, a rate limit)."""
        held = self._held
        if held is not None and (held.refresh_at is None or now < held.refresh_at):
            return UseToken(held.token)
        still_valid = held is not None and held.expires_at is not None and now < held.expires_at
        if self.flight is not None:
            # While one caller renews the token, the others keep using it until it expires.
            return UseToken(held.token) if still_valid and held else WaitFor(self.flight)
        if self.credentials is None:
            raise AuthenticationError(
                "This operation needs authentication, but the client has no credentials. "
                "Pass credentials= (OrganizationSecretKey, APIKey, EmailPassword or RefreshToken) "
                "or set KRAKEN_* variables and use from_env()."
            )
        block = self._block
        if block is not None and now < block.until:
            if still_valid and held is not None:
                return UseToken(held.token)
            raise self._blocked_error(block, now)
        if now < self._paced_until:
            raise AuthenticationError(
                f"The Kraken API rejected the last {self._rejections_in_a_row} tokens it issued "
                "to this client as soon as they were used; the client will ask for another in "
                f"{say_seconds(self._paced_until - now)}. Check that the URL is the endpoint "
                "that issued them (production and test are different APIs)."
            )
        self.flight = Flight(self._next_request(now))
        return RequestToken(self.flight)

    def _next_request(self, now: float) -> TokenRequest:
        if self._refresh_token is not None and (
            self._refresh_expires_at is None or now < self._refresh_expires_at
        ):
            refresh = RefreshToken(self._refresh_token)
            return TokenRequest(TokenUse.REFRESH, refresh.token_input(), refresh.description)
        if self._refresh_token is not None:
            logger.info("Kraken refresh token expired; obtaining a new token")
            self._drop_refresh_token()
        credentials = self.credentials
        assert credentials is not None
        if isinstance(credentials, RefreshToken):
            self.flight = None
            error = AuthenticationError(
                "The refresh token has expired or was rejected, and the client has no other "
                "credential to obtain a new token with. Create the client with a new "
                "RefreshToken, or with an APIKey, OrganizationSecretKey or EmailPassword."
            )
            self._block = _Block(error, math.inf)
            raise error.copy()
        return TokenRequest(TokenUse.OBTAIN, credentials.token_input(), credentials.description)

    def _blocked_error(self, block: _Block, now: float) -> KrakenError:
        error = block.error
        if isinstance(error, RateLimitError):
            wait = block.until - now
            return error.copy(
                f"{error.operation_name or 'getKrakenToken'}: the Kraken API is rate limiting "
                f"token requests ({error.error_code or 'HTTP 429'}); the client will ask for a "
                f"token again in {say_seconds(wait)}. This is not a credentials problem.",
                retry_after=wait,
            )
        return error.copy()

    # -- outcomes -----------------------------------------------------------------------------

    def _land(self, flight: Flight, error: KrakenError | None = None) -> None:
        if self.flight is flight:
            self.flight = None
        flight.finish(error)

    def token_received(self, flight: Flight, received: ReceivedToken, now: float) -> str:
        """Hold the new token and return it: the caller uses it for the call that asked for it,
        whatever its expiry says (the API, not our clock, has the last word on that)."""
        self._held = held = self._hold(received.token, received.claims, now)
        iat = unix_time(received.claims.get("iat"))
        skew = 0.0 if iat is None else now - iat
        if received.refresh_token:
            self._refresh_token = received.refresh_token
            refresh_expires = unix_time(received.refresh_expires_in)
            # An absolute time on the API's clock: moved onto ours by the skew.
            self._refresh_expires_at = None if refresh_expires is None else refresh_expires + skew
        self._block = None
        self._rate_limits_in_a_row = 0
        self._dirty = True
        self._land(flight)
        self._log_received(flight.request, held, skew)
        return received.token

    def _log_received(self, request: TokenRequest, held: HeldToken, skew: float) -> None:
        if held.expires_at is None:
            logger.warning(
                "Kraken token from %s has no readable lifetime (exp, iat); it will be replaced "
                "only when the API rejects it",
                request.credential,
            )
            return
        logger.info(
            "Kraken token %s with %s; lasts %.0f s, until %s by the local clock",
            "refreshed" if request.use is TokenUse.REFRESH else "obtained",
            request.credential,
            held.expires_at - held.received_at,
            _iso(held.expires_at),
        )
        if abs(skew) > CLOCK_SKEW_WARNING and not self._skew_warned:
            self._skew_warned = True
            logger.warning(
                "The local clock is %.0f s %s the Kraken API's (from the token's iat claim); "
                "token lifetimes are measured from their arrival, so the client still works, "
                "but check the system clock",
                abs(skew),
                "ahead of" if skew > 0 else "behind",
            )

    def token_request_failed(self, flight: Flight, error: KrakenError, now: float) -> bool:
        """Record a failed token request. True: decide again (the refresh token was dropped and
        the primary credential may obtain a token); False: raise `error` (or what it became)."""
        category = category_of(error.error_code)
        if flight.request.use is TokenUse.REFRESH and category is Category.REFRESH_TOKEN_REJECTED:
            logger.info("Kraken refresh token rejected (%s); dropping it", error.error_code)
            self._drop_refresh_token()
            if isinstance(self.credentials, RefreshToken):
                dead = AuthenticationError(
                    "The refresh token was rejected and the client has no other credential to "
                    f"obtain a new token with ({error.error_code}). Create the client with a new "
                    "RefreshToken, or with an APIKey, OrganizationSecretKey or EmailPassword.",
                    operation_name=error.operation_name,
                    status_code=error.status_code,
                    error_code=error.error_code,
                    errors=error.errors,
                )
                # Remembered rather than raised: a held token that has not expired yet is still
                # used until it does (see decide).
                self._block = _Block(dead, math.inf)
            self._land(flight)
            return True
        if isinstance(error, AuthenticationError):
            blocked = error.copy(
                f"{error.message}. The client will not send this "
                f"{flight.request.credential} again: create it with a corrected one."
            )
            self._block = _Block(blocked, math.inf)
            self._land(flight, blocked)
            return False
        if isinstance(error, RateLimitError):
            self._rate_limits_in_a_row += 1
            wait = error.retry_after
            if wait is None:
                wait = min(
                    RATE_LIMIT_BACKOFF * 2 ** (self._rate_limits_in_a_row - 1),
                    RATE_LIMIT_BACKOFF_CAP,
                )
            self._block = _Block(error, now + wait)
            logger.warning(
                "Kraken token request rate limited (%s); no new token request for %s",
                error.error_code or f"HTTP {error.status_code}",
                say_seconds(wait),
            )
        self._land(flight, error)
        return False

    def flight_abandoned(self, flight: Flight, error: KrakenError | None) -> None:
        """The token request ended without an answer: `error` (a connection failure, a timeout)
        is shared with the callers waiting for it; None (the requesting caller was cancelled)
        lets them decide again, one of them requesting anew."""
        self._land(flight, error)

    def token_accepted(self, token: str) -> None:
        held = self._held
        if held is not None and held.token == token and not held.accepted:
            self._held = replace(held, accepted=True)
            self._rejections_in_a_row = 0

    def is_accepted(self, token: str) -> bool:
        held = self._held
        return held is None or held.token != token or held.accepted

    def token_rejected(self, token: str, reason: str, now: float) -> None:
        """The API refused a call made with `token`. Forget exactly that token (a newer one that
        another caller obtained meanwhile stays), so that `decide` obtains a fresh one."""
        held = self._held
        if held is None or held.token != token:
            return
        logger.info("Kraken token rejected by the API (%s); obtaining a new one", reason)
        self._held = None
        self._dirty = True
        if reason not in REFRESHABLE_REJECTIONS and not isinstance(self.credentials, RefreshToken):
            self._drop_refresh_token()
        if not held.accepted:
            self._rejections_in_a_row += 1
            if self._rejections_in_a_row >= 2:
                pause = min(
                    REJECTION_BACKOFF * 2 ** (self._rejections_in_a_row - 2),
                    REJECTION_BACKOFF_CAP,
                )
                self._paced_until = now + pause
                logger.warning(
                    "The Kraken API rejected %d freshly issued tokens in a row; no new token "
                    "request for %s",
                    self._rejections_in_a_row,
                    say_seconds(pause),
                )

    def _drop_refresh_token(self) -> None:
        self._refresh_token = None
        self._refresh_expires_at = None
        self._dirty = True

    # -- describing ---------------------------------------------------------------------------

    def usable_token(self, now: float) -> str | None:
        held = self._held
        if held is not None and (held.refresh_at is None or now < held.refresh_at):
            return held.token
        return None

    def token_info(self) -> TokenInfo:
        held = self._held
        if held is None:
            raise AuthenticationError("no Kraken token is held (it was just rejected); try again")
        skew = held.received_at - (unix_time(held.claims.get("iat")) or held.received_at)
        return TokenInfo(
            expires_at=_datetime(unix_time(held.claims.get("exp"))),
            refresh_expires_at=_datetime(
                None if self._refresh_expires_at is None else self._refresh_expires_at - skew
            ),
            claims=dict(held.claims),
            token=held.token,
        )
