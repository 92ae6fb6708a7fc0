"""The Kraken token lifecycle as a state machine: it decides, and does no I/O and no locking.

`TokenState` holds one credential's tokens at one endpoint. KrakenAuth's token flow asks it what
to do and tells it what happened, always under one lock, and carries out every decision itself:

    decide(now, wave) -> UseToken(token)         attach it
                      -> WaitFor(flight)         another caller's token request: wait for it
                      -> RequestToken(flight)    send `flight.request`, then report one of:
                             token_received / token_request_failed / flight_abandoned
                      -> Pause(seconds)          a rate-limit gate opens in a moment: wait
                      or raises why no token can be had now
    token_accepted / token_rejected              what the API said of a call made with a token
    load / pending_save                          the token store, read and written by the flow

The rules it keeps (lifetimes measured from arrival, one request at a time, waves, gates, pacing)
are the README's "How the client handles tokens", each next to the code that keeps it below.
"""

from __future__ import annotations

import logging
import math
import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import Enum
from typing import Any, NamedTuple

from ._credentials import Credentials, RefreshToken
from ._durations import say_seconds
from ._errors import AuthenticationError, KrakenError, RateLimitError
from ._kt_codes import REFRESHABLE_REJECTIONS, Category, category_of
from ._retry import doubled
from ._steps import Signal
from ._token_store import StoredTokens

logger = logging.getLogger("oeus_kraken")

# After a rate-limited token request with no Retry-After, the gate stays closed this long,
# doubling with each consecutive rate limit up to the cap.
RATE_LIMIT_BACKOFF = 1.0
RATE_LIMIT_BACKOFF_CAP = 60.0
# A gate this close to opening is waited for in place, not raised (timers may fire a little
# early, and a caller told to wait until the gate opens must then find it open).
GATE_SLACK = 0.05
# A token request that its sender's own deadline ended is shared by the callers whose deadlines
# are at most this much later (see Flight.shares).
CUT_SLACK = 1.0
# After a token request fails in passing, its wave retries this long after (doubling while they
# fail in a row, with jitter, capped), as a call's own retries would back off.
RETRY_BACKOFF = 0.5
RETRY_BACKOFF_CAP = 8.0
# Pacing after freshly issued tokens are rejected one after another.
REJECTION_BACKOFF = 1.0
REJECTION_BACKOFF_CAP = 60.0
# A token whose `iat` is further than this from the local clock at arrival means the clocks
# disagree; worth one warning (the lifecycle itself is immune to it).
CLOCK_SKEW_WARNING = 120.0
# A RefreshToken-only client whose refresh token was refused, and whose token store held nothing
# newer, reads the store again: the process that spent the refresh token may save what it got
# just after the read (its answer and the refusal leave the server together). Every
# STORE_SETTLE seconds, waited for by the calls, for STORE_SETTLE_WINDOW seconds after the
# refusal (a save can take that long: scrypt on a busy machine, another process's lock, a slow
# disk or keyring); then at most every STORE_RECHECK seconds, for calls that find no token.
STORE_SETTLE = 0.25
STORE_SETTLE_WINDOW = 2.0
STORE_RECHECK = 1.0


class TokenUse(str, Enum):
    """Which operation a token request goes out as."""

    OBTAIN = "getKrakenToken"
    REFRESH = "refreshKrakenToken"


@dataclass(frozen=True)
class TokenRequest:
    """Send `obtainKrakenToken` with `variables` as the `use` operation."""

    use: TokenUse
    variables: dict[str, str] = field(repr=False)  # the `input`: it holds the credential
    credential: str  # what the input holds, for logs and messages ("API key", "refresh token")

    @property
    def secrets(self) -> list[str]:
        """The values of `variables` that are secrets (see `secret_values`)."""
        return secret_values(self.variables)

    @property
    def masked_variables(self) -> dict[str, str]:
        """`variables` with each secret as ***."""
        return {name: v if name == _NOT_SECRET else "***" for name, v in self.variables.items()}


# The one field of a token request's input that is no secret: an email address, which the
# credential's repr shows too.
_NOT_SECRET = "email"  # noqa: S105 (a field name, not a password)


def secret_values(variables: dict[str, str]) -> list[str]:
    """The values of a token request's input that are secrets: all but an email address."""
    return [value for name, value in variables.items() if name != _NOT_SECRET]


