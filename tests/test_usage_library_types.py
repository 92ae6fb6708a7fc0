"""The usage library given values of the wrong kind: each is a ConfigurationError saying what
to give, raised before anything is asked or written; never a bare TypeError or AttributeError
from deep inside, a silently wrong answer, or a store said to be damaged."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from usage_helpers import ESI, FETCHED

from oeus_kraken import ConfigurationError, usage
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS
from oeus_kraken.usage import (
    INTERVAL,
    Interval,
    UsageStore,
    aiter_usage,
    iter_usage,
    sync_usage,
    sync_usage_blocking,
)

DAY = date(2026, 3, 8)
LATE_EVENING = datetime(2026, 3, 9, 3, 0, tzinfo=timezone.utc)  # 2026-03-08 21:00 in Texas
START = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("function", "arguments"),
    [
        (usage.local_day_bounds, ("2026-03-08",)),
        (usage.local_day_bounds, (LATE_EVENING,)),  # before: the UTC date's bounds (2026-03-09)
        (usage.intervals_in_day, ("2026-03-08",)),
        (usage.intervals_in_day, (LATE_EVENING,)),
        (usage.local_days, ("2026-03-08", "2026-03-09")),
        (usage.local_days, (DAY, LATE_EVENING)),
        (usage.local_range_bounds, ("2026-03-08", DAY)),
        (usage.local_range_bounds, (DAY, LATE_EVENING)),
        (usage.to_local, (DAY,)),
        (usage.to_local, ("2026-03-08T00:00:00Z",)),
        (usage.local_date, (DAY,)),
        (usage.local_date, (1_772_952_000,)),
    ],
)
def test_time_helpers_given_text_a_datetime_for_a_date_or_a_date_for_an_instant_say_so(
    function: Any, arguments: tuple[Any, ...]
) -> None:
    with pytest.raises(ConfigurationError, match="give"):
        function(*arguments)


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (("not", "an", "interval"), "Interval"),
        ({"start": START}, "Interval"),
        (Interval(ESI, DAY, START + INTERVAL, Decimal(1)), "start"),  # type: ignore[arg-type]
        (Interval(ESI, START, "2026-03-08T06:15Z", Decimal(1)), "end"),  # type: ignore[arg-type]
        (Interval(ESI, START, START + INTERVAL, Decimal(1), unit=None), "unit"),  # type: ignore[arg-type]
        (Interval(ESI, START, START + INTERVAL, Decimal(1), unit=""), "unit"),
        (Interval(ESI, START, START + INTERVAL, Decimal(1), source=5), "source"),  # type: ignore[arg-type]
        (Interval(ESI, START, START + INTERVAL, Decimal(1), read_at="now"), "read_at"),  # type: ignore[arg-type]
    ],
)
def test_upserting_something_that_is_not_a_whole_interval_says_what_and_never_blames_the_store(
    tmp_path: Path, given: Any, message: str
) -> None:
    # Before: AttributeError ('tuple' object has no attribute 'esi_id'; 'datetime.date' object
    # has no attribute 'tzinfo'), a source stored as a number, and for unit=None "the usage
    # store is damaged ...; move it aside and sync again": a sound store was to be thrown away.
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        good = Interval(ESI, START - INTERVAL, START, Decimal(1))
        with pytest.raises(ConfigurationError, match=message) as raised:
            store.upsert([good, given], fetched_at=FETCHED)
        assert "damaged" not in str(raised.value)
        assert store.intervals(ESI, START - timedelta(days=1), START + timedelta(days=1)) == []


@pytest.mark.parametrize("client", [None, "https://api.example.com", "store"])
async def test_a_usage_walk_given_no_client_says_which_client_to_give(
    tmp_path: Path, client: Any
) -> None:
    # Before: AttributeError: 'NoneType' (or 'UsageStore') object has no attribute 'get_account'.
    account = DEMO_ACCOUNT_NUMBERS[0]
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        given = store if client == "store" else client
        with pytest.raises(ConfigurationError, match="SyncKrakenClient"):
            list(iter_usage(given, account, DAY, DAY))
        with pytest.raises(ConfigurationError, match="KrakenClient"):
            [interval async for interval in aiter_usage(given, account, DAY, DAY)]


@pytest.mark.parametrize("client", [None, "https://api.example.com", "store"])
async def test_a_usage_sync_given_no_client_says_which_client_to_give_and_records_nothing(
    tmp_path: Path, client: Any
) -> None:
    # Before: AttributeError: 'NoneType' object has no attribute 'get_viewer'.
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        given = store if client == "store" else client
        with pytest.raises(ConfigurationError, match="SyncKrakenClient"):
            sync_usage_blocking(given, store)
        with pytest.raises(ConfigurationError, match="KrakenClient"):
            await sync_usage(given, store)
        assert store.requests_used() == 0
