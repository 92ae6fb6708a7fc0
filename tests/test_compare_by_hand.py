"""Plan comparison figures worked out by hand: small usage stores of chosen 15-minute readings,
and what each product must cost computed here from first principles (the wall clock in
America/Chicago from zoneinfo, the README's formula), never by calling the pricing under test.

Covered: flat and time-of-use energy (a band across midnight, both Texas DST days), TDSP
delivery per kWh and per month, monthly fees, months the period cuts (prorated by days to a
ten-thousandth of a cent), a month with no usage, a year's end and a leap day in local time
against UTC, the last quarter hour of a month, zero and negative rates, very large usage,
whole-cent rounding half away from zero, ties, and a ranking that does not follow the answer's
order.
"""

from __future__ import annotations

import csv
import decimal
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from auth_helpers import FakeKraken, data_response
from cli_helpers import Cli, cli, table
from test_compare_answers import ACCOUNT, CREDENTIALS, ESI, ONCOR, _statement, rate, script

from oeus_kraken import SyncKrakenClient
from oeus_kraken.compare import (
    Comparison,
    NightHours,
    ProductCost,
    compare_products,
    comparison_document,
    usage_profile,
    write_csv,
)
from oeus_kraken.usage import Interval, UsageStore

CHICAGO = ZoneInfo("America/Chicago")
FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
QUARTER = timedelta(minutes=15)
TENTH_MILLI = Decimal("0.0001")

__all__ = ["cli"]  # a fixture, used by name


# -- the answers -----------------------------------------------------------------------------------


def product(
    product_id: str,
    name: str,
    energy: dict[str, str],
    *,
    delivery_kwh: str = "0",
    delivery_month: str = "0",
    fee_month: str = "0",
) -> dict[str, Any]:
    """A product at an Oncor ESI ID: energy cents/kWh by band, TDSP cents/kWh and cents/month,
    the product's fee cents/month."""
    delivery = {
        "consumptionRates": [rate(delivery_kwh, band="DELIVERY", timeOfUse="ALL_DAY", **ONCOR)],
        "standingRates": [rate(delivery_month, "MONTHS_ON_SUPPLY", band="DELIVERY", **ONCOR)],
    }
    energy_rates = [rate(price, timeOfUse=band) for band, price in energy.items()]
    rates = {
        "tdspRates": delivery,
        "loadZoneRates": {"consumptionRates": energy_rates, "standingRates": []},
        "agnosticRates": {
            "consumptionRates": [],
            "standingRates": [rate(fee_month, "MONTHS_ON_SUPPLY")],
        },
    }
    return {"id": product_id, "code": f"CODE-{product_id}", "displayName": name,
            "fullName": name, "term": 12, "prepay": False, "basedOnTimeOfUse": "DAY" in energy,
            "isWholesale": False, "rates": rates}  # fmt: skip


# -- the usage -------------------------------------------------------------------------------------


def local_quarters(day: date) -> list[datetime]:
    """The UTC starts of every 15-minute interval of a Texas local day, worked out here from
    zoneinfo: from local midnight to the next, in UTC steps (92, 96 or 100 of them)."""
    start = datetime.combine(day, time(), CHICAGO).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(), CHICAGO).astimezone(timezone.utc)
    found = []
    while start < end:
        found.append(start)
        start += QUARTER
    return found


Reading = tuple[datetime, Decimal]  # (UTC start, kWh)


def readings(days: list[date], kwh: Any) -> list[Reading]:
    """Every interval of `days`, each reading `kwh(utc_start)`."""
    return [(start, Decimal(kwh(start))) for day in days for start in local_quarters(day)]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        opened.link(ACCOUNT, ESI)
        yield opened


def fill(store: UsageStore, chosen: list[Reading]) -> None:
    store.upsert(
        [Interval(ESI, start, start + QUARTER, kwh) for start, kwh in chosen], fetched_at=FETCHED
    )


def compared(store: UsageStore, first: date, last: date, **options: Any) -> Comparison:
    with SyncKrakenClient(credentials=CREDENTIALS) as client:
        return compare_products(client, store, ESI, first, last, **options)


def named(comparison: Comparison, name: str) -> ProductCost:
    return next(p for p in comparison.products if p.rates.name == name)


# -- by hand ---------------------------------------------------------------------------------------


def local_month(start: datetime) -> date:
    return start.astimezone(CHICAGO).date().replace(day=1)