@dataclass(eq=False)
class Flight:
    """One token request under way, then its outcome: `error` is None for "got a token" and for
    "ended without an answer of its own" (whoever waits then decides again)."""

    number: int
    request: TokenRequest
    signal: Signal = field(default_factory=Signal, repr=False)
    done: bool = False
    error: KrakenError | None = None
    # Its sender's deadline (time.monotonic()), if that, not the API, ended it (a timeout=
    # shorter than the API took): no failure of the API's, so no retry wave; see `shares`.
    cut_at: float | None = None
    # Its sender's deadline (time.monotonic()) as it sent it: a flight still under way well
    # past it has a sender that stopped running (see KrakenAuth._wait).
    sent_until: float | None = None

    def shares(self, deadline: float | None) -> bool:
        """Does a caller with this deadline share this flight's failure? Not one that has
        more time than the sender had: it sends a token request of its own. Callers within
        CUT_SLACK of the sender (those that started with it) share it, so that a dead endpoint
        gets one token request from them, not one each."""
        cut_at = self.cut_at
        return cut_at is None or (deadline is not None and deadline <= cut_at + CUT_SLACK)


class UseToken(NamedTuple):
    token: str

    def __repr__(self) -> str:
        return "UseToken(token='***')"


class WaitFor(NamedTuple):
    flight: Flight


class RequestToken(NamedTuple):
    flight: Flight


class Pause(NamedTuple):
    seconds: float


Decision = UseToken | WaitFor | RequestToken | Pause


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
class _Gate:
    """No token request until `until` (local clock; inf: never), because of `error`."""

    error: KrakenError
    until: float


# -- time ------------------------------------------------------------------------------------------

_LAST_UNIX_TIME = 253_402_300_799  # 9999-12-31T23:59:59Z, the last second a datetime holds


