"""The auth core's edges, probed from outside over real loopback servers: a server that quotes
the token back, a refresh the API refuses, a refresh that fails while the token still works.

Each test runs over the kinds of caller it applies to (`loopback_kraken.KINDS`): our async and
sync clients, and raw httpx clients with a KrakenAuth. The client's clock is a `FakeClock`
starting now, moved by hand into a token's refresh window or past its end; the server (the
suite's fake Kraken behind a `HostileServer`) issues tokens on real time, an hour long.
"""

from __future__ import annotations

import contextlib
import copy
import html
import json
import pickle
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_helpers import (
    DEFAULT_DATA,
    EMAIL,
    MARGIN,
    NEVER,
    OBTAIN,
    ORG_KEY,
    REFRESH,
    REFRESH_TOKEN_VALUE,
    TOKEN_LIFETIME,
    FakeClock,
    FakeKraken,
    SavesHeldBack,
    Sent,
    error_response,
    json_response,
    raw_http,
    secrets_of,
)
from hostile_server import HostileServer, Request
from loopback_kraken import (
    CLIENT_KINDS,
    CREDENTIAL,
    KINDS,
    RAW_KINDS,
    Caller,
    html_page,
    origin,
    redirect,
    scripted,
    token_requests,
    too_many_requests,
    viewer_email,
)

from oeus_kraken import (
    TEST_URL,
    APIConnectionError,
    APIKey,
    APIStatusError,
    AuthenticationError,
    ConfigurationError,
    Credentials,
    EmailPassword,
    FileTokenStore,
    InvalidResponseError,
    KrakenAuth,
    KrakenClient,
    KrakenError,
    ObtainJSONWebTokenInput,
    OrganizationSecretKey,
    RateLimitError,
    RefreshToken,
    StoredTokens,
    SyncKrakenClient,
)
from oeus_kraken._responses import TokenRejectedError

# -- a server that quotes the token back ---------------------------------------------------------

# How a server quotes the Authorization header of the data request it refuses or fails.
QUOTING_THE_TOKEN: dict[str, Callable[[str], httpx.Response]] = {
    "KT-CT-1111 (the token still held)": lambda token: error_response(
        "KT-CT-1111", message=f"Unauthorized: token {token} may not read this."
    ),
    "KT-CT-1124, twice (a fresh token rejected)": lambda token: error_response(
        "KT-CT-1124", message=f"Signature of the JWT {token!r} has expired."
    ),
    "an HTTP 400 in plain text": lambda token: httpx.Response(
        400, text=f'Bad request: Authorization "{token}" is malformed'
    ),
}


async def error_of_one_call(caller: Caller) -> KrakenError:
    """The KrakenError one viewer call raises (the caller closed after it)."""
    try:
        with pytest.raises(KrakenError) as raised:
            await caller.call()
    finally:
        await caller.close()
    return raised.value


def with_http_client(kind: str, url: str, http_options: dict[str, Any], **options: Any) -> Caller:
    """A Caller of `kind` whose httpx client is made with `http_options` (event hooks, a
    transport): the raw client itself, with a KrakenAuth, or the http_client given to ours
    (`options` go to our client)."""
    is_async = kind in ("async", "raw-async")
    http_class = httpx.AsyncClient if is_async else httpx.Client
    if kind in RAW_KINDS:
        http = http_class(auth=KrakenAuth(CREDENTIAL, url=url), **http_options)
        return Caller(kind, url, http=http)
    http = http_class(**http_options)
    client_class = KrakenClient if is_async else SyncKrakenClient
    client = client_class(url, credentials=CREDENTIAL, http_client=http, **options)
    return Caller(kind, url, client=client, http=http)


def everything_said(error: BaseException) -> str:
    """The error and its chain: messages, reprs, arguments and attributes (errors, data)."""
    said = []
    seen: BaseException | None = error
    while seen is not None:
        said.append(repr((str(seen), repr(seen), seen.args, vars(seen))))
        seen = seen.__cause__ or seen.__context__
    return "\n".join(said)


@pytest.mark.parametrize("quoting", list(QUOTING_THE_TOKEN))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_data_call_error_that_quotes_the_token_back_shows_it_masked(
    kind: str, quoting: str
) -> None:
    """The API's words reach the error (the user needs them), with the token masked as a token
    request's credential is: a PermissionDeniedError carrying a token that still works would
    hand it to every log and error reporter."""
    quote = QUOTING_THE_TOKEN[quoting]
    kraken = scripted(data=lambda sent: quote(sent.authorization or ""))
    with HostileServer(kraken.over_socket) as endpoint:
        error = await error_of_one_call(Caller.make(kind, endpoint.url, max_retries=0))
    assert kraken.issued_tokens, "no token was issued: the test proves nothing"
    said = everything_said(error)
    assert [s for s in secrets_of(kraken) if s in said] == []
    assert str(error).count("***") == 1


@pytest.mark.parametrize(("key", "masked"), [("k", False), ("kra", False), ("krak", True)])
def test_a_credential_too_short_to_tell_from_the_words_around_it_leaves_them_readable(
    key: str, masked: bool
) -> None:
    """Masked, APIKey("k") turned every k of a message into *** ("getKra***enToken", "Name or
    service not ***nown"); a secret of under 4 characters hides nothing. From 4 on, masked."""

    def maintenance(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="krakens ahead: down for maintenance")

    http = httpx.Client(transport=httpx.MockTransport(maintenance))
    kraken = SyncKrakenClient(TEST_URL, credentials=APIKey(key), max_retries=0, http_client=http)
    with http, kraken, pytest.raises(APIStatusError) as raised:
        kraken.get_viewer()

    said = str(raised.value)
    assert said.startswith("getKrakenToken: ")
    assert ("krakens ahead" in said) is not masked
    assert ("***ens ahead" in said) is masked


