"""The auth core's edges, probed from outside over real loopback servers: a server that quotes
the token back, a refresh the API refuses, a refresh that fails while the token still works.

Each test runs over the kinds of caller it applies to (`loopback_kraken.KINDS`): our async and
sync clients, and raw httpx clients with a KrakenAuth. The client's clock is a `FakeClock`
starting now, moved by hand into a token's refresh window or past its end; the server (the
suite's fake Kraken behind a `HostileServer`) issues tokens on real time, an hour long.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest
from auth_helpers import (
    EMAIL,
    MARGIN,
    OBTAIN,
    REFRESH,
    TOKEN_LIFETIME,
    FakeClock,
    Sent,
    error_response,
    secrets_of,
)
from hostile_server import HostileServer
from loopback_kraken import (
    CLIENT_KINDS,
    KINDS,
    Caller,
    html_page,
    redirect,
    scripted,
    token_requests,
    viewer_email,
)

from oeus_kraken import APIStatusError, KrakenError

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
    assert str(error).count("***") == (quoting != "an HTTP 400 in plain text")  # (cut short)


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