def is_night(start: datetime, first: time, last: time) -> bool:
    """Whether an interval starting at `start` is in the night band [first, last) by the wall
    clock in Chicago (wrapping past midnight when first > last)."""
    wall = start.astimezone(CHICAGO).time()
    return first <= wall < last if first < last else wall >= first or wall < last


def days_in(month: date) -> int:
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (following - month).days


def by_hand(
    chosen: list[Reading],
    first: date,
    last: date,
    *,
    day_rate: Decimal,
    night_rate: Decimal | None = None,
    night: tuple[time, time] = (time(21), time(6)),
    delivery_kwh: Decimal = Decimal(0),
    monthly: Decimal = Decimal(0),
) -> dict[date, Decimal]:
    """Each local month's cost in cents: kWh x rate by band, kWh x delivery, and the monthly
    charges (TDSP + fees) prorated by the period's days in the month, to 0.0001 cent."""
    costs: dict[date, Decimal] = {}
    day = first
    while day <= last:  # every month of the period, with or without usage
        costs.setdefault(day.replace(day=1), Decimal(0))
        day += timedelta(days=1)
    for start, kwh in chosen:
        rate = day_rate
        if night_rate is not None and is_night(start, *night):
            rate = night_rate
        costs[local_month(start)] += kwh * rate + kwh * delivery_kwh
    for month in costs:
        month_end = month + timedelta(days=days_in(month) - 1)
        covered = (min(last, month_end) - max(first, month)).days + 1
        if covered == days_in(month):
            costs[month] += monthly
        else:
            costs[month] += (monthly * covered / days_in(month)).quantize(TENTH_MILLI)
    return costs


def months_of(cost: ProductCost) -> dict[date, Decimal]:
    return {m.month: m.total_cents for m in cost.months}


# -- flat rates, delivery, fees, cut months, the year's end --------------------------------------


