"""`compare_products` and `acompare_products` given what they do not take (a path for the store,
no client, the store and client swapped, a number for the account, the sync client to the
async function): a ConfigurationError saying what it takes, before the store is read and
before any request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import FakeKraken
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken import (
    ConfigurationError,
    KrakenClient,
    OrganizationSecretKey,
    SyncKrakenClient,
)
from oeus_kraken.compare import ComparisonError, acompare_products, compare_products
from oeus_kraken.usage import UsageStore

DAY = date(2026, 10, 14)
CREDENTIALS = OrganizationSecretKey("sk_test_not_a_real_organization_key")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        opened.upsert(day_intervals(DAY), fetched_at=FETCHED)
        yield opened


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (lambda c, s: (c, str(s.path)), "store must be an open UsageStore"),
        (lambda c, s: (c, s.path), "store must be an open UsageStore"),
        (lambda c, s: (None, s), "client must be a KrakenClient or SyncKrakenClient, not NoneType"),
        (lambda c, s: (s, c), "client must be a KrakenClient or SyncKrakenClient, not UsageStore"),
    ],
    ids=["store as text", "store as a Path", "no client", "client and store swapped"],
)
def test_what_is_not_a_client_or_a_store_is_a_configuration_error_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore, arguments: Any, says: str
) -> None:
    # Before, an AttributeError ("'str' object has no attribute 'readings'").
    with SyncKrakenClient(credentials=CREDENTIALS) as client:
        kraken, usage = arguments(client, store)
        with pytest.raises(ConfigurationError, match=says):
            compare_products(kraken, usage, ESI, DAY, DAY)
    assert fake_kraken.requests() == []


def test_an_account_number_that_is_not_text_is_a_configuration_error_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    # Before, the number went into the account's requests as it was.
    with (
        SyncKrakenClient(credentials=CREDENTIALS) as client,
        pytest.raises(ConfigurationError, match="account_number must be an account number"),
    ):
        compare_products(client, store, ESI, DAY, DAY, account_number=5_000_123)  # type: ignore[call-overload]
    assert fake_kraken.requests() == []


def test_the_async_function_given_the_sync_client_says_which_to_call_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    # Before, the sync client's requests were made, blocking the event loop, and then
    # asyncio.gather raised a TypeError about what it could not await.
    with (
        SyncKrakenClient(credentials=CREDENTIALS) as client,
        pytest.raises(ConfigurationError, match="with a SyncKrakenClient, call compare_products"),
    ):
        asyncio.run(acompare_products(client, store, ESI, DAY, DAY))  # type: ignore[arg-type]
    assert fake_kraken.requests() == []


async def test_the_async_client_is_still_taken_by_both_functions(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    # No usage for the ESI ID asked for: refused when the store is read, before any request,
    # by both functions alike, so the client was taken.
    async with KrakenClient(credentials=CREDENTIALS) as client:
        for function in (compare_products, acompare_products):
            with pytest.raises(ComparisonError, match="has no usage for ESI ID 10443720009999999"):
                await function(client, store, "10443720009999999", DAY, DAY)
    assert fake_kraken.requests() == []
