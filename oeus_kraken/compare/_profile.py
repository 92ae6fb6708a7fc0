"""A period of one ESI ID's stored usage, added up the way prices need it: per Texas local day and
calendar month, split into the night band and the rest, with the average day's shape per month.

Pricing a year of 15-minute intervals on twenty products never looks at an interval twenty times:
every product's energy charge for a month is `day kWh x day rate + night kWh x night rate`, so the
intervals are read once and added up here, exactly (Decimal), and a product costs a few
multiplications per month.

An interval belongs to the local day, month and band its start falls in, by the local clock in
America/Chicago: the spring-forward day has no 02:00-03:00 and 92 intervals, the fall-back day has
01:00-02:00 twice and 100 intervals, and both are priced as the clock on the wall says. A day whose
intervals are not all stored counts what it lacks; nothing missing is priced as zero silently.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from ..usage import TEXAS, UsageStore, intervals_in_day, local_day_bounds, local_days
from ..usage._time import local_minute
from ._errors import ComparisonError
from ._models import DayUsage, HourlyShape, MonthUsage, NightHours, UsageProfile, exact

__all__ = ["default_period", "usage_profile"]

_QUARTER = 900
MOST_KWH = Decimal(1_000_000)
"""The largest reading taken as usage, kWh: four gigawatts for 15 minutes, more than any power
station makes. The store keeps readings of up to 38 digits; priced, one beyond this made totals
past Decimal's 28 digits (decimal.InvalidOperation, no KrakenError) or rounded them silently."""
_STANDARD_DAY = 86_400
_MONTHS_BY_DEFAULT = 12


def default_period(store: UsageStore, esi_id: str) -> tuple[date, date]:
    """The last 12 whole local months the store holds for `esi_id` (fewer if it holds fewer):
    a month counts when the stored range covers all of it, gaps inside aside."""
    covered = store.coverage(esi_id)
    if covered is None:
        raise ComparisonError(
            f"the usage store {store.path} has no usage for ESI ID {esi_id}: sync it first "
            "(`oeus-kraken usage sync ACCOUNT`, or compare with --sync)"
        )
    start, end = covered
    first_whole = _month_start(start.astimezone(TEXAS).date())
    if local_day_bounds(first_whole)[0] < start:  # the store starts inside that month
        first_whole = _add_months(first_whole, 1)
    after_last = _month_start(end.astimezone(TEXAS).date())  # whole up to its first midnight
    first = max(first_whole, _add_months(after_last, -_MONTHS_BY_DEFAULT))
    if first >= after_last:
        raise ComparisonError(
            f"the usage store holds no whole month for ESI ID {esi_id} (it holds "
            f"{start.astimezone(TEXAS):%Y-%m-%d %H:%M} to {end.astimezone(TEXAS):%Y-%m-%d %H:%M} "
            "Texas time): give the dates to compare (--from, --to)"
        )
    return first, after_last - timedelta(days=1)


# Public (oeus_kraken.compare), so called in the caller's decimal context too: its sums and a cut
# month's share must be those compare_products works with, not cut to a caller's 4 digits.
@exact
def usage_profile(
    store: UsageStore, esi_id: str, first: date, last: date, night: NightHours
) -> UsageProfile:
    """Read `esi_id`'s intervals for local dates `first` to `last` once and add them up,
    exactly (in the comparison's own decimal context, whatever the caller's)."""
    days = local_days(first, last)
    bounds = [local_day_bounds(day) for day in days]
    start, end = bounds[0][0], bounds[-1][1]
    added = _DaySums(len(days))
    added.add(store.readings(esi_id, start, end), bounds, night.slots())
    day_usage = tuple(
        DayUsage(
            day, added.kwh[i], added.night_kwh[i], added.quarters(i, day), intervals_in_day(day)
        )
        for i, day in enumerate(days)
    )
    months = tuple(_month(group) for _, group in _by_month(day_usage))
    shapes = tuple(_shape(month, rows) for month, rows in _by_month_with(day_usage, added.hours))
    return UsageProfile(esi_id, first, last, night, day_usage, months, shapes)


