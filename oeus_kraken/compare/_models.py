"""The values a plan comparison is made of: plain frozen dataclasses, no I/O.

Money is Decimal cents, never a float: a month's cost is exact (kWh to three places times rates to
five), a product's total is exactly the sum of its months, and rounding to whole cents happens
only where something is shown. Rates are cents per kWh, fixed charges cents per month, usage kWh.
Months and days are Texas local (America/Chicago) calendar months and days.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import (
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

from .._errors import ConfigurationError

__all__ = [
    "DEFAULT_NIGHT",
    "EFL_TOLERANCE",
    "EXACT",
    "BillCheck",
    "BillComparison",
    "Comparison",
    "DayUsage",
    "EflCheck",
    "EflFigure",
    "HourlyShape",
    "MonthCost",
    "MonthUsage",
    "NightHours",
    "ProductCost",
    "ProductRates",
    "UsageProfile",
    "exact",
    "whole_cents",
]

EXACT = Context(
    prec=28,
    rounding=ROUND_HALF_EVEN,
    Emax=999_999,
    Emin=-999_999,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""The decimal context the comparison's arithmetic runs in, whatever the caller's own (Python's
is per thread, and a program may have cut its precision, changed its rounding or trapped
inexact results): Python's default, whose 28 digits keep every sum and product of kWh (three
places) and rates (five) exact; only divisions (an average, a month's share of its days) are
rounded, to 28 digits, half to even."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def exact(function: Callable[_P, _R]) -> Callable[_P, _R]:
    """`function` run in the EXACT decimal context."""

    @functools.wraps(function)
    def in_exact_context(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with localcontext(EXACT):
            return function(*args, **kwargs)

    return in_exact_context


EFL_TOLERANCE = Decimal("0.01")
"""How far (cents per kWh) an EFL figure worked out from the rate parts may be from the API's."""

_HOURS = re.compile(r"([0-9]{1,2}):([0-9]{2})-([0-9]{1,2}):([0-9]{2})")


@dataclass(frozen=True)
class NightHours:
    """The local clock hours of a time-of-use product's NIGHT band, [start, end) (wrapping past
    midnight when start > end); every other hour is DAY. The API names a product's bands but not
    their hours, so these are an assumption the comparison states."""

    start: time
    end: time

    def __post_init__(self) -> None:
        for edge in (self.start, self.end):
            if not isinstance(edge, time):  # else an AttributeError ('str' has no 'minute')
                raise ConfigurationError(
                    f"NightHours takes two datetime.time values (local clock times), not "
                    f"{type(edge).__name__} values such as {edge!r}: e.g. NightHours(time(21), "
                    "time(6)), or NightHours.parse('21:00-06:00')"
                )
            if edge.minute % 15 or edge.second or edge.microsecond:
                raise ConfigurationError(
                    f"night hours start and end on a quarter hour (intervals are 15 minutes), "
                    f"not {edge.isoformat(timespec='minutes')}"
                )
        if self.start == self.end:
            raise ConfigurationError("the night hours are empty: give a start and an end apart")

    @classmethod
    def parse(cls, text: str) -> NightHours:
        """'21:00-06:00' (24-hour local clock times, quarter hours)."""
        match = _HOURS.fullmatch(text.strip()) if isinstance(text, str) else None
        if (
            not match
            or int(match[1]) > 23
            or int(match[3]) > 23
            or max(int(match[2]), int(match[4])) > 59
        ):
            raise ConfigurationError(
                f"{text!r} is not a span of night hours: expected HH:MM-HH:MM on the 24-hour "
                "clock, e.g. 21:00-06:00"
            )
        return cls(time(int(match[1]), int(match[2])), time(int(match[3]), int(match[4])))

    def slots(self) -> tuple[bool, ...]:
        """For each of a day's 96 quarter hours by local clock time: is it night?"""
        first = self.start.hour * 4 + self.start.minute // 15
        last = self.end.hour * 4 + self.end.minute // 15
        if first < last:
            return tuple(first <= q < last for q in range(96))
        return tuple(q >= first or q < last for q in range(96))

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


DEFAULT_NIGHT = NightHours(time(21, 0), time(6, 0))
"""The night band's hours when not told: 21:00 to 06:00 local time (an assumption)."""


