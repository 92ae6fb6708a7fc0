"""`KrakenAuth` on other clients: raw httpx, gql's transports, a plain ariadne-codegen client.

Each runs against the sandbox over loopback HTTP. Twenty calls, at once, cost exactly one token
request; the token goes in a bare `Authorization` header; the token request goes to the
request's own URL, with no Authorization of its own; a rejected token is renewed and the request
resent once (KT-CT-1120 included).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import sys
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from codegen_helpers import write_small_schema
from gql import Client as GqlClient
from gql import gql
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport

from oeus_kraken import (
    TEST_URL,
    APIKey,
    AuthenticationError,
    KrakenAuth,
    KrakenClient,
    StoredTokens,
    SyncKrakenClient,
)
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer

VIEWER = "query whoAmI { viewer { email accounts { number } } }"
BODY = {"query": VIEWER, "operationName": "whoAmI"}
CALLS = 20


def auth(sandbox: SandboxServer) -> KrakenAuth:
    return KrakenAuth(APIKey(DEMO_API_KEY), url=sandbox.url)


def in_threads(count: int, call: Any) -> list[Any]:
    results: list[Any] = [None] * count
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def one(i: int) -> None:
        try:
            start.wait(timeout=5)
            results[i] = call()
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors[0]
    return results


def viewer_email(body: dict[str, Any]) -> str:
    return str(body["data"]["viewer"]["email"])


# -- raw httpx ------------------------------------------------------------------------------


def test_raw_httpx_client_with_kraken_auth_makes_one_token_request_for_20_calls(
    sandbox: SandboxServer,
) -> None:
    with httpx.Client(auth=auth(sandbox)) as client:
        bodies = in_threads(CALLS, lambda: client.post(sandbox.url, json=BODY).json())
    assert {viewer_email(b) for b in bodies} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


async def test_raw_httpx_async_client_with_kraken_auth_makes_one_token_request_for_20_calls(
    sandbox: SandboxServer,
) -> None:
    async with httpx.AsyncClient(auth=auth(sandbox)) as client:
        responses = await asyncio.gather(
            *(client.post(sandbox.url, json=BODY) for _ in range(CALLS))
        )
    assert {viewer_email(r.json()) for r in responses} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


def test_the_token_is_sent_bare_and_the_token_request_carries_no_authorization(
    sandbox: SandboxServer,
) -> None:
    seen: list[httpx.Request] = []
    with httpx.Client(auth=auth(sandbox), event_hooks={"request": [seen.append]}) as client:
        client.post(sandbox.url, json=BODY, headers={"Authorization": "stale-token"})
    token_request, data_request = seen
    assert token_request.url == data_request.url == httpx.URL(sandbox.url)
    assert "authorization" not in token_request.headers
    assert data_request.headers["authorization"].count(".") == 2  # a bare JWT, no prefix


# -- gql ----------------------------------------------------------------------------------------


def test_gql_sync_transport_with_kraken_auth_makes_one_token_request_for_20_calls(
    sandbox: SandboxServer,
) -> None:
    client = GqlClient(transport=HTTPXTransport(url=sandbox.url, auth=auth(sandbox)))
    document = gql(VIEWER)
    with client as session:
        lock = threading.Lock()  # a gql sync session is not thread-safe; the auth is shared

        def call() -> Any:
            with lock:
                return session.execute(document)

        results = [call() for _ in range(CALLS // 2)] + in_threads(CALLS // 2, call)
    assert {r["viewer"]["email"] for r in results} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


async def test_gql_async_transport_with_kraken_auth_makes_one_token_request_for_20_calls(
    sandbox: SandboxServer,
) -> None:
    client = GqlClient(transport=HTTPXAsyncTransport(url=sandbox.url, auth=auth(sandbox)))
    document = gql(VIEWER)
    async with client as session:
        results = await asyncio.gather(*(session.execute(document) for _ in range(CALLS)))
    assert {r["viewer"]["email"] for r in results} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


# -- a plain ariadne-codegen client ------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_client_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A client made by ariadne-codegen alone (its default base clients, no oeus-kraken code),
    async and sync, from one operation (against the small schema, a subset of the real one)."""
    from ariadne_codegen.main import client as run_codegen

    folder = tmp_path_factory.mktemp("plain")
    (folder / "ops").mkdir()
    (folder / "ops" / "who.graphql").write_text(VIEWER)
    schema = write_small_schema(folder)
    for flavour in ("async", "sync"):
        config = {
            "tool": {
                "ariadne-codegen": {
                    "schema_path": str(schema),
                    "queries_path": str(folder / "ops"),
                    "target_package_path": str(folder),
                    "target_package_name": f"plain_{flavour}",
                    "async_client": flavour == "async",
                    "include_all_inputs": False,
                    "include_all_enums": False,
                }
            }
        }
        with contextlib.redirect_stdout(io.StringIO()):
            run_codegen(config)
    sys.path.insert(0, str(folder))
    try:
        yield (
            importlib.import_module("plain_async").Client,
            importlib.import_module("plain_sync").Client,
        )
    finally:
        sys.path.remove(str(folder))


def test_a_plain_ariadne_codegen_sync_client_given_an_http_client_with_kraken_auth(
    sandbox: SandboxServer, plain_client_package: tuple[Any, Any]
) -> None:
    _, sync_client = plain_client_package
    with httpx.Client(auth=auth(sandbox)) as http:
        client = sync_client(url=sandbox.url, http_client=http)
        results = in_threads(CALLS, client.who_am_i)
    assert {r.viewer.email for r in results} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