class _DaySums:
    """Running sums per day of the period: kWh, night kWh, seconds stored, kWh per hour."""

    def __init__(self, days: int) -> None:
        self.kwh = [Decimal(0)] * days
        self.night_kwh = [Decimal(0)] * days
        self.seconds = [0] * days
        self.hours = [[Decimal(0)] * 24 for _ in range(days)]

    def quarters(self, i: int, day: date) -> int:
        """The quarter hours day `i`'s readings cover, whatever their length (5-minute and hourly
        readings too), never more than the day has."""
        return min(self.seconds[i] // _QUARTER, intervals_in_day(day))

    def add(
        self,
        rows: Iterable[tuple[int, int, Decimal, str]],
        bounds: Sequence[tuple[datetime, datetime]],
        night: Sequence[bool],
    ) -> None:
        starts = [int(low.timestamp()) for low, _ in bounds]
        ends = [int(high.timestamp()) for _, high in bounds]
        i, previous_end = 0, None
        for start, end, value, unit in rows:
            _check(start, value, unit, previous_end)
            previous_end = end
            while start >= ends[i]:
                i += 1
            quarter = _wall_quarter(start, starts[i], ends[i])
            self.kwh[i] += value
            self.hours[i][quarter // 4] += value
            if night[quarter]:
                self.night_kwh[i] += value
            self.seconds[i] += end - start


def _check(start: int, value: Decimal, unit: str, previous_end: int | None) -> None:
    """A ComparisonError for a stored reading that cannot be priced as it is."""
    if unit != "kWh" and unit.lower() != "kwh":
        raise ComparisonError(
            f"an interval of the stored usage is in {unit!r}, not kWh: it cannot be priced"
        )
    if value.copy_abs() > MOST_KWH:
        raise ComparisonError(
            f"the stored usage has a reading of {value} kWh, for the interval from "
            f"{local_minute(start)}: beyond any meter's ({MOST_KWH:,} kWh at most), so it cannot "
            "be priced; compare a period without it"
        )
    if previous_end is not None and start < previous_end:
        # Keyed by its start, the store can hold an hour's reading and 15-minute ones inside
        # it (syncs that got either): added up, that time was priced twice.
        raise ComparisonError(
            f"the stored usage has readings that overlap: one starts at {local_minute(start)}, "
            "before the one before it ends, so that time would be priced twice; compare a "
            "period without it"
        )


def _wall_quarter(start: int, day_start: int, day_end: int) -> int:
    """The quarter hour (0-95) of the local clock at which an interval of this day starts."""
    if day_end - day_start == _STANDARD_DAY:
        return (start - day_start) // _QUARTER
    local = datetime.fromtimestamp(start, TEXAS)  # a DST day: the clock jumps at 02:00
    return local.hour * 4 + local.minute // 15


def _by_month(days: Sequence[DayUsage]) -> Iterable[tuple[date, list[DayUsage]]]:
    for month, group in itertools.groupby(days, key=lambda d: _month_start(d.day)):
        yield month, list(group)


def _by_month_with(
    days: Sequence[DayUsage], hours: Sequence[Sequence[Decimal]]
) -> Iterable[tuple[date, list[tuple[DayUsage, Sequence[Decimal]]]]]:
    pairs = zip(days, hours, strict=True)
    for month, group in itertools.groupby(pairs, key=lambda pair: _month_start(pair[0].day)):
        yield month, list(group)


def _month(days: list[DayUsage]) -> MonthUsage:
    first = days[0].day
    length = calendar.monthrange(first.year, first.month)[1]
    return MonthUsage(
        month=_month_start(first),
        first_day=first,
        last_day=days[-1].day,
        kwh=sum((d.kwh for d in days), Decimal(0)),
        night_kwh=sum((d.night_kwh for d in days), Decimal(0)),
        intervals=sum(d.intervals for d in days),
        expected_intervals=sum(d.expected_intervals for d in days),
        share=Decimal(1) if len(days) == length else Decimal(len(days)) / Decimal(length),
    )


def _shape(month: date, rows: list[tuple[DayUsage, Sequence[Decimal]]]) -> HourlyShape:
    def average(weekend: bool) -> tuple[Decimal, ...] | None:
        chosen = [hours for day, hours in rows if day.intervals and _weekend(day.day) == weekend]
        if not chosen:
            return None
        return tuple(sum(column, Decimal(0)) / len(chosen) for column in zip(*chosen, strict=True))

    return HourlyShape(month, average(weekend=False), average(weekend=True))


def _weekend(day: date) -> bool:
    return day.weekday() >= 5


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