# The credential fields of ObtainJSONWebTokenInput, each with a value the test looks for.
TOKEN_INPUT_FIELDS = {
    "api_key": "APIKEYSECRET-typed-61c0",
    "organization_secret_key": "sk_live_ORGSECRET-typed-93ad",
    "password": "PWSECRET-typed-2b7e",
    "refresh_token": "REFRESHSECRET-typed-4f18",
}


@pytest.mark.parametrize("field", list(TOKEN_INPUT_FIELDS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_the_typed_token_methods_error_that_quotes_its_input_shows_the_credential_masked(
    kind: str, field: str
) -> None:
    """README lists get_kraken_token(input) among the methods: a token request made by hand.
    When the API quotes the input back (a validation error repeats a variable whole), the
    client's own token request masks the credential; this one showed it, in the message and in
    `.errors`."""
    secret = TOKEN_INPUT_FIELDS[field]
    given = {"email": EMAIL} if field == "password" else {}
    token_input = ObtainJSONWebTokenInput(**given, **{field: secret})

    def quoting_the_input(sent: Sent) -> httpx.Response:
        quoted = (sent.variables or {}).get("input")
        message = f"Variable '$input' got invalid value {quoted!r}"
        return error_response("KT-CT-1137", message=message, error_type="VALIDATION")

    kraken = scripted()
    kraken.queue(OBTAIN, quoting_the_input)
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=0)
        assert caller.client is not None
        client = caller.client
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.run(lambda: client.get_kraken_token(token_input))
        finally:
            await caller.close()
    shown = secret in everything_said(raised.value)  # (not the text: the test's output shows it)
    assert not shown
    assert "***" in str(raised.value)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_token_answer_with_errors_beside_the_token_keeps_the_token_out_of_the_error(
    kind: str,
) -> None:
    """GraphQL may answer a field's error beside data: a token answer with an error about one of
    its fields failed the token request (as it does still), and the GraphQLError's `data` held
    the token just issued and its refresh token, whole, for any error reporter to keep."""

    def with_an_error_beside(_sent: Sent) -> httpx.Response:
        error = {"message": "refreshExpiresIn is deprecated", "extensions": {"errorCode": "X-1"}}
        return json_response({"data": {"obtainKrakenToken": kraken.new_token()}, "errors": [error]})

    kraken = scripted()
    kraken.queue(OBTAIN, with_an_error_beside)
    with HostileServer(kraken.over_socket) as endpoint:
        error = await error_of_one_call(Caller.make(kind, endpoint.url, max_retries=0))
    assert kraken.issued_tokens, "no token was issued: the test proves nothing"
    said = everything_said(error)
    assert sum(secret in said for secret in secrets_of(kraken)) == 0  # (counted: never shown)
    assert "refreshExpiresIn is deprecated" in str(error)


# -- refreshing ------------------------------------------------------------------------------------

# Answers to a refresh that say the refresh token does not work, besides KT-CT-1134/1135.
REFRESH_REFUSALS: dict[str, Callable[[Sent], httpx.Response]] = {
    "HTTP 401": lambda _sent: httpx.Response(401, text="Unauthorized"),
    "KT-CT-1124": lambda _sent: error_response("KT-CT-1124", message="Signature has expired."),
    "KT-CT-1143": lambda _sent: error_response("KT-CT-1143", message="Invalid token."),
    "KT-CT-1136": lambda _sent: error_response(
        "KT-CT-1136", message="Both email and password are required.", error_type="VALIDATION"
    ),
}


async def caller_holding_a_token(
    kind: str, url: str, clock: FakeClock, **options: object
) -> Caller:
    caller = Caller.make(kind, url, clock=clock, **options)
    assert viewer_email(await caller.call()) == EMAIL
    return caller


@pytest.mark.parametrize("refusal", list(REFRESH_REFUSALS))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_refresh_the_api_refuses_is_dropped_and_the_api_key_obtains_anew(
    kind: str, refusal: str
) -> None:
    """The refresh token is the API's, not the user's: whatever authentication error its refresh
    gets, the client drops it and obtains a new token with its own credential, which nothing
    has refused. (It locked itself out for good: "create it with a corrected one".)"""
    clock = FakeClock(time.time())
    kraken = scripted()
    kraken.queue(REFRESH, REFRESH_REFUSALS[refusal])
    with HostileServer(kraken.over_socket) as endpoint:
        caller = await caller_holding_a_token(kind, endpoint.url, clock, max_retries=0)
        try:
            clock.advance(TOKEN_LIFETIME + 1)  # the token has expired: it must be replaced
            assert viewer_email(await caller.call()) == EMAIL
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        operations = [request.operation for request in token_requests(endpoint)]
    assert operations == [OBTAIN, REFRESH, OBTAIN]


def rotating_refresh_tokens(kraken: FakeKraken) -> None:
    """`kraken` refreshes as a Kraken that rotates refresh tokens does (django-graphql-jwt's
    default): each is good for one refresh, and the refresh token given at first for one."""
    good = {REFRESH_TOKEN_VALUE}

    def refresh(sent: Sent) -> httpx.Response:
        given = ((sent.variables or {}).get("input") or {}).get("refreshToken")
        if given not in good:
            return error_response("KT-CT-1135", message="Invalid refresh token.")
        good.discard(given)
        answer = kraken.issue_token()
        good.add(kraken.issued_refresh_tokens[-1])
        return answer

    kraken.set_default(REFRESH, refresh)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_refresh_token_another_process_rotated_is_taken_from_the_shared_token_store(
    kind: str, tmp_path: Path
) -> None:
    """Two processes (here two clients, each with a state of its own) share a token file and a
    RefreshToken. One refreshes, the API rotates the refresh token (the old one is spent), and
    the file holds the new one; the other, refreshing later with the spent one, is refused. It
    raised "The refresh token was rejected ... no other credential" on every call from then on,
    though the file held a working token and refresh token all along."""
    clock = FakeClock(time.time())
    kraken = scripted()
    rotating_refresh_tokens(kraken)
    store = tmp_path / "tokens.json"
    credential = RefreshToken(REFRESH_TOKEN_VALUE)
    with HostileServer(kraken.over_socket) as endpoint:
        first, second = [
            await caller_holding_a_token(
                kind, endpoint.url, clock, credentials=credential, token_store=FileTokenStore(store)
            )
            for _ in range(2)
        ]  # the first refreshed the given refresh token; the second took its token from the file
        try:
            clock.advance(TOKEN_LIFETIME - MARGIN + 1)  # both in the refresh window
            assert viewer_email(await second.call()) == EMAIL  # it refreshes: rotated
            clock.advance(MARGIN)  # the first's token has expired: it must have another
            assert viewer_email(await first.call()) == EMAIL
        finally:
            await first.close()
            await second.close()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_rotated_refresh_token_saved_after_the_re_read_is_still_taken_from_the_store(
    kind: str, tmp_path: Path
) -> None:
    """Two processes started together with one RefreshToken and one token file both refresh;
    the API rotates it for the first and refuses the second, which reads the file again before
    the first has written what it got (its answer and the second's refusal leave the server
    together). The second then said "The refresh token was rejected ... no other credential"
    for the rest of its life, while the file held a working token and refresh token. (Seen with
    two real processes: one of them failed every call, about one run in two.)"""
    clock = FakeClock(time.time())
    kraken = scripted()
    rotating_refresh_tokens(kraken)
    path = tmp_path / "tokens.json"
    slow = SavesHeldBack(path)
    credential = RefreshToken(REFRESH_TOKEN_VALUE)
    with HostileServer(kraken.over_socket) as endpoint:
        first = await caller_holding_a_token(
            kind, endpoint.url, clock, credentials=credential, token_store=slow
        )
        second = await caller_holding_a_token(
            kind, endpoint.url, clock, credentials=credential, token_store=FileTokenStore(path)
        )  # (its token from the file)
        try:
            clock.advance(TOKEN_LIFETIME - MARGIN + 1)
            slow.holding = True
            assert viewer_email(await first.call()) == EMAIL  # refreshed: rotated, not yet saved
            clock.advance(MARGIN)  # the second's token has expired: it refreshes, and is refused
            with contextlib.suppress(AuthenticationError):
                await second.call()
            slow.release()  # the first's tokens land in the file
            clock.advance(5)
            assert viewer_email(await second.call()) == EMAIL
        finally:
            await first.close()
            await second.close()


class FirstSaveSlow:
    """A FileTokenStore whose first save takes a while (a keyring asking to be unlocked, a
    database across the network, scrypt on a busy machine): it writes once a later save of
    tokens has been written, or after SLOW_SAVE seconds."""

    SLOW_SAVE = 0.5

    def __init__(self, path: Path) -> None:
        self.store = FileTokenStore(path)
        self.later_save = threading.Event()
        self._saves = 0
        self._lock = threading.Lock()

    def load(self, key: str) -> StoredTokens | None:
        return self.store.load(key)

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        with self._lock:
            self._saves += 1
            first = self._saves == 1
        if first:
            self.later_save.wait(self.SLOW_SAVE)
        self.store.save(key, tokens)
        if not first and tokens is not None:
            self.later_save.set()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_slow_save_of_older_tokens_never_lands_over_a_newer_ones(
    kind: str, tmp_path: Path
) -> None:
    """One RefreshToken client, two calls. The first refreshes (the API rotates the refresh
    token) and saves; while that save is slow, the second uses the new token, the API rejects
    it, and the second refreshes again (rotated again) and saves. The first save then wrote
    its older tokens over the newer: the file kept a spent refresh token, and the next run with
    that file was refused ("The refresh token was rejected ... no other credential"), for good."""
    kraken = scripted()
    rotating_refresh_tokens(kraken)
    kraken.queue("getViewer", lambda _sent: error_response("KT-CT-1124"))  # the first call's
    path = tmp_path / "tokens.json"
    store = FirstSaveSlow(path)
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(
            kind, endpoint.url, RefreshToken(REFRESH_TOKEN_VALUE), token_store=store
        )
        try:
            outcomes = await caller.concurrently(2)
        finally:
            await caller.close()
    assert [viewer_email(outcome) for outcome in outcomes] == [EMAIL, EMAIL]
    assert len(kraken.issued_refresh_tokens) == 2  # rotated twice: the first one is spent
    (entry,) = json.loads(path.read_bytes())["entries"].values()
    kept_the_latest = entry["refresh_token"] == kraken.issued_refresh_tokens[-1]
    assert kept_the_latest  # (not printed: it is a secret)


# Ways a refresh ahead of time fails in passing.
PASSING_FAILURES: dict[str, Callable[[Sent], httpx.Response]] = {
    "HTTP 502": lambda _sent: html_page(502, "502 Bad Gateway"),
    "KT-CT-1199": lambda _sent: error_response("KT-CT-1199", error_type="RATE_LIMIT"),
}


@pytest.mark.parametrize("failure", list(PASSING_FAILURES))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_refresh_ahead_of_time_that_fails_leaves_calls_the_token_that_still_works(
    kind: str, failure: str
) -> None:
    """Within refresh_margin of its end the token still works: a refresh that fails then is no
    reason to fail the call that sent it, nor the calls after it (each failed, with no retries
    left, or after waiting out the retries, until the token's very end)."""
    clock = FakeClock(time.time())
    kraken = scripted()
    kraken.queue(REFRESH, *[PASSING_FAILURES[failure]] * 3)
    with HostileServer(kraken.over_socket) as endpoint:
        caller = await caller_holding_a_token(kind, endpoint.url, clock, max_retries=0)
        try:
            clock.advance(TOKEN_LIFETIME - MARGIN + 1)  # in the refresh window
            for _ in range(3):
                assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        refreshes = [r for r in token_requests(endpoint) if r.operation == REFRESH]
    assert 1 <= len(refreshes) <= 3
    assert len(kraken.issued_tokens) == 1  # the first token served every call


# -- a redirect to nowhere -------------------------------------------------------------------------


@pytest.mark.parametrize("redirected", [OBTAIN, "getViewer"])
@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_redirect_whose_location_is_not_a_url_is_an_api_status_error_not_retried(
    kind: str, status: int, redirected: str
) -> None:
    """httpx reads the Location of every redirect, followed or not, and gives up on one that is
    no URL: the API answered, so that is no "could not reach the Kraken API" to retry."""
    kraken = scripted()
    kraken.queue(redirected, lambda _sent: redirect(status, "http://[::1:bad/"))
    with HostileServer(kraken.over_socket) as endpoint:
        error = await error_of_one_call(Caller.make(kind, endpoint.url, max_retries=2))
        sent = [request.operation for request in endpoint.requests]
    assert sent.count(redirected) == 1
    assert isinstance(error, APIStatusError)
    assert "not a URL" in str(error)


# -- a redirect through another origin and back ----------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_rejection_after_a_redirect_through_another_origin_and_back_spares_the_token(
    kind: str,
) -> None:
    """The data request is redirected to another origin, which redirects it back to the
    endpoint: httpx dropped its token on the way out and does not put it back, so the endpoint
    refuses it, but not the token, which it never saw. The token was dropped and renewed, and
    the call said "the API did not accept the credentials sent" (a raw client's 401 likewise
    cost a token request); every such call burns one, then is paced as rejected tokens are."""
    kraken = scripted()
    bouncing = [True]  # while the first call is made (and resent, if its token is renewed)
    with HostileServer(lambda _request: [(raw_http(redirect(307, back)), 0.0)]) as other:

        def endpoint_answer(request: Request) -> list[tuple[bytes, float]]:
            if request.operation == "getViewer" and bouncing[0]:
                if request.path.endswith("/back/") and "authorization" not in request.headers:
                    return [(raw_http(httpx.Response(401, text="Unauthorized")), 0.0)]
                if not request.path.endswith("/back/"):
                    return [(raw_http(redirect(307, other.url)), 0.0)]
            return kraken.over_socket(request)

        with HostileServer(endpoint_answer) as endpoint:
            back = endpoint.url + "back/"
            caller = Caller.make(kind, endpoint.url, follow_redirects=True, max_retries=0)
            try:
                with pytest.raises(APIStatusError) as raised:
                    await caller.call()
                bouncing[0] = False
                assert viewer_email(await caller.call()) == EMAIL
            finally:
                await caller.close()
            assert len(token_requests(endpoint)) == 1
    assert not isinstance(raised.value, AuthenticationError)
    assert origin(other.url) in str(raised.value)