async def test_a_plain_ariadne_codegen_async_client_given_an_http_client_with_kraken_auth(
    sandbox: SandboxServer, plain_client_package: tuple[Any, Any]
) -> None:
    async_client, _ = plain_client_package
    async with httpx.AsyncClient(auth=auth(sandbox)) as http:
        client = async_client(url=sandbox.url, http_client=http)
        results = await asyncio.gather(*(client.who_am_i() for _ in range(CALLS)))
    assert {r.viewer.email for r in results} == {"demo@example.com"}
    assert sandbox.stats.token_requests == 1


# -- renewal ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["KT-CT-1120", "KT-CT-1124"])
def test_an_expired_token_is_renewed_once_and_the_request_resent_on_raw_httpx(
    sandbox: SandboxServer, code: str
) -> None:
    with httpx.Client(auth=auth(sandbox)) as client:
        assert viewer_email(client.post(sandbox.url, json=BODY).json()) == "demo@example.com"
        sandbox.expire_tokens(code)
        assert viewer_email(client.post(sandbox.url, json=BODY).json()) == "demo@example.com"
    # obtain, then one renewal (the refresh token), and the data request twice after it
    assert sandbox.stats.token_requests == 2
    assert sandbox.stats.operations["whoAmI"] == 3


@pytest.mark.parametrize("kind", ["async", "sync"])
async def test_kt_ct_1120_renews_and_resends_once_on_both_clients(
    sandbox: SandboxServer, kind: str
) -> None:
    if kind == "async":
        async with KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
            await kraken.get_viewer()
            sandbox.expire_tokens("KT-CT-1120")
            viewer = (await kraken.get_viewer()).viewer
    else:
        with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as sync_kraken:
            sync_kraken.get_viewer()
            sandbox.expire_tokens("KT-CT-1120")
            viewer = sync_kraken.get_viewer().viewer
    assert viewer is not None
    assert viewer.email == "demo@example.com"
    assert sandbox.stats.token_requests == 2  # obtained, then renewed once
    assert sandbox.stats.operations["getViewer"] == 3  # sent, rejected and resent once


def test_kraken_auth_without_credentials_refuses_before_sending(sandbox: SandboxServer) -> None:
    with (
        httpx.Client(auth=KrakenAuth(url=sandbox.url)) as client,
        pytest.raises(AuthenticationError),
    ):
        client.post(sandbox.url, json=BODY)
    assert sandbox.stats.requests == 0


def test_one_kraken_auth_serves_the_origin_of_its_url_and_refuses_any_other(
    sandbox: SandboxServer,
) -> None:
    from oeus_kraken import ConfigurationError

    shared = auth(sandbox)
    with httpx.Client(auth=shared) as client:
        client.post(sandbox.url, json=BODY)
        # Another path of the same origin gets the same token (the origin is the unit of trust).
        other_path = client.post(sandbox.url.replace("/v1/graphql/", "/v1/graphql"), json=BODY)
        assert other_path.request.headers["authorization"] == shared.token_info().token
        another_origin = sandbox.url.replace("127.0.0.1", "localhost")
        with pytest.raises(ConfigurationError, match="refused before anything was sent"):
            client.post(another_origin, json=BODY)
    assert sandbox.stats.token_requests == 1


# -- the drivers do the I/O: the token store is read and written off the event loop -------------


class RecordingStore:
    """A TokenStore that notes which thread each load and save ran on."""

    def __init__(self) -> None:
        self.threads: list[tuple[str, int]] = []
        self.saved: dict[str, StoredTokens | None] = {}

    def load(self, key: str) -> StoredTokens | None:
        self.threads.append(("load", threading.get_ident()))
        return self.saved.get(key)

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        self.threads.append(("save", threading.get_ident()))
        self.saved[key] = tokens


async def test_the_async_client_reads_and_writes_the_token_store_in_a_worker_thread(
    sandbox: SandboxServer,
) -> None:
    store = RecordingStore()
    loop_thread = threading.get_ident()
    async with KrakenClient(
        sandbox.url, credentials=APIKey(DEMO_API_KEY), token_store=store
    ) as kraken:
        await kraken.get_viewer()
    assert [what for what, _ in store.threads] == ["load", "save"]
    assert all(thread != loop_thread for _, thread in store.threads)


def test_the_sync_client_uses_the_token_store_from_the_calling_thread(
    sandbox: SandboxServer,
) -> None:
    store = RecordingStore()
    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY), token_store=store) as k:
        k.get_viewer()
    assert store.threads == [("load", threading.get_ident()), ("save", threading.get_ident())]


def test_token_info_without_credentials_says_that_none_can_be_obtained() -> None:
    auth = KrakenAuth(None, url=TEST_URL)
    with pytest.raises(AuthenticationError, match="no credentials") as raised:
        auth.token_info()
    assert "obtains one" not in str(raised.value)


def test_token_info_before_any_token_says_none_was_obtained_yet() -> None:
    # It said "(it was just rejected)" of a KrakenAuth that had never asked for a token.
    auth = KrakenAuth(APIKey("KEY-SECRET-never-used"), url=TEST_URL)
    with pytest.raises(AuthenticationError, match="none obtained yet") as raised:
        auth.token_info()
    assert "authenticate()" in str(raised.value)
