"""Walking an account's interval usage: `iter_usage` / `aiter_usage`, against the sandbox.

The sandbox serves a year of 15-minute usage per ESI ID (with both DST days, late intervals and
a gap) and enforces Kraken's page cap (`first` <= 100) and complexity cap (KT-CT-1188).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest
from usage_helpers import MeasurementsRewritten, rewritten_sandbox

from oeus_kraken import (
    APIKey,
    ConfigurationError,
    InvalidResponseError,
    KrakenClient,
    OrganizationSecretKey,
    SyncKrakenClient,
)
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_ORGANIZATION_SECRET_KEY,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)
from oeus_kraken.usage import (
    INTERVAL,
    TEXAS,
    UsagePage,
    aiter_usage_pages,
    intervals_in_day,
    iter_usage,
    iter_usage_pages,
    local_date,
    local_range_bounds,
)
from oeus_kraken.usage._fetch import usage_windows

ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]


async def pages(
    kind: str, url: str, account: str, start: Any, end: Any, **options: Any
) -> list[UsagePage]:
    """Every page of the walk, with the client of `kind` ("async" or "sync")."""
    credentials = (
        OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
        if account == OTHER_ACCOUNT_NUMBER
        else APIKey(DEMO_API_KEY)
    )
    if kind == "async":
        async with KrakenClient(url, credentials=credentials) as kraken:
            walk: AsyncIterator[UsagePage] = aiter_usage_pages(
                kraken, account, start, end, **options
            )
            return [page async for page in walk]
    with SyncKrakenClient(url, credentials=credentials) as sync_kraken:
        return list(iter_usage_pages(sync_kraken, account, start, end, **options))


def intervals(walked: list[UsagePage]) -> list[Any]:
    return [interval for page in walked for interval in page.intervals]


@pytest.mark.parametrize(
    ("day", "expected"), [(date(2026, 3, 8), 92), (date(2026, 11, 1), 100), (date(2026, 6, 2), 96)]
)
async def test_a_local_day_asked_for_is_that_texas_day(
    sandbox: SandboxServer, kind: str, day: date, expected: int
) -> None:
    walked = intervals(await pages(kind, sandbox.url, ACCOUNT, day, day))
    assert len(walked) == expected == intervals_in_day(day)
    assert {local_date(i.start) for i in walked} == {day}
    assert all(i.end - i.start == INTERVAL for i in walked)
    assert all(i.start.tzinfo is timezone.utc and i.unit == "kWh" for i in walked)


def intervals_per_local_day(walked: list[Any]) -> dict[date, int]:
    """How many intervals each Texas day got, after checking none came twice or out of order."""
    starts = [i.start for i in intervals(walked)]
    assert len(starts) == len(set(starts))  # no interval twice
    assert starts == sorted(starts)
    days: dict[date, int] = {}
    for start in starts:
        days[local_date(start)] = days.get(local_date(start), 0) + 1
    return days


@pytest.mark.slow
@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 8), 92), (date(2026, 11, 1), 100)])
async def test_a_window_spanning_a_dst_change_has_every_interval_once(
    sandbox: SandboxServer, kind: str, day: date, count: int
) -> None:
    start, end = day - timedelta(days=6), day + timedelta(days=5)  # many windows either side
    walked = await pages(kind, sandbox.url, ACCOUNT, start, end, page_size=100, window_pages=2)
    days = intervals_per_local_day(walked)
    assert set(days) == {start + timedelta(days=n) for n in range((end - start).days + 1)}
    assert days[day] == count
    # Every day is complete except where the sandbox holds intervals back (late ones).
    short = {d for d, n in days.items() if n != intervals_in_day(d)}
    assert short <= {d for d in days if d >= date(2026, 11, 1)}


def test_a_span_across_both_dst_changes_is_cut_into_windows_holding_every_interval_once() -> None:
    # March 1 to November 7: both ends in CST, the spring day 4 intervals short, the fall day 4
    # over. The walks over each change (above) show the sandbox's days come back whole.
    start, end = local_range_bounds(date(2026, 3, 1), date(2026, 11, 7))
    utc = timezone.utc
    assert (start, end) == (
        datetime(2026, 3, 1, 6, tzinfo=utc),
        datetime(2026, 11, 8, 6, tzinfo=utc),
    )
    windows = usage_windows(start, end, page_size=100, window_pages=5)
    assert (windows[0][0], windows[-1][1]) == (start, end)
    assert all(one[1] == following[0] for one, following in pairwise(windows))
    assert all(high - low == 500 * INTERVAL for low, high in windows[:-1])
    assert sum((high - low) // INTERVAL for low, high in windows) == 252 * 96


@pytest.mark.slow
async def test_a_window_needing_many_pages_asks_for_full_pages_only(
    sandbox: SandboxServer, kind: str
) -> None:
    walked = await pages(kind, sandbox.url, ACCOUNT, date(2026, 4, 1), date(2026, 4, 12))
    got = intervals(walked)
    assert len(got) == 12 * 96  # 12 days of April 2026, long since delivered in full: 12 pages
    requests = sandbox.stats.operations["getPropertyMeasurements"]
    assert requests == len(walked)
    assert requests <= -(-len(got) // 100) + 2  # the floor, plus a partial page per window
    assert all(p.page_size == 100 for p in walked)


async def test_a_request_over_the_complexity_cap_is_split_instead_of_failing(
    sandbox: SandboxServer, kind: str
) -> None:
    sandbox.set_faults(complexity_limit=50)  # a 100-interval page costs about 78
    walked = await pages(kind, sandbox.url, ACCOUNT, date(2026, 5, 1), date(2026, 5, 1))
    assert len(intervals(walked)) == 96
    assert {p.page_size for p in walked} == {50}
    assert sandbox.stats.operations["getPropertyMeasurements"] == 1 + len(walked)  # 1 refused


async def test_an_account_with_several_properties_is_walked_one_property_at_a_time(
    sandbox: SandboxServer, kind: str
) -> None:
    """Asking for the three properties at once at 100 a page breaks the cap (KT-CT-1188); one
    property at a time never does."""
    day = date(2026, 10, 5)
    walked = await pages(kind, sandbox.url, OTHER_ACCOUNT_NUMBER, day, day)
    by_esi: dict[str, int] = {}
    for i in intervals(walked):
        by_esi[i.esi_id] = by_esi.get(i.esi_id, 0) + 1
    assert len(by_esi) == 3
    assert set(by_esi.values()) == {96}


async def test_one_esi_id_can_be_chosen_and_an_unknown_one_is_refused_by_name(
    sandbox: SandboxServer, kind: str
) -> None:
    day = date(2026, 10, 5)
    every = intervals(await pages(kind, sandbox.url, OTHER_ACCOUNT_NUMBER, day, day))
    one = sorted({i.esi_id for i in every})[1]
    chosen = intervals(await pages(kind, sandbox.url, OTHER_ACCOUNT_NUMBER, day, day, esi_id=one))
    assert {i.esi_id for i in chosen} == {one}

    with pytest.raises(ConfigurationError, match="ESI ID 1000 is not on account"):
        await pages(kind, sandbox.url, OTHER_ACCOUNT_NUMBER, day, day, esi_id="1000")


async def test_costs_come_with_the_intervals_of_a_wholesale_meter_only(
    sandbox: SandboxServer, kind: str
) -> None:
    day = date(2026, 8, 10)
    got = intervals(await pages(kind, sandbox.url, DEMO_ACCOUNT_NUMBERS[1], day, day))
    fixed = intervals(await pages(kind, sandbox.url, ACCOUNT, day, day))
    assert got
    assert all(i.cost is not None for i in got) != all(i.cost is not None for i in fixed)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (date(2026, 3, 2), date(2026, 3, 1), "ends"),
        (datetime(2026, 3, 1), datetime(2026, 3, 2), "aware"),
        (date(2026, 3, 1), datetime(2026, 3, 2, tzinfo=timezone.utc), "both ends"),
        ("2026-03-01", "2026-03-02", "dates"),  # a TypeError from comparing them, before
        (date(2026, 3, 1), 20260302, "dates"),
    ],
)
def test_a_bad_span_is_refused_before_any_request(
    sandbox: SandboxServer, start: Any, end: Any, message: str
) -> None:
    with (
        SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken,
        pytest.raises(ConfigurationError, match=message),
    ):
        list(iter_usage_pages(kraken, ACCOUNT, start, end))
    assert sandbox.stats.requests == 0


def test_aware_datetimes_at_the_ends_of_the_calendar_get_a_result_or_a_configuration_error(
    sandbox: SandboxServer,
) -> None:
    # As with dates, an end past now means now: nothing is asked for the future (an
    # OverflowError before, rounding datetime.max up to the next 15 minutes).
    texas_max = datetime.max.replace(tzinfo=TEXAS)
    start = datetime.now(timezone.utc) - timedelta(hours=1)
    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        for end in (datetime.max.replace(tzinfo=timezone.utc), texas_max):
            walked = list(iter_usage_pages(kraken, ACCOUNT, start, end))
            assert all(page.window[1] <= datetime.now(timezone.utc) + INTERVAL for page in walked)
        assert list(iter_usage_pages(kraken, ACCOUNT, texas_max, texas_max)) == []
        before_year_1 = datetime.min.replace(tzinfo=timezone(timedelta(hours=5)))
        with pytest.raises(ConfigurationError, match="outside the range"):
            list(iter_usage_pages(kraken, ACCOUNT, before_year_1, start))


def test_aware_datetimes_are_used_as_given_on_the_15_minute_grid(sandbox: SandboxServer) -> None:
    start = datetime(2026, 6, 1, 12, 7, tzinfo=timezone.utc)
    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        walked = list(iter_usage_pages(kraken, ACCOUNT, start, start + timedelta(hours=1)))
    got = intervals(walked)
    assert [i.start.minute for i in got] == [0, 15, 30, 45, 0]


# -- an API answering badly: what the walk passes on is still the span's intervals, each once -----

DAY = date(2026, 3, 2)
METER = "10443720004512388"  # the first property's ESI ID, on ACCOUNT


def moved(edge: dict[str, Any], **times: str) -> dict[str, Any]:
    """The edge with its node's times replaced."""
    return {**edge, "node": {**edge["node"], **times}}