def test_a_flat_product_across_a_texas_year_end_is_priced_by_local_month(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Dec 31 and Jan 1 in Texas: 23:45 on Dec 31 is 05:45 UTC on Jan 1 and stays December's;
    each month is cut to one day, so its monthly charges are 1/31 of them."""
    days = [date(2025, 12, 31), date(2026, 1, 1)]
    last_of_year = datetime(2025, 12, 31, 23, 45, tzinfo=CHICAGO).astimezone(timezone.utc)
    chosen = readings(days, lambda s: "7.777" if s == last_of_year else "0.125")
    fill(store, chosen)
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "10.5"}, delivery_kwh="4.54030",
                                 delivery_month="423", fee_month="500")])  # fmt: skip
    [cost] = compared(store, *days).products

    # December: 95 x 0.125 + 7.777 = 19.652 kWh; January: 96 x 0.125 = 12 kWh.
    december = Decimal("19.652") * Decimal("15.04030") + Decimal("13.6452") + Decimal("16.1290")
    january = Decimal(12) * Decimal("15.04030") + Decimal("13.6452") + Decimal("16.1290")
    assert months_of(cost) == {date(2025, 12, 1): december, date(2026, 1, 1): january}
    assert months_of(cost) == by_hand(
        chosen, *days, day_rate=Decimal("10.5"), delivery_kwh=Decimal("4.54030"),
        monthly=Decimal(923),
    )  # fmt: skip
    assert cost.total_cents == december + january
    assert [m.kwh for m in cost.months] == [Decimal("19.652"), Decimal(12)]


def test_the_last_quarter_hour_of_a_month_is_that_months_and_midnight_the_next(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """23:45 on Jan 31 local is 05:45 UTC on Feb 1: January's; 00:00 on Feb 1 is February's."""
    days = [date(2026, 1, 31), date(2026, 2, 1)]
    marks = {datetime(2026, 1, 31, 23, 45, tzinfo=CHICAGO): "1000",
             datetime(2026, 2, 1, 0, 0, tzinfo=CHICAGO): "2000"}  # fmt: skip
    utc_marks = {k.astimezone(timezone.utc): v for k, v in marks.items()}
    chosen = readings(days, lambda s: utc_marks.get(s, "0"))
    fill(store, chosen)
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "10"})])
    [cost] = compared(store, *days).products

    assert {m.month: m.kwh for m in cost.months} == {
        date(2026, 1, 1): Decimal(1000),
        date(2026, 2, 1): Decimal(2000),
    }
    assert months_of(cost) == {date(2026, 1, 1): Decimal(10000), date(2026, 2, 1): Decimal(20000)}


def test_a_leap_day_is_a_day_of_february_and_february_2024_has_29(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """2024-02-28 to 2024-03-01: February cut to 2 of its 29 days, March to 1 of 31."""
    days = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
    chosen = readings(days, lambda s: "0.5")
    fill(store, chosen)
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "12"}, delivery_month="423",
                                 fee_month="500")])  # fmt: skip
    [cost] = compared(store, days[0], days[-1]).products

    # 923 x 2 / 29 = 63.6551724... ; 923 / 31 = 29.7741935...
    february = 192 * Decimal("0.5") * 12 + Decimal("63.6552")
    march = 96 * Decimal("0.5") * 12 + Decimal("29.7742")
    assert months_of(cost) == {date(2024, 2, 1): february, date(2024, 3, 1): march}
    assert months_of(cost) == by_hand(chosen, days[0], days[-1], day_rate=Decimal(12),
                                      monthly=Decimal(923))  # fmt: skip
    [feb, mar] = compared_profile_months(store, days[0], days[-1])
    assert (feb.share, mar.share) == (Decimal(2) / Decimal(29), Decimal(1) / Decimal(31))


def compared_profile_months(store: UsageStore, first: date, last: date) -> Any:
    return usage_profile(store, ESI, first, last, NightHours(time(21), time(6))).months


def test_a_month_with_no_usage_is_charged_its_monthly_charges_and_flagged_never_free(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """September 2026 whole, with nothing stored: its TDSP charge and fee still apply (a bill
    would charge them), and all its 2,880 intervals are flagged missing."""
    fill(store, readings([date(2026, 10, 1)], lambda s: "1"))
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "10"}, delivery_month="423",
                                 fee_month="500")])  # fmt: skip
    [cost] = compared(store, date(2026, 9, 1), date(2026, 10, 1)).products

    september, october = cost.months
    assert (september.kwh, september.total_cents) == (Decimal(0), Decimal(923))
    assert september.missing_intervals == 30 * 96
    assert october.total_cents == 96 * 10 + (Decimal(923) / 31).quantize(TENTH_MILLI)
    assert october.missing_intervals == 0


# -- time of use -----------------------------------------------------------------------------------

TOU = {"DAY": "15", "NIGHT": "5"}


@pytest.mark.parametrize(
    ("day", "night", "intervals", "night_intervals"),
    [
        # Spring forward: 02:00-03:00 does not exist; 01:00-03:00 holds 01:00-01:45 only.
        (date(2026, 3, 8), (time(1), time(3)), 92, 4),
        # Fall back: 01:00-02:00 happens twice, both times at night.
        (date(2026, 11, 1), (time(1), time(2)), 100, 8),
        # A band across midnight on the fall-back day: 23:00-24:00 and 00:00-01:00.
        (date(2026, 11, 1), (time(23), time(1)), 100, 8),
        # The default 21:00-06:00 on the fall-back day: 9 wall hours, one of them twice.
        (date(2026, 11, 1), (time(21), time(6)), 100, 40),
        (date(2026, 3, 8), (time(21), time(6)), 92, 32),
    ],
)
def test_the_night_band_is_local_wall_time_on_dst_days(
    fake_kraken: FakeKraken,
    store: UsageStore,
    day: date,
    night: tuple[time, time],
    intervals: int,
    night_intervals: int,
) -> None:
    chosen = readings([day], lambda s: "1")
    assert len(chosen) == intervals
    assert sum(is_night(s, *night) for s, _ in chosen) == night_intervals
    fill(store, chosen)
    script(fake_kraken, [product("1", "Time of use", TOU)])
    [cost] = compared(store, day, day, night=NightHours(*night)).products

    [month] = cost.months
    assert month.energy_cents == (intervals - night_intervals) * 15 + night_intervals * 5
    assert months_of(cost) == by_hand(chosen, day, day, day_rate=Decimal(15),
                                      night_rate=Decimal(5), night=night)  # fmt: skip


def test_distinct_readings_across_midnight_land_in_their_band_and_day(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Every interval its own reading (its index in thousandths), night 22:30-01:15 across
    Oct 31 -> Nov 1 (the fall-back day) -> Nov 2: priced interval by interval, by hand."""
    days = [date(2026, 10, 31), date(2026, 11, 1), date(2026, 11, 2)]
    starts = [s for d in days for s in local_quarters(d)]
    chosen = [(s, Decimal(i + 1) / 1000) for i, s in enumerate(starts)]
    fill(store, chosen)
    night = (time(22, 30), time(1, 15))
    script(fake_kraken, [product("1", "Time of use", TOU, delivery_kwh="3.1", fee_month="99")])
    [cost] = compared(store, days[0], days[-1], night=NightHours(*night)).products

    expected = by_hand(chosen, days[0], days[-1], day_rate=Decimal(15), night_rate=Decimal(5),
                       night=night, delivery_kwh=Decimal("3.1"), monthly=Decimal(99))  # fmt: skip
    assert months_of(cost) == expected
    assert cost.total_cents == sum(expected.values())


# -- rounding, ties, odd rates ---------------------------------------------------------------------


def one_reading(store: UsageStore, kwh: str, day: date = date(2026, 10, 14)) -> date:
    """One interval of `kwh` at 12:00 local on `day`, the rest of the day 0."""
    noon = datetime.combine(day, time(12), CHICAGO).astimezone(timezone.utc)
    fill(store, readings([day], lambda s: kwh if s == noon else "0"))
    return day


@pytest.mark.parametrize(
    ("rate", "shown"),
    [("0.5", 1), ("1.5", 2), ("2.5", 3), ("-0.5", -1), ("-2.5", -3), ("0.49999", 0), ("0", 0)],
)
def test_a_total_is_shown_to_the_cent_half_away_from_zero_and_kept_exact(
    fake_kraken: FakeKraken, store: UsageStore, rate: str, shown: int
) -> None:
    """1 kWh at `rate` cents: the exact total is the rate; shown, half a cent goes away from
    zero, as a bill rounds (banker's rounding would give 0, 2, 2, 0, -2)."""
    day = one_reading(store, "1")
    free = product("9", "Zero", {"ALL_DAY": "0"})
    script(fake_kraken, [product("1", "Odd", {"ALL_DAY": rate}), free], current="CODE-9")
    comparison = compared(store, day, day)

    cost = named(comparison, "Odd")
    assert cost.total_cents == Decimal(rate)
    assert Decimal(rate).quantize(Decimal(1), rounding=ROUND_HALF_UP) == shown
    # Against a product costing 0: the difference of the whole-cent totals shown is this one's.
    assert comparison.versus_current_whole_cents(cost) == shown
    assert cost.versus_current_cents == Decimal(rate)
    document = comparison_document(comparison)
    [shown_row] = [row for row in document["products"] if row["name"] == "Odd"]
    assert Decimal(shown_row["total_cents"]) == Decimal(rate)


def test_products_the_same_to_the_cent_share_a_rank_listed_by_name_then_id(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Totals (1 kWh, no charges) of 0.5, 1.49999 and 1 cents all show as 1 cent: one rank,
    listed by name then id; -1 cent is first, 2 cents is 5th (1, 2, 2, 2, 5)."""
    day = one_reading(store, "1")
    answer = [
        product("5", "Beta", {"ALL_DAY": "1.49999"}),
        product("4", "Alpha", {"ALL_DAY": "1"}),
        product("3", "Alpha", {"ALL_DAY": "0.5"}),
        product("2", "Zero minus", {"ALL_DAY": "-1"}),
        product("1", "Dear", {"ALL_DAY": "2"}),
    ]
    script(fake_kraken, answer)
    ranking = [(p.rank, p.rates.id) for p in compared(store, day, day).products]
    assert ranking == [(1, "2"), (2, "3"), (2, "4"), (2, "5"), (5, "1")]


def test_the_ranking_does_not_follow_the_answers_order(
    fake_kraken: FakeKraken, store: UsageStore, tmp_path: Path
) -> None:
    day = one_reading(store, "3.333")
    answer = [product(str(i), f"P{i % 3}", {"ALL_DAY": str(i % 4)}) for i in range(1, 9)]
    script(fake_kraken, answer)
    first = [(p.rank, p.rates.id, p.total_cents) for p in compared(store, day, day).products]
    script(fake_kraken, list(reversed(answer)))
    again = [(p.rank, p.rates.id, p.total_cents) for p in compared(store, day, day).products]
    assert first == again


def test_a_zero_rate_product_costs_its_charges_only(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    day = one_reading(store, "42")
    script(fake_kraken, [product("1", "Free energy", {"ALL_DAY": "0"}, delivery_kwh="0",
                                 delivery_month="423")])  # fmt: skip
    [cost] = compared(store, day, day).products
    assert cost.total_cents == (Decimal(423) / 31).quantize(TENTH_MILLI)
    assert cost.average_cents_per_kwh == cost.total_cents / 42


def test_very_large_usage_is_priced_exactly(fake_kraken: FakeKraken, store: UsageStore) -> None:
    """A month (October 2026, 2,976 intervals) of readings just under the largest taken,
    1,000,000 kWh: 2,975,999,997.024 kWh x 99.99999 cents + 500, exactly (15 digits x 7)."""
    days = [date(2026, 10, 1) + timedelta(days=n) for n in range(31)]
    fill(store, readings(days, lambda s: "999999.999"))
    script(fake_kraken, [product("1", "Dear", {"ALL_DAY": "99.99999"}, fee_month="500")])
    [cost] = compared(store, days[0], days[-1]).products
    kwh = 2976 * Fraction("999999.999")
    assert kwh == Fraction("2975999997.024")
    expected = kwh * Fraction("99.99999") + 500  # rational arithmetic: nothing rounded
    assert expected == Fraction("297599970442.40002976")
    assert cost.total_cents == Decimal("297599970442.40002976")
    assert cost.kwh == Decimal("2975999997.024")


# -- the Python API --------------------------------------------------------------------------------


def test_money_is_decimal_never_float(fake_kraken: FakeKraken, store: UsageStore) -> None:
    day = one_reading(store, "0.1")
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "0.1"}, fee_month="0.1")])
    comparison = compared(store, day, day)
    [cost] = comparison.products
    [month] = cost.months
    for value in (cost.total_cents, cost.average_cents_per_kwh, cost.kwh, month.energy_cents,
                  month.delivery_cents, month.fees_cents, month.total_cents):  # fmt: skip
        assert type(value) is Decimal, value
    assert month.energy_cents == Decimal("0.01")


def test_the_usage_profile_adds_up_exactly_whatever_the_callers_decimal_context(
    store: UsageStore,
) -> None:
    """README: the sums are worked in a decimal context of their own, 28 digits, whatever the
    caller's. `usage_profile` is public (oeus_kraken.compare): in a caller's 4-digit context its
    sums must still be exact, and a cut month's share the 28-digit one."""
    day = date(2026, 10, 14)
    chosen = readings([day], lambda s: "1.001")
    fill(store, chosen)
    with decimal.localcontext(decimal.Context(prec=4, rounding=ROUND_HALF_EVEN)):
        profile = usage_profile(store, ESI, day, day, NightHours(time(21), time(6)))
    [month] = profile.months
    assert month.kwh == Decimal("96.096")  # 96 x 1.001
    assert month.night_kwh == Decimal("36.036")  # 21:00-06:00: 36 intervals
    assert month.share == Decimal(1) / Decimal(31)  # 28 digits, as in compare_products


# -- the EFL check, the default period, the orders of runs -------------------------------------


def efl_row(figures: dict[str, str]) -> list[dict[str, Any]]:
    names = ("totalApplicableRate", "totalApplicableRateWithMonthlySubscriptionFees",
             "totalApplicableDayRate", "totalApplicableNightRate",
             "totalApplicableDayRateWithMonthlySubscriptionFees",
             "totalApplicableNightRateWithMonthlySubscriptionFees")  # fmt: skip
    return [{**ONCOR, "kwhUsage": "1000", **dict.fromkeys(names), **figures}]


def test_the_efl_figures_are_the_parts_worked_out_by_hand_within_a_hundredth_of_a_cent(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """10 + 4.5403 + 423 / U, and + 500 / U with the fee: at 500 kWh 15.3863 and 16.3863;
    at 1,000 kWh 14.9633 and 15.4633; at 2,000 kWh 14.75180 and 15.00180. The API's figure
    0.01 off holds, 0.0101 off fails."""
    day = one_reading(store, "1")
    rows = {
        "at500Kwh": efl_row({"totalApplicableRate": "15.3963",  # 0.01 off: holds
                             "totalApplicableRateWithMonthlySubscriptionFees": "16.3863"}),
        "at1000Kwh": efl_row({"totalApplicableRate": "14.9633",
                              "totalApplicableRateWithMonthlySubscriptionFees": "15.4734"}),
        "at2000Kwh": efl_row({"totalApplicableRate": "14.7518",
                              "totalApplicableRateWithMonthlySubscriptionFees": "15.0018"}),
    }  # fmt: skip
    flat = product("1", "Flat", {"ALL_DAY": "10"}, delivery_kwh="4.5403", delivery_month="423",
                   fee_month="500")  # fmt: skip
    script(fake_kraken, [flat], efl=[{"id": "1", "displayName": "Flat", **rows}])
    [check] = compared(store, day, day).efl

    worked = {(f.kwh_usage, f.name): f.computed_cents_per_kwh for f in check.figures}
    assert worked == {
        (500, "totalApplicableRate"): Decimal("15.3863"),
        (500, "totalApplicableRateWithMonthlySubscriptionFees"): Decimal("16.3863"),
        (1000, "totalApplicableRate"): Decimal("14.9633"),
        (1000, "totalApplicableRateWithMonthlySubscriptionFees"): Decimal("15.4633"),
        (2000, "totalApplicableRate"): Decimal("14.7518"),
        (2000, "totalApplicableRateWithMonthlySubscriptionFees"): Decimal("15.0018"),
    }
    assert [(f.kwh_usage, f.name) for f in check.failures] == [
        (1000, "totalApplicableRateWithMonthlySubscriptionFees")
    ]


def test_the_default_period_is_the_whole_local_months_stored(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Stored from Jan 31 23:45 to Mar 31 24:00 local: January is not whole, so February and
    March (local midnight to local midnight, whatever UTC says)."""
    jan_last = datetime(2026, 1, 31, 23, 45, tzinfo=CHICAGO).astimezone(timezone.utc)
    days = [date(2026, 2, 1) + timedelta(days=n) for n in range(59)]
    fill(store, [(jan_last, Decimal(1)), *readings(days, lambda s: "0.5")])
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "10"})])
    with SyncKrakenClient(credentials=CREDENTIALS) as client:
        comparison = compare_products(client, store, ESI)
    assert (comparison.first, comparison.last) == (date(2026, 2, 1), date(2026, 3, 31))
    [cost] = comparison.products
    # March 8 is the spring-forward day: 92 intervals, not 96.
    assert cost.kwh == (28 * 96 + 30 * 96 + 92) * Decimal("0.5")


def test_two_runs_and_both_clients_give_the_same_comparison(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    import asyncio

    from oeus_kraken import KrakenClient

    day = one_reading(store, "2.5")
    answer = [product(str(i), f"P{i % 3}", {"ALL_DAY": str(i % 4)}) for i in range(1, 9)]
    script(fake_kraken, answer)
    first = compared(store, day, day)

    async def in_async() -> Comparison:
        async with KrakenClient(credentials=CREDENTIALS) as client:
            return await compare_products(client, store, ESI, day, day)

    assert asyncio.run(in_async()) == first
    assert compared(store, day, day) == first


def test_the_current_product_is_the_active_agreements_not_a_renewal_that_starts_later(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """A renewal already signed (an agreement from next year) is not the product the account is
    on: README's current product is the ESI ID's active agreement's, so every saving is set
    against the product billed now."""
    day = one_reading(store, "1")
    script(fake_kraken, [product("1", "Now", {"ALL_DAY": "10"}),
                         product("2", "Renewal", {"ALL_DAY": "12"})])  # fmt: skip
    now = datetime.now(timezone.utc)
    tariff = {"__typename": "StandardTariff", "displayName": None, "fullName": None,
              "tariffCode": None}  # fmt: skip
    active = {"id": 1, "validFrom": (now - timedelta(days=300)).isoformat(),
              "validTo": (now + timedelta(days=65)).isoformat(), "meterPoint": {"mpan": ESI},
              "tariff": {**tariff, "productCode": "CODE-1"}}  # fmt: skip
    renewal = {**active, "id": 2, "validFrom": active["validTo"], "validTo": None,
               "tariff": {**tariff, "productCode": "CODE-2"}}  # fmt: skip
    answer = {"account": {"number": ACCOUNT, "electricityAgreements": [active, renewal]}}
    fake_kraken.set_default("getAccountAgreements", lambda _sent: data_response(answer))
    comparison = compared(store, day, day)

    assert comparison.current_product_code == "CODE-1"
    assert [(p.rates.name, p.current, p.versus_current_cents) for p in comparison.products] == [
        ("Now", True, Decimal(0)),
        ("Renewal", False, Decimal(2)),
    ]


@pytest.mark.parametrize(("net", "matches"), [(3310, True), (3309, False)])
def test_a_bill_across_a_month_end_and_the_fall_back_day_is_modelled_by_hand(
    fake_kraken: FakeKraken, store: UsageStore, net: int, matches: bool
) -> None:
    """A bill for Oct 31 - Nov 1 2026, 1 kWh every interval, on a time-of-use product (night
    21:00-06:00): 196 kWh, 76 of them at night (36 + 40, the repeated 01:00 hour twice), so
    120 x 15 + 76 x 5 + 196 x 3.1 + one month's 423 + 99 = 3,309.6 cents; a bill of 3,310
    matches (within half a cent), one of 3,309 does not."""
    days = [date(2026, 10, 31), date(2026, 11, 1)]
    chosen = readings(days, lambda s: "1")
    fill(store, chosen)
    tou = product("1", "Time of use", TOU, delivery_kwh="3.1", delivery_month="423",
                  fee_month="99")  # fmt: skip
    script(fake_kraken, [tou])
    edge = _statement("7", days[0], net)
    edge["node"]["toDate"] = str(days[1])
    answer = {"account": {"number": ACCOUNT, "bills": {
        "totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [edge]}}}  # fmt: skip
    fake_kraken.set_default("getAccountBills", lambda _sent: data_response(answer))
    [bill] = compared(store, *days).bills.bills

    assert sum(is_night(s, time(21), time(6)) for s, _ in chosen) == 76
    assert bill.modelled_cents == Decimal("3309.6")
    assert bill.matches is matches


def test_the_figures_are_the_same_in_a_callers_coarse_decimal_context(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """README: no rounding in the sums, whatever the caller's decimal context (here 3 digits,
    rounding down, trapping any rounding at all)."""
    days = [date(2026, 10, 31), date(2026, 11, 1)]
    chosen = readings(days, lambda s: "1.001")
    fill(store, chosen)
    script(fake_kraken, [product("1", "Flat", {"ALL_DAY": "12.34567"}, fee_month="500")])
    coarse = decimal.Context(prec=3, rounding=decimal.ROUND_DOWN,
                             traps=[decimal.Inexact, decimal.Rounded])  # fmt: skip
    with decimal.localcontext(coarse):
        comparison = compared(store, *days)
        [cost] = comparison.products
        total, average = cost.total_cents, cost.average_cents_per_kwh
        document = comparison_document(comparison)
    expected = by_hand(chosen, *days, day_rate=Decimal("12.34567"), monthly=Decimal(500))
    assert total == sum(expected.values())
    assert average == sum(expected.values()) / (196 * Decimal("1.001"))
    assert Decimal(document["products"][0]["total_cents"]) == total


def test_an_average_per_kwh_is_to_a_ten_thousandth_of_a_cent_half_to_even_as_readme_says(
    fake_kraken: FakeKraken, store: UsageStore, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An average is a division (1 cent over 3 kWh has no exact decimal): JSON, CSV and the
    page give it to a ten-thousandth of a cent, half to even (1 over 32 kWh, 0.03125: 0.0312),
    the table to a hundredth (0.12 for 0.125); the totals stay exact."""
    day = one_reading(store, "32")
    script(fake_kraken, [product("1", "Half", {"ALL_DAY": "0.03125"}),
                         product("2", "Eighth", {"ALL_DAY": "0.125"})])  # fmt: skip
    comparison = compared(store, day, day)
    shown = {row["name"]: row for row in comparison_document(comparison)["products"]}
    assert (shown["Half"]["total_cents"], shown["Half"]["average_cents_per_kwh"]) == ("1", "0.0312")
    assert shown["Eighth"]["average_cents_per_kwh"] == "0.125"
    out = io.StringIO()
    write_csv(comparison, out)
    rows = {row["product"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows["Half"]["average_cents_per_kwh"] == "0.0312"

    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    run = cli("compare", ESI, "--from", str(day), "--to", str(day), "--db", str(store.path))
    assert run.code == 0, run.err
    rows_shown = table(
        run.out, ("rank", "product", "total", "¢/kWh", "against the current product")
    )
    eighth = next(row for row in rows_shown if "Eighth" in row)
    assert eighth.split()[3] == "0.12", rows_shown
