"""The clients under comparison, each ready to make one call of a case, token already held.

A *case* is one operation with one fixed answer (`small`: getViewer with one account; `viewer`:
getViewer with enough accounts for ~35 KB, a flat answer; `account`: getAccount with 105
properties, ~35 KB, a deep one). For each case and flavour (sync, async) this builds one
zero-argument call per client, all over the same `FakeKraken` answers:

- `raw httpx`: `client.post(url, json=payload).json()`, the payload being exactly what our
  client sent: what people write by hand, untyped;
- `pydantic floor`: raw httpx, then `model_validate_json` of the body into an envelope of the
  same generated result model ours returns: the least a typed call can cost;
- `generated`: a plain ariadne-codegen client of the same operations, without our layer
  (`_plain_client`: its default base client, `model_validate` of `get_data`);
- `gql`: gql 4 with its httpx transport, the document parsed once up front; it returns dicts;
- `oeus_kraken`: `SyncKrakenClient` / `KrakenClient` with an API key, after one warm-up call that
  obtained the token;
- `httpx + KrakenAuth`: raw httpx again, authenticated by our `KrakenAuth` instead of a fixed
  header: what the auth flow itself costs a request.

Every client except ours carries the same Authorization header as a default header.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pydantic
from _fixtures import (
    API_KEY,
    BIG_ACCOUNT_NUMBER,
    BIG_BYTES,
    BIG_PROPERTIES,
    SMALL_ACCOUNTS,
    URL,
    FakeKraken,
    account_body,
    kraken_jwt,
    viewer_accounts_for,
    viewer_body,
)
from _plain_client import plain_clients
from gql import Client as GqlClient
from gql import GraphQLRequest, gql
from gql.transport.httpx import HTTPXAsyncTransport, HTTPXTransport
from pydantic import BaseModel

from oeus_kraken import (
    APIKey,
    GetAccount,
    GetViewer,
    KrakenAuth,
    KrakenClient,
    SyncKrakenClient,
)

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[object]]

RAW = "raw httpx"
FLOOR = "pydantic floor"
GENERATED = "generated"
GQL = "gql"
OURS = "oeus_kraken"
AUTH = "httpx + KrakenAuth"
CLIENTS = (RAW, FLOOR, GENERATED, GQL, OURS, AUTH)


@dataclass(frozen=True)
class Case:
    key: str
    description: str
    operation: str  # the GraphQL operation name
    method: str  # the client method that sends it
    kwargs: dict[str, Any]
    body: bytes
    model: type[BaseModel]  # the generated result model

    @property
    def kilobytes(self) -> float:
        return len(self.body) / 1000


def viewer_case(accounts: int, key: str | None = None) -> Case:
    plural = "account" if accounts == 1 else "accounts"
    return Case(
        key or f"viewer-{accounts}",
        f"getViewer, {accounts} {plural}",
        "getViewer",
        "get_viewer",
        {},
        viewer_body(accounts),
        GetViewer,
    )


def cases() -> list[Case]:
    """The cases of the table: a small answer and two ~35 KB ones."""
    return [
        viewer_case(SMALL_ACCOUNTS, "small"),
        viewer_case(viewer_accounts_for(BIG_BYTES), "viewer"),
        Case(
            "account",
            f"getAccount, {BIG_PROPERTIES} properties",
            "getAccount",
            "get_account",
            {"account_number": BIG_ACCOUNT_NUMBER},
            account_body(BIG_PROPERTIES),
            GetAccount,
        ),
    ]


def _floor_envelope(model: type[BaseModel]) -> type[BaseModel]:
    """`{"data": model}`, a plain pydantic model: what the floor validates the body into."""
    return pydantic.create_model(f"{model.__name__}Floor", data=(model, ...))


def _check(results: dict[str, object], body: bytes) -> None:
    """Fail loudly unless every client decoded the answer: a benchmark of errors is worthless."""
    expected = json.loads(body)["data"]
    for name, result in results.items():
        if isinstance(result, BaseModel):
            data: object = result.model_dump(by_alias=True, mode="json")
        elif name in (RAW, AUTH):
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
    floor = _floor_envelope(case.model)
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

        def call_floor() -> object:
            return floor.model_validate_json(raw.post(URL, json=payload).content).data  # type: ignore[attr-defined]

        def call_generated() -> object:
            return getattr(generated, case.method)(**case.kwargs)

        def call_gql() -> object:
            request = GraphQLRequest(
                document, variable_values=variables, operation_name=case.operation
            )
            return session.execute(request)

        def call_ours() -> object:
            return getattr(ours, case.method)(**case.kwargs)

        authed = stack.enter_context(
            httpx.Client(transport=fake.transport(), auth=KrakenAuth(APIKey(API_KEY), url=URL))
        )

        def call_authed() -> object:
            return authed.post(URL, json=payload).json()

        calls: dict[str, SyncCall] = dict(
            zip(
                CLIENTS,
                (call_raw, call_floor, call_generated, call_gql, call_ours, call_authed),
                strict=True,
            )
        )
        _check({name: call() for name, call in calls.items()} | {"first": first}, case.body)
        yield calls


async def _our_async_client(stack: AsyncExitStack, transport: httpx.MockTransport) -> KrakenClient:
    """A KrakenClient with an API key over `transport`, closed with `stack`."""
    http = await stack.enter_async_context(httpx.AsyncClient(transport=transport))
    client = KrakenClient(URL, credentials=APIKey(API_KEY), http_client=http)
    return await stack.enter_async_context(client)


@asynccontextmanager
async def async_calls(case: Case) -> AsyncIterator[dict[str, AsyncCall]]:
    """One call per client for `case`, async flavour; clients are closed on exit."""
    fake = FakeKraken(token=kraken_jwt(), body=case.body)
    auth = {"Authorization": fake.token}
    floor = _floor_envelope(case.model)
    async with AsyncExitStack() as stack:
        ours = await _our_async_client(stack, fake.transport())
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

        async def call_floor() -> object:
            response = await raw.post(URL, json=payload)
            return floor.model_validate_json(response.content).data  # type: ignore[attr-defined]

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

        authed = await stack.enter_async_context(
            httpx.AsyncClient(transport=fake.transport(), auth=KrakenAuth(APIKey(API_KEY), url=URL))
        )

        async def call_authed() -> object:
            return (await authed.post(URL, json=payload)).json()

        calls: dict[str, AsyncCall] = dict(
            zip(
                CLIENTS,
                (call_raw, call_floor, call_generated, call_gql, call_ours, call_authed),
                strict=True,
            )
        )
        results = {name: await call() for name, call in calls.items()}
        _check(results | {"first": first}, case.body)
        yield calls


# -- many concurrent calls ------------------------------------------------------------------------


@asynccontextmanager
async def concurrent_clients(case: Case) -> AsyncIterator[tuple[FakeKraken, KrakenClient, Any]]:
    """(the fake, a fresh KrakenClient holding no token yet, a raw httpx.AsyncClient), both
    over a transport that answers after a turn of the loop, so concurrent calls overlap."""
    fake = FakeKraken(token=kraken_jwt(), body=case.body)
    async with AsyncExitStack() as stack:
        ours = await _our_async_client(stack, fake.overlapping_transport())
        raw = await stack.enter_async_context(
            httpx.AsyncClient(
                transport=fake.overlapping_transport(), headers={"Authorization": fake.token}
            )
        )
        yield fake, ours, raw
