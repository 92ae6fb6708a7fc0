"""The auth core's edges, probed from outside over real loopback servers: a server that quotes
the token back, a refresh the API refuses, a refresh that fails while the token still works.

Each test runs over the kinds of caller it applies to (`loopback_kraken.KINDS`): our async and
sync clients, and raw httpx clients with a KrakenAuth. The client's clock is a `FakeClock`
starting now, moved by hand into a token's refresh window or past its end; the server (the
suite's fake Kraken behind a `HostileServer`) issues tokens on real time, an hour long.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from auth_helpers import (
    error_response,
    secrets_of,
)
from hostile_server import HostileServer
from loopback_kraken import (
    CLIENT_KINDS,
    Caller,
    scripted,
)

from oeus_kraken import KrakenError

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
        caller = Caller.make(kind, endpoint.url, max_retries=0)
        try:
            with pytest.raises(KrakenError) as raised:
                await caller.call()
        finally:
            await caller.close()
    assert kraken.issued_tokens, "no token was issued: the test proves nothing"
    said = everything_said(raised.value)
    assert [s for s in secrets_of(kraken) if s in said] == []
    assert str(raised.value).count("***") == (quoting != "an HTTP 400 in plain text")  # (cut short)