# -- a raw client's token request without an answer ------------------------------------------------


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_a_raw_clients_token_request_without_an_answer_raises_httpxs_own_error(
    kind: str,
) -> None:
    """README said every failed token request is a KrakenError on a raw client; one that gets
    no answer is httpx's own error, which httpx raises without handing it to the auth (as for
    any of its requests). The token request is ended, so the next call obtains a token."""
    kraken = scripted(token_faults=[NEVER])
    with HostileServer(kraken.over_socket) as endpoint:
        caller = with_http_client(kind, endpoint.url, {"timeout": 0.3})
        try:
            with pytest.raises(httpx.TimeoutException):
                await caller.call()
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        assert len(token_requests(endpoint)) == 2


# -- a Host header of the caller's own -------------------------------------------------------------


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_a_request_whose_host_header_names_another_host_is_refused_before_anything_is_sent(
    kind: str,
) -> None:
    """The Host header picks the virtual host a shared server or CDN routes to: a raw client's
    request to the endpoint's URL with `Host: other.example` sent the token request, credential
    and all, and then the token, addressed to other.example. (Our clients refuse a call's
    `headers={"Host": ...}` for this reason.)"""
    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url)
        assert caller.http is not None
        http = caller.http
        try:
            with pytest.raises(ConfigurationError, match=r"other\.example"):
                await caller.run(
                    lambda: http.post(endpoint.url, json={}, headers={"Host": "other.example"})
                )
        finally:
            await caller.close()
        assert endpoint.requests == []


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_a_request_to_another_origin_whose_host_header_names_the_endpoint_is_refused(
    kind: str,
) -> None:
    """The URL is where the request connects (and whose certificate is checked); the Host
    header, the virtual host it asks for there. A raw client's request to another server's URL
    with `Host:` the endpoint's (set on the client, for a proxy or a tunnel, or by hand) passed
    the check, which read the header alone: that server got the call and its token."""
    with (
        HostileServer(scripted().over_socket) as endpoint,
        HostileServer(scripted().over_socket) as other,
    ):
        caller = Caller.make(kind, endpoint.url)
        assert caller.http is not None
        http = caller.http
        host = httpx.URL(endpoint.url).netloc.decode()
        try:
            with pytest.raises(ConfigurationError, match=re.escape(origin(other.url))):
                await caller.run(lambda: http.post(other.url, json={}, headers={"Host": host}))
        finally:
            await caller.close()
        assert (endpoint.requests, other.requests) == ([], [])


