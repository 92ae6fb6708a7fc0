"""The fast path builds the same requests as the general one, and keeps every promise it makes.

Our clients build a request from what build_request made once (`oeus_kraken._call.
RequestBuilder`: the URL parsed and the http_client's headers merged once) instead of calling
`http_client.build_request` on every call, and fall back to build_request whenever that cannot
promise the same request. These tests run each scenario twice, once as the clients run (fast)
and once with that switched off (general: build_request for every request), against a fake
Kraken, and require the two to send byte-for-byte the same requests and see the same hooks, and
the fast run to show what the scenario is about. Also here: an auth set on the caller's
http_client runs after ours, and the caches the fast path keeps stay small.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from auth_helpers import VIEWER_DATA, FakeClock, FakeKraken, Sent, data_response
from conftest import call, close_client
from hostile_server import HostileServer
from loopback_kraken import Caller, data_requests, scripted

from oeus_kraken import (
    APIKey,
    APITimeoutError,
    ConfigurationError,
    KrakenAuth,
    KrakenClient,
    SyncKrakenClient,
    _call,
    _transport,
)

URL = "https://kraken.example.test/v1/graphql/"
API_KEY = APIKey("APIKEYSECRET-fast-path")
LIFETIME = 3600
MARGIN = 300


def Kraken() -> FakeKraken:  # noqa: N802 (reads as the fake it makes)
    """The suite's fake Kraken on a fake clock: token N is made from the clock and serial N, so
    two runs of one scenario get the same tokens, and every request is recorded (`sent`) with
    everything that could differ: method, URL, headers in order, body, timeout. Any data
    operation is answered with the viewer."""
    kraken = FakeKraken(FakeClock())
    kraken.data_reply = lambda _sent: data_response(VIEWER_DATA)
    return kraken


def answer_next_with_cookie(kraken: FakeKraken, cookie: str) -> None:
    """The next viewer answer sets `cookie`."""
    answer = {"data": VIEWER_DATA}
    kraken.queue(
        "getViewer", lambda _sent: httpx.Response(200, json=answer, headers={"set-cookie": cookie})
    )


@pytest.fixture
def general_path(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """`general_path(True)` makes every client build every request with build_request."""

    def switch(on: bool) -> None:
        if on:  # no client qualifies for the fast path
            monkeypatch.setattr(_transport, "PLAIN_CLIENTS", ())
        else:
            monkeypatch.undo()

    return switch


def http_client(
    kind: str,
    kraken: FakeKraken,
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
    **options: Any,
) -> httpx.Client | httpx.AsyncClient:
    transport = httpx.MockTransport(handler or kraken.handle)
    if kind == "sync":
        return httpx.Client(transport=transport, **options)
    return httpx.AsyncClient(transport=transport, **options)


def client_for(kind: str, http: httpx.Client | httpx.AsyncClient, clock: FakeClock) -> Any:
    cls = SyncKrakenClient if kind == "sync" else KrakenClient
    return cls(URL, credentials=API_KEY, http_client=http, clock=clock, refresh_margin=MARGIN)


async def close(http: httpx.Client | httpx.AsyncClient) -> None:
    if isinstance(http, httpx.AsyncClient):
        await http.aclose()
    else:
        http.close()  # noqa: ASYNC212 (a blocking client, closed without I/O: MockTransport)


@asynccontextmanager
async def opened(
    kind: str,
    kraken: FakeKraken,
    handler: Callable[[httpx.Request], httpx.Response] | None = None,
    **options: Any,
) -> AsyncIterator[tuple[Any, Any]]:
    """(the caller's http_client, our client over it), both closed on exit."""
    http = http_client(kind, kraken, handler, **options)
    client = client_for(kind, http, kraken.clock)
    try:
        yield http, client
    finally:
        await close_client(client)
        await close(http)


async def both_paths(
    general_path: Callable[[bool], None], run: Callable[[], Any]
) -> tuple[Any, Any]:
    """What `run` observed on the fast path, then on the general one."""
    fast = await run()
    general_path(True)
    try:
        general = await run()
    finally:
        general_path(False)
    return fast, general


# -- the caller's http_client: headers, cookies, event hooks ---------------------------------------


async def test_the_fast_path_sends_the_http_clients_headers_as_build_request_does(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        headers = {"User-Agent": "my-app/2.0", "X-Team": "energy", "Accept": "*/*"}
        async with opened(kind, kraken, headers=headers) as (_, client):
            await call(client, "get_viewer")
            await call(client, "get_viewer")
        return kraken.sent

    fast, general = await both_paths(general_path, run)
    assert fast == general
    data = [s for s in fast if s.operation == "getViewer"]
    assert [s.header("user-agent") for s in data] == ["my-app/2.0"] * 2
    assert [s.header("x-team") for s in data] == ["energy"] * 2
    assert all(s.header("content-type") == "application/json" for s in fast)
    assert all(s.header("content-length") == str(len(s.content)) for s in fast)


async def test_a_change_to_http_client_headers_after_the_first_call_is_sent_from_the_next_call(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        async with opened(kind, kraken, headers={"X-Version": "1"}) as (http, client):
            await call(client, "get_viewer")
            http.headers["X-Version"] = "2"  # changed in place
            await call(client, "get_viewer")
            http.headers = httpx.Headers({"X-Other": "replaced"})  # replaced
            await call(client, "get_viewer")
            del http.headers["X-Other"]
            await call(client, "get_viewer")
        return kraken.data_requests

    fast, general = await both_paths(general_path, run)
    assert fast == general
    assert [(s.header("x-version"), s.header("x-other")) for s in fast] == [
        ("1", None),
        ("2", None),
        (None, "replaced"),
        (None, None),
    ]


async def test_cookies_of_the_http_client_and_from_answers_are_sent_as_build_request_sends_them(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        async with opened(kind, kraken) as (http, client):
            await call(client, "get_viewer")  # no cookies yet: the template
            answer_next_with_cookie(kraken, "session=abc123; Path=/; Secure")
            await call(client, "get_viewer")  # answered with a cookie
            await call(client, "get_viewer")  # sends it back
            http.cookies.clear()
            await call(client, "get_viewer")  # none again
            http.cookies.set("region", "tx", domain="kraken.example.test")
            await call(client, "get_viewer")
        return kraken.data_requests

    fast, general = await both_paths(general_path, run)
    assert fast == general
    assert [s.header("cookie") for s in fast] == [None, None, "session=abc123", None, "region=tx"]


async def test_the_http_clients_event_hooks_see_the_same_requests_and_answers_on_both_paths(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> tuple[list[Sent], list[str]]:
        kraken = Kraken()
        log: list[str] = []

        def on_request(request: httpx.Request) -> None:
            request.headers["X-Hooked"] = "yes"  # a hook may change the request
            log.append(f"request {request.method} {request.url} {request.headers.get('x-team')}")

        def on_response(response: httpx.Response) -> None:
            log.append(f"response {response.status_code} {response.request.url}")

        async def async_on_request(request: httpx.Request) -> None:
            on_request(request)

        async def async_on_response(response: httpx.Response) -> None:
            on_response(response)

        hooks: dict[str, list[Any]] = (
            {"request": [on_request], "response": [on_response]}
            if kind == "sync"
            else {"request": [async_on_request], "response": [async_on_response]}
        )
        options = {"event_hooks": hooks, "headers": {"X-Team": "energy"}}
        async with opened(kind, kraken, **options) as (_, client):
            await call(client, "get_viewer")
            await call(client, "get_viewer")
        return kraken.sent, log

    fast, general = await both_paths(general_path, run)
    assert fast == general
    seen, log = fast
    assert len(log) == 2 * len(seen) == 6  # the token request and two calls, each way
    assert all(s.header("x-hooked") == "yes" for s in seen)


async def test_an_http_client_with_params_or_a_base_url_gets_what_build_request_makes(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        async with opened(
            kind, kraken, params={"tenant": "tx"}, base_url="https://other.test/"
        ) as (http, client):
            await call(client, "get_viewer")
            http.params = httpx.QueryParams()
            await call(client, "get_viewer")
        return kraken.sent

    fast, general = await both_paths(general_path, run)
    assert fast == general
    assert [s.url for s in fast if s.operation == "getViewer"] == [f"{URL}?tenant=tx", URL]


# -- one call's options -------------------------------------------------------------------------


async def test_a_per_call_timeout_is_the_requests_timeout_on_both_paths(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        async with opened(kind, kraken, timeout=httpx.Timeout(20.0, connect=2.0)) as (http, client):
            await call(client, "get_viewer")
            await call(client, "get_viewer", timeout=3.5)
            await call(client, "get_viewer", timeout=httpx.Timeout(1.0, read=7.0))
            await call(client, "get_viewer", timeout=None)
            http.timeout = httpx.Timeout(9.0)
            await call(client, "get_viewer")
        return kraken.data_requests

    fast, general = await both_paths(general_path, run)
    assert fast == general
    assert [s.timeout for s in fast] == [
        httpx.Timeout(20.0, connect=2.0).as_dict(),
        httpx.Timeout(3.5).as_dict(),
        httpx.Timeout(1.0, read=7.0).as_dict(),
        httpx.Timeout(None).as_dict(),
        httpx.Timeout(9.0).as_dict(),
    ]


async def test_per_call_headers_are_sent_and_a_callers_authorization_is_not(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> list[Sent]:
        kraken = Kraken()
        async with opened(kind, kraken, headers={"X-Team": "energy"}) as (_, client):
            await call(client, "get_viewer")
            await call(
                client,
                "get_viewer",
                headers={"X-Request-Id": "r-42", "X-Team": "billing", "Authorization": "stale"},
            )
            await call(client, "get_viewer")
        return kraken.data_requests

    fast, general = await both_paths(general_path, run)
    assert fast == general
    token = fast[0].header("authorization")
    assert [(s.header("x-request-id"), s.header("x-team")) for s in fast] == [
        (None, "energy"),
        ("r-42", "billing"),
        (None, "energy"),
    ]
    assert [s.header("authorization") for s in fast] == [token] * 3


# -- the token changing between calls -----------------------------------------------------------


async def test_a_token_renewed_between_calls_is_the_one_the_next_call_sends(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> tuple[list[Sent], list[str]]:
        kraken = Kraken()
        async with opened(kind, kraken) as (_, client):
            await call(client, "get_viewer")
            await call(client, "get_viewer")
            kraken.clock.advance(LIFETIME - MARGIN + 1)  # due for refresh
            await call(client, "get_viewer")
            await call(client, "get_viewer")
        return kraken.sent, kraken.issued_tokens

    fast, general = await both_paths(general_path, run)
    assert fast == general
    seen, tokens = fast
    assert [s.operation for s in seen] == [
        "getKrakenToken",
        "getViewer",
        "getViewer",
        "refreshKrakenToken",
        "getViewer",
        "getViewer",
    ]
    data = [s.header("authorization") for s in seen if s.operation == "getViewer"]
    assert len(set(tokens)) == len(tokens) == 2
    assert data == [tokens[0], tokens[0], tokens[1], tokens[1]]
    assert all(s.header("authorization") is None for s in seen if s.operation != "getViewer")


async def test_a_token_rejected_mid_stream_is_replaced_and_the_call_resent_with_the_new_one(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> tuple[list[Sent], list[str]]:
        kraken = Kraken()
        rejected: set[str] = set()
        handle = kraken.handle

        def rejecting(request: httpx.Request) -> httpx.Response:
            response = handle(request)
            token = request.headers.get("authorization")
            if token in rejected:
                return httpx.Response(401, json={"errors": [{"message": "expired"}]})
            return response

        async with opened(kind, kraken, rejecting) as (_, client):
            await call(client, "get_viewer")
            rejected.add(kraken.issued_tokens[0])  # the API stops accepting it (a revocation)
            await call(client, "get_viewer")
            await call(client, "get_viewer")
        return kraken.sent, kraken.issued_tokens

    fast, general = await both_paths(general_path, run)
    assert fast == general
    seen, tokens = fast
    data = [s.header("authorization") for s in seen if s.operation == "getViewer"]
    assert data == [tokens[0], tokens[0], tokens[1], tokens[1]]


# -- the template itself ------------------------------------------------------------------------


def sync_client_with(http: httpx.Client, clock: FakeClock | None = None) -> SyncKrakenClient:
    return SyncKrakenClient(URL, credentials=API_KEY, http_client=http, clock=clock)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"headers": {"X-Team": "energy", "User-Agent": "my-app/2.0"}},
        {"headers": [("X-Dup", "a"), ("X-Dup", "b"), ("content-type", "text/plain")]},
        {"headers": {"X-Name": "Ünïcode".encode("latin-1")}},  # not ASCII: another encoding
        {"base_url": "https://elsewhere.test/api/"},
        {"timeout": httpx.Timeout(1.5)},
    ],
    ids=["defaults", "headers", "repeated-and-content-type", "non-ascii", "base-url", "timeout"],
)
@pytest.mark.parametrize(
    ("operation", "variables"),
    [("getViewer", {}), ("getAccount", {"accountNumber": "A-1234ABCD"}), (None, None)],
)
@pytest.mark.parametrize("token", [None, "tok-1"], ids=["no-token", "token"])
def test_a_request_from_the_template_equals_build_requests_for_the_same_call(
    options: dict[str, Any],
    operation: str | None,
    variables: dict[str, Any] | None,
    token: str | None,
) -> None:
    with httpx.Client(**options) as http:
        builder = _call.RequestBuilder(URL, check=lambda _request: None)
        query = "query getViewer { viewer { id } }"
        body = _call.request_body(query, operation, variables or {})
        for extra in ({}, {"timeout": 2.0}, {"extensions": {"trace": "t-1"}}):
            timeout = extra.get("timeout", httpx.USE_CLIENT_DEFAULT)
            extensions = extra.get("extensions")
            fast = builder.build(http, body, None, timeout, extensions, token)
            general = http.build_request(
                "POST",
                URL,
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=timeout,
                extensions=extensions,
            )
            if token is not None:  # as KrakenAuth.authorized puts it there
                general.headers["Authorization"] = token
            assert builder._usable  # it was the fast path
            assert (fast.method, fast.url, fast.headers.raw, fast.content) == (
                general.method,
                general.url,
                general.headers.raw,
                general.content,
            )
            assert fast.headers.encoding == general.headers.encoding
            assert fast.extensions == general.extensions
            assert isinstance(fast.stream, httpx.ByteStream)
            assert b"".join(fast.stream) == general.content


def test_the_body_is_the_json_of_query_operation_name_and_variables_byte_for_byte() -> None:
    from pydantic_core import to_json

    for query, name, variables in [
        ("query getViewer { viewer { id } }", "getViewer", {}),
        ("query q($n: String!) { account(accountNumber: $n) { number } }", "q", {"n": "A-1"}),
        ('query { x(s: "\\"quoted\\" ✓") }', None, {"list": [1, 2.5, None, True], "s": "é\n"}),
    ]:
        expected = to_json({"query": query, "operationName": name, "variables": variables})
        assert _call.request_body(query, name, variables) == expected


def test_an_http_client_class_that_builds_requests_its_own_way_keeps_doing_so() -> None:
    built: list[str] = []

    class Signing(httpx.Client):
        def build_request(self, method: str, url: Any, **kwargs: Any) -> httpx.Request:
            request = super().build_request(method, url, **kwargs)
            request.headers["X-Signature"] = "signed"
            built.append(str(request.url))
            return request

    kraken = Kraken()
    with (
        Signing(transport=httpx.MockTransport(kraken.handle)) as http,
        sync_client_with(http, kraken.clock) as client,
    ):
        client.get_viewer()
        client.get_viewer()
        assert not client._requests._usable
    assert [s.header("x-signature") for s in kraken.data_requests] == ["signed", "signed"]
    assert len(built) == 2  # once for each call: the template did not build in its stead


def test_the_caches_of_the_fast_path_stay_small_whatever_is_sent() -> None:
    kraken = Kraken()
    with (
        httpx.Client(transport=httpx.MockTransport(kraken.handle)) as http,
        sync_client_with(http, kraken.clock) as client,
    ):
        for n in range(2 * _call._MAX_BODY_STARTS):  # each document, each length new
            client.execute(f"query getViewer{n} {{ viewer {{ id }} }}" + " " * n, f"q{n}")
        assert client._requests._usable
        assert len(_call._body_starts) <= _call._MAX_BODY_STARTS
        assert len(client._requests._kept_headers) <= _call._LENGTHS_KEPT


# -- an auth set on the caller's http_client ------------------------------------------------------


class GatewayKey(httpx.Auth):
    """What a gateway in front of the API might want on every request, next to our token."""

    def __init__(self) -> None:
        self.saw_tokens: list[str | None] = []

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        self.saw_tokens.append(request.headers.get("authorization"))
        request.headers["X-Gateway-Key"] = "gw-123"
        yield request


class Challenge(httpx.Auth):
    """A two-step auth: the first answer (HTTP 407 with a nonce) asks for a second try."""

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        response = yield request
        if response.status_code == 407:
            request.headers["X-Answer"] = response.headers["x-nonce"][::-1]
            yield request


async def test_an_auth_on_the_http_client_runs_after_ours_on_every_request(
    kind: str, general_path: Callable[[bool], None]
) -> None:
    async def run() -> tuple[list[Sent], list[str | None]]:
        kraken = Kraken()
        gateway = GatewayKey()
        async with opened(kind, kraken, auth=gateway) as (_, client):
            await call(client, "get_viewer")
            await call(client, "get_viewer")
        return kraken.sent, gateway.saw_tokens

    fast, general = await both_paths(general_path, run)
    assert fast == general
    seen, saw_tokens = fast
    assert [s.operation for s in seen] == ["getKrakenToken", "getViewer", "getViewer"]
    assert all(s.header("x-gateway-key") == "gw-123" for s in seen)
    # It saw each request as ours left it: the token request without a token, calls with it.
    assert saw_tokens == [None, *(s.header("authorization") for s in seen[1:])]


async def test_an_http_client_auth_of_several_steps_gives_our_flow_its_last_answer(
    kind: str,
) -> None:
    kraken = Kraken()

    def guarded(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-answer") != "cba":
            return httpx.Response(407, headers={"x-nonce": "abc"})
        return kraken.handle(request)

    async with opened(kind, kraken, guarded, auth=Challenge()) as (_, client):
        viewer = await call(client, "get_viewer")
    assert viewer.viewer is not None
    assert viewer.viewer.email == "ada@example.com"
    assert [s.operation for s in kraken.sent] == ["getKrakenToken", "getViewer"]


async def test_an_http_client_with_a_kraken_auth_of_its_own_is_refused(kind: str) -> None:
    kraken = Kraken()
    own = KrakenAuth(API_KEY)
    with pytest.raises(ConfigurationError, match="KrakenAuth of its own"):
        client_for(kind, http_client(kind, kraken, auth=own), kraken.clock)
    async with opened(kind, kraken) as (http, client):
        http.auth = own  # set later: refused at the next call, before anything is sent
        with pytest.raises(ConfigurationError, match="KrakenAuth of its own"):
            await call(client, "get_viewer")
    assert kraken.sent == []


# -- many callers waiting for one token request ------------------------------------------------


class HungTokenRequest:
    """A KrakenClient whose token request hangs until `release` is set. `caller(name, **options)`
    starts a get_viewer task, whose name goes into `ended` when it ends, in that order."""

    def __init__(self, client: KrakenClient) -> None:
        self.client = client
        self.release = asyncio.Event()
        self.ended: list[str] = []

    def caller(self, name: str, **options: Any) -> asyncio.Task[Any]:
        async def get_viewer() -> Any:
            try:
                return await self.client.get_viewer(**options)
            finally:
                self.ended.append(name)

        return asyncio.create_task(get_viewer())


@asynccontextmanager
async def hung_token_request(kraken: FakeKraken) -> AsyncIterator[HungTokenRequest]:
    async def hanging(request: httpx.Request) -> httpx.Response:
        if json.loads(request.content).get("operationName") == "getKrakenToken":
            await hung.release.wait()
        return kraken.handle(request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(hanging)) as http:
        hung = HungTokenRequest(
            KrakenClient(URL, credentials=API_KEY, http_client=http, max_retries=0)
        )
        yield hung
        await hung.client.aclose()


async def test_callers_waiting_for_a_hung_token_request_each_stop_at_their_own_deadline() -> None:
    kraken = Kraken()
    async with hung_token_request(kraken) as hung:
        owner = hung.caller("owner")  # its token request hangs
        await asyncio.sleep(0.01)
        later = hung.caller("later", timeout=0.4)
        sooner = hung.caller("sooner", timeout=0.2)
        patient = hung.caller("patient")
        with pytest.raises(APITimeoutError, match="no Kraken token arrived"):
            await asyncio.wait_for(sooner, 5)  # (a bound, so that a broken wait fails the test)
        assert hung.ended == ["sooner"]
        with pytest.raises(APITimeoutError, match="no Kraken token arrived"):
            await asyncio.wait_for(later, 5)
        assert hung.ended == ["sooner", "later"]
        hung.release.set()  # the token arrives: the owner and the patient caller go on
        assert (await asyncio.wait_for(owner, 5)).viewer is not None
        assert (await asyncio.wait_for(patient, 5)).viewer is not None
    assert [s.operation for s in kraken.sent].count("getKrakenToken") == 1


async def test_a_cancelled_waiter_leaves_the_others_their_own_deadlines_and_the_token() -> None:
    kraken = Kraken()
    async with hung_token_request(kraken) as hung:
        owner = hung.caller("owner")
        await asyncio.sleep(0.01)
        quitter = hung.caller("quitter", timeout=0.2)  # the earliest limit of those waiting
        began = asyncio.get_running_loop().time()
        bounded = hung.caller("bounded", timeout=0.4)
        patient = hung.caller("patient")
        await asyncio.sleep(0.05)
        quitter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await quitter
        with pytest.raises(APITimeoutError, match="no Kraken token arrived"):
            await asyncio.wait_for(bounded, 5)
        assert asyncio.get_running_loop().time() - began >= 0.39  # not before its own limit
        assert hung.ended == ["quitter", "bounded"]
        hung.release.set()
        assert (await asyncio.wait_for(owner, 5)).viewer is not None
        assert (await asyncio.wait_for(patient, 5)).viewer is not None
    assert [s.operation for s in kraken.sent].count("getKrakenToken") == 1


# -- the http_client our clients make ----------------------------------------------------------


async def test_the_http_client_our_clients_make_sends_back_the_cookies_answers_set(
    kind: str,
) -> None:
    """It reads Set-Cookie only from answers that carry one (oeus_kraken._transport): a cookie an
    answer sets is still sent with the next requests, and answers without one keep it."""
    cookies = iter([{"set-cookie": "session=abc123; Path=/"}, {}, {}])

    def viewer(_sent: Sent) -> httpx.Response:
        return httpx.Response(200, json={"data": VIEWER_DATA}, headers=next(cookies))

    with HostileServer(scripted(data=viewer).over_socket) as server:
        caller = Caller.make(kind, server.url)
        try:
            for _ in range(3):
                await caller.call()
            assert caller.client is not None
            assert [c.name for c in caller.client.http_client.cookies.jar] == ["session"]
        finally:
            await caller.close()
    sent = [request.headers.get("cookie") for request in data_requests(server)]
    assert sent == [None, "session=abc123", "session=abc123"]