# -- rates -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProductRates:
    """A product on offer at one ESI ID, and its rates there in parts.

    `energy` maps a time-of-use band to cents per kWh: "ALL_DAY" applies to every interval, "DAY"
    and "NIGHT" to the intervals of their band (see `NightHours`). `unpriced` says why the product
    cannot be priced from its rates (e.g. a band whose hours are unknown), or is None.
    """

    id: str
    code: str | None
    name: str
    term_months: int | None
    time_of_use: bool
    wholesale: bool
    prepay: bool
    energy: Mapping[str, Decimal]
    delivery_cents_per_kwh: Decimal
    delivery_cents_per_month: Decimal
    fees_cents_per_month: Decimal
    unpriced: str | None = None

    @exact
    def energy_rate(self, night: bool) -> Decimal:
        """Cents per kWh of energy for an interval in the night band or not."""
        band = self.energy.get("NIGHT" if night else "DAY", Decimal(0))
        return self.energy.get("ALL_DAY", Decimal(0)) + band


# -- usage -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayUsage:
    """One local day of stored usage."""

    day: date
    kwh: Decimal
    night_kwh: Decimal
    intervals: int
    """15-minute intervals stored."""
    expected_intervals: int
    """92, 96 or 100: the intervals the local day has."""

    @property
    def missing_intervals(self) -> int:
        return self.expected_intervals - self.intervals


@dataclass(frozen=True)
class MonthUsage:
    """A local calendar month's stored usage, within the compared period."""

    month: date
    """The month's first day."""
    first_day: date
    last_day: date
    """The month's days in the compared period (the whole month unless the period cuts it)."""
    kwh: Decimal
    night_kwh: Decimal
    intervals: int
    expected_intervals: int
    share: Decimal
    """The month's days in the period over its days: 1 for a whole month. Monthly charges are
    prorated by it."""

    @property
    @exact
    def day_kwh(self) -> Decimal:
        return self.kwh - self.night_kwh

    @property
    def missing_intervals(self) -> int:
        return self.expected_intervals - self.intervals

    @property
    def partial(self) -> bool:
        return self.share != 1


@dataclass(frozen=True)
class HourlyShape:
    """The average local day of one month, kWh per local clock hour (0 to 23), on weekdays and
    on weekends (None when the month has no such day with usage)."""

    month: date
    weekday: tuple[Decimal, ...] | None
    weekend: tuple[Decimal, ...] | None


@dataclass(frozen=True)
class UsageProfile:
    """What the store holds of one ESI ID over a period, added up by day, month and band."""

    esi_id: str
    first: date
    last: date
    night: NightHours
    days: tuple[DayUsage, ...]
    months: tuple[MonthUsage, ...]
    shapes: tuple[HourlyShape, ...]

    @property
    @exact
    def kwh(self) -> Decimal:
        return sum((m.kwh for m in self.months), Decimal(0))

    @property
    def missing_intervals(self) -> int:
        return sum(m.missing_intervals for m in self.months)


# -- costs -----------------------------------------------------------------------------------------


@exact
def whole_cents(cents: Decimal) -> Decimal:
    """`cents` to a whole cent, half a cent away from zero, as a bill rounds: how a total is
    shown, and so what "costs the same" means (money is paid in whole cents)."""
    return cents.quantize(Decimal(1), rounding=ROUND_HALF_UP) + 0  # + 0: never "-0"


@dataclass(frozen=True)
class MonthCost:
    """One product's cost for one month of the period, cents before tax."""

    month: date
    kwh: Decimal
    energy_cents: Decimal
    delivery_cents: Decimal
    fees_cents: Decimal
    missing_intervals: int
    """Intervals the store lacks in this month: the cost covers only those it has."""

    @property
    @exact
    def total_cents(self) -> Decimal:
        return self.energy_cents + self.delivery_cents + self.fees_cents


@dataclass(frozen=True)
class ProductCost:
    """One product priced over the period: its months, total and rank."""

    rates: ProductRates
    months: tuple[MonthCost, ...]
    """Empty when the product is not priced (see `rates.unpriced`)."""
    rank: int | None = None
    """1 for the cheapest; None when not priced."""
    current: bool = False
    """The account's product now, from its agreement."""
    versus_current_cents: Decimal | None = None
    """This total minus the current product's: negative is a saving. None without a current
    product (or for an unpriced one)."""

    @property
    def priced(self) -> bool:
        return self.rates.unpriced is None

    @property
    @exact
    def total_cents(self) -> Decimal | None:
        if not self.priced:
            return None
        return sum((m.total_cents for m in self.months), Decimal(0))

    @property
    @exact
    def kwh(self) -> Decimal:
        return sum((m.kwh for m in self.months), Decimal(0))

    @property
    @exact
    def average_cents_per_kwh(self) -> Decimal | None:
        total = self.total_cents
        return None if total is None or not self.kwh else total / self.kwh