@pytest.mark.parametrize("operation", ["a call", "authenticate()"])
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_http_client_whose_own_headers_name_another_host_is_refused_before_sending(
    kind: str, operation: str
) -> None:
    """Our clients refuse a call's `headers={"Host": ...}`, but an http_client made with
    `headers={"Host": "other.example"}` put that Host header on every request they built, the
    token request (credential and all) included: addressed to another virtual host of whatever
    serves the endpoint's address. KrakenAuth refuses it on a raw client; ours now do too."""
    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        caller = with_http_client(kind, endpoint.url, {"headers": {"Host": "other.example"}})
        client = caller.client
        assert client is not None
        send = client.get_viewer if operation == "a call" else client.authenticate
        try:
            with pytest.raises(ConfigurationError, match=r"other\.example"):
                await caller.run(send)
        finally:
            await caller.close()
        assert endpoint.requests == []


# Host headers that a URL parser reads as the endpoint's host and port, but that are not that host
# and port: a server or CDN routing by the header's text sends the request to another virtual host
# (or its default one). `{}` is the endpoint's host:port.
HOSTS_IN_DISGUISE = {
    "user info naming another host": "other.example@{}",
    "a path": "{}/other.example",
    "a query": "{}?other.example",
    "a fragment": "{}#@other.example",
}


