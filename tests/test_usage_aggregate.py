"""`aggregate`: intervals fetched from the API summed into Texas local hours and days, exactly as
the store's export sums its own, and refused when a total would be silently wrong."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from usage_helpers import ESI, FETCHED, OTHER_ESI, day_intervals

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import (
    INTERVAL,
    Interval,
    UsageStore,
    UsageTotal,
    aggregate,
    local_day_bounds,
    to_local,
)

SPRING = date(2026, 3, 8)
FALL = date(2026, 11, 1)
ORDINARY = date(2026, 7, 14)


@pytest.mark.parametrize(
    ("day", "intervals", "hours"), [(SPRING, 92, 23), (FALL, 100, 25), (ORDINARY, 96, 24)]
)
def test_a_local_day_is_one_total_of_its_92_96_or_100_intervals_and_23_24_or_25_hours(
    day: date, intervals: int, hours: int
) -> None:
    given = day_intervals(day, value=Decimal("0.25"))

    [total] = aggregate(given, "day")
    by_hour = list(aggregate(given, "hour"))

    start, end = local_day_bounds(day)
    assert total == UsageTotal(ESI, start, end, Decimal(hours), None, intervals, intervals)
    assert len(by_hour) == hours
    assert all(h.intervals == h.expected_intervals == 4 for h in by_hour)
    assert sum(h.kwh for h in by_hour) == total.kwh


def test_the_repeated_hour_of_the_fall_back_day_is_two_hours() -> None:
    starts = [to_local(h.start).isoformat() for h in aggregate(day_intervals(FALL), "hour")]
    assert starts[1:3] == ["2026-11-01T01:00:00-05:00", "2026-11-01T01:00:00-06:00"]


def test_a_missing_interval_shows_in_the_count_of_its_hour_and_day() -> None:
    given = day_intervals(ORDINARY, skip=frozenset({5}))

    hours = list(aggregate(given, "hour"))
    [day] = aggregate(given, "day")

    assert [(h.intervals, h.expected_intervals) for h in hours[:2]] == [(4, 4), (3, 4)]
    assert hours[1].kwh == Decimal("0.75")
    assert (day.intervals, day.expected_intervals) == (95, 96)


def test_an_hour_with_no_interval_is_not_given() -> None:
    given = day_intervals(ORDINARY, skip=frozenset(range(4, 8)))
    hours = list(aggregate(given, "hour"))
    assert len(hours) == 23
    assert to_local(hours[1].start).hour == 2


def test_cost_is_the_sum_in_cents_only_when_every_interval_has_one() -> None:
    priced = day_intervals(ORDINARY, cost=Decimal("1.5"))
    given = priced[:4] + day_intervals(ORDINARY)[4:]

    hours = list(aggregate(given, "hour"))
    [day] = aggregate(given, "day")
    [priced_day] = aggregate(priced, "day")

    assert hours[0].cost == Decimal("6")
    assert hours[1].cost is None
    assert day.cost is None
    assert priced_day.cost == Decimal("144")


def test_decimal_digits_survive_the_sum() -> None:
    given = day_intervals(ORDINARY, value=Decimal("0.1"))
    [day] = aggregate(given, "day")
    assert day.kwh == Decimal("9.6")
    assert str(day.kwh) == "9.6"


def test_two_esi_ids_are_summed_apart() -> None:
    given = day_intervals(ORDINARY) + day_intervals(ORDINARY, esi_id=OTHER_ESI, value=Decimal(1))
    totals = list(aggregate(given, "day"))
    assert [(t.esi_id, t.kwh) for t in totals] == [(ESI, Decimal(24)), (OTHER_ESI, Decimal(96))]


def test_the_totals_are_those_the_store_exports_for_the_same_intervals(tmp_path: Path) -> None:
    days = [SPRING - timedelta(days=1), SPRING, SPRING + timedelta(days=1)]
    given = [
        replace(i, value=Decimal(n % 7) / 8, cost=Decimal(n % 3))
        for n, i in enumerate(itertools.chain.from_iterable(day_intervals(d) for d in days))
    ]
    with UsageStore(tmp_path / "usage.sqlite3") as store:
        store.upsert(given, fetched_at=FETCHED)
        for interval in ("hour", "day"):
            out = io.BytesIO()
            store.export(ESI, days[0], days[-1], interval=interval, format="json", out=out)
            exported = [
                (row["start_utc"], row["kwh"], row["cost_cents"], row["intervals"])
                for row in json.loads(out.getvalue())
            ]
            summed = [
                (
                    t.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    str(t.kwh),
                    None if t.cost is None else str(t.cost),
                    t.intervals,
                )
                for t in aggregate(given, interval)  # type: ignore[arg-type]
            ]
            assert summed == exported, interval


def endless_intervals() -> Iterator[Interval]:
    start, _ = local_day_bounds(ORDINARY)
    for n in itertools.count():
        yield Interval(ESI, start + n * INTERVAL, start + (n + 1) * INTERVAL, Decimal(1))


def test_totals_come_as_the_intervals_stream_in() -> None:
    hours = aggregate(endless_intervals(), "hour")
    first, second = next(hours), next(hours)  # an endless stream: nothing is read ahead
    assert first.kwh == second.kwh == Decimal(4)


def shuffled(intervals: list[Interval]) -> list[Interval]:
    return [intervals[1], intervals[0], *intervals[2:]]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (shuffled(day_intervals(ORDINARY)), "not in time order"),
        (day_intervals(ORDINARY)[:3] + day_intervals(ORDINARY)[2:], "not in time order"),
        (
            day_intervals(ORDINARY)[:4]
            + day_intervals(ORDINARY, esi_id=OTHER_ESI)
            + day_intervals(ORDINARY)[4:],
            "not together",
        ),
        (day_intervals(ORDINARY, unit="Wh"), "not kWh"),
        (
            [Interval(ESI, datetime(2026, 7, 14, 5), datetime(2026, 7, 14, 5, 15), Decimal(1))],
            "no time zone",
        ),
    ],
    ids=["out-of-order", "repeated", "interleaved-esi-ids", "not-kwh", "naive-datetimes"],
)
def test_intervals_that_would_give_a_wrong_total_are_refused(
    given: list[Interval], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        list(aggregate(given, "hour"))


@pytest.mark.parametrize("interval", ["15m", "week", ""])
def test_only_hours_and_days_are_totals(interval: str) -> None:
    with pytest.raises(ConfigurationError, match="hour or day"):
        list(aggregate(day_intervals(ORDINARY), interval))  # type: ignore[arg-type]


def test_utc_instants_of_any_time_zone_are_the_same_intervals() -> None:
    utc = day_intervals(ORDINARY)
    chicago = [replace(i, start=to_local(i.start), end=to_local(i.end)) for i in utc]
    assert list(aggregate(chicago, "day")) == list(aggregate(utc, "day"))
    [day] = aggregate(utc, "day")
    assert day.start.tzinfo is timezone.utc
