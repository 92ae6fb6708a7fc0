"""Texas local days: where they start and end in UTC, and how many intervals they hold."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timezone

import pytest

from oeus_kraken import ConfigurationError
from oeus_kraken.usage import (
    TEXAS,
    intervals_in_day,
    local_date,
    local_day_bounds,
    local_days,
    local_range_bounds,
    to_local,
)


@pytest.mark.parametrize(
    ("day", "intervals"),
    [
        (date(2026, 3, 8), 92),  # spring forward: 23 hours
        (date(2026, 7, 14), 96),
        (date(2026, 11, 1), 100),  # fall back: 25 hours
        (date(2024, 2, 29), 96),
    ],
)
def test_a_local_day_holds_92_96_or_100_intervals(day: date, intervals: int) -> None:
    assert intervals_in_day(day) == intervals


def test_local_day_bounds_are_local_midnights_in_utc_across_both_dst_changes() -> None:
    utc = timezone.utc
    assert local_day_bounds(date(2026, 3, 8)) == (
        datetime(2026, 3, 8, 6, tzinfo=utc),  # CST, UTC-6
        datetime(2026, 3, 9, 5, tzinfo=utc),  # CDT, UTC-5
    )
    assert local_day_bounds(date(2026, 11, 1)) == (
        datetime(2026, 11, 1, 5, tzinfo=utc),
        datetime(2026, 11, 2, 6, tzinfo=utc),
    )


def test_the_bounds_are_utc_so_consecutive_days_meet_exactly() -> None:
    days = local_days(date(2026, 10, 30), date(2026, 11, 3))
    bounds = [local_day_bounds(day) for day in days]
    for (_, end), (start, _) in itertools.pairwise(bounds):
        assert end == start
    assert all(start.tzinfo is timezone.utc for start, _ in bounds)


def test_local_days_includes_both_ends() -> None:
    assert local_days(date(2026, 2, 27), date(2026, 3, 2)) == [
        date(2026, 2, 27),
        date(2026, 2, 28),
        date(2026, 3, 1),
        date(2026, 3, 2),
    ]
    assert local_days(date(2026, 5, 5), date(2026, 5, 5)) == [date(2026, 5, 5)]


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="ends"):
        local_days(date(2026, 5, 5), date(2026, 5, 4))
    with pytest.raises(ConfigurationError, match="ends"):
        local_range_bounds(date(2026, 5, 5), date(2026, 5, 4))


def test_local_range_bounds_span_the_whole_of_both_end_days() -> None:
    start, end = local_range_bounds(date(2026, 3, 7), date(2026, 3, 8))
    assert start == local_day_bounds(date(2026, 3, 7))[0]
    assert end == local_day_bounds(date(2026, 3, 8))[1]


def test_an_instant_falls_on_the_texas_date_not_the_utc_one() -> None:
    late_evening = datetime(2026, 7, 15, 3, 30, tzinfo=timezone.utc)  # 22:30 CDT on the 14th
    assert local_date(late_evening) == date(2026, 7, 14)
    assert to_local(late_evening).tzinfo is TEXAS


def test_a_naive_datetime_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ConfigurationError, match="time zone"):
        to_local(datetime(2026, 7, 15, 3, 30))
