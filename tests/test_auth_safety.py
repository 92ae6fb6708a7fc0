"""Auth safety (issue 19, "Behaviour to reach", items 1-5): the credential goes to one endpoint
only, token requests are never redirected, short rate limits are waited out, a dead endpoint is
not stormed, and a mutation is known by its parsed operation type.

One section per item, each test named for its item. Each behaviour runs over the kinds of caller
it applies to (`loopback_kraken.KINDS`): our async and sync clients, and raw httpx.AsyncClient and
httpx.Client with a KrakenAuth. Every server is real, on loopback: the suite's fake Kraken
(`loopback_kraken.scripted`) behind a `HostileServer`, which records every request exactly as it
arrived, so a test can count token requests and search what "another origin" received for any
secret. Where another origin is involved there are two servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import httpx
import pytest
from auth_helpers import (
    EMAIL,
    NEVER,
    FakeClock,
    FakeKraken,
    Waits,
    error_response,
    raw_http,
    record_waits,
    secrets_of,
)
from hostile_server import HostileServer, Request
from loopback_kraken import (
    CLIENT_KINDS,
    CREDENTIAL,
    KINDS,
    RAW_KINDS,
    Caller,
    cdn_403,
    data_requests,
    kt_ct_1199,
    origin,
    redirect,
    scripted,
    secrets_received,
    token_requests,
    too_many_requests,
    viewer_email,
)

import oeus_kraken._tokens
from oeus_kraken import (
    PRODUCTION_URL,
    TEST_URL,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    KrakenAuth,
    KrakenError,
    LinkedObjectType,
    RateLimitError,
    SyncKrakenClient,
)

REDIRECTS = (301, 302, 303, 307, 308)
URL_OF_MOCK = "https://kraken.example.test/v1/graphql/"  # (MockTransport: nothing leaves)
VIEWER_QUERY = {"query": "query getViewer { viewer { email } }", "operationName": "getViewer"}


# -- 1. One endpoint -------------------------------------------------------------------------------


def recording_transport(sent: list[httpx.Request]) -> httpx.MockTransport:
    """Records each request; answers a token request with a token, the viewer query the viewer."""
    kraken = FakeKraken(time.time)

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return kraken.handle(request)

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("options", "endpoint", "elsewhere"),
    [({}, PRODUCTION_URL, TEST_URL), ({"url": TEST_URL}, TEST_URL, PRODUCTION_URL)],
    ids=["url defaults to PRODUCTION_URL", "url=TEST_URL"],
)
@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_one_endpoint_kraken_auth_serves_its_url_which_defaults_to_production(
    kind: str, options: dict[str, Any], endpoint: str, elsewhere: str
) -> None:
    """A request to the auth's own URL is served (a token request, then the request); one to
    the other Kraken URL is refused before anything is sent."""
    sent: list[httpx.Request] = []
    auth = KrakenAuth(CREDENTIAL, **options)
    http_class = httpx.AsyncClient if kind == "raw-async" else httpx.Client
    caller = Caller(kind, endpoint, http=http_class(auth=auth, transport=recording_transport(sent)))
    try:
        assert viewer_email(await caller.call()) == EMAIL
        assert [origin(str(r.url)) for r in sent] == [origin(endpoint)] * 2
        with pytest.raises(ConfigurationError) as refused:
            await caller.post_with_its_auth(elsewhere)
    finally:
        await caller.close()
    assert len(sent) == 2  # nothing more was sent, anywhere
    assert origin(endpoint) in str(refused.value)
    assert origin(elsewhere) in str(refused.value)


# One origin written two ways: the KrakenAuth's url, and the URL a request is sent to.
SAME_ORIGIN = {
    "the default port written out": (
        "https://kraken.example.test:443/g/",
        "https://kraken.example.test/g",
    ),
    "upper-case scheme and host": (
        "HTTPS://KRAKEN.Example.TEST/g/",
        "https://kraken.example.test/g/",
    ),
    "another path, a query and a fragment": (
        "https://kraken.example.test/g/",
        "https://kraken.example.test/other?x=1#f",
    ),
    "an IDNA host, as Unicode and as ASCII": (
        "https://bücher.example/g/",
        "https://xn--bcher-kva.example/g/",
    ),
    "IPv6 loopback, compressed and in full": (
        "http://[::1]:8000/g/",
        "http://[0:0:0:0:0:0:0:1]:8000/g/",
    ),
}


@pytest.mark.parametrize("spelling", list(SAME_ORIGIN))
@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_one_endpoint_the_origin_is_served_however_its_url_is_written(
    kind: str, spelling: str
) -> None:
    endpoint, written = SAME_ORIGIN[spelling]
    sent: list[httpx.Request] = []
    http_class = httpx.AsyncClient if kind == "raw-async" else httpx.Client
    auth = KrakenAuth(CREDENTIAL, url=endpoint)
    caller = Caller(kind, written, http=http_class(auth=auth, transport=recording_transport(sent)))
    try:
        assert viewer_email(await caller.call()) == EMAIL
    finally:
        await caller.close()
    assert len(sent) == 2  # the token request, then the call


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_one_endpoint_a_request_in_a_scheme_with_no_default_port_is_refused_naming_it(
    kind: str,
) -> None:
    """wss://, which httpx cannot send anyway: the message names its origin as written, not
    with a port of "None"."""
    caller = Caller.make(kind, URL_OF_MOCK)
    try:
        with pytest.raises(ConfigurationError) as refused:
            await caller.post_with_its_auth("wss://kraken.example.test/g/")
    finally:
        await caller.close()
    assert "wss://kraken.example.test was refused" in str(refused.value)


# The clients' scheme rule: https://, or http:// on loopback only, unless allow_insecure_http.
GOOD_URLS = {
    "http://127.0.0.1:8000/v1/graphql/": {},
    "http://localhost:8000/v1/graphql/": {},
    "http://[::1]:8000/v1/graphql/": {},
    "https://kraken.example.net/graphql": {},
    "http://kraken.example.net/v1/graphql/": {"allow_insecure_http": True},
}
BAD_URLS = (
    "http://kraken.example.net/v1/graphql/",  # plain http off loopback: the key in clear
    "http://10.0.0.8/v1/graphql/",
    "ftp://api.oeus-kraken.energy/v1/graphql/",
    "api.oeus-kraken.energy/v1/graphql/",
    "https:///v1/graphql/",
    "",
)


@pytest.mark.parametrize("url", list(GOOD_URLS))
def test_one_endpoint_kraken_auth_accepts_any_url_the_clients_accept(url: str) -> None:
    SyncKrakenClient(url, **GOOD_URLS[url]).close()  # the rule the auth must share
    KrakenAuth(CREDENTIAL, url=url, **GOOD_URLS[url])


@pytest.mark.parametrize("url", BAD_URLS)
def test_one_endpoint_a_bad_kraken_auth_url_is_a_configuration_error_at_construction(
    url: str,
) -> None:
    with pytest.raises(ConfigurationError):
        SyncKrakenClient(url)  # the rule the auth must share
    with pytest.raises(ConfigurationError):
        KrakenAuth(CREDENTIAL, url=url)


# URLs that Python's urlsplit reads as http(s) URLs with a host (it skips spaces before the
# scheme), and httpx, which makes the requests, as a relative URL with no scheme or host.
URLS_WITH_SPACES_BEFORE_THE_SCHEME = (
    " https://api.oeus-kraken.energy/v1/graphql/",
    "   http://127.0.0.1:8000/v1/graphql/",
)


@pytest.mark.parametrize("url", URLS_WITH_SPACES_BEFORE_THE_SCHEME, ids=repr)
def test_one_endpoint_a_url_with_spaces_before_its_scheme_is_refused_at_construction(
    url: str,
) -> None:
    """The URL was checked as Python reads it and used as httpx does: both the clients and
    KrakenAuth took it, and every call then said "could not reach the Kraken API at
    %20https://... Check the URL and the network" (an APIConnectionError, retried), and the
    KrakenAuth refused every request as one to another origin than "://"."""
    with pytest.raises(ConfigurationError, match="url must be an http"):
        SyncKrakenClient(url)
    with pytest.raises(ConfigurationError, match="url must be an http"):
        KrakenAuth(CREDENTIAL, url=url)


# A URL's user:password@ part. httpx sends it as HTTP Basic authentication, in place of the
# Authorization a request carries: our clients' token requests and calls went out with
# `Authorization: Basic ...` and never with the Kraken token.
USERINFO_URL = "http://alice:pw-USERINFOSECRET@127.0.0.1:8000/v1/graphql/"


@pytest.mark.parametrize("kind", KINDS)
def test_one_endpoint_a_url_with_a_user_and_password_is_refused_beside_a_credential(
    kind: str,
) -> None:
    """The credential and the URL's user:password cannot both authenticate: a ConfigurationError
    at construction, which says what to do and does not repeat the user or the password."""
    with pytest.raises(ConfigurationError) as refused:
        Caller.make(kind, USERINFO_URL)
    with pytest.raises(ConfigurationError):
        SyncKrakenClient.from_env({"KRAKEN_URL": USERINFO_URL, "KRAKEN_API_KEY": "k"})
    message = str(refused.value)
    assert "user name or password" in message
    assert "alice" not in message
    assert "USERINFOSECRET" not in message


def test_one_endpoint_a_url_with_a_user_and_password_still_serves_public_operations() -> None:
    """Without a credential no token is attached, so nothing is replaced: the public operations
    (and `oeus-kraken schema diff` of a server behind HTTP Basic) keep working."""
    SyncKrakenClient(USERINFO_URL).close()
    KrakenAuth(url=USERINFO_URL)


OTHER_ORIGINS = {
    "another port": lambda endpoint, other: other,
    "another host": lambda endpoint, other: endpoint.replace("127.0.0.1", "localhost"),
    "another scheme": lambda endpoint, other: endpoint.replace("http://", "https://"),
}


@pytest.mark.parametrize("token_held", [False, True], ids=["no token yet", "token held"])
@pytest.mark.parametrize("elsewhere", list(OTHER_ORIGINS))
@pytest.mark.parametrize("kind", KINDS)
async def test_one_endpoint_a_request_to_another_origin_is_refused_before_anything_is_sent(
    kind: str, elsewhere: str, token_held: bool
) -> None:
    """Through a raw client's KrakenAuth, or our client's own (`client.auth`, bound to the
    client's url): a request to another origin (scheme, host or port) gets no token request,
    no credential and no token. Nothing reaches either server ("another host" is the endpoint's
    own server under another name)."""
    kraken, other_kraken = scripted(), scripted()
    with (
        HostileServer(kraken.over_socket) as endpoint,
        HostileServer(other_kraken.over_socket) as other,
    ):
        other_url = OTHER_ORIGINS[elsewhere](endpoint.url, other.url)
        caller = Caller.make(kind, endpoint.url)
        try:
            if token_held:
                assert viewer_email(await caller.call()) == EMAIL
            received = len(endpoint.requests)
            with pytest.raises(ConfigurationError) as refused:
                await caller.post_with_its_auth(other_url)
        finally:
            await caller.close()
        assert other.requests == []
        assert len(endpoint.requests) == received
    message = str(refused.value)
    assert origin(endpoint.url) in message
    assert origin(other_url) in message
    assert not [secret for secret in secrets_of(kraken) if secret in message]


# -- 2. Token requests are never redirected --------------------------------------------------------


@pytest.mark.parametrize(
    "follow_redirects",
    [None, False, True],
    ids=["own http_client", "http_client follow_redirects=False", "follow_redirects=True"],
)
@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_token_requests_are_never_redirected_by_our_clients_a_3xx_is_an_api_status_error(
    kind: str, status: int, follow_redirects: bool | None
) -> None:
    """The error names the status and the Location's origin, not its path or query; nothing is
    sent to the Location."""
    with HostileServer(scripted().over_socket) as other:
        location = f"{origin(other.url)}/collect/LOCATIONPATH?grab=LOCATIONQUERY"
        kraken = scripted(token_faults=[redirect(status, location)])
        with HostileServer(kraken.over_socket) as endpoint:
            caller = Caller.make(
                kind, endpoint.url, follow_redirects=follow_redirects, max_retries=0
            )
            try:
                with pytest.raises(APIStatusError) as raised:
                    await caller.call()
            finally:
                await caller.close()
            assert other.requests == []
            assert len(token_requests(endpoint)) == 1
    message = str(raised.value)
    assert raised.value.status_code == status
    assert str(status) in message
    assert origin(other.url) in message
    assert "LOCATIONPATH" not in message
    assert "LOCATIONQUERY" not in message
    assert not [secret for secret in secrets_of(kraken) if secret in message]


@pytest.mark.parametrize("reads_bodies", [False, True], ids=["", "a hook reads the body"])
@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_token_requests_are_never_redirected_raw_httpx_following_them_sends_no_credential(
    kind: str, status: int, reads_bodies: bool
) -> None:
    """httpx follows the redirect inside the auth flow: 307/308 would re-POST the token request,
    key included. The other origin answers anything with a token of its own, as a thief would:
    the call still raises a KrakenError, and nothing the other origin received holds a secret.
    Reading the body on the way (httpx's `request.read()`, in a hook that logs or signs bodies)
    must not make it one that can be sent again: httpx's own read() swaps in a copy that can."""
    thief = scripted()
    thief.data_reply = thief.issue_token
    with HostileServer(thief.over_socket) as other:
        kraken = scripted(token_faults=[redirect(status, other.url)])
        with HostileServer(kraken.over_socket) as endpoint:
            caller = Caller.make(
                kind, endpoint.url, follow_redirects=True, reads_bodies=reads_bodies
            )
            try:
                with pytest.raises(KrakenError):
                    await caller.call()
            finally:
                await caller.close()
        leaks = secrets_received(other, secrets_of(kraken))
    assert not leaks, [(secret, request.method, request.path) for secret, request in leaks]


@pytest.mark.parametrize("status", REDIRECTS)
@pytest.mark.parametrize("kind", KINDS)
async def test_token_requests_are_never_redirected_and_a_redirected_data_request_keeps_the_token(
    kind: str, status: int
) -> None:
    """The data request (not the token request) is redirected to another origin, by an
    http_client that follows redirects: the token goes nowhere but the endpoint. How the call
    ends is not the point here (an error, or the other origin's answer)."""
    with HostileServer(scripted().over_socket) as other:
        kraken = scripted(data=lambda _sent: redirect(status, other.url))
        with HostileServer(kraken.over_socket) as endpoint:
            caller = Caller.make(kind, endpoint.url, follow_redirects=True, max_retries=0)
            try:
                with contextlib.suppress(KrakenError):
                    await caller.call()
            finally:
                await caller.close()
            assert data_requests(endpoint), "the data request never reached the endpoint"
        assert kraken.issued_tokens, "no token was issued: the test proves nothing"
        leaks = secrets_received(other, secrets_of(kraken))
        assert not leaks, [(secret, request.method, request.path) for secret, request in leaks]
        assert not [r for r in other.requests if "authorization" in r.headers]


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_token_requests_are_never_redirected_nor_resent_by_an_http_client_auth(
    kind: str,
) -> None:
    """An http_client with an auth of its own that answers a challenge by sending the request
    again (DigestAuth) would send the credential twice: it is sent once, and the error says
    why the second sending was refused, naming the auth, not only a redirect."""
    challenge = httpx.Response(
        401, headers={"WWW-Authenticate": 'Digest realm="proxy", nonce="abc", qop="auth"'}
    )
    with HostileServer(lambda _request: [(raw_http(challenge), 0.0)]) as endpoint:
        caller = Caller.make(kind, endpoint.url, follow_redirects=False, max_retries=0)
        assert caller.http is not None
        caller.http.auth = httpx.DigestAuth("proxy-user", "proxy-password")
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
        assert len(token_requests(endpoint)) == 1
    assert "DigestAuth" in str(raised.value)


# How another origin turns away a request that reached it without a token.
TURNED_AWAY = {
    "HTTP 401": lambda: httpx.Response(401, text="Unauthorized"),
    "KT-CT-1124": lambda: error_response("KT-CT-1124", message="Signature has expired."),
}


@pytest.mark.parametrize("turned_away", list(TURNED_AWAY))
@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("kind", KINDS)
async def test_token_requests_are_never_redirected_and_another_origins_rejection_spares_the_token(
    kind: str, status: int, turned_away: str
) -> None:
    """The data request is redirected to another origin, which rejects it (it came without the
    token). That is not the API's verdict on the token: the call ends in an APIStatusError
    naming the other origin, not in "the API did not accept the credentials", and the token is
    kept: no new token request, now or for the next call."""
    refusal = TURNED_AWAY[turned_away]
    with HostileServer(lambda _request: [(raw_http(refusal()), 0.0)]) as other:
        kraken = scripted()
        kraken.queue("getViewer", lambda _sent: redirect(status, other.url))  # the first call
        with HostileServer(kraken.over_socket) as endpoint:
            caller = Caller.make(kind, endpoint.url, follow_redirects=True, max_retries=0)
            try:
                with pytest.raises(APIStatusError) as raised:
                    await caller.call()
                assert viewer_email(await caller.call()) == EMAIL  # no redirect this time
            finally:
                await caller.close()
            assert len(token_requests(endpoint)) == 1
        assert not [r for r in other.requests if "authorization" in r.headers]
    assert not isinstance(raised.value, AuthenticationError)
    assert origin(other.url) in str(raised.value)


# -- 3. Short rate limits are waited out -----------------------------------------------------------


@pytest.fixture
def waited(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """The clients' waits between attempts, recorded instead of slept, on a fake clock that
    starts now (`waited.clock`, given to the client as `clock=`): a gate of a second is waited
    out, and the wait recorded, in no time."""
    return record_waits(monkeypatch, FakeClock(time.time()))


# How the token request is rate-limited (each answers the first two token requests), and the
# waits a caller makes: Retry-After when the answer gives one, else a backoff that doubles.
RATE_LIMITS = {
    "KT-CT-1199": (kt_ct_1199, [1.0, 2.0]),
    "HTTP 429 Retry-After: 1": (lambda: too_many_requests(1), [1.0, 1.0]),
    "CDN 403 page": (cdn_403, [1.0, 2.0]),
    # Not a number of seconds (RFC 9110: digits only): no Retry-After, not "retry at once".
    "HTTP 429 Retry-After: -5": (lambda: too_many_requests(-5), [1.0, 2.0]),
}


def rate_limited_twice(rate_limit: str) -> FakeKraken:
    fault, _ = RATE_LIMITS[rate_limit]
    return scripted(token_faults=[fault() for _ in range(2)])


@pytest.mark.slow
@pytest.mark.parametrize("rate_limit", list(RATE_LIMITS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_short_rate_limits_are_waited_out_by_20_concurrent_callers_with_3_token_requests(
    kind: str, rate_limit: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twice rate-limited, then OK: with max_retries=3 every caller waits out each gate and
    retries; the callers waiting together share one token request. In real time: the callers
    wait together. The backoff starts at a quarter of its second (the single call below shows
    its real length), so the gates last 0.25 and 0.5 s; a Retry-After is a second each."""
    monkeypatch.setattr(oeus_kraken._tokens, "RATE_LIMIT_BACKOFF", 0.25)
    with HostileServer(rate_limited_twice(rate_limit).over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=3)
        try:
            outcomes = await caller.concurrently(20)
        finally:
            await caller.close()
        failures = [o for o in outcomes if isinstance(o, BaseException)]
        assert failures == [], f"{len(failures)} of 20 failed, the first: {failures[0]!r}"
        assert {viewer_email(o) for o in outcomes} == {EMAIL}
        assert len(token_requests(endpoint)) <= 3


@pytest.mark.parametrize("rate_limit", list(RATE_LIMITS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_short_rate_limits_are_waited_out_a_single_call_with_retries_left_succeeds(
    kind: str, rate_limit: str, waited: Waits
) -> None:
    with HostileServer(rate_limited_twice(rate_limit).over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=3, clock=waited.clock)
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        assert len(token_requests(endpoint)) == 3
    assert waited.delays == RATE_LIMITS[rate_limit][1]


@pytest.mark.parametrize("kind", KINDS)
async def test_short_rate_limits_are_waited_out_but_a_gate_over_30_s_raises_at_once(
    kind: str,
) -> None:
    """Retry-After: 60 on a 429 to the token request: RateLimitError with .retry_after, at once
    (no wait); the gate stays closed, so the next call is refused at once without a request."""
    kraken = scripted(token_faults=[too_many_requests(60)])
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=3)
        try:
            started = time.monotonic()
            with pytest.raises(RateLimitError) as first:
                await caller.call()
            with pytest.raises(RateLimitError) as again:
                await caller.call()
            elapsed = time.monotonic() - started
        finally:
            await caller.close()
        assert len(token_requests(endpoint)) == 1
    assert elapsed < 1.5, f"the calls waited {elapsed:.1f} s for a 60 s gate"
    assert first.value.retry_after == pytest.approx(60, abs=1)
    assert again.value.retry_after is not None
    assert 55 < again.value.retry_after <= 60


# -- 4. No storm on a dead endpoint ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_no_storm_on_a_dead_endpoint_3_token_requests_at_most_then_recovery_at_once(
    kind: str,
) -> None:
    """Every request answers 502: at most one token request per retry wave, whatever the number
    of callers; each caller gets a KrakenError that is not an AuthenticationError. After the
    endpoint recovers, the next call succeeds at once: no wait or error is left over."""
    kraken = scripted()
    kraken.down = True
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=2)
        try:
            outcomes = await caller.concurrently(20)
            stormed = len(token_requests(endpoint))
            kraken.down = False
            started = time.monotonic()
            email = viewer_email(await caller.call())
            recovery = time.monotonic() - started
        finally:
            await caller.close()
    assert stormed <= 3, f"{stormed} token requests to a dead endpoint"
    wrong = [
        o for o in outcomes if not isinstance(o, KrakenError) or isinstance(o, AuthenticationError)
    ]
    assert wrong == [], wrong[:3]
    assert email == EMAIL
    assert recovery < 0.75, f"the first call after recovery took {recovery:.2f} s"


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_no_storm_on_a_dead_endpoint_raw_httpx_callers_share_a_token_request_left_unanswered(
    kind: str,
) -> None:
    """The token endpoint accepts the connection and never answers. httpx gives up on the token
    request at its read timeout and raises its own error to the caller that sent it; the callers
    waiting for that request share its failure, as KrakenErrors, instead of each sending a token
    request of its own after it, one timeout after another (an async client sent 10 for 10
    callers, and took 10 timeouts). The next call succeeds at once."""
    kraken, dead = scripted(), [True]

    def answer(request: Request) -> list[tuple[bytes, float]]:
        return [] if dead[0] else kraken.over_socket(request)

    with HostileServer(answer) as endpoint:
        http_class = httpx.AsyncClient if kind == "raw-async" else httpx.Client
        auth = KrakenAuth(CREDENTIAL, url=endpoint.url)
        caller = Caller(kind, endpoint.url, http=http_class(auth=auth, timeout=0.5))
        try:
            outcomes = await caller.concurrently(10)
            unanswered = len(token_requests(endpoint))
            dead[0] = False
            email = viewer_email(await caller.call())
        finally:
            await caller.close()
    assert unanswered == 1, f"{unanswered} token requests for 10 callers"
    from_httpx = [o for o in outcomes if not isinstance(o, KrakenError)]
    assert all(isinstance(o, httpx.TimeoutException) for o in from_httpx), from_httpx
    assert len(from_httpx) == 1  # the sender's; the 9 others share it as a KrakenError
    assert email == EMAIL


async def test_no_storm_and_a_cancelled_raw_async_sender_leaves_its_waiters_a_token() -> None:
    """The other side of the test above: the task that sent the token request is cancelled (its
    caller gave up, an asyncio timeout), and httpx closes the flow just as it does after a
    timeout. Nothing says the endpoint is dead, so the callers waiting for that request decide
    again: one sends a new token request and all get their answers. (Python 3.11 and later: a
    task being cancelled says so. On 3.10 nothing tells the two apart, and the waiters share the
    failure, as after a timeout.)"""
    kraken = FakeKraken(FakeClock())
    first_token_request = asyncio.Event()
    token_requests_sent: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if b"obtainKrakenToken" in request.content:
            token_requests_sent.append(request)
            if len(token_requests_sent) == 1:
                first_token_request.set()
                await asyncio.Event().wait()  # never answered: its sender is cancelled
        return kraken.handle(request)

    auth = KrakenAuth(CREDENTIAL, url=URL_OF_MOCK)
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(handler)) as http:
        sender = asyncio.create_task(http.post(URL_OF_MOCK, json=VIEWER_QUERY))
        await first_token_request.wait()
        waiters = [asyncio.create_task(http.post(URL_OF_MOCK, json=VIEWER_QUERY)) for _ in range(3)]
        await asyncio.sleep(0.01)  # all three wait for the sender's token request
        sender.cancel()
        outcomes = await asyncio.gather(sender, *waiters, return_exceptions=True)
    assert isinstance(outcomes[0], asyncio.CancelledError)
    if sys.version_info >= (3, 11):
        assert [_status(o) for o in outcomes[1:]] == [200, 200, 200]
        assert len(token_requests_sent) == 2
    else:
        assert all(isinstance(o, KrakenError) for o in outcomes[1:]), outcomes


def _status(outcome: object) -> object:
    """An answer's HTTP status, or the exception raised instead, named."""
    return outcome.status_code if isinstance(outcome, httpx.Response) else repr(outcome)


# -- 5. Mutations are known by their parsed operation type -----------------------------------------

# Legal spellings of one operation, as (document, operation_name): each has a mutation and a
# query twin of the same shape. Sent with execute(), the method every generated method calls.
MUTATIONS = {
    "opening with a comment": ("# Pays the bill.\nmutation payBill { payBill { id } }", "payBill"),
    "with a fragment first": (
        "fragment Paid on Payment { id }\nmutation payBill { payBill { ...Paid } }",
        "payBill",
    ),
    "after leading commas": (",,, mutation payBill { payBill { id } }", "payBill"),
    "after a byte-order mark": ("\ufeffmutation payBill { payBill { id } }", "payBill"),
    "chosen by operation_name after a query": (
        "query listBills { bills { id } }\nmutation payBill { payBill { id } }",
        "payBill",
    ),
    "anonymous, with no space": ("mutation{payBill{id}}", None),
}
QUERIES = {
    "opening with a comment": ("# Lists the bills.\nquery listBills { bills { id } }", "listBills"),
    "with a fragment first": (
        "fragment Owed on Bill { id }\nquery listBills { bills { ...Owed } }",
        "listBills",
    ),
    "after leading commas": (",,, query listBills { bills { id } }", "listBills"),
    "after a byte-order mark": ("\ufeffquery listBills { bills { id } }", "listBills"),
    "chosen by operation_name after a mutation": (
        "mutation payBill { payBill { id } }\nquery listBills { bills { id } }",
        "listBills",
    ),
    "shorthand, with no keyword": ("{bills{id}}", None),
    "after a comment that says mutation": (
        "# Not a mutation: it only reads.\nquery listBills { bills { id } }",
        "listBills",
    ),
    "named mutationLog": ("query mutationLog { bills { id } }", "mutationLog"),
}
# Each attempt's time limit: the server never answers a data request, so every attempt times out
# after the request left.
ATTEMPT_LIMIT = 0.3


async def data_attempts(kind: str, max_retries: int, send: Any, waited: Waits) -> int:
    """How many data requests reached a server that never answers them, when `send(caller)`
    runs on a client with `max_retries` (the call ends in a KrakenError: a timeout). The waits
    between attempts are recorded (`waited`), not slept: one before each retry."""
    kraken = scripted(data=lambda _sent: NEVER)
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=max_retries, clock=waited.clock)
        assert caller.client is not None
        try:
            # The token first, under the default time limit: only data requests may time out
            # (a token request answered late on a loaded machine would be retried too).
            await caller.run(caller.client.authenticate)
            caller.client.http_client.timeout = httpx.Timeout(ATTEMPT_LIMIT)
            with pytest.raises(KrakenError):
                await send(caller)
        finally:
            await caller.close()
        attempts = len(data_requests(endpoint))
    assert len(waited.delays) == attempts - 1, waited.delays
    return attempts


@pytest.mark.parametrize("spelling", list(MUTATIONS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_mutations_are_known_by_their_parsed_operation_type_and_never_retried_after_a_timeout(
    kind: str, spelling: str, waited: Waits
) -> None:
    document, operation_name = MUTATIONS[spelling]
    attempts = await data_attempts(kind, 2, lambda c: c.execute(document, operation_name), waited)
    assert attempts == 1, f"a mutation {spelling} was sent {attempts} times"


@pytest.mark.slow
@pytest.mark.parametrize("spelling", list(QUERIES))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_mutations_are_known_by_their_parsed_operation_type_so_a_query_alike_is_retried(
    kind: str, spelling: str, waited: Waits
) -> None:
    """max_retries=1 (one retry shows it, and waits less than two)."""
    document, operation_name = QUERIES[spelling]
    attempts = await data_attempts(kind, 1, lambda c: c.execute(document, operation_name), waited)
    assert attempts == 2, f"a query {spelling} was sent {attempts} times, not 1 + 1 retry"


# Our generated methods, sent with max_retries=1: how many attempts each may make.
OUR_OPERATIONS = {
    "update_metadata (a mutation)": (
        lambda client: client.update_metadata(LinkedObjectType.ACCOUNT, "A-1234ABCD", "k", 1),
        1,
    ),
    "get_viewer (a query)": (lambda client: client.get_viewer(), 2),
}


@pytest.mark.slow
@pytest.mark.parametrize("operation", list(OUR_OPERATIONS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_mutations_are_known_by_their_parsed_operation_type_for_our_own_operations(
    kind: str, operation: str, waited: Waits
) -> None:
    method, expected = OUR_OPERATIONS[operation]
    attempts = await data_attempts(kind, 1, lambda c: c.run(lambda: method(c.client)), waited)
    assert attempts == expected
