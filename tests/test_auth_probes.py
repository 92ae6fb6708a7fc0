"""KrakenAuth and both clients from outside, as a user and as an attacker would: an
http_client routed through a proxy, answers that are not HTTP, secrets in errors.

Over real loopback servers (`HostileServer`), through the public surface only. Secrets are never
printed: assertions test booleans.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from auth_helpers import (
    EMAIL,
    REFRESH,
    REFRESH_TOKEN_VALUE,
    TOKEN_LIFETIME,
    FakeClock,
    FakeKraken,
    Sent,
    data_response,
    error_response,
    raw_http,
)
from hostile_server import HostileServer, Request, response_bytes
from loopback_kraken import (
    CLIENT_KINDS,
    KINDS,
    RAW_KINDS,
    RAW_TIMEOUT,
    VIEWER_BODY,
    Caller,
    html_page,
    scripted,
    too_many_requests,
    viewer_email,
)

from oeus_kraken import (
    APIKey,
    ConfigurationError,
    EmailPassword,
    InvalidResponseError,
    KrakenAuth,
    KrakenClient,
    KrakenError,
    OrganizationSecretKey,
    RateLimitError,
    RefreshToken,
    SyncKrakenClient,
)

SECRET = "sk_live_probe13_do_not_print_0123456789"


def _texts(error: BaseException) -> str:
    """Everything an error reporter shows of `error`: message, repr, notes, attributes, and the
    same of its causes and contexts."""
    seen: set[int] = set()
    texts: list[str] = []
    pending: list[BaseException | None] = [error]
    while pending:
        exc = pending.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        texts += [str(exc), repr(exc), *map(str, getattr(exc, "__notes__", []))]
        texts += [repr(value) for value in vars(exc).values()]
        pending += [exc.__cause__, exc.__context__]
    return "\n".join(texts)


# -- a proxy between the client and a loopback endpoint ------------------------------------------

# A proxy off this machine (TEST-NET-1: nothing answers there; nothing must be sent there).
_REMOTE_PROXY = "http://192.0.2.1:3128"


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_our_own_http_client_sends_a_loopback_call_direct_whatever_the_proxy_variables(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain http:// is allowed on loopback because nothing leaves the machine. With proxy
    variables set, an httpx client made with default settings sends such a request, credential
    included, in clear to that proxy; the http_client our clients make ignores them. (One of
    the caller's own, with a proxy, is the caller's choice: README says so under
    allow_insecure_http, as the client cannot see an http_client's proxy.)"""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, _REMOTE_PROXY)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=0)
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        assert len(endpoint.requests) == 2  # the token request and the call, both direct


# -- answers that are not HTTP --------------------------------------------------------------------


def _status_line_quoting_the_body(request: Request) -> list[tuple[bytes, float]]:
    """A server that is no HTTP server, or a hostile one: its "status line" quotes the request's
    body back (an echo service, a proxy's garbled error), which h11 quotes in its error."""
    if b"obtainKrakenToken" in request.body:
        return [(b"HTTP/1.1 2x0 " + request.body.replace(b"\n", b" ") + b"\r\n\r\n", 0.0)]
    return [(response_bytes(b'{"data": {"viewer": null}}'), 0.0)]


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_malformed_status_line_quoting_the_credential_shows_it_masked(kind: str) -> None:
    with HostileServer(_status_line_quoting_the_body) as server:
        caller = Caller.make(kind, server.url, OrganizationSecretKey(SECRET), max_retries=0)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
    assert server.requests, "the token request reached the server"
    shown = SECRET in _texts(raised.value)
    assert not shown


# -- a clock set back -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_clock_set_back_keeps_a_rate_limit_gate_to_its_retry_after(kind: str) -> None:
    kraken = scripted(token_faults=[too_many_requests(1)])
    clock = FakeClock(time.time())
    with HostileServer(kraken.over_socket) as server:
        options: dict[str, Any] = {"clock": clock}
        if kind in CLIENT_KINDS:
            options["max_retries"] = 0
        caller = Caller.make(kind, server.url, **options)
        try:
            with pytest.raises(RateLimitError):
                await caller.call()
            clock.advance(-3600)  # an NTP step back, a VM restored from a snapshot
            with pytest.raises(RateLimitError) as raised:
                await caller.call()
            assert raised.value.retry_after is not None
            assert raised.value.retry_after <= 1.0  # the Retry-After, not an hour more
            clock.advance(1.5)
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()


# -- under trio -----------------------------------------------------------------------------------
# httpx runs under trio (through anyio), and KrakenAuth is an httpx.Auth for anyone's client; the
# token flows' waits already poll under trio (_steps.Signal). These need trio installed.


def _under_trio(main: Callable[[], Awaitable[None]]) -> None:
    trio = pytest.importorskip("trio")
    trio.run(main)


