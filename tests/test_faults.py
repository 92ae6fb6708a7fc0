"""What the client does when the network, the CDN in front of Kraken or Kraken itself misbehaves.

One rule per fault. Most tests run twice, against `KrakenClient` (async) and `SyncKrakenClient`,
through one test body (`Driver`), on `FakeKraken` behind pytest-httpx with a `FakeClock`. Clients
keep the default `max_retries=2`, so a retried request is tried 3 times in all. The client's waits
between attempts are recorded instead of slept (`waits`) and move the fake clock as far as a real
wait would. For each fault a test states what the caller gets (a result, or which KrakenError),
how many requests went out (data attempts and token requests, counted separately), how long the
client waited, and that no secret reached a log record (caplog at DEBUG on the root logger, so
httpx's and httpcore's records count too).

Transport faults are raised by the fake endpoint exactly as pytest-httpx's `add_exception` raises
them (`auth_helpers.Raising`). Token requests are never retried by the call they serve: they are
paced by `TokenManager`'s cooldown instead, so the "mutations are retried only when the request
never left" rule has no data mutation to show it on at client level; it is proven on
`RetryPolicy` directly, and at client level through the token path.

At the end: a hypothesis property (any status, body and headers give a model or a KrakenError,
nothing else), and hundreds of concurrent calls meeting a rate-limited refresh, on FakeKraken and
again over real HTTP on the local sandbox (the `sandbox` fixture of conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from auth_helpers import (
    API_KEY_VALUE,
    DEFAULT_DATA,
    MARGIN,
    OBTAIN,
    REFRESH,
    START,
    TOKEN_LIFETIME,
    URL,
    VIEWER_DATA,
    Delayed,
    Driver,
    FakeClock,
    FakeKraken,
    Raising,
    Sent,
    Waits,
    data_response,
    error_response,
    json_response,
    leaked_secrets,
    make_jwt,
    record_waits,
    run_in_threads,
    secrets_of,
)
from conftest import connector
from hypothesis import given, settings
from hypothesis import strategies as st
from oeus_kraken_generated.get_products import GetProducts
from oeus_kraken_generated.get_viewer import GetViewer

from oeus_kraken import (
    AccountStatus,
    APIConnectionError,
    APIKey,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    GraphQLError,
    InvalidResponseError,
    KrakenAuth,
    KrakenClient,
    KrakenError,
    OrganizationSecretKey,
    RateLimitError,
    SyncKrakenClient,
    TokenInfo,
)
from oeus_kraken._documents import is_mutation
from oeus_kraken._retry import RetryPolicy
from oeus_kraken._tokens import RATE_LIMIT_BACKOFF

if TYPE_CHECKING:
    from conftest import SandboxClock

    from oeus_kraken.sandbox import SandboxServer

CLIENT_CLASSES = {"async": KrakenClient, "sync": SyncKrakenClient}

# The default max_retries=2: a retried request goes out this many times in all.
ATTEMPTS = 3
# The default backoff: 0.5 s doubling per retry, times a jitter of 0.5 to 1.
BACKOFF_BOUNDS = [(0.25, 0.5), (0.5, 1.0)]


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture
async def connect(
    kind: str, clock: FakeClock, server: FakeKraken, waits: Waits
) -> AsyncIterator[Callable[..., Driver]]:
    """Make a client of the test's kind on the fake server: API key, fake clock, margin 300 s,
    default retries (override any option by keyword)."""
    connect, made = connector(kind, clock, server)
    yield connect
    for driver in made:
        await driver.close()


@pytest.fixture
def kraken(connect: Callable[..., Driver]) -> Driver:
    return connect()


def operations(sent: list[Sent]) -> list[str | None]:
    return [s.operation for s in sent]


def assert_backoff(delays: list[float]) -> None:
    """Each wait is the default backoff for its retry: 0.5 s doubling, with jitter."""
    assert len(delays) <= len(BACKOFF_BOUNDS)
    for delay, (low, high) in zip(delays, BACKOFF_BOUNDS[: len(delays)], strict=True):
        assert low <= delay <= high


def assert_no_secret_leaked(
    logs: pytest.LogCaptureFixture, server: FakeKraken, *errors: BaseException
) -> None:
    """No credential, token, JWT signature or refresh token in any log record, nor in the
    message, repr or args of the errors the caller saw."""
    texts = [logs.text, *(f"{e} {e!r} {e.args!r}" for e in errors)]
    leaks = leaked_secrets(logs.records, secrets_of(server), *texts)
    assert not leaks, f"a secret leaked into: {sorted({where for _, where in leaks})}"


def html_page(status: int, title: str) -> Callable[[Sent], httpx.Response]:
    """An error page as a CDN or load balancer sends it: HTML, and long."""
    body = (
        f"<html><head><title>{status} {title}</title></head><body><h1>{status} {title}</h1>"
        + "<p>The server encountered a temporary error. Please try again later.</p>" * 60
        + "</body></html>"
    )
    headers = {"Content-Type": "text/html; charset=utf-8"}
    return lambda _sent: httpx.Response(status, text=body, headers=headers)


def rate_limited(*, retry_after: str | None = None) -> Callable[[Sent], httpx.Response]:
    """KT-CT-1199 as Kraken sends it: HTTP 200, the code in the GraphQL error."""
    headers = {"Retry-After": retry_after} if retry_after is not None else None
    return lambda _sent: error_response(
        "KT-CT-1199", message="Too many requests.", error_type="RATE_LIMIT", headers=headers
    )


def too_many_requests(retry_after: str) -> Callable[[Sent], httpx.Response]:
    headers = {"Retry-After": retry_after}
    return lambda _sent: httpx.Response(429, text="Too Many Requests", headers=headers)


# -- transport faults: no HTTP answer at all ------------------------------------------------

# fault -> (the httpx error the transport raises, the KrakenError the caller gets)
TRANSPORT_FAULTS: dict[str, tuple[type[httpx.TransportError], str, type[KrakenError]]] = {
    "connection refused": (
        httpx.ConnectError,
        "[Errno 111] Connection refused",
        APIConnectionError,
    ),
    "connection reset mid-response": (
        httpx.ReadError,
        "[Errno 104] Connection reset by peer",
        APIConnectionError,
    ),
    "server closed the connection mid-response": (
        httpx.RemoteProtocolError,
        "peer closed connection without sending complete message body",
        APIConnectionError,
    ),
    "read timeout": (httpx.ReadTimeout, "The read operation timed out", APITimeoutError),
}


@pytest.mark.parametrize("fault", list(TRANSPORT_FAULTS))
async def test_a_query_without_an_answer_is_retried_then_raised_from_the_httpx_error(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture, fault: str
) -> None:
    httpx_error, message, expected = TRANSPORT_FAULTS[fault]
    transport = Raising(httpx_error, message)
    server.set_default("getViewer", transport)

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")

    assert type(raised.value) is expected  # a refused connection is not a timeout, and v.v.
    assert_scrubbed_cause(raised.value, transport.raised[-1])
    assert raised.value.operation_name == "getViewer"
    assert raised.value.status_code is None
    assert operations(server.sent) == [OBTAIN] + ["getViewer"] * ATTEMPTS
    assert len(waits.delays) == ATTEMPTS - 1
    assert_backoff(waits.delays)
    retry_warnings = [r for r in logs.records if "retry" in r.getMessage()]
    assert [r.levelno for r in retry_warnings] == [logging.WARNING] * (ATTEMPTS - 1)
    assert_no_secret_leaked(logs, server, raised.value)


@pytest.mark.parametrize("fault", list(TRANSPORT_FAULTS))
async def test_a_query_that_gets_no_answer_once_succeeds_on_the_retry_with_the_same_token(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture, fault: str
) -> None:
    httpx_error, message, _ = TRANSPORT_FAULTS[fault]
    server.queue("getViewer", Raising(httpx_error, message))

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer.email == VIEWER_DATA["viewer"]["email"]
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    assert {s.authorization for s in server.data_requests} == {server.issued_tokens[0]}
    assert len(waits.delays) == 1
    assert_backoff(waits.delays)
    assert_no_secret_leaked(logs, server)


@pytest.mark.parametrize("fault", list(TRANSPORT_FAULTS))
async def test_a_token_request_without_an_answer_is_not_held_against_the_next_call(
    connect: Callable[..., Driver],
    server: FakeKraken,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    """max_retries=0: the call that met the failure raises it, naming the token request; the
    next call, right after, simply tries again (no cooldown where retrying can help)."""
    httpx_error, message, expected = TRANSPORT_FAULTS[fault]
    transport = Raising(httpx_error, message)
    server.queue(OBTAIN, transport)
    kraken = connect(max_retries=0)

    with pytest.raises(KrakenError) as first:
        await kraken.call("get_viewer")
    assert type(first.value) is expected
    assert type(first.value.__cause__) is type(transport.raised[0])
    assert first.value.operation_name == OBTAIN
    assert operations(server.sent) == [OBTAIN]

    await kraken.call("get_viewer")
    assert operations(server.sent) == [OBTAIN, OBTAIN, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, first.value)


def assert_scrubbed_cause(error: KrakenError, raised: BaseException) -> None:
    """`error` was raised from (a copy of) the httpx error `raised`: same type and message, but
    without the request, whose body or headers hold secrets."""
    cause = error.__cause__
    assert type(cause) is type(raised)
    assert str(cause) == str(raised)
    with pytest.raises(RuntimeError):
        cause.request  # noqa: B018 (raises when no request is attached)


# -- the mutation rule, on RetryPolicy itself --------------------------------------------------


def caused_by(error: KrakenError, cause: BaseException) -> KrakenError:
    """`error` as the client raises it: `raise error from cause`."""
    error.__cause__ = cause
    return error


# httpx errors -> whether the request provably never left (so a mutation may be sent again)
NEVER_SENT = {
    httpx.ConnectError("refused"): True,
    httpx.ConnectTimeout("connect timed out"): True,
    httpx.PoolTimeout("no connection free"): True,
    httpx.ReadError("reset"): False,
    httpx.RemoteProtocolError("closed mid-response"): False,
    httpx.ReadTimeout("read timed out"): False,
    httpx.WriteError("broken pipe"): False,
    httpx.WriteTimeout("write timed out"): False,
}


@pytest.mark.parametrize("cause", list(NEVER_SENT), ids=lambda e: type(e).__name__)
def test_retry_policy_retries_a_query_after_any_transport_error(cause: Exception) -> None:
    kind = APITimeoutError if isinstance(cause, httpx.TimeoutException) else APIConnectionError
    error = caused_by(kind("no answer"), cause)

    delay = RetryPolicy().delay(0, error, mutation=False)

    assert delay is not None
    assert BACKOFF_BOUNDS[0][0] <= delay <= BACKOFF_BOUNDS[0][1]


@pytest.mark.parametrize("cause", list(NEVER_SENT), ids=lambda e: type(e).__name__)
def test_retry_policy_retries_a_mutation_only_when_the_request_never_left(
    cause: Exception,
) -> None:
    """A mutation that may have executed (a reset or timeout after sending) must not run twice."""
    kind = APITimeoutError if isinstance(cause, httpx.TimeoutException) else APIConnectionError
    error = caused_by(kind("no answer"), cause)

    delay = RetryPolicy().delay(0, error, mutation=True)

    assert (delay is not None) is NEVER_SENT[cause]


@pytest.mark.parametrize(
    ("error", "query_retried", "mutation_retried"),
    [
        (APIStatusError("bad gateway", status_code=502), True, False),
        (APIStatusError("unavailable", status_code=503), True, False),
        (APIStatusError("not found", status_code=404), False, False),
        (RateLimitError("429", status_code=429), True, True),
        (RateLimitError("KT-CT-1199", error_code="KT-CT-1199"), True, True),
        (RateLimitError("CDN 403", status_code=403), True, True),
        (AuthenticationError("rejected", error_code="KT-CT-1138"), False, False),
        (GraphQLError("no such account", error_code="KT-CT-4123"), False, False),
        (InvalidResponseError("not JSON", status_code=200), False, False),
    ],
    ids=lambda v: repr(v) if isinstance(v, KrakenError) else None,
)
def test_retry_policy_retries_5xx_only_for_queries_and_rate_limits_for_both(
    error: KrakenError, query_retried: bool, mutation_retried: bool
) -> None:
    policy = RetryPolicy()
    assert (policy.delay(0, error, mutation=False) is not None) is query_retried
    assert (policy.delay(0, error, mutation=True) is not None) is mutation_retried


def test_retry_policy_backs_off_exponentially_with_jitter_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retries=10, base_delay=0.5, max_delay=8.0)
    error = APIStatusError("bad gateway", status_code=502)

    for retries_done in range(10):
        ceiling = min(8.0, 0.5 * 2**retries_done)
        for _ in range(20):
            delay = policy.delay(retries_done, error, mutation=False)
            assert delay is not None
            assert ceiling / 2 <= delay <= ceiling


def test_retry_policy_waits_exactly_retry_after_and_gives_up_on_a_longer_one() -> None:
    policy = RetryPolicy(max_retry_after=30.0)

    assert policy.delay(0, RateLimitError("slow", retry_after=2), mutation=True) == 2.0
    assert policy.delay(0, RateLimitError("slow", retry_after=30), mutation=False) == 30.0
    assert policy.delay(0, RateLimitError("slow", retry_after=30.5), mutation=False) is None


def test_retry_policy_raises_a_rate_limit_at_once_for_a_caller_that_will_not_wait() -> None:
    policy = RetryPolicy()
    limited = RateLimitError("slow", retry_after=2)
    refused = APIConnectionError("refused")
    refused.__cause__ = httpx.ConnectError("refused")

    assert policy.delay(0, limited, mutation=False, rate_limits=False) is None
    assert policy.delay(0, limited, mutation=False) == 2.0
    assert policy.delay(0, refused, mutation=False, rate_limits=False) is not None


def test_retry_policy_stops_after_max_retries_and_zero_disables_retries() -> None:
    error = APIConnectionError("refused")
    error.__cause__ = httpx.ConnectError("refused")

    assert RetryPolicy(max_retries=2).delay(1, error, mutation=False) is not None
    assert RetryPolicy(max_retries=2).delay(2, error, mutation=False) is None
    assert RetryPolicy(max_retries=0).delay(0, error, mutation=False) is None


async def test_generated_token_requests_are_mutations_and_queries_are_not(
    kraken: Driver, server: FakeKraken, clock: FakeClock
) -> None:
    await kraken.call("get_viewer")
    clock.now = START + TOKEN_LIFETIME - MARGIN + 1
    await kraken.call("get_viewer")

    documents = {s.operation: s.query for s in server.sent}
    assert set(documents) == {OBTAIN, REFRESH, "getViewer"}
    assert is_mutation(documents[OBTAIN])
    assert is_mutation(documents[REFRESH])
    assert not is_mutation(documents["getViewer"])


# -- HTTP error statuses with no GraphQL answer ----------------------------------------------


@pytest.mark.parametrize(("status", "title"), [(502, "Bad Gateway"), (503, "Service Unavailable")])
async def test_a_5xx_html_page_is_retried_then_raised_as_api_status_error_with_a_short_excerpt(
    kraken: Driver,
    server: FakeKraken,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    status: int,
    title: str,
) -> None:
    server.set_default("getViewer", (html_page(status, title)))

    with pytest.raises(APIStatusError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.status_code == status
    assert f"{status} {title}" in str(raised.value)  # the page's own words, quoted
    assert len(str(raised.value)) < 400  # an excerpt, not the 4 KB page
    assert operations(server.sent) == [OBTAIN] + ["getViewer"] * ATTEMPTS
    assert len(waits.delays) == ATTEMPTS - 1
    assert_backoff(waits.delays)
    assert_no_secret_leaked(logs, server, raised.value)


async def test_a_single_502_is_retried_and_the_call_succeeds(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    server.queue("getViewer", (html_page(502, "Bad Gateway")))

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    assert len(waits.delays) == 1
    assert_no_secret_leaked(logs, server)


async def test_a_403_html_page_is_a_cdn_rate_limit_never_an_authentication_error(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    server.set_default("getViewer", (html_page(403, "Forbidden")))

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")

    assert isinstance(raised.value, RateLimitError)
    assert not isinstance(raised.value, AuthenticationError)
    assert raised.value.status_code == 403
    # Retried like any rate limit; and not a token problem: the token is kept.
    assert operations(server.sent) == [OBTAIN] + ["getViewer"] * ATTEMPTS
    assert {s.authorization for s in server.data_requests} == {server.issued_tokens[0]}
    assert_backoff(waits.delays)
    assert_no_secret_leaked(logs, server, raised.value)


# -- rate limits -----------------------------------------------------------------------------

RETRY_AFTER_2 = {
    "HTTP 429 with Retry-After: 2": too_many_requests("2"),
    "KT-CT-1199 with Retry-After: 2": rate_limited(retry_after="2"),
}


@pytest.mark.parametrize("limit", list(RETRY_AFTER_2))
async def test_a_rate_limit_with_retry_after_is_retried_after_exactly_that_many_seconds(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture, limit: str
) -> None:
    server.queue("getViewer", RETRY_AFTER_2[limit])

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert waits.delays == [2.0]
    assert operations(server.sent) == [OBTAIN, "getViewer", "getViewer"]
    assert_no_secret_leaked(logs, server)


@pytest.mark.parametrize("seconds", ["31", "3600"])
async def test_a_retry_after_longer_than_max_retry_after_is_raised_at_once_with_retry_after(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture, seconds: str
) -> None:
    assert float(seconds) > RetryPolicy().max_retry_after
    server.set_default("getViewer", too_many_requests(seconds))

    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.retry_after == float(seconds)
    assert raised.value.status_code == 429
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, raised.value)


async def test_kt_ct_1199_on_a_data_call_is_retried_with_backoff_then_raised_as_rate_limit_error(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    server.set_default("getViewer", rate_limited())

    with pytest.raises(RateLimitError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.error_code == "KT-CT-1199"
    assert raised.value.retry_after is None
    assert operations(server.sent) == [OBTAIN] + ["getViewer"] * ATTEMPTS
    assert len(waits.delays) == ATTEMPTS - 1
    assert_backoff(waits.delays)
    assert_no_secret_leaked(logs, server, raised.value)


async def test_kt_ct_1199_on_a_token_request_is_not_repeated_until_the_cooldown_has_passed(
    connect: Callable[..., Driver],
    server: FakeKraken,
    clock: FakeClock,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
) -> None:
    """max_retries=0: the cooldown alone, call by call."""
    server.queue(OBTAIN, rate_limited())
    kraken = connect(max_retries=0)

    with pytest.raises(RateLimitError) as first:
        await kraken.call("get_viewer")
    assert not isinstance(first.value, AuthenticationError)
    assert first.value.error_code == "KT-CT-1199"
    assert operations(server.sent) == [OBTAIN]

    clock.advance(RATE_LIMIT_BACKOFF / 2)
    with pytest.raises(RateLimitError) as cooling:
        await kraken.call("get_viewer")
    assert cooling.value.retry_after == pytest.approx(RATE_LIMIT_BACKOFF / 2)
    assert operations(server.sent) == [OBTAIN]  # 0 token requests inside the cooldown

    clock.advance(RATE_LIMIT_BACKOFF / 2)
    await kraken.call("get_viewer")
    assert operations(server.sent) == [OBTAIN, OBTAIN, "getViewer"]  # exactly one more
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, first.value, cooling.value)


async def test_a_call_whose_token_request_is_rate_limited_waits_out_the_cooldown_and_succeeds(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    """With retries on, the data call waits until the cooldown ends (one wait, the gate's whole
    length: no retry is spent finding the gate still closed), then sends one token request."""
    server.queue(OBTAIN, rate_limited())

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, OBTAIN, "getViewer"]
    assert waits.delays == [pytest.approx(RATE_LIMIT_BACKOFF)]
    assert_no_secret_leaked(logs, server)


# -- token faults ----------------------------------------------------------------------------

# what rejects the token mid-flight -> how the client gets a new one
REJECTIONS: dict[str, tuple[Callable[[Sent], httpx.Response], str]] = {
    "KT-CT-1124 (signature expired)": (lambda _s: error_response("KT-CT-1124"), REFRESH),
    "KT-CT-1143 (not a valid credential)": (lambda _s: error_response("KT-CT-1143"), OBTAIN),
    "HTTP 401": (lambda _s: httpx.Response(401, text="Unauthorized"), OBTAIN),
}


@pytest.mark.parametrize("rejection", list(REJECTIONS))
async def test_a_token_rejected_mid_flight_is_renewed_once_and_the_call_retried_once(
    kraken: Driver,
    server: FakeKraken,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    rejection: str,
) -> None:
    reply, renewal = REJECTIONS[rejection]
    server.queue("getViewer", reply)

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer", renewal, "getViewer"]
    first, retry = server.data_requests
    assert (first.authorization, retry.authorization) == tuple(server.issued_tokens)
    assert waits.delays == []  # renewing a token is not a backoff retry
    assert_no_secret_leaked(logs, server)


async def test_a_token_the_api_keeps_rejecting_ends_in_authentication_error_after_one_renewal(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    server.set_default("getViewer", lambda _s: error_response("KT-CT-1124"))

    with pytest.raises(AuthenticationError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.error_code == "KT-CT-1124"
    assert operations(server.sent) == [OBTAIN, "getViewer", REFRESH, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, raised.value)


async def test_a_revoked_refresh_token_is_dropped_and_the_primary_credential_obtains_anew(
    kraken: Driver,
    server: FakeKraken,
    clock: FakeClock,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
) -> None:
    await kraken.call("get_viewer")
    clock.advance(TOKEN_LIFETIME + 1)  # expired: a refresh is due
    server.queue(REFRESH, lambda _s: error_response("KT-CT-1135", message="Invalid refresh token"))

    viewer = await kraken.call("get_viewer")

    assert viewer.viewer is not None
    assert operations(server.sent) == [OBTAIN, "getViewer", REFRESH, OBTAIN, "getViewer"]
    refresh, obtain = server.token_requests[1:]
    assert refresh.variables["input"] == {"refreshToken": server.issued_refresh_tokens[0]}
    assert obtain.variables["input"] == {"APIKey": API_KEY_VALUE}
    assert server.data_requests[-1].authorization == server.issued_tokens[-1]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server)


# what the token answer says -> the token requests two calls an hour apart make
UNUSABLE_TIMES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "exp after the year 9999": ({"payload": {"exp": 2**70}}, [OBTAIN]),
    "exp a huge float": ({"payload": {"exp": 1e300}}, [OBTAIN]),
    "exp negative": ({"payload": {"exp": -1}}, [OBTAIN]),
    "refreshExpiresIn negative and huge": ({"refresh_expires_in": -(2**70)}, [OBTAIN, REFRESH]),
}


@pytest.mark.parametrize("times", list(UNUSABLE_TIMES))
async def test_a_token_answer_with_times_no_datetime_can_hold_is_used_not_a_crash(
    kraken: Driver, server: FakeKraken, clock: FakeClock, logs: pytest.LogCaptureFixture, times: str
) -> None:
    """Such a time is treated as unknown: a token without a usable `exp` is used until the API
    rejects it; a refresh token without a usable expiry is tried. `authenticate()` describes the
    token without an OverflowError (the property test below found that one)."""
    answer, token_requests = UNUSABLE_TIMES[times]
    server.queue(
        OBTAIN, lambda _s: data_response({"obtainKrakenToken": server.new_token(**answer)})
    )

    await kraken.call("get_viewer")
    clock.advance(TOKEN_LIFETIME + 1)
    await kraken.call("get_viewer")
    info = await kraken.call("authenticate")

    assert operations(server.token_requests) == token_requests
    assert info.token == server.issued_tokens[-1]
    assert info.refresh_expires_at is None or info.refresh_expires_at.year < 10000
    assert_no_secret_leaked(logs, server)


# -- answers that are not GraphQL answers ----------------------------------------------------

# body of an HTTP 200 -> words the error quotes from it
NOT_GRAPHQL = {
    "truncated JSON": (b'{"data": ', '{"data":'),
    "truncated JSON, long": (b'{"data": {"viewer": {"givenName": "' + b"x" * 5000, '"viewer"'),
    "empty body": (b"", "(empty body)"),
    "JSON with neither data nor errors": (b'{"message": "hello"}', '{"message": "hello"}'),
    "a JSON array": (b"[1, 2]", "[1, 2]"),
    "an HTML page": (b"<html><body>Maintenance</body></html>", "Maintenance"),
}


@pytest.mark.parametrize("body", list(NOT_GRAPHQL))
async def test_a_200_that_is_not_a_graphql_answer_is_invalid_response_error_and_not_retried(
    kraken: Driver,
    server: FakeKraken,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    body: str,
) -> None:
    content, quoted = NOT_GRAPHQL[body]
    server.set_default("getViewer", lambda _s: httpx.Response(200, content=content))

    with pytest.raises(InvalidResponseError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.status_code == 200
    assert raised.value.operation_name == "getViewer"
    assert quoted in str(raised.value)
    assert len(str(raised.value)) < 400
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, raised.value)


async def test_partial_data_with_errors_is_a_graphql_error_carrying_the_data(
    kraken: Driver, server: FakeKraken, waits: Waits, logs: pytest.LogCaptureFixture
) -> None:
    partial = {"viewer": {**VIEWER_DATA["viewer"], "accounts": None}}
    errors = [
        {
            "message": "Unable to load accounts.",
            "path": ["viewer", "accounts"],
            "extensions": {"errorType": "APPLICATION", "errorCode": "KT-CT-4123"},
        }
    ]
    server.set_default("getViewer", lambda _s: json_response({"data": partial, "errors": errors}))

    with pytest.raises(GraphQLError) as raised:
        await kraken.call("get_viewer")

    assert raised.value.data == partial
    assert raised.value.errors == errors
    assert raised.value.error_code == "KT-CT-4123"
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, raised.value)


async def test_an_enum_value_the_schema_does_not_know_is_tolerated_as_an_open_member(
    kraken: Driver, server: FakeKraken, logs: pytest.LogCaptureFixture
) -> None:
    """Chosen behaviour: Kraken adds enum values over time, so an unknown value does not fail the
    whole answer. It becomes an `AccountStatus` member of its own whose `.value` (and name) is the
    string received; known values stay the usual singleton members."""
    accounts = [
        {**VIEWER_DATA["viewer"]["accounts"][0], "status": "SUSPENDED_FOR_AUDIT"},
        {**VIEWER_DATA["viewer"]["accounts"][0], "status": "ACTIVE"},
    ]
    viewer_data = {"viewer": {**VIEWER_DATA["viewer"], "accounts": accounts}}
    server.set_default("getViewer", lambda _s: data_response(viewer_data))

    viewer = await kraken.call("get_viewer")

    unknown, known = (account.status for account in viewer.viewer.accounts)
    assert isinstance(unknown, AccountStatus)
    assert unknown.value == "SUSPENDED_FOR_AUDIT"
    assert unknown == "SUSPENDED_FOR_AUDIT"  # a str enum: compares as its value
    assert unknown not in list(AccountStatus)  # not one of the generated members
    assert known is AccountStatus.ACTIVE
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert_no_secret_leaked(logs, server)


# -- max_retries=0 -------------------------------------------------------------------------

RETRYABLE_FAULTS: dict[str, tuple[Callable[[Sent], httpx.Response], type[KrakenError]]] = {
    "connection refused": (Raising(httpx.ConnectError, "refused"), APIConnectionError),
    "read timeout": (Raising(httpx.ReadTimeout, "timed out"), APITimeoutError),
    "502 HTML": ((html_page(502, "Bad Gateway")), APIStatusError),
    "403 HTML": ((html_page(403, "Forbidden")), RateLimitError),
    "429 Retry-After: 2": (too_many_requests("2"), RateLimitError),
    "KT-CT-1199": (rate_limited(), RateLimitError),
}


@pytest.mark.parametrize("fault", list(RETRYABLE_FAULTS))
async def test_max_retries_0_sends_every_request_exactly_once(
    connect: Callable[..., Driver],
    server: FakeKraken,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    reply, expected = RETRYABLE_FAULTS[fault]
    server.set_default("getViewer", reply)
    kraken = connect(max_retries=0)

    with pytest.raises(KrakenError) as raised:
        await kraken.call("get_viewer")

    assert type(raised.value) is expected
    assert operations(server.sent) == [OBTAIN, "getViewer"]
    assert waits.delays == []
    assert_no_secret_leaked(logs, server, raised.value)


@pytest.mark.parametrize("max_retries", [-1, 1.5, True, "2"])
def test_max_retries_must_be_a_whole_number_of_zero_or_more(max_retries: Any) -> None:
    for cls in (KrakenClient, SyncKrakenClient):
        with pytest.raises(ConfigurationError, match="max_retries"):
            cls(URL, max_retries=max_retries)


# -- plain http:// ---------------------------------------------------------------------------

LOOPBACK_URLS = [
    "http://127.0.0.1:8000/v1/graphql/",
    "http://localhost:8000/v1/graphql/",
    "http://[::1]:8000/v1/graphql/",
]


@pytest.mark.parametrize("cls", [KrakenClient, SyncKrakenClient])
def test_plain_http_to_another_host_is_refused_unless_allow_insecure_http(cls: type) -> None:
    with pytest.raises(ConfigurationError, match="allow_insecure_http") as raised:
        cls("http://kraken.example.test/v1/graphql/", credentials=APIKey(API_KEY_VALUE))
    assert isinstance(raised.value, ValueError)
    assert API_KEY_VALUE not in str(raised.value)

    client = cls(
        "http://kraken.example.test/v1/graphql/",
        credentials=APIKey(API_KEY_VALUE),
        allow_insecure_http=True,
    )
    assert client.url == "http://kraken.example.test/v1/graphql/"


@pytest.mark.parametrize("make", [KrakenClient, SyncKrakenClient, KrakenAuth])
@pytest.mark.parametrize(
    "url",
    [
        "http://[::1/v1/graphql/",  # urllib raises a bare ValueError for this one
        "https://user:PASSWORDSECRET@[fe80::1/x?apikey=KEYSECRET",
        "ftp://user:PASSWORDSECRET@kraken.example.test/?apikey=KEYSECRET",
        "https://user:PASSWORDSECRET@kraken.example.test:port/",
    ],
)
def test_a_malformed_url_is_a_configuration_error_that_does_not_repeat_it(
    make: type, url: str
) -> None:
    with pytest.raises(ConfigurationError) as raised:
        make(url=url)
    assert "SECRET" not in str(raised.value)


@pytest.mark.parametrize("make", [KrakenClient, SyncKrakenClient, KrakenAuth])
def test_a_url_holding_a_password_or_a_key_is_shown_without_them(make: type) -> None:
    made = make(url="https://ada:PASSWORDSECRET@kraken.example.test/v1/graphql/?apikey=KEYSECRET")
    assert "SECRET" not in repr(made)
    assert "kraken.example.test/v1/graphql/" in repr(made)


@pytest.mark.parametrize("cls", [KrakenClient, SyncKrakenClient])
@pytest.mark.parametrize("url", LOOPBACK_URLS)
def test_plain_http_on_loopback_is_allowed(cls: type, url: str) -> None:
    assert cls(url, credentials=APIKey(API_KEY_VALUE)).url == url


# -- any answer at all: a model or a KrakenError -----------------------------------------------

KT_CT_CODES = [
    "KT-CT-1111",
    "KT-CT-1112",
    "KT-CT-1120",
    "KT-CT-1124",
    "KT-CT-1125",
    "KT-CT-1134",
    "KT-CT-1135",
    "KT-CT-1138",
    "KT-CT-1143",
    "KT-CT-1199",
    "KT-CT-4177",
    "KT-CT-4123",
]
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
graphql_errors = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "message": json_values,
            "extensions": st.fixed_dictionaries(
                {}, optional={"errorCode": st.sampled_from(KT_CT_CODES) | json_values}
            )
            | json_values,
            "path": json_values,
        },
    )
    | json_values,
    max_size=3,
)
# Unix times, sensible and not: within and far outside what a datetime can hold, negative, float.
timestamps = (
    st.sampled_from([START + TOKEN_LIFETIME, -1, 0, 253402300800, 2**63, -(2**70), 1e300])
    | st.integers(-(2**70), 2**70)
    | st.floats()
    | json_values
)
jwts = st.builds(make_jwt, iat=st.just(START), exp=st.integers(0, 2**40), serial=st.just(1))
token_objects = st.fixed_dictionaries(
    {
        "token": jwts | json_values,
        "payload": st.fixed_dictionaries({"exp": timestamps}) | json_values,
        "refreshToken": st.text(max_size=12) | st.none() | json_values,
        "refreshExpiresIn": timestamps,
    }
)
accounts = st.fixed_dictionaries(
    {
        "__typename": st.sampled_from(["AccountType", "AccountInterface"]) | json_values,
        "number": st.text(max_size=10) | json_values,
        "status": st.sampled_from(["ACTIVE", "SUSPENDED_FOR_AUDIT"]) | json_values,
        "balance": st.integers() | json_values,
    }
)
viewers = st.fixed_dictionaries(
    {
        "id": st.text(max_size=4) | json_values,
        "givenName": st.text(max_size=4),
        "familyName": st.text(max_size=4),
        "email": st.text(max_size=4) | json_values,
        "accounts": st.lists(accounts | st.none(), max_size=2) | json_values,
    }
)
products = st.fixed_dictionaries(
    {"id": st.text(max_size=4) | json_values},
    optional={
        "availableFrom": st.sampled_from(["2024-01-01T00:00:00+00:00", "2024-13-45"]) | json_values,
        "generationCredit": st.sampled_from(["1.25", "NaN", "1e999999", "x"]) | json_values,
        "term": st.integers() | json_values,
    },
)
datas = (
    json_values
    | st.fixed_dictionaries({"obtainKrakenToken": token_objects | json_values})
    | st.fixed_dictionaries({"viewer": viewers | st.just(VIEWER_DATA["viewer"]) | json_values})
    | st.fixed_dictionaries({"products": st.lists(products | st.none(), max_size=2) | json_values})
)
graphql_bodies = st.fixed_dictionaries({}, optional={"data": datas, "errors": graphql_errors})
token_bodies = st.fixed_dictionaries(
    {"data": st.fixed_dictionaries({"obtainKrakenToken": token_objects})}
)


def _encoded(value: object) -> bytes:
    return json.dumps(value).encode()  # may hold NaN/Infinity, which json.loads accepts


bodies = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=64).map(str.encode),
    json_values.map(_encoded),
    graphql_bodies.map(_encoded),
    graphql_bodies.map(_encoded).map(lambda b: b[: len(b) // 2]),  # truncated
    token_bodies.map(_encoded),
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=30).map(
    str.strip
)
headers = st.fixed_dictionaries(
    {},
    optional={
        "Content-Type": st.sampled_from(["application/json", "text/html", "text/plain"])
        | header_values,
        "Retry-After": st.integers(-5, 10**6).map(str)
        | st.sampled_from(["1.5", "nan", "inf", "1e400", "Wed, 21 Oct 2015 07:28:00 GMT"])
        | header_values,
    },
)
# 200 and the statuses the client treats specially often; any other from 100 to 599 too.
statuses = st.just(200) | st.sampled_from([401, 403, 429, 500, 502, 503]) | st.integers(100, 599)
answers = st.tuples(statuses, bodies, headers)
# What the token request gets: mostly a 200 with a token object of any shape and expiry.
token_answers = st.tuples(st.just(200) | statuses, token_bodies.map(_encoded) | bodies, headers)
exchanges = st.tuples(st.just("the call"), answers) | st.tuples(
    st.just("the token request"), token_answers
)
MODELS = {"get_viewer": GetViewer, "get_products": GetProducts}


@pytest.mark.slow
@settings(max_examples=500, deadline=None, database=None)
@given(
    exchange=exchanges,
    method=st.sampled_from(list(MODELS)),
    later=st.sampled_from([0.0, TOKEN_LIFETIME - MARGIN + 1, TOKEN_LIFETIME + 1, 30 * 86400.0]),
)
def test_any_http_answer_gives_a_valid_model_or_a_kraken_error_never_anything_else(
    exchange: tuple[str, tuple[int, bytes, dict[str, str]]], method: str, later: float
) -> None:
    """Any status (100-599), any body (binary, text, JSON, GraphQL-shaped JSON with any `data`
    and `errors`, truncated JSON, token answers with any expiry), any Content-Type and
    Retry-After, answering the call or the token request before it. Then, `later` seconds on
    (the token fresh, due for refresh, expired, or its refresh token too), `authenticate()` and
    the call again, with every answer well-formed: each step returns or raises a KrakenError."""
    to, (status, body, answer_headers) = exchange
    clock = FakeClock()
    kraken = FakeKraken(clock)
    answered = False

    def handle(request: httpx.Request) -> httpx.Response:
        nonlocal answered
        operation = json.loads(request.content).get("operationName")
        is_token_request = operation in (OBTAIN, REFRESH)
        if not answered and is_token_request == (to == "the token request"):
            answered = True
            return httpx.Response(status, content=body, headers=answer_headers)
        if is_token_request:
            return kraken.issue_token()
        return data_response(DEFAULT_DATA[operation])

    def step(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except KrakenError:
            return None

    with (
        httpx.Client(transport=httpx.MockTransport(handle)) as http,
        SyncKrakenClient(
            URL, credentials=APIKey(API_KEY_VALUE), max_retries=0, http_client=http, clock=clock
        ) as client,
    ):
        result = step(getattr(client, method))
        assert result is None or isinstance(result, MODELS[method])
        clock.advance(later)
        info = step(client.authenticate)
        assert info is None or isinstance(info, TokenInfo)
        result = step(getattr(client, method))
        assert result is None or isinstance(result, MODELS[method])


# -- token requests under load -----------------------------------------------------------------


@pytest.mark.parametrize(("kind", "calls"), [("async", 200), ("sync", 50)], indirect=["kind"])
async def test_calls_across_an_expiry_whose_refresh_is_rate_limited_make_3_token_requests_at_most(
    kraken: Driver,
    server: FakeKraken,
    clock: FakeClock,
    waits: Waits,
    logs: pytest.LogCaptureFixture,
    calls: int,
) -> None:
    """200 tasks (async) or 50 threads (sync) need a token just after it expired; the refresh
    they share is answered KT-CT-1199 (slowly, so that they all pile up behind it). Callers that
    meet the cooldown wait (moving the fake clock) past it; one more refresh then serves all."""
    await kraken.call("get_viewer")
    clock.advance(TOKEN_LIFETIME + 1)
    server.queue(REFRESH, lambda sent: Delayed(0.05, rate_limited()(sent)))

    outcomes = await kraken.concurrently(calls, "get_viewer", return_exceptions=True)

    assert len(outcomes) == calls
    failures = [o for o in outcomes if not isinstance(o, GetViewer)]
    # Each call ends in a result or a KrakenError, never anything else; and with the default
    # retries each outlasts the cooldown, so in fact each ends in a result.
    assert all(isinstance(f, KrakenError) for f in failures), failures[:3]
    assert failures == [], failures[:3]
    token_requests = operations(server.token_requests)
    assert len(token_requests) <= 3
    assert token_requests[:2] == [OBTAIN, REFRESH]
    assert set(token_requests[2:]) <= {REFRESH}  # a rate limit does not drop the refresh token
    assert_no_secret_leaked(logs, server, *failures)


# 50 at once: load enough over real HTTP (each call is a sandbox request); the 200 async callers
# are the fake Kraken's test above.
@pytest.mark.slow
@pytest.mark.parametrize(("kind", "calls"), [("async", 50), ("sync", 50)])
async def test_on_the_sandbox_a_rate_limited_refresh_under_load_makes_3_token_requests_at_most(
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    monkeypatch: pytest.MonkeyPatch,
    logs: pytest.LogCaptureFixture,
    kind: str,
    calls: int,
) -> None:
    """The same over real loopback HTTP: the sandbox's `token_rate_limit` fault answers the
    shared refresh KT-CT-1199; its own counters say how many token requests arrived."""
    from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY

    waits = record_waits(monkeypatch, sandbox_clock)
    options: dict[str, Any] = {"credentials": OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)}
    if kind == "async":
        async with KrakenClient(sandbox.url, clock=sandbox_clock, **options) as client:
            await client.get_viewer()
            sandbox_clock.advance(TOKEN_LIFETIME + 1)
            sandbox.set_faults(token_rate_limit=1)
            outcomes = await asyncio.gather(
                *(client.get_viewer() for _ in range(calls)), return_exceptions=True
            )
    else:
        with SyncKrakenClient(sandbox.url, clock=sandbox_clock, **options) as sync_client:
            sync_client.get_viewer()
            sandbox_clock.advance(TOKEN_LIFETIME + 1)
            sandbox.set_faults(token_rate_limit=1)
            outcomes = [
                error or result for result, error in run_in_threads(calls, sync_client.get_viewer)
            ]

    assert len(outcomes) == calls
    failures = [o for o in outcomes if not isinstance(o, GetViewer)]
    # Each call ends in a result or a KrakenError, never anything else; and with the default
    # retries each outlasts the cooldown, so in fact each ends in a result.
    assert all(isinstance(f, KrakenError) for f in failures), failures[:3]
    assert failures == [], failures[:3]
    stats = sandbox.stats
    assert stats.token_requests <= 3  # the first token, the refused refresh, at most one more
    assert stats.count(OBTAIN) == 1
    assert 1 <= stats.count(REFRESH) <= 2
    assert waits.delays  # the rate-limited callers waited before retrying
    leaks = leaked_secrets(logs.records, [DEMO_ORGANIZATION_SECRET_KEY], logs.text)
    assert not leaks, sorted({where for _, where in leaks})