@pytest.mark.parametrize("spelling", list(HOSTS_IN_DISGUISE))
@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_a_host_header_that_is_more_than_the_endpoints_host_and_port_is_refused(
    kind: str, spelling: str
) -> None:
    """`Host: other.example@127.0.0.1:PORT` (or the endpoint's host:port followed by a path, a
    query or a fragment) was taken for the endpoint's own, being read as a URL's authority, and
    the token request, credential and all, went out with that Host header as written."""
    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        host = HOSTS_IN_DISGUISE[spelling].format(httpx.URL(endpoint.url).netloc.decode())
        caller = Caller.make(kind, endpoint.url)
        assert caller.http is not None
        http = caller.http
        try:
            with pytest.raises(ConfigurationError, match="Host header"):
                await caller.run(lambda: http.post(endpoint.url, json={}, headers={"Host": host}))
        finally:
            await caller.close()
        assert endpoint.requests == []


@pytest.mark.parametrize(
    "host", ["KRAKEN.EXAMPLE.TEST", "kraken.example.test:443", "Kraken.Example.Test:443"]
)
def test_a_host_header_naming_the_endpoint_in_another_case_or_with_its_port_is_sent(
    host: str,
) -> None:
    """Host names are case-blind and 443 is https's port: these name the endpoint itself."""
    kraken = FakeKraken(time.time)
    url = "https://kraken.example.test/v1/graphql/"
    auth = KrakenAuth(CREDENTIAL, url=url)
    with httpx.Client(auth=auth, transport=httpx.MockTransport(kraken.handle)) as http:
        body = {"query": "query getViewer { viewer { email } }", "operationName": "getViewer"}
        answer = http.post(url, json=body, headers={"Host": host})
    assert answer.status_code == 200
    assert [sent.headers["host"] for sent in kraken.sent] == [host, host]


# -- headers in bytes, beyond ASCII ---------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_header_value_in_bytes_beyond_ascii_goes_on_the_token_request_as_given(
    kind: str,
) -> None:
    """HTTP carries header bytes beyond ASCII (obs-text), and httpx sends a bytes value as
    given. An http_client's header such as `{"X-Client": b"caf\xe9"}` went out on every request,
    but a token request (which copies the caller's headers) raised a bare UnicodeEncodeError
    out of the call: httpx's Headers decode it as Latin-1 text and encode text as ASCII."""
    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        headers = {"headers": {"X-Client": b"caf\xe9"}}
        caller = with_http_client(kind, endpoint.url, headers, max_retries=0)
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        sent = [(request.operation, request.headers["x-client"]) for request in endpoint.requests]
    assert sent == [(OBTAIN, "caf\xe9"), ("getViewer", "caf\xe9")]  # (read as Latin-1)


# -- an event hook that raises for the status ----------------------------------------------------

# Answers an http_client's `raise_for_status()` response hook raises for, and what the call is.
RAISED_FOR_STATUS: dict[str, tuple[Callable[[], httpx.Response], type[KrakenError]]] = {
    "HTTP 503": (lambda: html_page(503, "503 Service Unavailable"), APIStatusError),
    "HTTP 429": (lambda: too_many_requests(0), RateLimitError),
    "HTTP 400": (lambda: httpx.Response(400, text="Bad request"), APIStatusError),
    # (the token the request carried refused: the AuthenticationError for a rejected token)
    "HTTP 401": (lambda: httpx.Response(401, text="Unauthorized"), TokenRejectedError),
}


