"""The usage store's library surface as an integrator uses it: arguments of the wrong type."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken import APIKey, ConfigurationError, KrakenClient, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_API_KEY, SandboxServer
from oeus_kraken.usage import (
    UsageStore,
    aiter_usage,
    chart,
    iter_usage,
    sync_usage,
    sync_usage_blocking,
)

DAY = date(2026, 7, 14)


@pytest.mark.parametrize(
    ("path", "busy_timeout", "message"),
    [
        (5, 30.0, "file path"),  # a bare TypeError from Path(), before
        (b"usage.sqlite3", 30.0, "file path"),
        ("usage.sqlite3", "30", "busy_timeout"),  # a bare TypeError from sqlite3, before
        ("usage.sqlite3", -1, "busy_timeout"),  # accepted, before
        ("usage.sqlite3", True, "busy_timeout"),
        ("usage.sqlite3", float("nan"), "busy_timeout"),
    ],
)
def test_a_store_path_or_busy_timeout_of_the_wrong_kind_is_a_configuration_error_making_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, path: Any, busy_timeout: Any, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match=message):
        UsageStore(path, busy_timeout=busy_timeout)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", [None, 5, b"day.csv", ["day.csv"]], ids=repr)
def test_an_export_out_that_is_neither_a_path_nor_a_stream_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, out: Any
) -> None:
    # Before: AttributeError: 'NoneType' object has no attribute 'readable' (the store took
    # anything that was not a path for a binary stream).
    monkeypatch.chdir(tmp_path)
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.link("A-1234ABCD", ESI)
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        with pytest.raises(ConfigurationError, match="out must be a file path"):
            store.export(ESI, DAY, DAY, out=out)
    assert [p.name for p in tmp_path.iterdir()] == ["usage.sqlite3"]  # nothing written


@pytest.mark.parametrize("mode", ["r", "rb", "closed"])
def test_an_export_out_stream_that_cannot_be_written_is_a_configuration_error(
    tmp_path: Path, mode: str
) -> None:
    # Before: io.UnsupportedOperation: not writable, or ValueError: I/O operation on closed
    # file (no KrakenError), from the first write: `out=sys.stdin`, open(path) (mode "r").
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.link("A-1234ABCD", ESI)
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        (tmp_path / "day.csv").write_text("kept\n")
        with open(tmp_path / "day.csv", "r+" if mode == "closed" else mode) as stream:
            if mode == "closed":
                stream.close()
            with pytest.raises(ConfigurationError, match="out is a stream"):
                store.export(ESI, DAY, DAY, out=stream)
    assert (tmp_path / "day.csv").read_text() == "kept\n"


@pytest.mark.parametrize("out_png", [None, 5, b"day.png"], ids=repr)
def test_a_chart_out_that_is_not_a_path_is_a_configuration_error(
    tmp_path: Path, out_png: Any
) -> None:
    # Before: TypeError: expected str, bytes or os.PathLike object, not int (from Path()).
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        with pytest.raises(ConfigurationError, match="out_png must be a file path"):
            chart(store, ESI, DAY, DAY, out_png)


def _no_home(self: Path) -> Path:
    raise RuntimeError("Could not determine home directory.")


@pytest.mark.parametrize("use", ["UsageStore", "export", "chart"])
def test_a_path_under_a_home_folder_that_is_not_there_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, use: str
) -> None:
    # No HOME, and a uid with no passwd entry (a container run as an arbitrary user):
    # UsageStore("~/usage.sqlite3"), export(out="~/day.csv") and chart(..., "~/day.png") raised
    # Path.expanduser's bare RuntimeError.
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
        monkeypatch.setattr(Path, "expanduser", _no_home)
        uses: dict[str, Any] = {
            "UsageStore": lambda: UsageStore("~/usage.sqlite3"),
            "export": lambda: store.export(ESI, DAY, DAY, out="~/day.csv"),
            "chart": lambda: chart(store, ESI, DAY, DAY, "~/day.png"),
        }
        with pytest.raises(ConfigurationError, match="no home folder to expand it to"):
            uses[use]()


# -- a client of the other kind: KrakenClient to the blocking API, SyncKrakenClient to the async ---

ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
TODAY_ON = date(2026, 12, 1)


def blocking_walk(kraken: Any, store: UsageStore, api: str) -> Any:
    if api == "sync_usage_blocking":
        return sync_usage_blocking(kraken, store, [ACCOUNT], since=TODAY_ON)
    return list(iter_usage(kraken, ACCOUNT, TODAY_ON, TODAY_ON))


async def async_walk(kraken: Any, store: UsageStore, api: str) -> Any:
    if api == "sync_usage":
        return await sync_usage(kraken, store, [ACCOUNT], since=TODAY_ON)
    return [interval async for interval in aiter_usage(kraken, ACCOUNT, TODAY_ON, TODAY_ON)]


@pytest.mark.parametrize("api", ["sync_usage_blocking", "iter_usage"])
def test_the_blocking_usage_api_given_an_async_client_says_to_await_the_async_one(
    sandbox: SandboxServer, tmp_path: Path, api: str
) -> None:
    # Before: AttributeError: 'coroutine' object has no attribute 'account', and a
    # "coroutine ... was never awaited" warning.
    kraken = KrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY))
    with (
        UsageStore(tmp_path / "usage.sqlite3") as store,
        pytest.raises(ConfigurationError, match=r"KrakenClient's calls are async"),
    ):
        blocking_walk(kraken, store, api)
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("api", ["sync_usage", "aiter_usage"])
async def test_the_async_usage_api_given_a_blocking_client_says_to_use_the_blocking_one(
    sandbox: SandboxServer, tmp_path: Path, api: str
) -> None:
    # Before: TypeError: object GetAccount can't be used in 'await' expression.
    with (
        UsageStore(tmp_path / "usage.sqlite3") as store,
        SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken,
        pytest.raises(ConfigurationError, match=r"SyncKrakenClient's calls are blocking"),
    ):
        await async_walk(kraken, store, api)


@pytest.mark.parametrize("store", ["usage.sqlite3", Path("usage.sqlite3"), None], ids=repr)
async def test_a_sync_given_a_path_for_its_store_is_a_configuration_error_before_any_request(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store: Any
) -> None:
    # Before: AttributeError: 'str' object has no attribute 'sync_lock'.
    monkeypatch.chdir(tmp_path)
    credentials = APIKey(DEMO_API_KEY)
    with (
        SyncKrakenClient(sandbox.url, credentials=credentials) as kraken,
        pytest.raises(ConfigurationError, match=r"store must be a UsageStore"),
    ):
        sync_usage_blocking(kraken, store, [ACCOUNT], since=TODAY_ON)
    async with KrakenClient(sandbox.url, credentials=credentials) as kraken_async:
        with pytest.raises(ConfigurationError, match=r"store must be a UsageStore"):
            await sync_usage(kraken_async, store, [ACCOUNT], since=TODAY_ON)
    assert sandbox.stats.requests == 0
    assert not os.listdir(tmp_path)  # no store made


@pytest.mark.parametrize("account", ["", "  ", None, 5, [ACCOUNT]], ids=repr)
async def test_a_walk_given_no_account_number_is_a_configuration_error_before_any_request(
    sandbox: SandboxServer, account: Any
) -> None:
    # sync_usage refuses these before any request; iter_usage and aiter_usage sent them: the
    # API's "not found" (KT-CT-4177) for "", a GraphQLError about $accountNumber for the rest.
    credentials = APIKey(DEMO_API_KEY)
    with (
        SyncKrakenClient(sandbox.url, credentials=credentials) as kraken,
        pytest.raises(ConfigurationError, match=r"account_number must be an account number"),
    ):
        list(iter_usage(kraken, account, TODAY_ON, TODAY_ON))
    async with KrakenClient(sandbox.url, credentials=credentials) as kraken_async:
        with pytest.raises(ConfigurationError, match=r"account_number must be an account number"):
            [i async for i in aiter_usage(kraken_async, account, TODAY_ON, TODAY_ON)]
    assert sandbox.stats.requests == 0