def test_a_kraken_auth_pausing_for_a_gate_under_trio_is_no_runtime_error() -> None:
    kraken = scripted(token_faults=[html_page(429, "429 Too Many Requests", Retry_After="0.04")])

    async def main() -> None:
        with HostileServer(kraken.over_socket) as server:
            auth = KrakenAuth(OrganizationSecretKey(SECRET), url=server.url)
            async with httpx.AsyncClient(auth=auth, timeout=RAW_TIMEOUT) as http:
                with pytest.raises(RateLimitError):
                    await http.post(server.url, json=VIEWER_BODY)
                # At once: the gate opens within GATE_SLACK, so the flow pauses for it.
                assert viewer_email(await http.post(server.url, json=VIEWER_BODY)) == EMAIL

    _under_trio(main)


def test_the_async_client_under_trio_raises_a_kraken_error_or_works() -> None:
    async def main() -> None:
        with HostileServer(scripted().over_socket) as server:
            async with KrakenClient(server.url, credentials=OrganizationSecretKey(SECRET)) as k:
                with contextlib.suppress(KrakenError):
                    await k.get_viewer()

    _under_trio(main)


# -- an http_client's own Host header -------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_http_client_whose_host_header_names_the_endpoint_works(kind: str) -> None:
    """The other side of test_an_http_client_whose_own_headers_name_another_host_is_refused_...
    (test_auth_edges.py): Host set to the endpoint's own host and port (a tunnel, a proxy's
    requirement) is the endpoint's request, and works."""
    with HostileServer(scripted().over_socket) as endpoint:
        http_class = httpx.AsyncClient if kind == "async" else httpx.Client
        http = http_class(headers={"Host": httpx.URL(endpoint.url).netloc.decode()})
        client_class = KrakenClient if kind == "async" else SyncKrakenClient
        client = client_class(
            endpoint.url, credentials=OrganizationSecretKey(SECRET), http_client=http
        )
        caller = Caller(kind, endpoint.url, client=client, http=http)
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()


# -- a credential read from a file ----------------------------------------------------------------

# Keys, refresh tokens and email addresses never start or end with a space or a line break; a
# value read from a file (`Path("key").read_text()`) ends with its newline.
PADDED_CREDENTIALS = {
    "an API key with its newline": lambda: APIKey(SECRET + "\n"),
    "an organisation key with a Windows newline": lambda: OrganizationSecretKey(SECRET + "\r\n"),
    "a refresh token with a leading space": lambda: RefreshToken(" " + SECRET),
    "an email address with a trailing tab": lambda: EmailPassword("me@example.com\t", SECRET),
}


@pytest.mark.parametrize("make", list(PADDED_CREDENTIALS))
def test_a_credential_with_spaces_or_a_newline_at_its_ends_is_refused_when_made(make: str) -> None:
    """Such a credential was sent as it was, the API rejected it, and the client, blaming the
    credential, would never send it again ("create it with a corrected one"), with nothing
    saying that the newline was the difference. (The CLI and from_env() strip their values.)"""
    with pytest.raises(ConfigurationError, match=r"start or end") as raised:
        PADDED_CREDENTIALS[make]()
    shown = SECRET in str(raised.value)
    assert not shown


def test_a_password_may_start_or_end_with_a_space() -> None:
    """A password is the user's choice, spaces included: kept as given."""
    assert EmailPassword("me@example.com", " pass word ").password == " pass word "


# -- a 401 in answer to the token request ---------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_401_to_the_token_request_does_not_blame_the_credential(kind: str) -> None:
    gateway = html_page(401, "401 Authorization Required", WWW_Authenticate='Basic realm="stage"')
    kraken = scripted(token_faults=[gateway])
    with HostileServer(kraken.over_socket) as server:
        caller = Caller.make(kind, server.url, max_retries=0)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
            assert "public operation" not in str(raised.value)
            assert "corrected" not in str(raised.value)
            # The gateway lets it through now: the credential was never judged, so it is sent.
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()


# -- refreshExpiresIn that predates the refresh token ---------------------------------------------


@pytest.mark.parametrize("refresh_expires_in", [0, 604_800])
async def test_a_refresh_expiry_before_the_token_was_issued_is_taken_as_unknown(
    refresh_expires_in: int,
) -> None:
    kraken = FakeKraken(time.time)

    def issue(_sent: Sent) -> httpx.Response:
        issued = kraken.new_token(refresh_expires_in=refresh_expires_in)
        return data_response({"obtainKrakenToken": issued})

    kraken.set_default(REFRESH, issue)
    clock = FakeClock(time.time())
    with HostileServer(kraken.over_socket) as server:
        caller = Caller.make(
            "sync", server.url, RefreshToken(REFRESH_TOKEN_VALUE), clock=clock, max_retries=0
        )
        try:
            await caller.call()
            clock.advance(TOKEN_LIFETIME + 1)  # the token has ended: its refresh token is used
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
    assert len(kraken.requests(REFRESH)) == 2