@pytest.mark.parametrize("status", list(RAISED_FOR_STATUS))
@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_an_answer_an_event_hook_raises_for_is_an_error_of_its_status_not_no_answer(
    kind: str, status: str
) -> None:
    """README: the http_client's event hooks apply to every call. A response hook calling
    `raise_for_status()` (a common recipe) turned every error status into "could not reach the
    Kraken API ... Check the URL and the network" (an APIConnectionError): a 429 lost its
    RateLimitError, and a 400 was retried as if nothing had answered."""
    answer, expected = RAISED_FOR_STATUS[status]
    kraken = scripted()
    kraken.set_default("getViewer", lambda _sent: answer())
    with HostileServer(kraken.over_socket) as endpoint:
        hook = _araise_for_status if kind == "async" else _raise_for_status
        hooks = {"event_hooks": {"response": [hook]}}
        error = await error_of_one_call(with_http_client(kind, endpoint.url, hooks, max_retries=1))
        sent = [request.operation for request in endpoint.requests]
    assert type(error) is expected
    assert error.status_code == int(status.split()[1])
    assert "could not reach" not in str(error)
    not_retried = status in ("HTTP 400", "HTTP 401")
    assert sent.count("getViewer") == (1 if not_retried else 2)  # (no retry for a 400, a 401)


@pytest.mark.parametrize("kind", ["async", "sync", "raw-sync"])
async def test_a_token_refused_with_a_401_a_response_hook_raised_for_is_not_sent_again(
    kind: str,
) -> None:
    """A response hook calling `raise_for_status()` raises for a 401 before KrakenAuth sees it:
    the API refused the token (revoked, its keys rotated), yet it stayed held, and every later
    call sent it again and failed, until it expired (an hour), or for good with no lifetime.
    The call itself still raises (the hook has had its say); the next one obtains a new token.
    (raw-async is left out: httpx closes an async auth flow without the error it raises.)"""
    kraken = scripted()

    def first_token_refused(sent: Sent) -> httpx.Response:
        if sent.authorization == kraken.issued_tokens[0]:
            return httpx.Response(401, text="Unauthorized")
        return json_response({"data": DEFAULT_DATA["getViewer"]})

    kraken.set_default("getViewer", first_token_refused)
    with HostileServer(kraken.over_socket) as endpoint:
        hook = _araise_for_status if kind == "async" else _raise_for_status
        caller = with_http_client(kind, endpoint.url, {"event_hooks": {"response": [hook]}})
        try:
            with pytest.raises((KrakenError, httpx.HTTPStatusError)):
                await caller.call()
            assert viewer_email(await caller.call()) == DEFAULT_DATA["getViewer"]["viewer"]["email"]
        finally:
            await caller.close()
    assert len(kraken.token_requests) == 2


def _raise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


async def _araise_for_status(response: httpx.Response) -> None:
    response.raise_for_status()


# How a hook that logs request bodies reads one: on the request (before it is sent) or on its
# answer (after), by `read()` / `aread()` or by `.content`. (A request hook's read() works.)
BODY_READERS = [("response", "read"), ("response", "content"), ("request", "content")]


@pytest.mark.parametrize(("event", "how"), BODY_READERS)
@pytest.mark.parametrize("kind", KINDS)
async def test_a_hook_that_reads_request_bodies_leaves_token_requests_working(
    kind: str, event: str, how: str
) -> None:
    """An event hook that logs each request's body (beside its answer, a common recipe) read
    the token request's: after sending, read() raised "the token request was to be sent a
    second time, after a redirect or by an http_client auth ...", and `.content` raised
    httpx.RequestNotRead (no KrakenError) before or after, so no call could obtain a token at
    all. Reading is not sending."""
    read: list[bytes] = []

    def request_of(message: httpx.Request | httpx.Response) -> httpx.Request:
        return message.request if isinstance(message, httpx.Response) else message

    def log_body(message: httpx.Request | httpx.Response) -> None:
        request = request_of(message)
        read.append(request.read() if how == "read" else request.content)

    async def alog_body(message: httpx.Request | httpx.Response) -> None:
        request = request_of(message)
        read.append(await request.aread() if how == "read" else request.content)

    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        hook = alog_body if kind in ("async", "raw-async") else log_body
        caller = with_http_client(kind, endpoint.url, {"event_hooks": {event: [hook]}})
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
        assert len(token_requests(endpoint)) == 1
    assert len(read) == 2  # the token request's body and the call's
    if event == "response":  # read once sent: the credential is *** (a hook may log it)
        shows_the_key = ORG_KEY in read[0].decode()  # (asserted apart: a failure prints no key)
        assert not shows_the_key
        assert b'"organizationSecretKey":"***"' in read[0]


# How a hook keeps a request for later (a background logger, a recorder): a copy.
REQUEST_COPIES: dict[str, Callable[[httpx.Request], httpx.Request]] = {
    "copy.deepcopy": copy.deepcopy,
    "pickled": lambda request: pickle.loads(pickle.dumps(request)),  # noqa: S301 (our own bytes)
}


@pytest.mark.parametrize("copying", list(REQUEST_COPIES))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_hook_that_keeps_a_copy_of_each_request_reads_the_token_requests_masked(
    kind: str, copying: str
) -> None:
    """A response hook that keeps a copy of each request and reads its body (deepcopy or a
    pickle, as a queue to a logging process makes) got a bare AssertionError out of the token
    request's copy, failing the call; a copy of any other request reads as its body."""
    read: list[bytes] = []

    def keep_a_copy(response: httpx.Response) -> None:
        read.append(REQUEST_COPIES[copying](response.request).content)

    async def akeep_a_copy(response: httpx.Response) -> None:
        keep_a_copy(response)

    kraken = scripted()
    with HostileServer(kraken.over_socket) as endpoint:
        hook = akeep_a_copy if kind in ("async", "raw-async") else keep_a_copy
        caller = with_http_client(kind, endpoint.url, {"event_hooks": {"response": [hook]}})
        try:
            assert viewer_email(await caller.call()) == EMAIL
        finally:
            await caller.close()
    assert len(read) == 2  # the token request's body and the call's
    shows_the_key = ORG_KEY in read[0].decode()  # (asserted apart: a failure prints no key)
    assert not shows_the_key
    assert b'"organizationSecretKey":"***"' in read[0]


