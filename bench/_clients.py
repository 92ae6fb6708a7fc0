"""The clients under comparison, each ready to make one call of a case, token already held.

A *case* is one operation with one fixed answer (`small`: getViewer with one account, `big`: a
~35 KB getAccount). For each case and flavour (sync, async) this builds one zero-argument call per
client, all over the same `FakeKraken` answers:

- `raw httpx`: `client.post(url, json=payload).json()`, the payload being exactly what our
  client sent;
- `generated`: a plain ariadne-codegen client of the same operations, without our layer
  (`_plain_client`: its default base client, `model_validate` of `get_data`);
- `gql`: gql 4 with its httpx transport, the document parsed once up front; it returns dicts;
- `oeus_kraken`: `SyncKrakenClient` / `KrakenClient` with an API key, after one warm-up call that
  obtained the token.

Every client except ours carries the same Authorization header as a default header.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
from _fixtures import (
    API_KEY,
    BIG_ACCOUNT_NUMBER,
    BIG_PROPERTIES,
    SMALL_ACCOUNTS,
    URL,
    FakeKraken,
    account_body,
    kraken_jwt,
    viewer_body,
)
from _plain_client import plain_clients
from gql import Client as GqlClient
from gql import GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport
from pydantic import BaseModel

from oeus_kraken import APIKey, KrakenClient, SyncKrakenClient

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]

FLAVOURS = ("raw httpx", "generated", "gql", "oeus_kraken")


@dataclass(frozen=True)
class Case:
    key: str
    description: str
    operation: str  # the GraphQL operation name
    method: str  # the client method that sends it
    kwargs: dict[str, Any]
    body: bytes


def cases() -> list[Case]:
    return [
        Case(
            "small",
            f"getViewer, {SMALL_ACCOUNTS} account",
            "getViewer",
            "get_viewer",
            {},
            viewer_body(SMALL_ACCOUNTS),
        ),
        Case(
            "big",
            f"getAccount, {BIG_PROPERTIES} properties",
            "getAccount",
            "get_account",
            {"account_number": BIG_ACCOUNT_NUMBER},
            account_body(BIG_PROPERTIES),
        ),
    ]


def _check(results: dict[str, object], body: bytes) -> None:
    """Fail loudly unless every client decoded the answer: a benchmark of errors is worthless."""
    expected = json.loads(body)["data"]
    for name, result in results.items():
        if isinstance(result, BaseModel):
            data: object = result.model_dump(by_alias=True, mode="json")
        elif name == "raw httpx":
            data = cast("dict[str, object]", result)["data"]
        else:
            data = result
        if data != expected:
            raise RuntimeError(f"{name}: not the expected data; is the benchmark answer valid?")


@contextmanager
def sync_calls(case: Case) -> Iterator[dict[str, SyncCall]]:
    """One call per client for `case`, sync flavour; clients are closed on exit."""
    fake = FakeKraken(token=kraken_jwt(), body=case.body)
    auth = {"Authorization": fake.token}
    with ExitStack() as stack:
        ours = stack.enter_context(
            SyncKrakenClient(
                URL,
                credentials=APIKey(API_KEY),
                http_client=stack.enter_context(httpx.Client(transport=fake.transport())),
            )
        )
        first = getattr(ours, case.method)(**case.kwargs)  # obtains the token
        payload = fake.sent_payload()

        raw = stack.enter_context(httpx.Client(transport=fake.transport(), headers=auth))
        generated_http = stack.enter_context(httpx.Client(transport=fake.transport(), headers=auth))
        generated = plain_clients()[1](url=URL, http_client=generated_http)
        gql_client = GqlClient(
            transport=HTTPXTransport(url=URL, transport=fake.transport(), headers=auth)
        )
        session = gql_client.connect_sync()  # type: ignore[no-untyped-call]
        stack.callback(gql_client.close_sync)
        document = gql(payload["query"]).document
        variables = payload.get("variables") or None

        def call_raw() -> object:
            return raw.post(URL, json=payload).json()

        def call_generated() -> object:
            return getattr(generated, case.method)(**case.kwargs)

        def call_gql() -> object:
            request = GraphQLRequest(
                document, variable_values=variables, operation_name=case.operation
            )
            return session.execute(request)

        def call_ours() -> object:
            return getattr(ours, case.method)(**case.kwargs)

        calls: dict[str, SyncCall] = dict(
            zip(FLAVOURS, (call_raw, call_generated, call_gql, call_ours), strict=True)
        )
        _check({name: call() for name, call in calls.items()} | {"first": first}, case.body)
        yield calls


@asynccontextmanager
async def async_calls(case: Case) -> AsyncIterator[dict[str, AsyncCall]]:
    """One call per client for `case`, async flavour; clients are closed on exit."""
    fake = FakeKraken(token=kraken_jwt(), body=case.body)
    auth = {"Authorization": fake.token}
    async with AsyncExitStack() as stack:
        ours = await stack.enter_async_context(
            KrakenClient(
                URL,
                credentials=APIKey(API_KEY),
                http_client=await stack.enter_async_context(
                    httpx.AsyncClient(transport=fake.transport())
                ),
            )
        )
        first = await getattr(ours, case.method)(**case.kwargs)  # obtains the token
        payload = fake.sent_payload()

        raw = await stack.enter_async_context(
            httpx.AsyncClient(transport=fake.transport(), headers=auth)
        )
        generated_http = await stack.enter_async_context(
            httpx.AsyncClient(transport=fake.transport(), headers=auth)
        )
        generated = plain_clients()[0](url=URL, http_client=generated_http)
        gql_client = GqlClient(
            transport=HTTPXAsyncTransport(url=URL, transport=fake.transport(), headers=auth)
        )
        session = await gql_client.connect_async()  # type: ignore[no-untyped-call]
        stack.push_async_callback(gql_client.close_async)
        document = gql(payload["query"]).document
        variables = payload.get("variables") or None

        async def call_raw() -> object:
            return (await raw.post(URL, json=payload)).json()

        async def call_generated() -> object:
            result: object = await getattr(generated, case.method)(**case.kwargs)
            return result

        async def call_gql() -> object:
            request = GraphQLRequest(
                document, variable_values=variables, operation_name=case.operation
            )
            return await session.execute(request)

        async def call_ours() -> object:
            result: object = await getattr(ours, case.method)(**case.kwargs)
            return result

        calls: dict[str, AsyncCall] = dict(
            zip(FLAVOURS, (call_raw, call_generated, call_gql, call_ours), strict=True)
        )
        results = {name: await call() for name, call in calls.items()}
        _check(results | {"first": first}, case.body)
        yield calls
