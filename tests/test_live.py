"""A few checks against a real Kraken API, run only when one is configured:

    KRAKEN_URL=https://api.oeus-kraken.systems/v1/graphql/ KRAKEN_API_KEY=... \\
        .venv/bin/pytest tests/test_live.py -v

The clients are built with `from_env()`, so any credential it reads works (KRAKEN_API_KEY,
KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_EMAIL + KRAKEN_PASSWORD, KRAKEN_REFRESH_TOKEN). Without
KRAKEN_URL and one of those, every test here is skipped, with the reason saying what to set; that
is what CI shows. The sandbox-only checks (faults, revoked tokens, moving the server's clock) are in
tests/test_integration.py. These tests send a handful of requests and never change anything.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from conftest import AnyClient, build_client, call, close_client

from oeus_kraken import (
    KrakenClient,
    OrganizationSecretKey,
    RefreshToken,
    ServiceProvider,
    SyncKrakenClient,
)

LIVE_REASON = "set KRAKEN_URL and KRAKEN_* credentials to run against a live Kraken API"
CREDENTIAL_VARIABLES = (
    "KRAKEN_ORGANIZATION_SECRET_KEY",
    "KRAKEN_API_KEY",
    "KRAKEN_EMAIL",
    "KRAKEN_PASSWORD",
    "KRAKEN_REFRESH_TOKEN",
)


def live_api_configured() -> bool:
    def is_set(name: str) -> bool:
        return bool(os.environ.get(name, "").strip())

    return is_set("KRAKEN_URL") and any(map(is_set, CREDENTIAL_VARIABLES))


pytestmark = pytest.mark.skipif(not live_api_configured(), reason=LIVE_REASON)

ACCOUNT_NUMBER = re.compile(r"^A-[0-9A-F]{8}$")


class Recorder:
    """Notes the GraphQL operation name of every request a client sends (an httpx event hook)."""

    def __init__(self) -> None:
        self.operations: list[str | None] = []

    def record(self, request: httpx.Request) -> None:
        self.operations.append(json.loads(request.content).get("operationName"))

    async def arecord(self, request: httpx.Request) -> None:
        self.record(request)


class Clock:
    """Real time plus an offset: moving it makes the client think its token is about to expire
    (the API, on real time, still accepts it)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@pytest.fixture
async def live(kind: str) -> AsyncIterator[tuple[AnyClient, Recorder, Clock]]:
    """A client from the environment (`from_env()`), what it sends, and its clock."""
    recorder, clock = Recorder(), Clock()
    client: AnyClient
    if kind == "async":
        client = KrakenClient.from_env(clock=clock)
        client.http_client.event_hooks = {"request": [recorder.arecord]}
    else:
        client = SyncKrakenClient.from_env(clock=clock)
        client.http_client.event_hooks = {"request": [recorder.record]}
    try:
        yield client, recorder, clock
    finally:
        await close_client(client)


def is_organization(client: AnyClient) -> bool:
    return isinstance(client.credentials, OrganizationSecretKey)


async def test_live_viewer_lists_accounts_that_get_account_can_read(
    live: tuple[AnyClient, Recorder, Clock],
) -> None:
    client, _, _ = live
    if is_organization(client):
        pytest.skip("viewer needs an account user's credentials, not an organisation's")
    viewer = (await call(client, "get_viewer")).viewer
    assert viewer is not None
    numbers = [a.number for a in viewer.accounts or [] if a is not None]
    assert all(ACCOUNT_NUMBER.match(n) for n in numbers), numbers
    if numbers:
        account = (await call(client, "get_account", account_number=numbers[0])).account
        assert account is not None
        assert account.number == numbers[0]


async def test_live_products_need_no_token(live: tuple[AnyClient, Recorder, Clock]) -> None:
    client, recorder, _ = live
    products = (await call(client, "get_products")).products
    codes = [p.code for p in products or [] if p is not None]
    assert codes
    assert all(codes)
    assert recorder.operations == ["getProducts"]  # public: no token was requested for it


async def test_live_tdsp_lookup_without_credentials(kind: str) -> None:
    client = build_client(kind, url=os.environ["KRAKEN_URL"])
    try:
        result = await call(client, "get_tdsp_by_postal_code", postal_code="75001")
    finally:
        await close_client(client)
    providers = [t.service_provider for t in result.tdsp_by_postalcode or [] if t is not None]
    assert ServiceProvider.ONCOR in providers  # 75001 (Addison, TX) is Oncor's


async def test_live_token_lifecycle(live: tuple[AnyClient, Recorder, Clock]) -> None:
    client, recorder, clock = live

    first = await call(client, "authenticate")
    uses_refresh_token = isinstance(client.credentials, RefreshToken)
    assert recorder.operations == ["refreshKrakenToken" if uses_refresh_token else "getKrakenToken"]
    assert first.expires_at is not None
    assert first.expires_at.timestamp() > time.time() + client.refresh_margin
    assert {"sub", "exp", "iat"} <= set(first.claims)
    assert (await call(client, "authenticate")).token == first.token  # held, not asked again
    assert len(recorder.operations) == 1

    # Near its expiry, by the client's clock, the token is replaced: with the refresh token when
    # the API gave one, else with the credential. Exactly one request does it.
    clock.offset = first.expires_at.timestamp() - time.time() - 60
    recorder.operations.clear()
    second = await call(client, "authenticate")
    expected = "refreshKrakenToken" if first.refresh_expires_at is not None else "getKrakenToken"
    assert recorder.operations == [expected]
    assert second.claims["sub"] == first.claims["sub"]

    if not is_organization(client):
        clock.offset = 0.0
        assert (await call(client, "get_viewer")).viewer is not None  # the new token works
        assert recorder.operations == [expected, "getViewer"]