@pytest.mark.parametrize("kind", RAW_KINDS)
async def test_the_error_of_a_token_request_that_could_not_be_sent_holds_no_credential(
    kind: str,
) -> None:
    """A raw client raises httpx's own error when the token request gets no answer, and the
    error's `.request` is the token request: an error reporter reading it (`.content`) got the
    credential whole when the connection was refused, the body not being sent, where once sent
    it reads as ***."""
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/v1/graphql/"
    caller = Caller.make(kind, url)
    assert caller.http is not None
    http = caller.http
    try:
        with pytest.raises(httpx.ConnectError) as raised:
            await caller.run(lambda: http.post(url, json={}))
    finally:
        await caller.close()
    body = raised.value.request.content
    shows_the_key = ORG_KEY in body.decode()  # (asserted apart: a failure prints no key)
    assert not shows_the_key
    assert b'"organizationSecretKey":"***"' in body


# -- a transport that resends --------------------------------------------------------------------


class ResendingOn503(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A transport that sends a request again when it is answered 503, as retrying transports
    (httpx-retries' RetryTransport, a hand-written one) do."""

    def __init__(self) -> None:
        self.sync, self.asynchronous = httpx.HTTPTransport(), httpx.AsyncHTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.sync.handle_request(request)
        if response.status_code == 503:
            response.close()
            response = self.sync.handle_request(request)
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.asynchronous.handle_async_request(request)
        if response.status_code == 503:
            await response.aclose()
            response = await self.asynchronous.handle_async_request(request)
        return response


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_token_request_a_transport_resends_is_refused_naming_the_transport(
    kind: str,
) -> None:
    """The token request's body is sent once only, so a transport that resends it (after a 503)
    is refused: rightly, but the error blamed "a redirect or an http_client auth that resends
    requests (DigestAuth)" and advised an http_client without an auth, which it already was."""
    kraken = scripted(token_faults=[html_page(503, "503 Service Unavailable")])
    with HostileServer(kraken.over_socket) as endpoint:
        caller = with_http_client(kind, endpoint.url, {"transport": ResendingOn503()})
        error = await error_of_one_call(caller)
        assert len(token_requests(endpoint)) == 1
    assert isinstance(error, APIStatusError)
    assert "transport" in str(error)


# -- a secret quoted where the error's excerpt of the answer ends ----------------------------------

# Credentials whose secrets a server quotes back in the answer's body, as the error shows an
# excerpt of it (the first 200 characters, whitespace runs made one space, HTML tags dropped).
CUT_KEY = "ORGSECRET-cut-3f9d1c77ab40e2965d18"
SPACED_PASSWORD = "PWSECRET  with\ttabs  and  spaces"
MARKUP_PASSWORD = 'PWSECRET<&>"quoted"-7e21'


def cut_short(start: str, secret: str, end: str) -> str:
    """`start`, `secret`, `end`, with dots between the first two so that the error's excerpt
    of the text (its first 200 characters) ends ten characters before the secret does."""
    return f"{start}{'.' * (200 - len(start) - len(secret) + 10)}{secret}{end}"


QUOTING_A_SECRET: dict[str, tuple[Credentials, str, Callable[[Sent], httpx.Response]]] = {
    "a key that the excerpt cuts short": (
        OrganizationSecretKey(CUT_KEY),
        CUT_KEY,
        lambda _sent: httpx.Response(
            500, text=cut_short("Internal error reading organizationSecretKey ", CUT_KEY, "'")
        ),
    ),
    "a password whose spaces the excerpt squeezes": (
        EmailPassword(EMAIL, SPACED_PASSWORD),
        SPACED_PASSWORD,
        lambda sent: httpx.Response(400, text=f"Bad request: {sent.variables}"),
    ),
    "a password an HTML page escapes": (
        EmailPassword(EMAIL, MARKUP_PASSWORD),
        MARKUP_PASSWORD,
        lambda _sent: html_page(500, f"Bad password {html.escape(MARKUP_PASSWORD)}"),
    ),
}


def pieces(secret: str, size: int = 8) -> set[str]:
    """Every run of `size` characters of `secret`, as it is and as the excerpt may spell it."""
    forms = {secret, " ".join(secret.split()), html.escape(secret)}
    return {form[i : i + size] for form in forms for i in range(len(form) - size + 1)}


@pytest.mark.parametrize("quoting", list(QUOTING_A_SECRET))
@pytest.mark.parametrize("kind", KINDS)
async def test_a_secret_quoted_where_the_errors_excerpt_ends_shows_no_part_of_it(
    kind: str, quoting: str
) -> None:
    """The excerpt of an unexpected answer was cut and squeezed before the credential was
    masked, so a key cut at the excerpt's 200th character showed all but its end, a password
    with two spaces in a row showed whole (with one), and one an HTML page escaped showed
    escaped: masked only where it appeared exactly as sent."""
    credential, secret, quote = QUOTING_A_SECRET[quoting]
    kraken = scripted()
    kraken.queue(OBTAIN, quote)
    with HostileServer(kraken.over_socket) as endpoint:
        caller = Caller.make(kind, endpoint.url, credential, max_retries=0)
        error = await error_of_one_call(caller)
    said = everything_said(error)
    assert sum(piece in said for piece in pieces(secret)) == 0  # (counted: never shown)
    assert "***" in str(error)


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_token_quoted_where_the_errors_excerpt_ends_shows_no_part_of_it(kind: str) -> None:
    """A data call's answer quoting the token so that the excerpt ends inside its signature
    showed all of the token but the signature's last characters."""

    def quoting_the_token(sent: Sent) -> httpx.Response:
        token = sent.authorization or ""
        return httpx.Response(400, text=cut_short("Bad request: ", token, " is malformed"))

    kraken = scripted(data=quoting_the_token)
    with HostileServer(kraken.over_socket) as endpoint:
        error = await error_of_one_call(Caller.make(kind, endpoint.url, max_retries=0))
    signature = kraken.issued_tokens[0].rsplit(".", 1)[-1]
    said = everything_said(error)
    assert sum(piece in said for piece in pieces(signature)) == 0
    assert "***" in str(error)


def test_an_errors_data_is_masked_for_every_field_the_models_repr_hides() -> None:
    """The fields `secrets_in` finds in an error's data are those the generated models' repr
    hides (codegen's list), as the API spells them (camelCase)."""
    from oeus_kraken._responses import secrets_in
    from oeus_kraken.codegen.plugins import SECRET_FIELD_NAMES, SECRET_FIELD_SUFFIXES

    def camel(snake: str) -> str:
        first, *rest = snake.split("_")
        return first + "".join(part.title() for part in rest)

    names = [*SECRET_FIELD_NAMES, *(f"some{suffix}" for suffix in SECRET_FIELD_SUFFIXES)]
    for name in names:
        assert secrets_in({"node": [{camel(name): "x"}]}) == ["x"], name
    assert secrets_in({"key": "x", "tokens": ["y"], "tokenCount": 2}) == []


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_hook_that_replaces_a_token_requests_stream_can_read_it(kind: str) -> None:
    """A request hook that reads a body and puts it back as a stream of its own (as a signing or
    logging hook may) then reads it again: each token request failed with a bare KeyError
    'shown_body'. The stream is the hook's: the body reads as it gave it, and the call works."""
    read: list[bytes] = []

    def put_back(request: httpx.Request, body: bytes) -> None:
        request.stream = httpx.ByteStream(body)
        read.append(request.read())

    def hook(request: httpx.Request) -> None:
        put_back(request, request.read())

    async def async_hook(request: httpx.Request) -> None:
        put_back(request, await request.aread())

    http: Any = (
        httpx.AsyncClient(event_hooks={"request": [async_hook]})
        if kind == "async"
        else httpx.Client(event_hooks={"request": [hook]})
    )
    with HostileServer(scripted().over_socket) as server:
        caller = Caller(kind, server.url, http=http)
        caller.client = (KrakenClient if kind == "async" else SyncKrakenClient)(
            server.url, credentials=CREDENTIAL, http_client=http, max_retries=0
        )
        try:
            assert viewer_email(await caller.call())
        finally:
            await caller.close()
    assert len(read) == 2  # the token request's body, then the call's


# -- a mutation whose answer was lost --------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENT_KINDS)
async def test_a_mutation_whose_answer_was_cut_off_says_it_may_have_been_carried_out(
    kind: str,
) -> None:
    """A mutation is never sent twice once it may have run (a connection lost mid-answer), and
    the error said only "could not reach the Kraken API ... Check the URL and the network",
    though the API had it: a user retrying by hand could create a second quote or payment."""
    kraken = scripted()

    def answer(request: Request) -> Iterator[tuple[bytes, float]]:
        if b"obtainKrakenToken" in request.body:
            yield from kraken.over_socket(request)
            return
        yield b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{", 0.0
        raise OSError("connection lost")  # (HostileServer closes the connection)

    with HostileServer(answer) as endpoint:
        caller = Caller.make(kind, endpoint.url, max_retries=2)
        try:
            with pytest.raises(APIConnectionError) as raised:
                await caller.execute("mutation quoteIt { createQuote { id } }", "quoteIt")
        finally:
            await caller.close()
        sent = [request for request in endpoint.requests if b"quoteIt" in request.body]
    assert len(sent) == 1
    said = str(raised.value)
    assert "may have carried it out" in said
    assert "not sent again" in said


# -- an answer too large to read names its operation -----------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
async def test_a_token_answer_larger_than_max_response_bytes_names_the_token_request(
    kind: str,
) -> None:
    """Every error names its operation, but an answer cut off at max_response_bytes said only
    "the answer is larger than max_response_bytes ... Ask for less (smaller pages)", with no
    operation_name: for a token request (a gzip bomb from a hostile endpoint, say) the caller
    could not tell which request it was, and was told to ask for less, which it cannot."""
    padded = json_response({"data": {"obtainKrakenToken": None}, "padding": "x" * 5000})
    kraken = scripted(token_faults=[padded])
    with HostileServer(kraken.over_socket) as endpoint:
        options = {"max_retries": 0} if kind in CLIENT_KINDS else {}
        caller = Caller.make(kind, endpoint.url, max_response_bytes=2000, **options)
        error = await error_of_one_call(caller)
    assert type(error) is InvalidResponseError
    assert error.operation_name == OBTAIN
    assert str(error).startswith(f"{OBTAIN}: the answer is larger than max_response_bytes")
    assert "smaller pages" not in str(error)
    assert "Kraken GraphQL endpoint" in str(error)