# -- checks ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EflFigure:
    """One Electricity Facts Label figure: the API's, and the same worked out from the parts."""

    kwh_usage: Decimal
    """The monthly usage the figure is for: 500, 1,000 or 2,000 kWh."""
    name: str
    """The API's field, e.g. totalApplicableRateWithMonthlySubscriptionFees."""
    api_cents_per_kwh: Decimal | None
    computed_cents_per_kwh: Decimal | None
    skipped: str | None = None
    """Why the figure was not checked, or None."""

    @property
    @exact
    def difference(self) -> Decimal | None:
        """The API's figure minus ours, cents per kWh."""
        if self.api_cents_per_kwh is None or self.computed_cents_per_kwh is None:
            return None
        return self.api_cents_per_kwh - self.computed_cents_per_kwh

    @property
    def holds(self) -> bool | None:
        """Within EFL_TOLERANCE; None when skipped."""
        difference = self.difference
        return None if difference is None else abs(difference) <= EFL_TOLERANCE


@dataclass(frozen=True)
class EflCheck:
    """Every EFL figure of one product."""

    product_id: str
    product_name: str
    figures: tuple[EflFigure, ...]

    @property
    def failures(self) -> tuple[EflFigure, ...]:
        return tuple(f for f in self.figures if f.holds is False)

    @property
    def checked(self) -> int:
        return sum(1 for f in self.figures if f.holds is not None)

    @property
    def holds(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class BillComparison:
    """One bill beside the current product's modelled cost for its period, cents before tax."""

    bill_id: str | None
    """None when the API gives the bill no id."""
    from_date: date
    to_date: date
    issued_date: date | None
    billed_cents: int | None
    """The bill's charges before tax (totalCharges.netTotal)."""
    billed_with_tax_cents: int | None
    modelled_cents: Decimal | None
    missing_intervals: int
    note: str | None = None
    """Why there is no modelled cost, or what to bear in mind."""

    @property
    @exact
    def difference_cents(self) -> Decimal | None:
        """Billed minus modelled."""
        if self.billed_cents is None or self.modelled_cents is None:
            return None
        return self.billed_cents - self.modelled_cents

    @property
    def matches(self) -> bool | None:
        """Within half a cent (a bill is whole cents); None when there is nothing to compare."""
        difference = self.difference_cents
        return None if difference is None else abs(difference) <= Decimal("0.5")


@dataclass(frozen=True)
class BillCheck:
    """The account's bills for the period beside the current product's modelled cost."""

    bills: tuple[BillComparison, ...] = ()
    skipped: str | None = None
    """Why there is no bill check, or None."""
    note: str | None = None
    """What the check leaves out although it was made (bills the one request did not get), or
    None."""


# -- the comparison --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """What the period's usage would have cost on every product on offer at one ESI ID."""

    esi_id: str
    account_number: str | None
    service_provider: str | None
    load_zone: str | None
    usage: UsageProfile
    products: tuple[ProductCost, ...]
    """Cheapest first; products that cannot be priced last."""
    current_product_code: str | None
    """The product the account's agreement names for this ESI ID (None: unknown), whether or not
    it is still on offer."""
    efl: tuple[EflCheck, ...]
    bills: BillCheck
    assumptions: tuple[str, ...]
    requests: int
    """API requests the comparison made (the usage sync aside)."""
    made_at: datetime = field(compare=False)

    @property
    def first(self) -> date:
        return self.usage.first

    @property
    def last(self) -> date:
        return self.usage.last

    @property
    def night(self) -> NightHours:
        return self.usage.night

    @property
    def cheapest(self) -> ProductCost | None:
        return self.products[0] if self.products and self.products[0].priced else None

    @property
    def current(self) -> ProductCost | None:
        return next((p for p in self.products if p.current), None)

    @exact
    def versus_current_whole_cents(self, cost: ProductCost) -> Decimal | None:
        """`cost`'s total minus the current product's, each to a whole cent as shown, so that
        the saving a table shows is the difference of the totals it shows. None as for
        `versus_current_cents`."""
        current = self.current
        if cost.versus_current_cents is None or current is None:
            return None
        mine, theirs = cost.total_cents, current.total_cents
        if mine is None or theirs is None:
            return None
        return whole_cents(mine) - whole_cents(theirs)

    @property
    def efl_holds(self) -> bool:
        return all(check.holds for check in self.efl)
