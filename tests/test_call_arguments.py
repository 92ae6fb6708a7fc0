"""What a call's own arguments may be: `timeout=`, `headers=`, `extensions=`, `options=`, and
`execute`'s document and variables. One that cannot be sent is a ConfigurationError before
anything is sent, never an exception from deep in httpx or pydantic, nor an API error."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from auth_helpers import OBTAIN, VIEWER_DATA, Delayed, data_response
from conftest import AnyClient, call
from hostile_server import HostileServer
from loopback_kraken import CLIENT_KINDS, Caller, scripted
from pytest_httpx import HTTPXMock

from oeus_kraken import (
    APITimeoutError,
    AuthenticationError,
    CallOptions,
    ConfigurationError,
    KrakenClient,
    SyncKrakenClient,
)

BAD_TIMEOUTS = [
    0,
    -1,
    math.nan,
    math.inf,
    10**30,
    True,
    "5",
    httpx.Timeout(math.inf),
    httpx.Timeout(5.0, read=-1),
    httpx.Timeout(math.nan),
]


@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
async def test_a_call_timeout_that_is_no_usable_number_of_seconds_is_refused_before_sending(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock, timeout: Any
) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        await call(client, "get_fan_club_discount", timeout=timeout)
    part = timeout.read if isinstance(timeout, httpx.Timeout) else timeout
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        await call(client, "get_fan_club_discount", extensions={"timeout": {"read": part}})
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("client_class", [KrakenClient, SyncKrakenClient])
@pytest.mark.parametrize("timeout", BAD_TIMEOUTS, ids=repr)
def test_a_client_timeout_that_is_no_usable_number_of_seconds_is_refused(
    client_class: type[AnyClient], timeout: Any
) -> None:
    with pytest.raises(ConfigurationError, match="timeout must be a positive number"):
        client_class(timeout=timeout)


async def test_a_timeout_extension_that_is_no_dict_of_timeouts_is_refused_before_sending(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock
) -> None:
    client = make_client(max_retries=0)
    for extension in (5, {"reed": 5.0}):
        with pytest.raises(ConfigurationError, match="connect, read, write, pool"):
            await call(client, "get_fan_club_discount", extensions={"timeout": extension})
    assert httpx_mock.get_requests() == []


async def test_a_call_timeout_of_none_or_a_day_is_taken(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock
) -> None:
    answer = {"data": {"getFanClubDiscount": {"discountAmount": "0.0"}}}
    httpx_mock.add_response(json=answer, is_reusable=True)
    client = make_client(max_retries=0)
    for timeout in (None, httpx.Timeout(None), 86_400, httpx.Timeout(5.0, read=None)):
        await call(client, "get_fan_club_discount", timeout=timeout)
    assert len(httpx_mock.get_requests()) == 4


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Length": "31337"},
        {"transfer-encoding": "chunked"},
        {"Host": "other.example"},
        {"X-Note": "sécret"},
        {"X-Note": "secret\r\nX-Injected: 1"},
        {"X-Note": "secret\0b"},
        {"X-Nöte": "secret-value"},
    ],
    ids=repr,
)
async def test_a_call_header_that_cannot_be_sent_as_given_is_refused_before_sending(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock, headers: dict[str, str]
) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(ConfigurationError, match="headers=") as caught:
        await call(client, "get_fan_club_discount", headers=headers)
    for value in headers.values():  # a header's value may be a secret: never quoted
        assert value not in str(caught.value)
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "keyword",
    [
        "headers",
        "extensions",
    ],
)
async def test_call_headers_or_extensions_given_as_a_list_of_pairs_are_refused_as_configuration(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock, keyword: str
) -> None:
    """httpx takes headers as a list of (name, value) pairs too; a call's `headers=` and
    `extensions=` are mappings (CallKeywords), and a list raised a bare AttributeError ('list'
    object has no attribute 'items', or 'get'), not a KrakenError."""
    client = make_client(max_retries=0)
    with pytest.raises(ConfigurationError, match=f"{keyword}="):
        await call(client, "get_fan_club_discount", **{keyword: [("X-Team", "energy")]})
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize("flag", ["false", "no", 0, None], ids=repr)
def test_call_options_whose_retry_rate_limits_is_no_bool_are_refused(flag: object) -> None:
    with pytest.raises(ConfigurationError, match="retry_rate_limits must be True or False"):
        CallOptions(retry_rate_limits=flag)  # type: ignore[arg-type]


async def test_a_call_header_of_ascii_text_is_sent(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock
) -> None:
    answer = {"data": {"getFanClubDiscount": {"discountAmount": "0.0"}}}
    httpx_mock.add_response(json=answer)
    client = make_client(max_retries=0)
    await call(client, "get_fan_club_discount", headers={"X-Team": "energy; v=2"})
    assert httpx_mock.get_requests()[0].headers["X-Team"] == "energy; v=2"


@pytest.mark.parametrize(
    "headers",
    [{"X Team": "energy"}, {"X-Team:": "energy"}, {"": "energy"}, {"X-Team": " energy"}],
    ids=repr,
)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_call_header_http_refuses_is_refused_before_sending_not_blamed_on_the_network(
    kind: str, headers: dict[str, str]
) -> None:
    """A header name with a space or a colon, an empty one, or a value starting with a space,
    is refused by HTTP/1.1 itself (h11), as the request is written: it was retried, then said
    "could not reach the Kraken API ... Check the URL and the network" (APIConnectionError)."""
    with HostileServer(scripted().over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=1)
        try:
            assert caller.client is not None
            client = caller.client
            await caller.run(client.get_viewer)  # the token obtained: only the call is left
            with pytest.raises(ConfigurationError, match="headers="):
                await caller.run(lambda: client.get_viewer(headers=headers))
        finally:
            await caller.close()
        assert len(endpoint.requests) == 2  # the token request and the first call


# The headers the client sets, named in bytes (httpx takes bytes names and values alike), each
# with a value it would send.
HEADERS_THE_CLIENT_SETS_IN_BYTES = {
    b"Host": b"other.example",
    b"HOST": b"other.example",
    b"Content-Length": b"31337",
    b"Transfer-Encoding": b"chunked",
}


@pytest.mark.parametrize("name", list(HEADERS_THE_CLIENT_SETS_IN_BYTES), ids=repr)
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_header_the_client_sets_is_refused_when_the_call_names_it_in_bytes(
    kind: str, name: bytes
) -> None:
    """`headers={"Host": ...}` is refused, as the Host header routes the request (on a shared
    server or a CDN) to another virtual host than the endpoint's; `headers={b"Host": ...}` was
    sent: the token request, credential and all, and then the call with its token went to
    `Host: other.example`. A bytes Content-Length or Transfer-Encoding reached h11 likewise."""
    with HostileServer(scripted().over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=0)
        try:
            assert caller.client is not None
            client = caller.client
            headers: Any = {name: HEADERS_THE_CLIENT_SETS_IN_BYTES[name]}
            with pytest.raises(ConfigurationError, match="headers="):
                await caller.run(lambda: client.get_viewer(headers=headers))
        finally:
            await caller.close()
        assert endpoint.requests == []


# Public (no token request): whatever is sent, only the call itself can be.
DOCUMENT = "query getFanClubDiscount($note: String) { getFanClubDiscount { discountAmount } }"


@pytest.mark.parametrize(
    "note", [math.nan, math.inf, b"\xff\xfe", object()], ids=["nan", "inf", "bytes", "object"]
)
async def test_a_variable_that_is_no_json_value_is_refused_before_sending_naming_it(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock, note: object
) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(ConfigurationError, match=r"the variables \['note'\] cannot be sent"):
        await call(
            client,
            "execute",
            query=DOCUMENT,
            operation_name="getFanClubDiscount",
            variables={"note": note},
        )
    assert httpx_mock.get_requests() == []


@pytest.mark.parametrize(
    "arguments",
    [
        {"query": ""},
        {"query": "  \n"},
        {"query": b"{ viewer { id } }"},
        {"query": None},
        {"query": DOCUMENT, "variables": [("note", "x")]},
        {"query": DOCUMENT, "operation_name": 1},
        {"query": DOCUMENT, "options": "no-retries"},
    ],
    ids=repr,
)
async def test_a_document_variables_or_options_of_the_wrong_kind_are_refused_before_sending(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock, arguments: dict[str, Any]
) -> None:
    client = make_client(max_retries=0)
    with pytest.raises(ConfigurationError):
        await call(client, "execute", **arguments)
    assert httpx_mock.get_requests() == []


async def test_a_variable_spelt_nan_or_holding_the_word_is_sent(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock
) -> None:
    httpx_mock.add_response(json={"data": {"getFanClubDiscount": {"discountAmount": "0.0"}}})
    client = make_client(max_retries=0)
    await call(
        client,
        "execute",
        query=DOCUMENT,
        operation_name="getFanClubDiscount",
        variables={"note": "NaN and Infinity"},
    )
    assert b'"note":"NaN and Infinity"' in httpx_mock.get_requests()[0].content


async def test_a_call_cut_off_by_closing_its_client_meanwhile_says_the_client_was_closed(
    kind: str,
) -> None:
    """Another thread or task closing the client under a call: the connection's read fails
    (a bad file descriptor), which is the closing, not the network."""
    client: AnyClient

    def cut_off(request: httpx.Request) -> httpx.Response:
        assert isinstance(client, SyncKrakenClient)
        client.close()
        raise httpx.ReadError("[Errno 9] Bad file descriptor", request=request)

    async def acut_off(request: httpx.Request) -> httpx.Response:
        assert isinstance(client, KrakenClient)
        await client.aclose()
        raise httpx.ReadError("[Errno 9] Bad file descriptor", request=request)

    if kind == "sync":
        http: Any = httpx.Client(transport=httpx.MockTransport(cut_off))
        client = SyncKrakenClient(http_client=http, max_retries=0)
    else:
        http = httpx.AsyncClient(transport=httpx.MockTransport(acut_off))
        client = KrakenClient(http_client=http, max_retries=0)
    with pytest.raises(ConfigurationError, match="closed while this call was under way"):
        await call(client, "get_fan_club_discount")
    await http.aclose() if kind == "async" else http.close()


async def test_a_401_to_a_public_operation_says_it_carried_no_token(
    make_client: Callable[..., AnyClient], httpx_mock: HTTPXMock
) -> None:
    # It said "the API did not accept the credentials sent" of a request that carried none.
    httpx_mock.add_response(status_code=401, text="Unauthorized")
    client = make_client(max_retries=2)
    with pytest.raises(AuthenticationError) as raised:
        await call(client, "get_fan_club_discount")
    assert "carried no token" in str(raised.value)
    assert "credentials sent" not in str(raised.value)
    assert len(httpx_mock.get_requests()) == 1  # not retried


# -- the client's timeout beside an http_client of the caller's ----------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_timeout_given_beside_an_http_client_is_each_calls_time_limit(kind: str) -> None:
    """`timeout=` given with the caller's own http_client was ignored: the http_client's own
    (httpx's 5 s by default) timed every call, so a 0.3 s limit let a call wait 1.5 s. Given
    both, the client's is each call's (as a call's own timeout= is), and authenticate()'s."""
    kraken = scripted()
    kraken.set_default("getViewer", lambda _sent: Delayed(1.5, data_response(VIEWER_DATA)))
    kraken.queue(OBTAIN, lambda sent: Delayed(1.5, kraken.issue_token(sent)))
    with HostileServer(kraken.over_socket) as endpoint:
        callers = [
            Caller.make(kind, endpoint.url, follow_redirects=False, timeout=0.3, max_retries=0)
            for _ in range(2)
        ]
        slow_token, slow_viewer = (caller.client for caller in callers)
        assert slow_token is not None
        assert slow_viewer is not None
        try:
            with pytest.raises(APITimeoutError):  # its token request answered after 1.5 s
                await callers[0].run(slow_token.authenticate)
            with pytest.raises(APITimeoutError):  # the token at once, the answer after 1.5 s
                await callers[1].run(slow_viewer.get_viewer)
        finally:
            for caller in callers:
                await caller.close()