def test_intervals_sent_twice_backwards_or_outside_the_span_come_out_once_each_in_order(
    sandbox: SandboxServer,
) -> None:
    outside = {"startAt": "2020-01-01T00:00:00-06:00", "endAt": "2020-01-01T00:15:00-06:00"}

    def overlapping(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [moved(edges[0], **outside), *edges[::-1], *edges]

    with rewritten_sandbox(sandbox.url, overlapping) as kraken:
        got = list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    start, end = local_range_bounds(DAY, DAY)
    assert [i.start for i in got] == [start + n * INTERVAL for n in range(96)]
    assert all(start <= i.start and i.end <= end for i in got)


@pytest.mark.parametrize(
    ("times", "fault"),
    [
        ({"startAt": "2026-03-02T00:00:00"}, "no time zone"),
        ({"endAt": "2026-03-02T00:15:00"}, "no time zone"),
        ({"endAt": "2026-03-01T23:45:00-06:00"}, "ends before it starts"),
        ({"endAt": "2026-03-02T00:00:00-06:00"}, "ends before it starts"),
    ],
)
def test_an_interval_without_a_time_zone_or_ending_before_it_starts_is_an_invalid_answer(
    sandbox: SandboxServer, times: dict[str, str], fault: str
) -> None:
    # Before: a naive time was read as this machine's local time, and a backward interval was
    # passed on (a sync then failed as a ConfigurationError, blaming the caller).
    with (
        rewritten_sandbox(sandbox.url, lambda edges: [moved(edges[0], **times), *edges[1:]]) as k,
        pytest.raises(InvalidResponseError, match=f"getPropertyMeasurements.*{fault}") as raised,
    ):
        list(iter_usage(k, ACCOUNT, DAY, DAY, esi_id=METER))
    assert raised.value.operation_name == "getPropertyMeasurements"


@pytest.mark.parametrize(
    "cursors",
    [
        pytest.param(lambda after: "QQ==" if after != "QQ==" else "Qg==", id="two-cursors-in-turn"),
        pytest.param(lambda after: f"page-{after}", id="a-new-cursor-every-page"),
    ],
)
def test_an_api_that_pages_on_and_on_is_stopped_within_the_pages_the_span_could_hold(
    sandbox: SandboxServer, cursors: Any
) -> None:
    # Before: 2,010 requests for one day (the cap counted the window's intervals as pages), each
    # a request out of the hour's points budget, before the InvalidResponseError.
    transport = MeasurementsRewritten(list, cursors)
    with (
        rewritten_sandbox(sandbox.url, transport) as kraken,
        pytest.raises(InvalidResponseError, match="getPropertyMeasurements"),
    ):
        list(iter_usage(kraken, ACCOUNT, DAY, DAY, esi_id=METER))
    assert transport.measurement_requests <= intervals_in_day(DAY) + 10