# -- an http_client whose own auth adds an Authorization header ------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_http_client_auth_on_the_token_request_is_not_blamed_on_the_credential(
    kind: str,
) -> None:
    kraken = scripted()

    def answer(request: Request) -> list[tuple[bytes, float]]:
        # As Kraken does: a token request carrying an Authorization it cannot read is refused.
        if b"obtainKrakenToken" in request.body and "authorization" in request.headers:
            return [(raw_http(error_response("KT-CT-1143", message="Invalid token.")), 0.0)]
        return kraken.over_socket(request)

    with HostileServer(answer) as server:
        http_class = httpx.AsyncClient if kind == "async" else httpx.Client
        http = http_class(auth=httpx.BasicAuth("gateway-user", "gateway-password"))
        client_class = KrakenClient if kind == "async" else SyncKrakenClient
        client = client_class(
            server.url, credentials=OrganizationSecretKey(SECRET), http_client=http, max_retries=0
        )
        caller = Caller(kind, server.url, client=client, http=http)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
    assert "corrected" not in str(raised.value)
    assert "http_client" in str(raised.value)


# -- a clock that gives something other than seconds -----------------------------------------------

NOT_SECONDS = {
    "datetime.now (a datetime)": datetime.now,
    "None": lambda: None,
    "NaN": lambda: math.nan,
    "a string": lambda: "1767225600",
}


@pytest.mark.parametrize("clock", list(NOT_SECONDS))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_clock_that_gives_no_seconds_is_a_configuration_error(
    kind: str, clock: str
) -> None:
    """`clock=datetime.now` (a natural slip) raised a bare TypeError from deep in the token
    lifecycle ("'<' not supported between datetime and float") at the first call; a NaN clock
    made every call obtain a token of its own."""
    with HostileServer(scripted().over_socket) as server:
        options: dict[str, Any] = {"clock": NOT_SECONDS[clock]}
        if kind in CLIENT_KINDS:
            options["max_retries"] = 0
        caller = Caller.make(kind, server.url, **options)
        try:
            with pytest.raises(ConfigurationError, match="clock"):
                await caller.call()
        finally:
            await caller.close()
        assert server.requests == []


# -- an answer that cannot be decoded ------------------------------------------------------------


def _undecodable(operation: str) -> Callable[[Request], list[tuple[bytes, float]]]:
    """Answers `operation` with a body its Content-Encoding misnames (not gzip at all); the
    rest as the suite's fake Kraken does."""
    kraken = scripted()

    def answer(request: Request) -> list[tuple[bytes, float]]:
        if request.operation != operation:
            return kraken.over_socket(request)
        body = b'{"data": "not gzip at all"}'
        head = "Content-Encoding: gzip\r\n"
        return [(response_bytes(body, headers=head), 0.0)]

    return answer


@pytest.mark.parametrize("operation", ["getKrakenToken", "getViewer"])
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_answer_that_cannot_be_decoded_is_an_invalid_response(
    kind: str, operation: str
) -> None:
    with HostileServer(_undecodable(operation)) as server:
        caller = Caller.make(kind, server.url, max_retries=0)
        try:
            with pytest.raises(InvalidResponseError, match="Content-Encoding"):
                await caller.call()
        finally:
            await caller.close()


# -- a caller's request that describes its own body --------------------------------------------


def _decoding_compressed_requests() -> Callable[[Request], list[tuple[bytes, float]]]:
    """The suite's fake Kraken behind a server that takes compressed requests, as a gateway
    does: a body is decoded as its Content-Encoding says, and one that is not what it says
    is a 400 (as nginx or a CDN answers it), before the API sees it."""
    kraken = scripted()

    def answer(request: Request) -> list[tuple[bytes, float]]:
        if request.headers.get("content-encoding", "").lower() == "gzip":
            try:
                body = gzip.decompress(request.body)
            except (OSError, EOFError):
                page = b"<html><body>400 Bad Request: body is not gzip</body></html>"
                return [(response_bytes(page, status="400 Bad Request"), 0.0)]
            request = dataclasses.replace(request, body=body)
        return kraken.over_socket(request)

    return answer


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_a_compressed_call_gets_a_token_request_that_is_not_said_to_be_compressed(
    kind: str,
) -> None:
    """A raw client sending its GraphQL gzip-compressed (Content-Encoding: gzip) had every
    token request made for it sent with that header too, over a plain JSON body: a server
    that decodes request bodies refused it, so no call could ever obtain a token."""
    compressed = gzip.compress(json.dumps(VIEWER_BODY).encode())
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    with HostileServer(_decoding_compressed_requests()) as server:
        caller = Caller.make(kind, server.url)
        assert caller.http is not None
        http = caller.http
        try:
            response = await caller.run(
                lambda: http.post(server.url, content=compressed, headers=headers)
            )
        finally:
            await caller.close()
    assert response.status_code == 200
    assert viewer_email(response) == EMAIL
    (token_request,) = [r for r in server.requests if b"obtainKrakenToken" in r.body]
    assert "content-encoding" not in token_request.headers
