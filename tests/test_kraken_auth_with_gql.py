"""`KrakenAuth` on gql 4's `HTTPXTransport` and `HTTPXAsyncTransport`, from outside, as README's
"Kraken authentication for any httpx client" promises: its snippet runs; the first request
obtains the token and later ones (and other gql sessions sharing the auth) reuse it; a rejected
token is renewed and the request resent once; a rate-limited token request, a redirected one and
a request to another origin fail before the credential goes anywhere else, as a KrakenError that
gql wraps in its `TransportConnectionFailed` (the KrakenError is its `__cause__`); no secret
appears in gql's errors or in any log (gql's, httpx's, httpcore's, ours).

The sandbox serves the happy paths; the suite's fake Kraken behind a HostileServer (which keeps
every request as it arrived) serves the faults.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
import socket
from pathlib import Path
from typing import Any

import httpx
import pytest
from auth_helpers import ORG_KEY as CREDENTIAL_SECRET
from auth_helpers import secrets_of
from conftest import README, readme_python_snippets
from gql import Client as GqlClient
from gql import GraphQLRequest
from gql.transport.exceptions import TransportConnectionFailed
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport
from hostile_server import HostileServer
from loopback_kraken import (
    VIEWER_QUERY,
    data_requests,
    kt_ct_1199,
    redirect,
    scripted,
    secrets_received,
    token_requests,
    too_many_requests,
)

import oeus_kraken
from oeus_kraken import (
    APIKey,
    APIStatusError,
    ConfigurationError,
    KrakenAuth,
    KrakenError,
    OrganizationSecretKey,
    RateLimitError,
)
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer

# Named: the fake Kraken answers by operation name, which gql sends only when told.
VIEWER = GraphQLRequest(VIEWER_QUERY, operation_name="getViewer")
DEMO_EMAIL = "demo@example.com"
KEY = OrganizationSecretKey(CREDENTIAL_SECRET)
LOGGERS = ("gql", "httpx", "httpcore", "oeus_kraken")


@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Everything gql (requests at DEBUG), httpx (INFO), httpcore and oeus_kraken log."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def run_sync(url: str, auth: KrakenAuth, calls: int = 1, **transport: Any) -> list[Any]:
    with GqlClient(transport=HTTPXTransport(url=url, auth=auth, **transport)) as session:
        return [session.execute(VIEWER) for _ in range(calls)]


async def run_async(url: str, auth: KrakenAuth, calls: int = 1, **transport: Any) -> list[Any]:
    async with GqlClient(transport=HTTPXAsyncTransport(url=url, auth=auth, **transport)) as session:
        return [await session.execute(VIEWER) for _ in range(calls)]


async def run(kind: str, url: str, auth: KrakenAuth, calls: int = 1, **transport: Any) -> Any:
    if kind == "async":
        return await run_async(url, auth, calls, **transport)
    return await asyncio.to_thread(run_sync, url, auth, calls, **transport)


def emails(results: list[Any]) -> set[str]:
    return {r["viewer"]["email"] for r in results}


def failure(raised: pytest.ExceptionInfo[TransportConnectionFailed]) -> KrakenError:
    """The KrakenError gql wrapped, after checking that gql's message is the error's own."""
    cause = raised.value.__cause__
    assert isinstance(cause, KrakenError), repr(cause)
    assert str(raised.value) == str(cause)
    return cause


def assert_nowhere(secrets: list[str], *texts: str) -> None:
    leaked = [i for i, text in enumerate(texts) for secret in secrets if secret in text]
    assert not leaked, f"a secret appears in text #{leaked[0]} (not printed)"


# -- README's snippet ----------------------------------------------------------------------------


def readme_snippet() -> str:
    (snippet,) = [s for s in readme_python_snippets().values() if "HTTPXTransport" in s]
    return snippet.replace('APIKey("...")', f"APIKey({DEMO_API_KEY!r})")


def run_snippet(snippet: str, folder: Path) -> dict[str, Any]:
    """The snippet run as a script in this process (TEST_URL patched to the sandbox's): its
    global names."""
    script = folder / "snippet.py"
    script.write_text(snippet, encoding="utf-8")
    return runpy.run_path(str(script))


def test_the_readme_snippet_runs_and_its_gql_client_reuses_the_raw_clients_token(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(oeus_kraken, "TEST_URL", sandbox.url)
    names = run_snippet(readme_snippet(), tmp_path)
    with names["client"] as session:
        assert session.execute(VIEWER)["viewer"]["email"] == DEMO_EMAIL
    assert sandbox.stats.token_requests == 1  # the httpx.Client's call obtained it


async def test_the_readme_snippet_with_the_async_transport_runs(
    sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(oeus_kraken, "TEST_URL", sandbox.url)
    snippet = readme_snippet().replace("HTTPXTransport", "HTTPXAsyncTransport")
    names = run_snippet(snippet, tmp_path)
    async with names["client"] as session:
        assert (await session.execute(VIEWER))["viewer"]["email"] == DEMO_EMAIL
    assert sandbox.stats.token_requests == 1


# -- one token, obtained once, shared; renewed once when rejected --------------------------------


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_the_first_gql_request_obtains_the_token_and_later_ones_reuse_it(
    sandbox: SandboxServer, kind: str
) -> None:
    auth = KrakenAuth(APIKey(DEMO_API_KEY), url=sandbox.url)
    assert emails(await run(kind, sandbox.url, auth, calls=3)) == {DEMO_EMAIL}
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.operations["getViewer"] == 3


async def test_gql_sessions_sharing_one_kraken_auth_share_one_token(
    sandbox: SandboxServer,
) -> None:
    auth = KrakenAuth(APIKey(DEMO_API_KEY), url=sandbox.url)
    # Two async sessions and two sync ones (in threads), all at once.
    results = await asyncio.gather(
        run_async(sandbox.url, auth, calls=3),
        run_async(sandbox.url, auth, calls=3),
        asyncio.to_thread(run_sync, sandbox.url, auth, 3),
        asyncio.to_thread(run_sync, sandbox.url, auth, 3),
    )
    assert {e for r in results for e in emails(r)} == {DEMO_EMAIL}
    assert sandbox.stats.token_requests == 1
    assert sandbox.stats.operations["getViewer"] == 12


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_token_the_api_rejects_kt_ct_1124_is_renewed_and_the_gql_request_resent_once(
    sandbox: SandboxServer, kind: str, every_log: pytest.LogCaptureFixture
) -> None:
    auth = KrakenAuth(APIKey(DEMO_API_KEY), url=sandbox.url)
    await run(kind, sandbox.url, auth)
    first = auth.token_info().token
    sandbox.expire_tokens("KT-CT-1124")
    assert emails(await run(kind, sandbox.url, auth)) == {DEMO_EMAIL}
    assert sandbox.stats.token_requests == 2  # obtained, then renewed once
    assert sandbox.stats.operations["getViewer"] == 3  # sent, rejected and resent once
    second = auth.token_info().token
    assert second != first
    assert_nowhere([DEMO_API_KEY, first, second], every_log.text)


# -- faults: gql wraps the KrakenError; the credential goes nowhere else -------------------------


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("fault", [kt_ct_1199, lambda: too_many_requests(30)], ids=["1199", "429"])
async def test_a_rate_limited_token_request_is_a_rate_limit_error_that_gql_wraps(
    kind: str, fault: Any, every_log: pytest.LogCaptureFixture
) -> None:
    kraken = scripted(token_faults=[fault()])
    with HostileServer(kraken.over_socket) as server:
        auth = KrakenAuth(KEY, url=server.url)
        with pytest.raises(TransportConnectionFailed) as raised:
            await run(kind, server.url, auth)
    error = failure(raised)
    assert isinstance(error, RateLimitError)
    assert "rate limit" in str(error).lower() or "429" in str(error)
    assert len(token_requests(server)) == 1  # at once: no retry of its own
    assert data_requests(server) == []
    assert_nowhere(secrets_of(kraken), str(raised.value), repr(raised.value), every_log.text)


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_a_gql_request_to_another_origin_is_refused_before_anything_is_sent(
    kind: str,
) -> None:
    kraken, elsewhere = scripted(), scripted()
    with HostileServer(kraken.over_socket) as server, HostileServer(elsewhere.over_socket) as other:
        auth = KrakenAuth(KEY, url=server.url)
        with pytest.raises(TransportConnectionFailed) as raised:
            await run(kind, other.url, auth)
    assert isinstance(failure(raised), ConfigurationError)
    assert "refused before anything was sent" in str(raised.value)
    assert server.requests == other.requests == []


@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_a_redirected_token_request_under_gql_sends_the_credential_nowhere(
    kind: str, status: int, every_log: pytest.LogCaptureFixture
) -> None:
    """gql's transport made with follow_redirects=True: httpx follows inside the auth flow."""
    elsewhere = scripted()
    with HostileServer(elsewhere.over_socket) as other:
        kraken = scripted(token_faults=[redirect(status, other.url)])
        with HostileServer(kraken.over_socket) as server:
            auth = KrakenAuth(KEY, url=server.url)
            with pytest.raises(TransportConnectionFailed) as raised:
                await run(kind, server.url, auth, follow_redirects=True)
    assert isinstance(failure(raised), APIStatusError)
    secrets = [*secrets_of(kraken), *secrets_of(elsewhere)]
    assert secrets_received(other, secrets) == []
    assert data_requests(server) == []
    assert_nowhere(secrets, str(raised.value), every_log.text)


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_no_secret_in_gql_results_errors_or_logs_on_a_good_call(
    kind: str, every_log: pytest.LogCaptureFixture
) -> None:
    kraken = scripted()
    with HostileServer(kraken.over_socket) as server:
        auth = KrakenAuth(KEY, url=server.url)
        results = await run(kind, server.url, auth, calls=2)
    assert len(token_requests(server)) == 1
    assert len(data_requests(server)) == 2
    assert any(r.name.startswith("gql") for r in every_log.records)  # gql did log the requests
    assert_nowhere(secrets_of(kraken), every_log.text, repr(results), repr(auth))


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_no_answer_to_the_token_request_is_httpx_s_error_that_gql_wraps(kind: str) -> None:
    with socket.socket() as unused:  # a loopback port nobody listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/v1/graphql/"
    auth = KrakenAuth(KEY, url=url)
    with pytest.raises(TransportConnectionFailed) as raised:
        await run(kind, url, auth, timeout=2.0)
    assert isinstance(raised.value.__cause__, httpx.ConnectError)
    assert_nowhere([CREDENTIAL_SECRET], str(raised.value))


def test_readme_says_gql_wraps_the_kraken_error_in_transport_connection_failed() -> None:
    """README said a failed token request is "raised at once: a KrakenError", and nothing of
    gql, whose transports wrap anything the httpx client raises in TransportConnectionFailed:
    an `except KrakenError` around gql's execute() caught nothing."""
    text = " ".join(README.read_text("utf-8").split())
    section = text[text.index("## Kraken authentication for any httpx client") :]
    section = section[: section.index("## Command line")]
    assert "TransportConnectionFailed" in section
    assert "__cause__" in section
