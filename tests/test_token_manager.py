"""The token lifecycle as a state machine, with no HTTP: (state, event) -> (state, decision).

`TokenState` decides what the auth flow does; these tests drive it directly, event by event,
with a clock that is just a number; each decision is a new call's (its wave: the next request).
Each table row is one rule of the README's "How the client handles tokens".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from oeus_kraken import (
    APIKey,
    APIStatusError,
    AuthenticationError,
    RateLimitError,
    RefreshToken,
    StoredTokens,
)
from oeus_kraken._durations import say_seconds
from oeus_kraken._tokens import (
    CLOCK_SKEW_WARNING,
    RATE_LIMIT_BACKOFF,
    REJECTION_BACKOFF,
    ReceivedToken,
    RequestToken,
    TokenState,
    TokenUse,
    UseToken,
    WaitFor,
)

T0 = 1_750_000_000.0
LIFETIME = 3600.0
MARGIN = 300.0


def claims(*, iat: float = T0, lifetime: float = LIFETIME) -> dict[str, Any]:
    return {"sub": "kraken|account-user:1", "iat": int(iat), "exp": int(iat + lifetime)}


def received(name: str = "token-1", **claim_options: Any) -> ReceivedToken:
    return ReceivedToken(name, claims(**claim_options), f"refresh-of-{name}", T0 + 7 * 86400)


def decide(m: TokenState, now: float) -> Any:
    return m.decide(now, m.next_wave())


def manager(credentials: Any = None) -> TokenState:
    return TokenState(credentials or APIKey("key"), refresh_margin=MARGIN)


def holding(token: str = "token-1", *, at: float = T0, **claim_options: Any) -> TokenState:
    """A manager that obtained `token` at `at`."""
    m = manager()
    decision = decide(m, at)
    assert isinstance(decision, RequestToken)
    m.token_received(decision.flight, received(token, iat=at, **claim_options), at)
    return m


# -- deciding ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """At `now`, a manager in `state` decides `expected` ("use", "wait", "obtain", "refresh")."""

    state: Callable[[], TokenState]
    now: float
    expected: str


DECISIONS = {
    "no token yet: obtain with the credential": Row(manager, T0, "obtain"),
    "fresh token: use it": Row(holding, T0 + 10, "use"),
    "just before the refresh margin: use it": Row(holding, T0 + LIFETIME - MARGIN - 1, "use"),
    "inside the refresh margin: refresh": Row(holding, T0 + LIFETIME - MARGIN + 1, "refresh"),
    "past expiry: refresh": Row(holding, T0 + LIFETIME + 10, "refresh"),
    "a short-lived token: refreshed halfway through its life": Row(
        lambda: holding(lifetime=120), T0 + 61, "refresh"
    ),
    "a short-lived token: used before halfway": Row(lambda: holding(lifetime=120), T0 + 59, "use"),
}


def next_kind(m: TokenState, now: float) -> str:
    """What `m` decides at `now`; a token request it starts is given up at once (a decision to
    request obliges the caller to report back, so a test that only looks must do so too)."""
    decision = decide(m, now)
    if isinstance(decision, RequestToken):
        m.flight_abandoned(decision.flight, None, now)
    return kind_of(decision)


def kind_of(decision: Any) -> str:
    if isinstance(decision, UseToken):
        return "use"
    if isinstance(decision, WaitFor):
        return "wait"
    assert isinstance(decision, RequestToken)
    return "refresh" if decision.flight.request.use is TokenUse.REFRESH else "obtain"


@pytest.mark.parametrize("row", list(DECISIONS.values()), ids=list(DECISIONS))
def test_the_manager_decides_by_the_tokens_own_life(row: Row) -> None:
    assert kind_of(decide(row.state(), row.now)) == row.expected


def test_one_token_request_at_a_time_others_wait_or_keep_using_a_valid_token() -> None:
    m = holding()
    refresh = decide(m, T0 + LIFETIME - 60)  # inside the margin: this caller refreshes
    assert kind_of(refresh) == "refresh"
    assert kind_of(decide(m, T0 + LIFETIME - 59)) == "use"  # not expired: keep using it
    waiting = decide(m, T0 + LIFETIME + 1)  # expired while the refresh is under way: wait
    assert isinstance(waiting, WaitFor)
    assert isinstance(refresh, RequestToken)
    assert waiting.flight is refresh.flight


def test_a_received_token_ends_the_flight_and_is_used() -> None:
    m = manager()
    decision = decide(m, T0)
    assert isinstance(decision, RequestToken)
    token = m.token_received(decision.flight, received(), T0)
    assert token == "token-1"
    assert decision.flight.done
    assert decision.flight.error is None
    assert m.flight is None
    assert decide(m, T0 + 1) == UseToken("token-1")


# -- clock skew ---------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-LIFETIME * 2, -LIFETIME, 0.0, LIFETIME, LIFETIME * 5])
def test_a_skewed_local_clock_does_not_shorten_or_lengthen_a_tokens_life(skew: float) -> None:
    """The API issues tokens by its clock (iat, exp); the local clock reads `skew` more. The
    token lasts exp - iat from its arrival, whatever the two clocks say."""
    local_now = T0 + skew
    m = manager()
    decision = decide(m, local_now)
    assert isinstance(decision, RequestToken)
    m.token_received(decision.flight, received(iat=T0), local_now)
    assert kind_of(decide(m, local_now + 1)) == "use"
    assert kind_of(decide(m, local_now + LIFETIME - MARGIN - 1)) == "use"
    assert kind_of(decide(m, local_now + LIFETIME - MARGIN + 1)) == "refresh"


def test_a_large_skew_is_warned_about_once(caplog: pytest.LogCaptureFixture) -> None:
    m = manager()
    for n in range(3):
        now = T0 + CLOCK_SKEW_WARNING * 10 + n * LIFETIME
        decision = decide(m, now)
        assert isinstance(decision, RequestToken)
        m.token_received(decision.flight, received(f"t{n}", iat=T0 + n * LIFETIME), now)
    skew_warnings = [r for r in caplog.records if "clock" in r.getMessage()]
    assert len(skew_warnings) == 1
    assert "ahead of" in skew_warnings[0].getMessage()


def test_a_token_without_a_readable_lifetime_is_used_until_rejected() -> None:
    m = manager()
    decision = decide(m, T0)
    assert isinstance(decision, RequestToken)
    m.token_received(decision.flight, ReceivedToken("t", {"sub": "x"}), T0)
    assert decide(m, T0 + 10 * LIFETIME) == UseToken("t")


# -- failures -----------------------------------------------------------------------------------


def failing(error: Exception, now: float = T0, m: TokenState | None = None) -> TokenState:
    m = m or manager()
    decision = decide(m, now)
    assert isinstance(decision, RequestToken)
    again = m.token_request_failed(decision.flight, error, now)  # type: ignore[arg-type]
    assert again == (m.valid_token(now) is not None)  # a token that still works: decide again
    assert decision.flight.done
    return m


def test_a_transient_failure_is_not_held_against_the_next_decision() -> None:
    m = failing(APIStatusError("getKrakenToken: HTTP 502", status_code=502))
    assert next_kind(m, T0) == "obtain"  # at once: no cooldown where retrying can help


def test_a_failed_request_is_shared_by_its_whole_wave_and_the_next_wave_sends_one() -> None:
    m = manager()
    wave = m.next_wave()
    request = m.decide(T0, wave)
    assert isinstance(request, RequestToken)
    assert isinstance(m.decide(T0, wave), WaitFor)  # a caller arriving meanwhile waits
    m.token_request_failed(request.flight, APIStatusError("HTTP 502", status_code=502), T0)
    # Callers of that wave arriving after it ended share its failure, sending nothing.
    with pytest.raises(APIStatusError):
        m.decide(T0 + 1, wave)
    # Their retry is the next wave: one of them sends one request, the others wait for it.
    retry = decide(m, T0 + 2)
    assert isinstance(retry, RequestToken)
    assert retry.flight.number == request.flight.number + 1
    assert isinstance(m.decide(T0 + 2, retry.flight.number), WaitFor)


def test_a_rate_limit_blocks_token_requests_for_its_retry_after_only() -> None:
    m = failing(RateLimitError("slow down", retry_after=42, error_code="KT-CT-1199"))
    with pytest.raises(RateLimitError) as blocked:
        decide(m, T0 + 12)
    assert blocked.value.retry_after == pytest.approx(30)
    assert "30 seconds" in str(blocked.value)
    assert "credentials" not in str(blocked.value).replace("not a credentials problem", "")
    assert kind_of(decide(m, T0 + 42)) == "obtain"


def test_a_rate_limit_without_retry_after_backs_off_doubling() -> None:
    m = failing(RateLimitError("slow down", error_code="KT-CT-1199"))
    assert next_kind(m, T0 + RATE_LIMIT_BACKOFF) == "obtain"
    failing(RateLimitError("again", error_code="KT-CT-1199"), T0 + RATE_LIMIT_BACKOFF, m)
    with pytest.raises(RateLimitError):
        decide(m, T0 + RATE_LIMIT_BACKOFF * 2.5)
    assert kind_of(decide(m, T0 + RATE_LIMIT_BACKOFF * 3)) == "obtain"


def test_a_rate_limited_refresh_keeps_the_valid_token_in_use() -> None:
    m = holding()
    failing(RateLimitError("slow", retry_after=600), T0 + LIFETIME - 100, m)
    assert decide(m, T0 + LIFETIME - 50) == UseToken("token-1")


def test_a_rejected_refresh_token_is_dropped_and_the_credential_obtains() -> None:
    m = holding()
    decision = decide(m, T0 + LIFETIME - 60)
    assert kind_of(decision) == "refresh"
    assert isinstance(decision, RequestToken)
    error = AuthenticationError("refresh rejected", error_code="KT-CT-1135")
    assert m.token_request_failed(decision.flight, error, T0 + LIFETIME - 60)  # decide again
    assert kind_of(decide(m, T0 + LIFETIME + 1)) == "obtain"


def test_a_refresh_token_only_client_is_dead_once_its_refresh_token_is_rejected() -> None:
    m = manager(RefreshToken("given"))
    decision = decide(m, T0)
    assert kind_of(decision) == "refresh"
    assert isinstance(decision, RequestToken)
    error = AuthenticationError("refresh rejected", error_code="KT-CT-1134")
    m.token_request_failed(decision.flight, error, T0)
    with pytest.raises(AuthenticationError, match="no other credential"):
        decide(m, T0 + 1)


def test_no_credentials_raise_before_anything_is_sent() -> None:
    with pytest.raises(AuthenticationError, match="no credentials"):
        TokenState(None, refresh_margin=MARGIN).decide(T0, 1)


# -- rejections ---------------------------------------------------------------------------------


def test_a_rejection_forgets_exactly_the_rejected_token() -> None:
    m = holding("token-1")
    m.token_rejected("an-older-token", "KT-CT-1124", T0)
    assert decide(m, T0 + 1) == UseToken("token-1")  # not the token rejected: kept
    m.token_rejected("token-1", "KT-CT-1124", T0 + 2)
    assert kind_of(decide(m, T0 + 3)) == "refresh"  # 1124: the refresh token may renew it


def test_a_rejection_other_than_expiry_drops_the_refresh_token_too() -> None:
    m = holding()
    m.token_rejected("token-1", "KT-CT-1125", T0)
    assert kind_of(decide(m, T0 + 1)) == "obtain"


def test_fresh_tokens_rejected_in_a_row_pace_token_requests() -> None:
    m = manager()
    for n in range(1, 4):
        now = T0 + 100 * n
        decision = decide(m, now)
        assert isinstance(decision, RequestToken)
        m.token_received(decision.flight, received(f"t{n}", iat=now), now)
        m.token_rejected(f"t{n}", "HTTP 401", now)
        if n == 1:
            assert next_kind(m, now) == "obtain"  # one rejection: renew at once
        else:
            pause = REJECTION_BACKOFF * 2 ** (n - 2)
            with pytest.raises(AuthenticationError, match="rejected the last"):
                decide(m, now + pause - 0.1)


def test_an_accepted_token_resets_the_pacing() -> None:
    m = holding("t1")
    m.token_rejected("t1", "HTTP 401", T0)
    decision = decide(m, T0)
    assert isinstance(decision, RequestToken)
    m.token_received(decision.flight, received("t2"), T0)
    m.token_accepted("t2")
    m.token_rejected("t2", "HTTP 401", T0 + 1)  # accepted before: not a fresh rejection
    decision = decide(m, T0 + 1)
    assert isinstance(decision, RequestToken)  # renewed at once, no pause


# -- the token store: the manager says what to save, never writes --------------------------------


def test_the_manager_reports_what_to_save_and_loads_what_was_stored() -> None:
    m = TokenState(APIKey("k"), refresh_margin=MARGIN, has_store=True)
    assert not m.loaded
    stored = StoredTokens(claims(), "stored-token", "stored-refresh", T0 + 86400, T0)
    m.load(stored, T0 + 10)
    assert m.loaded
    assert decide(m, T0 + 20) == UseToken("stored-token")
    assert m.pending_save() == (False, None)  # nothing changed yet

    m.token_rejected("stored-token", "KT-CT-1124", T0 + 30)
    changed, tokens = m.pending_save()
    assert changed
    assert tokens is None  # forget it
    decision = decide(m, T0 + 31)
    assert kind_of(decision) == "refresh"
    assert isinstance(decision, RequestToken)
    m.token_received(decision.flight, received("new", iat=T0 + 31), T0 + 31)
    changed, tokens = m.pending_save()
    assert changed
    assert tokens is not None
    assert tokens.token == "new"
    assert tokens.received_at == T0 + 31


def test_abandoned_flight_without_an_error_lets_waiters_decide_again() -> None:
    m = manager()
    first = decide(m, T0)
    assert isinstance(first, RequestToken)
    m.flight_abandoned(first.flight, None, T0)
    assert first.flight.done
    assert first.flight.error is None
    assert kind_of(decide(m, T0)) == "obtain"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 second"),
        (1, "1 second"),
        (1.5, "2 seconds"),
        (59, "59 seconds"),
        (3600, "60 minutes"),
        (3 * 86400, "72 hours"),
        (math.inf, "a very long time"),
    ],
)
def test_waits_are_said_in_a_users_words(seconds: float, words: str) -> None:
    assert say_seconds(seconds) == words


def test_a_stored_arrival_later_than_now_counts_from_the_tokens_iat_not_later() -> None:
    """The store was written by a clock since set back (or by another machine's): the token is
    no younger than its `iat` says, so it is refreshed when its own life says, not later."""
    m = TokenState(APIKey("k"), refresh_margin=MARGIN, has_store=True)
    written_ahead = T0 + 3000
    m.load(StoredTokens(claims(iat=T0), "stored-token", None, None, written_ahead), T0 + 10)

    assert decide(m, T0 + 20) == UseToken("stored-token")
    assert kind_of(decide(m, T0 + LIFETIME - MARGIN + 1)) == "obtain"