def unix_time(value: object) -> float | None:
    """`value` as a Unix time, or None if it is not one a datetime can hold: an answer's or a
    store's garbage must not crash the client."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if ok and 0 <= value <= _LAST_UNIX_TIME else None  # type: ignore[operator, arg-type]


def _datetime(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    try:
        return datetime.fromtimestamp(timestamp, tz=timezone.utc)
    except (OverflowError, ValueError, OSError):  # past 9999-12-31 (or before year 1): the end
        end = datetime.max if timestamp > 0 else datetime.min
        return end.replace(tzinfo=timezone.utc)


def token_claims(token: str, payload: object) -> dict[str, Any]:
    """The token's claims: the `payload` the API returned, else the JWT decoded, unverified
    (the key is Kraken's; we only read when to refresh, and the API checks every call)."""
    if isinstance(payload, dict) and "exp" in payload:
        return payload
    import jwt  # PyJWT costs ~40 ms to import; Kraken's `payload` usually makes it unnecessary.

    try:
        decoded: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return payload if isinstance(payload, dict) else {}
    return decoded


# -- the state machine -----------------------------------------------------------------------------


class TokenState:
    """The token state of one credential at one endpoint. Not thread-safe by itself: KrakenAuth
    calls it under its lock, and never does I/O while holding it."""

    def __init__(
        self, credentials: Credentials | None, *, refresh_margin: float, has_store: bool = False
    ) -> None:
        self.credentials = credentials
        self.refresh_margin = refresh_margin
        self.loaded = not has_store or credentials is None  # the token store read, if any
        self._has_store = has_store
        # A refresh token the API refused, until the store is read again: another process may
        # have spent it, and left the refresh token it got in exchange there.
        self._spent_refresh_token: str | None = None
        self._recheck_store_at: float | None = None  # when to read it again (see STORE_RECHECK)
        self._settles_left = 0  # re-reads of the store that calls wait for (see STORE_SETTLE)
        self.held: HeldToken | None = None
        self.flight: Flight | None = None
        self.flights_started = 0
        self._last_failure: Flight | None = None  # the last request, if it failed in passing
        self._failures_in_a_row = 0
        self._retry_at = 0.0  # when callers that shared the last failure retry (local clock)
        self._retrying = False  # does any of them have a retry left?
        self._gate: _Gate | None = None
        self._refresh_token = credentials.token if isinstance(credentials, RefreshToken) else None
        self._refresh_expires_at: float | None = None  # local clock
        self._rate_limits_in_a_row = 0
        self._rejections_in_a_row = 0
        self._paced_until = 0.0
        self._skew_warned = False
        self._dirty = False
        # The token the API last rejected: the store forgets its entry only if it still holds
        # that token (another process sharing the store may have saved a newer one since).
        self.rejected: str | None = None
        self._latest = -math.inf  # the latest `now` decided at: a later one before it means
        # the clock went back (see _clock_went_back)

    @property
    def secrets(self) -> list[str]:
        """What an answer must never show: the credential's secret values and the refresh
        tokens known (a server may quote them back in any later answer, not only the token
        request's)."""
        known = [self._refresh_token, self._spent_refresh_token]
        if self.credentials is not None:
            known += secret_values(self.credentials.token_variables())
        return [secret for secret in known if secret]

    # -- deciding ---------------------------------------------------------------------------------

    def valid_token(self, now: float) -> HeldToken | None:
        """The token held, if it has not expired (it may be due for renewal)."""
        held = self.held
        if held is not None and held.expires_at is not None and now < held.expires_at:
            return held
        return None

    def usable_token(self, now: float) -> str | None:
        held = self.held
        if held is not None and (held.refresh_at is None or now < held.refresh_at):
            return held.token
        return None

    def next_wave(self) -> int:
        """The wave of a call starting now: the next token request to be sent. Token requests
        are numbered; a caller shares the outcome of every request of its wave, so a failure is
        shared by callers that arrive after it, and their retries send one request together."""
        return self.flights_started + 1

    def decide(self, now: float, wave: int) -> Decision:
        """What a caller of `wave` does to have a token. Raises the reason none can be had now:
        no credentials, rejected credentials, a closed gate, its wave's failed request."""
        if now < self._latest:
            self._clock_went_back(self._latest - now)
        self._latest = now
        token = self.usable_token(now)
        if token is not None:
            return UseToken(token)
        held = self.valid_token(now)  # due for renewal, but not expired
        if self.flight is not None:
            return UseToken(held.token) if held else WaitFor(self.flight)
        if self.credentials is None:
            raise AuthenticationError(
                "This operation needs authentication, but the client has no credentials. "
                "Pass credentials= (OrganizationSecretKey, APIKey, EmailPassword or RefreshToken) "
                "or set KRAKEN_* variables and use from_env()."
            )
        gate = self._gate
        if gate is not None and now < gate.until:
            if held:
                return UseToken(held.token)
            if gate.until - now <= GATE_SLACK:
                return Pause(gate.until - now)
            recheck = self._recheck_store_at
            if recheck is not None and (now >= recheck or self._settles_left > 0):
                # (Counted, not timed: a clock= that stands still must not make it endless.)
                wait = STORE_SETTLE if self._settles_left > 0 else 0.0
                self._settles_left = max(0, self._settles_left - 1)
                self._recheck_store_at = None
                self.loaded = False  # the flow reads the store, then decides again
                return Pause(wait)
            raise self._gated(gate, now)
        failed = self._last_failure
        if failed is not None and failed.error is not None:
            due = now >= self._retry_at - GATE_SLACK
            if held and (failed.number >= wave or not due):  # a refresh ahead of time failed
                return UseToken(held.token)
            if failed.number >= wave:  # this caller's wave already tried, and failed
                raise failed.error.copy()
            if self._retrying and not due:  # join the retry wave
                raise failed.error.copy()
        if now < self._paced_until:
            raise AuthenticationError(
                f"The Kraken API rejected the last {self._rejections_in_a_row} tokens it issued "
                "to this client as soon as they were used; the client will ask for another in "
                f"{say_seconds(self._paced_until - now)}. Check that the URL is the endpoint "
                "that issued them (production and test are different APIs)."
            )
        request = self._next_request(now)
        self.flights_started += 1
        self.flight = Flight(self.flights_started, request)
        return RequestToken(self.flight)

    def _clock_went_back(self, by: float) -> None:
        """The clock was set back (an NTP step, a restored VM): every instant measured on it is
        moved back as much, so that a gate closed for a 1 s Retry-After does not stay closed
        for the hour the clock went back, nor a token stay in use an hour past its end."""
        if self._gate is not None:
            self._gate = replace(self._gate, until=self._gate.until - by)
        self._paced_until -= by
        self._retry_at -= by
        if self._recheck_store_at is not None:
            self._recheck_store_at -= by
        if self._refresh_expires_at is not None:
            self._refresh_expires_at -= by
        held = self.held
        if held is not None:
            self.held = replace(
                held,
                received_at=held.received_at - by,
                expires_at=None if held.expires_at is None else held.expires_at - by,
                refresh_at=None if held.refresh_at is None else held.refresh_at - by,
            )

    def join_retry(self, now: float, retries_left: int) -> float | None:
        """For a caller whose token request failed: seconds until it retries with the others
        (a rate-limit gate opens, or the last failure's retry wave is due; None if neither),
        counting it among those the retry wave waits for if it has retries left."""
        gate = self._gate
        if gate is not None and isinstance(gate.error, RateLimitError) and now < gate.until:
            return gate.until - now
        if self._last_failure is None:
            return None
        self._retrying = self._retrying or retries_left > 0
        return max(0.0, self._retry_at - now)

    def _next_request(self, now: float) -> TokenRequest:
        refresh = self._refresh_token
        if refresh is not None and (
            self._refresh_expires_at is None or now < self._refresh_expires_at
        ):
            return TokenRequest(TokenUse.REFRESH, {"refreshToken": refresh}, "refresh token")
        if refresh is not None:
            logger.info("Kraken refresh token expired; obtaining a new token")
            self._drop_refresh_token()
        credentials = self.credentials
        assert credentials is not None
        if isinstance(credentials, RefreshToken):
            self._gate = _Gate(_no_other_credential("The refresh token has expired"), math.inf)
            raise self._gate.error.copy()
        return TokenRequest(TokenUse.OBTAIN, credentials.token_variables(), credentials.description)

    def _gated(self, gate: _Gate, now: float) -> KrakenError:
        error = gate.error
        if isinstance(error, RateLimitError):
            wait = gate.until - now
            return error.copy(
                f"{error.operation_name or TokenUse.OBTAIN.value}: the Kraken API is rate "
                f"limiting token requests ({error.error_code or f'HTTP {error.status_code}'}); "
                f"the client will ask for a token again in {say_seconds(wait)}. This is not a "
                "credentials problem.",
                retry_after=wait,
            )
        return error.copy()

    # -- outcomes ---------------------------------------------------------------------------------

    def _land(self, flight: Flight, error: KrakenError | None = None) -> None:
        if self.flight is flight:
            self.flight = None
        flight.done, flight.error = True, error
        flight.signal.set()

    def token_received(self, flight: Flight, received: ReceivedToken, now: float) -> str:
        """Hold the new token and return it: the caller uses it for the call that asked for it,
        whatever its expiry says (the API, not our clock, has the last word on that)."""
        self.held = held = self._hold(received.token, received.claims, now)
        iat = unix_time(received.claims.get("iat"))
        skew = 0.0 if iat is None else now - iat
        if received.refresh_token:
            self._refresh_token = received.refresh_token
            expires = unix_time(received.refresh_expires_in)  # on the API's clock: moved to ours
            if expires is not None and expires <= (now if iat is None else iat):
                # Before the refresh token was even issued (a duration, 604800, where Kraken
                # gives a Unix time; a 0): no end it can have. Unknown, as other garbage is: the
                # API decides, rather than a RefreshToken client giving up after an hour.
                expires = None
            self._refresh_expires_at = None if expires is None else expires + skew
        self._gate = self._last_failure = None
        self._rate_limits_in_a_row = self._failures_in_a_row = 0
        self._dirty = True
        self._land(flight)
        self._log_received(flight.request, held, skew)
        return received.token

    def token_request_failed(self, flight: Flight, error: KrakenError, now: float) -> bool:
        """Record a failed token request. True: decide again (a rejected refresh token was
        dropped, so the primary credential may obtain a token; or the token held has not
        expired); False: the caller raises."""
        refused = flight.request.use is TokenUse.REFRESH and isinstance(error, AuthenticationError)
        refresh_only = isinstance(self.credentials, RefreshToken)
        # The refresh token is the API's, not the user's: whatever refused it (an HTTP 401, a
        # token code), a primary credential is untried. Without one, the API's own words say
        # why (below), unless they say that the refresh token is no good.
        if refused and (
            not refresh_only or category_of(error.error_code) is Category.REFRESH_TOKEN_REJECTED
        ):
            why = error.error_code or f"HTTP {error.status_code}"
            logger.info("Kraken refresh token rejected (%s); dropping it", why)
            self._drop_refresh_token()
            if self._has_store:  # read the store again before writing anything to it
                self.loaded, self._dirty = False, False
                self._spent_refresh_token = flight.request.variables["refreshToken"]
                self._settles_left = round(STORE_SETTLE_WINDOW / STORE_SETTLE)
            if refresh_only:
                # A gate, not an error: a token not yet expired is still used until it does.
                dead = _no_other_credential(f"The refresh token was rejected ({why})", error)
                self._gate = _Gate(dead, math.inf)
            self._land(flight)
            return True
        if isinstance(error, AuthenticationError):
            error = error.copy(
                f"{error.message}. The client will not send this {flight.request.credential} "
                "again: create it with a corrected one."
            )
            self._gate = _Gate(error, math.inf)
        elif isinstance(error, RateLimitError):
            self._rate_limits_in_a_row += 1
            wait = error.retry_after
            if wait is None:
                wait = RATE_LIMIT_BACKOFF * doubled(self._rate_limits_in_a_row - 1)
                wait = min(wait, RATE_LIMIT_BACKOFF_CAP)
            self._gate = _Gate(error, now + wait)
            logger.warning(
                "Kraken token request rate limited (%s); no new token request for %s",
                error.error_code or f"HTTP {error.status_code}",
                say_seconds(wait),
            )
        elif flight.cut_at is None:  # (one its sender's deadline ended is no wave's failure)
            self._failed_in_passing(flight, now)
        self._land(flight, error)
        held = self.valid_token(now)
        if held is not None and held.expires_at is not None:
            # A refresh ahead of time failed; the token still works, and `decide` gives it,
            # to this caller too: its call need not fail (nor wait out a retry) for now.
            logger.warning(
                "Kraken token refresh failed (%s); the current token stays in use, for %s more",
                error.error_code or error.status_code or type(error).__name__,
                say_seconds(held.expires_at - now),
            )
        return held is not None

    def flight_abandoned(self, flight: Flight, error: KrakenError | None, now: float) -> None:
        """The token request ended without an answer: `error` (a connection failure, a
        timeout) is its wave's outcome; None (its caller was cancelled) lets the waiters decide
        again, one of them requesting anew."""
        if error is not None:
            self._failed_in_passing(flight, now)
        self._land(flight, error)

    def _failed_in_passing(self, flight: Flight, now: float) -> None:
        self._last_failure = flight
        self._failures_in_a_row += 1
        backoff = min(RETRY_BACKOFF * doubled(self._failures_in_a_row - 1), RETRY_BACKOFF_CAP)
        self._retry_at = now + backoff * random.uniform(0.5, 1.0)  # noqa: S311 (jitter)
        self._retrying = False

    def token_accepted(self, token: str) -> None:
        held = self.held
        if held is not None and held.token == token and not held.accepted:
            self.held = replace(held, accepted=True)
            self._rejections_in_a_row = 0

    def token_rejected(self, token: str, reason: str, now: float) -> None:
        """The API refused a call made with `token`. Forget exactly that token (a newer one that
        another caller obtained meanwhile stays), so that `decide` obtains a fresh one."""
        held = self.held
        if held is None or held.token != token:
            return
        logger.info("Kraken token rejected by the API (%s); obtaining a new one", reason)
        self.held = None
        self.rejected = token
        self._dirty = True
        if reason not in REFRESHABLE_REJECTIONS and not isinstance(self.credentials, RefreshToken):
            self._drop_refresh_token()
        if held.accepted:
            return
        self._rejections_in_a_row += 1
        if self._rejections_in_a_row >= 2:
            pause = REJECTION_BACKOFF * doubled(self._rejections_in_a_row - 2)
            pause = min(pause, REJECTION_BACKOFF_CAP)
            self._paced_until = now + pause
            logger.warning(
                "The Kraken API rejected %d freshly issued tokens in a row; no new token request "
                "for %s",
                self._rejections_in_a_row,
                say_seconds(pause),
            )

    def forget_flight(self) -> None:
        """In a forked child: the parent's token request will never end here."""
        self.flight = None

    # -- holding ----------------------------------------------------------------------------------

    def _hold(self, token: str, claims: dict[str, Any], received_at: float) -> HeldToken:
        """A token that arrived at `received_at`, its end measured from then by its own stated
        lifetime (`exp - iat`), so that a skewed local clock does not shorten it."""
        exp, iat = unix_time(claims.get("exp")), unix_time(claims.get("iat"))
        if exp is not None and iat is not None and exp > iat:
            lifetime: float | None = exp - iat
        elif exp is not None and exp > received_at:
            lifetime = exp - received_at
        else:
            lifetime = None  # no readable lifetime: used until the API rejects it
        if lifetime is None:
            return HeldToken(token, claims, received_at, None, None)
        margin = self.refresh_margin
        early = lifetime - margin if lifetime > margin else lifetime / 2
        return HeldToken(token, claims, received_at, received_at + lifetime, received_at + early)

    def _drop_refresh_token(self) -> None:
        self._refresh_token = self._refresh_expires_at = None
        self._dirty = True

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
            _datetime(held.expires_at).isoformat(timespec="seconds"),  # type: ignore[union-attr]
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

    # -- the token store --------------------------------------------------------------------------

    def load(self, stored: StoredTokens | None, now: float) -> None:
        """What the token store held, read by the flow on first use."""
        if self.loaded:
            return
        self.loaded = True
        spent, self._spent_refresh_token = self._spent_refresh_token, None
        if spent is not None:  # read again after the API refused the refresh token `spent`
            if stored is None or stored.refresh_token in (None, spent):
                if isinstance(self.credentials, RefreshToken):  # only the store can help: later
                    self._spent_refresh_token = spent
                    self._recheck_store_at = now + STORE_RECHECK
                else:
                    self._dirty = True  # nothing newer there: the store is to forget it too
                return
            self._gate = self._recheck_store_at = None  # another process's tokens: used now
        elif stored is None or self.held is not None:
            return
        received_at = unix_time(stored.received_at)
        if received_at is None or received_at > now:
            # Written before arrival times were kept, or by a clock since set back: the API's
            # clock, never later than now (an arrival too late would keep the token too long).
            received_at = min(unix_time(stored.claims.get("iat")) or now, now)
        self.held = self._hold(stored.token, stored.claims, received_at)
        if stored.refresh_token:
            self._refresh_token = stored.refresh_token
            self._refresh_expires_at = unix_time(stored.refresh_expires_at)
        logger.debug("Kraken token loaded from the token store")

    def pending_save(self) -> tuple[bool, StoredTokens | None]:
        """(True, what to keep) when the store is out of date, else (False, None)."""
        if not self._dirty:
            return False, None
        self._dirty = False
        held = self.held
        if held is None:
            return True, None
        return True, StoredTokens(
            held.claims,
            held.token,
            self._refresh_token,
            self._refresh_expires_at,
            held.received_at,
        )

    def token_info(self) -> TokenInfo:
        held = self.held
        if held is None and self.credentials is None:
            raise AuthenticationError(
                "no Kraken token is held, and none can be: there are no credentials to obtain "
                "one with. Pass credentials= (OrganizationSecretKey, APIKey, EmailPassword or "
                "RefreshToken)."
            )
        if held is None:
            raise AuthenticationError(
                "no Kraken token is held: none obtained yet, or the API has just rejected it. "
                "A call obtains one (or a client's authenticate()); then ask again."
            )
        skew = held.received_at - (unix_time(held.claims.get("iat")) or held.received_at)
        refresh_expires = self._refresh_expires_at
        return TokenInfo(
            expires_at=_datetime(unix_time(held.claims.get("exp"))),
            refresh_expires_at=_datetime(
                None if refresh_expires is None else refresh_expires - skew
            ),
            claims=dict(held.claims),
            token=held.token,
        )


def _no_other_credential(what: str, cause: KrakenError | None = None) -> AuthenticationError:
    context = {} if cause is None else cause.context()
    context.pop("data", None)
    return AuthenticationError(
        f"{what}, and the client has no other credential to obtain a new token with. Create the "
        "client with a new RefreshToken, or with an APIKey, OrganizationSecretKey or "
        "EmailPassword.",
        **context,
    )
