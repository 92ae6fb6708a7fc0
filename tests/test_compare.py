"""Plan comparison (`oeus_kraken.compare`, `oeus-kraken compare`): what stored usage would have
cost on every product, checked against the API's EFL figures and the account's bills.

Against the sandbox: its products (flat, time-of-use and wholesale, each with a monthly fee), every
TDSP's delivery charges, the demo account's agreement (Octopus 12M Fixed, Oncor) and its bills,
which price each month's metered usage at that product. The store is filled as a sync would fill
it (compare_helpers), a few months at a time; the figures the tests expect are worked out here
from an export of the store and the API's concise rates, not from the code under test.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import stat
import threading
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from browser import chromium, open_page
from cli_helpers import Cli, assert_one_error_line, clean_env, cli, sandbox_env, table
from compare_helpers import ACCOUNT, ESI_ID, fill_as_synced, sandbox_intervals
from usage_helpers import file_size_limit

import oeus_kraken.sandbox._resolvers as sandbox_resolvers
from oeus_kraken import KrakenClient, OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.compare import (
    DEFAULT_NIGHT,
    Comparison,
    ComparisonError,
    NightHours,
    acompare_products,
    compare_products,
    usage_profile,
)
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_ORGANIZATION_SECRET_KEY,
    GAP_INTERVALS,
    GAP_START,
    INTERVAL_SECONDS,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)
from oeus_kraken.usage import INTERVAL, Interval, UsageStore, local_day_bounds, local_range_bounds

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

TEXAS = ZoneInfo("America/Chicago")
CREDENTIALS = OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)
FLAT, TIME_OF_USE, CURRENT = "22", "40", "21"  # 24M Fixed, Intelligent Octopus, 12M Fixed
MARCH, NOVEMBER = (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 11, 1), date(2026, 11, 30))
SUMMER = (date(2026, 6, 1), date(2026, 8, 31))  # July holds the sandbox's gap of 8 intervals
AUTUMN = ("--from", "2026-10-01", "--to", "2026-11-30")  # what `november_db` holds
FETCHED = datetime(2027, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        yield opened


@pytest.fixture
def kraken(sandbox: SandboxServer) -> Iterator[SyncKrakenClient]:
    with SyncKrakenClient(sandbox.url, credentials=CREDENTIALS) as client:
        yield client


def compare(
    kraken: SyncKrakenClient, store: UsageStore, period: tuple[date, date], **options: Any
) -> Comparison:
    return compare_products(kraken, store, ESI_ID, *period, **options)


def product(comparison: Comparison, product_id: str) -> Any:
    return next(p for p in comparison.products if p.rates.id == product_id)


def exported_kwh(store: UsageStore, first: date, last: date) -> dict[str, Decimal]:
    """kWh per local month, from the store's own CSV export (15-minute rows)."""
    out = io.BytesIO()
    store.export(ESI_ID, first, last, format="csv", out=out)
    months: dict[str, Decimal] = {}
    for row in csv.DictReader(io.StringIO(out.getvalue().decode())):
        month = row["start_local"][:7]
        months[month] = months.get(month, Decimal(0)) + Decimal(row["kwh"])
    return months


def concise_parts(kraken: SyncKrakenClient, product_id: str) -> dict[str, Decimal]:
    """A flat product's rate parts at ESI_ID, read from the EFL-style concise rates (another
    query than the one the comparison prices from)."""
    answer = kraken.get_rates_for_esi_id(ESI_ID, kwh_usage=Decimal(1000))
    found = next(
        p for p in answer.products_with_concise_applicable_rates or [] if p and p.id == product_id
    )
    [rate] = found.rates or []
    assert rate is not None
    fees = rate.total_applicable_rate_with_monthly_subscription_fees - rate.total_applicable_rate
    return {
        "energy": rate.load_zone_consumption_rate,
        "delivery": rate.service_provider_consumption_rate,
        "monthly": rate.service_provider_standing_rate + fees * 1000,
    }


# -- the totals -----------------------------------------------------------------------------------


def test_every_products_total_is_the_sum_of_its_months(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    period = (date(2026, 2, 22), date(2026, 3, 8))  # two months, both cut: charges prorated
    fill_as_synced(store, sandbox, *period)
    comparison = compare(kraken, store, period)

    assert len(comparison.products) == 6  # every product on offer at this ESI ID
    assert [m.share for m in comparison.usage.months] == [Decimal(7) / 28, Decimal(8) / 31]
    for cost in comparison.products:
        assert [m.month for m in cost.months] == [date(2026, 2, 1), date(2026, 3, 1)]
        assert cost.total_cents == sum(m.total_cents for m in cost.months)
        for month in cost.months:
            assert month.total_cents == month.energy_cents + month.delivery_cents + month.fees_cents
    totals = [p.total_cents for p in comparison.products]
    assert totals == sorted(totals)
    assert [p.rank for p in comparison.products] == [1, 2, 3, 4, 5, 6]


def test_products_that_cost_the_same_share_a_rank_and_the_next_one_counts_both(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    # A month of 0 kWh (a vacant home): each product costs its monthly charges alone, and two
    # of the sandbox's products have the same (TDSP 423 + fees 995 cents), so they tie.
    day = date(2026, 11, 1)
    start, end = local_range_bounds(day, date(2026, 11, 30))
    quarters = int((end - start) / INTERVAL)
    zeros = [
        Interval(ESI_ID, start + n * INTERVAL, start + (n + 1) * INTERVAL, Decimal(0))
        for n in range(quarters)
    ]
    store.upsert(zeros, fetched_at=end)
    store.link(ACCOUNT, ESI_ID)

    comparison = compare(kraken, store, (day, date(2026, 11, 30)))

    ranked = [(p.rank, p.total_cents) for p in comparison.products]
    assert [total for _, total in ranked] == sorted(total for _, total in ranked)
    for (rank, total), (next_rank, next_total) in itertools.pairwise(ranked):
        assert (next_rank == rank) == (next_total == total), ranked
    assert [rank for rank, _ in ranked] == [1, 2, 3, 4, 4, 6]  # competition ranking


def test_a_flat_products_total_is_kwh_times_its_rates_plus_its_monthly_charges(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    period = (date(2026, 9, 1), date(2026, 10, 31))
    fill_as_synced(store, sandbox, *period)
    comparison = compare(kraken, store, period)

    kwh = sum(exported_kwh(store, *period).values())
    parts = concise_parts(kraken, FLAT)
    expected = kwh * (parts["energy"] + parts["delivery"]) + 2 * parts["monthly"]
    assert product(comparison, FLAT).total_cents == expected  # exactly: Decimal all the way
    assert product(comparison, FLAT).kwh == kwh == comparison.usage.kwh


def test_every_product_is_set_against_the_current_one_from_the_agreement(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    comparison = compare(kraken, store, NOVEMBER)

    assert comparison.current_product_code == "OCTOPUS-12M-FIXED"
    current = product(comparison, CURRENT)
    assert current.current
    assert [p.current for p in comparison.products].count(True) == 1
    for cost in comparison.products:
        assert cost.versus_current_cents == cost.total_cents - current.total_cents
    assert comparison.cheapest is comparison.products[0]


# -- time of use and Texas days -------------------------------------------------------------------


def flat_day(day: date, kwh: Decimal) -> list[Interval]:
    start, end = local_day_bounds(day)
    count = (end - start) // INTERVAL
    return [
        Interval(ESI_ID, start + i * INTERVAL, start + (i + 1) * INTERVAL, kwh)
        for i in range(count)
    ]


def moved_to_night(intervals: list[Interval], kwh: Decimal) -> list[Interval]:
    """The same intervals with `kwh` taken from the one at 12:00 and put in the one at 02:00."""
    change = {time(12): -kwh, time(2): kwh}
    return [
        Interval(ESI_ID, i.start, i.end, i.value + change.get(i.start.astimezone(TEXAS).time(), 0))
        for i in intervals
    ]


def test_a_time_of_use_product_costs_less_when_the_same_kwh_move_from_day_to_night(
    sandbox: SandboxServer, tmp_path: Path, kraken: SyncKrakenClient
) -> None:
    day = date(2026, 10, 14)
    intervals = flat_day(day, Decimal("0.300"))
    costs = {}
    for name, stored in (
        ("as used", intervals),
        ("moved", moved_to_night(intervals, Decimal("0.2"))),
    ):
        with UsageStore(tmp_path / f"{name}.sqlite3") as store:
            store.upsert(stored, fetched_at=FETCHED)
            store.link(ACCOUNT, ESI_ID)
            comparison = compare(kraken, store, (day, day))
            assert comparison.usage.kwh == Decimal("28.800")  # the same kWh either way
            costs[name] = {p.rates.id: p.total_cents for p in comparison.products}
            tou = product(comparison, TIME_OF_USE).rates

    night_saving = Decimal("0.2") * (tou.energy["DAY"] - tou.energy["NIGHT"])
    assert night_saving > 0
    assert costs["as used"][TIME_OF_USE] - costs["moved"][TIME_OF_USE] == night_saving
    for product_id in costs["as used"]:
        if product_id != TIME_OF_USE:
            assert costs["moved"][product_id] == costs["as used"][product_id]  # flat: no change


def test_the_night_hours_are_an_option_and_said_to_be_an_assumption(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    usual = compare(kraken, store, NOVEMBER)
    short = compare(kraken, store, NOVEMBER, night=NightHours.parse("00:00-05:00"))

    assert str(DEFAULT_NIGHT) == "21:00-06:00"
    assert short.usage.months[0].night_kwh < usual.usage.months[0].night_kwh
    assert product(short, TIME_OF_USE).total_cents > product(usual, TIME_OF_USE).total_cents
    assert product(short, FLAT).total_cents == product(usual, FLAT).total_cents
    assert any("00:00-05:00" in a and "assumed" in a for a in short.assumptions)


def night_kwh_by_wall_clock(store: UsageStore, day: date, night: NightHours) -> Decimal:
    """The day's kWh whose local start time is in the night hours, each read on its own."""
    start, end = local_day_bounds(day)
    total = Decimal(0)
    for interval in store.intervals(ESI_ID, start, end):
        local = interval.start.astimezone(TEXAS).time()
        if local >= night.start or local < night.end:
            total += interval.value
    return total


@pytest.mark.parametrize(
    ("period", "dst_day", "intervals", "month_intervals"),
    [(MARCH, date(2026, 3, 8), 92, 31 * 96 - 4), (NOVEMBER, date(2026, 11, 1), 100, 30 * 96 + 4)],
    ids=["spring-forward", "fall-back"],
)
def test_dst_months_are_priced_from_their_92_and_100_interval_days(
    sandbox: SandboxServer,
    store: UsageStore,
    kraken: SyncKrakenClient,
    period: tuple[date, date],
    dst_day: date,
    intervals: int,
    month_intervals: int,
) -> None:
    fill_as_synced(store, sandbox, *period)
    comparison = compare(kraken, store, period)

    [day] = [d for d in comparison.usage.days if d.day == dst_day]
    assert day.intervals == day.expected_intervals == intervals
    assert day.night_kwh == night_kwh_by_wall_clock(store, dst_day, DEFAULT_NIGHT)
    [month] = comparison.usage.months
    assert month.intervals == month.expected_intervals == month_intervals
    assert month.missing_intervals == 0
    assert month.kwh == exported_kwh(store, *period)[f"{period[0]:%Y-%m}"]
    assert product(comparison, FLAT).months[0].kwh == month.kwh


@pytest.mark.parametrize(
    ("minutes", "kept", "covered"),
    [(5, range(288), 96), (60, range(24), 96), (5, range(0, 288, 2), 48)],
    ids=["every-5-minutes", "hourly", "every-other-5-minutes"],
)
def test_readings_of_other_lengths_count_the_quarter_hours_they_cover(
    store: UsageStore, minutes: int, kept: range, covered: int
) -> None:
    """The store takes readings of any length (usage_helpers and the public Interval do): a
    day of 5-minute or hourly readings covers its 96 quarter hours, and nothing counts a
    negative number missing. Readings covering half the day leave half its quarter hours missing."""
    day = date(2026, 10, 14)
    start, _ = local_day_bounds(day)
    step = timedelta(minutes=minutes)
    store.upsert(
        [Interval(ESI_ID, start + i * step, start + (i + 1) * step, Decimal("0.1")) for i in kept],
        fetched_at=start + timedelta(days=2),
    )
    [month] = usage_profile(store, ESI_ID, day, day, DEFAULT_NIGHT).months

    assert month.kwh == Decimal("0.1") * len(kept)
    assert (month.intervals, month.missing_intervals) == (covered, 96 - covered)


@pytest.mark.slow
def test_a_month_with_a_gap_is_flagged_with_its_missing_intervals(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *SUMMER)
    comparison = compare(kraken, store, SUMMER)

    missing = {f"{m.month:%Y-%m}": m.missing_intervals for m in comparison.usage.months}
    assert missing == {"2026-06": 0, "2026-07": 8, "2026-08": 0}  # the sandbox's seeded gap
    for cost in comparison.products:
        assert [m.missing_intervals for m in cost.months] == [0, 8, 0]
    assert any("8 intervals are missing in 1 month" in a for a in comparison.assumptions)

    sandbox.fill_usage_gap()
    fill_as_synced(store, sandbox, date(2026, 7, 14), date(2026, 7, 14))
    assert compare(kraken, store, SUMMER).usage.missing_intervals == 0


# -- the checks -----------------------------------------------------------------------------------


def test_the_efl_check_holds_for_every_sandbox_product(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    comparison = compare(kraken, store, NOVEMBER)

    assert comparison.efl_holds
    assert {c.product_id for c in comparison.efl} == {p.rates.id for p in comparison.products}
    for check in comparison.efl:
        assert check.checked == (12 if check.product_id == TIME_OF_USE else 6), check
        for figure in check.figures:
            if figure.holds is not None:
                assert figure.difference == 0  # the sandbox's figures are the parts', exactly
    tou = next(c for c in comparison.efl if c.product_id == TIME_OF_USE)
    skipped = [f for f in tou.figures if f.holds is None]
    assert {f.name for f in skipped} == {
        "totalApplicableRate",
        "totalApplicableRateWithMonthlySubscriptionFees",
    }
    assert all("split" in (f.skipped or "") for f in skipped)


def perturbed_delivery(monkeypatch: pytest.MonkeyPatch, product_id: str, by: Decimal) -> None:
    """The sandbox's `products { rates }` gives `product_id` a TDSP rate per kWh off by `by`,
    while its EFL figures stay as they were."""
    served = sandbox_resolvers.product_rates

    def product_rates(product: Any, **filters: Any) -> dict[str, Any]:
        rates = served(product, **filters)
        if product.id == product_id:
            for rate in rates["tdspRates"]["consumptionRates"]:
                rate["pricePerUnit"] += by
        return rates

    monkeypatch.setattr(sandbox_resolvers, "product_rates", product_rates)


def test_the_efl_check_fails_visibly_when_a_rate_part_is_perturbed(
    sandbox: SandboxServer,
    store: UsageStore,
    kraken: SyncKrakenClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    perturbed_delivery(monkeypatch, FLAT, Decimal("0.05"))
    comparison = compare(kraken, store, NOVEMBER)

    assert not comparison.efl_holds
    [failed] = [c for c in comparison.efl if not c.holds]
    assert failed.product_id == FLAT
    assert len(failed.failures) == 6  # both figures at 500, 1,000 and 2,000 kWh
    assert {f.difference for f in failed.failures} == {Decimal("-0.05")}
    assert product(comparison, FLAT).priced  # shown, never dropped


def test_the_bill_check_matches_the_sandboxs_bills(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *SUMMER)
    comparison = compare(kraken, store, SUMMER)

    bills = comparison.bills.bills
    assert comparison.bills.skipped is None
    assert [(b.from_date, b.to_date) for b in bills] == [
        (date(2026, 6, 1), date(2026, 6, 30)),
        (date(2026, 7, 1), date(2026, 7, 31)),
        (date(2026, 8, 1), date(2026, 8, 31)),
    ]
    june, july, august = bills
    assert june.matches
    assert august.matches
    assert abs(june.difference_cents) <= Decimal("0.5")  # a bill is whole cents
    # July's bill counts the 8 intervals the API never delivered; the model cannot.
    assert not july.matches
    assert july.missing_intervals == 8
    parts = concise_parts(kraken, CURRENT)
    gap = sum(i.value for i in gap_intervals(sandbox))
    assert abs(july.difference_cents - gap * (parts["energy"] + parts["delivery"])) <= Decimal(
        "0.5"
    )


def gap_intervals(sandbox: SandboxServer) -> list[Interval]:
    """The seeded gap's intervals, as the API delivers them once the gap is filled."""
    sandbox.fill_usage_gap()
    day = date(2026, 7, 14)
    gap = range(GAP_START, GAP_START + GAP_INTERVALS * INTERVAL_SECONDS)
    found = [
        i for i in sandbox_intervals(sandbox, ESI_ID, day, day) if int(i.start.timestamp()) in gap
    ]
    assert len(found) == GAP_INTERVALS
    return found


def test_there_is_no_bill_check_for_an_account_whose_bills_cover_several_esi_ids(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    esi_id = "10032789456123007"  # one of Sam Patel's three properties
    fill_as_synced(store, sandbox, *NOVEMBER, account=OTHER_ACCOUNT_NUMBER, esi_id=esi_id)
    comparison = compare_products(kraken, store, esi_id, *NOVEMBER)

    assert comparison.service_provider == "AEP_TCC"
    assert comparison.current_product_code == "OCTOPUS-24M-FIXED"
    assert (
        comparison.bills.skipped
        == "the account's bills cover its 3 ESI IDs; this comparison is for one"
    )


# -- requests and clients --------------------------------------------------------------------------


def test_a_comparison_makes_one_request_of_each_kind_and_none_for_usage(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    comparison = compare(kraken, store, NOVEMBER)

    assert sandbox.stats.operations == {
        "getKrakenToken": 1,
        "getProductRatesForEsiId": 1,
        "getEflRatesForEsiId": 1,
        "getAccountAgreements": 1,
        "getAccountBills": 1,
    }
    assert comparison.requests == 4


async def test_the_async_client_compares_the_same(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, *NOVEMBER)
    blocking = compare(kraken, store, NOVEMBER)
    async with KrakenClient(sandbox.url, credentials=CREDENTIALS) as async_kraken:
        awaited = await compare_products(async_kraken, store, ESI_ID, *NOVEMBER)
        explicit = await acompare_products(async_kraken, store, ESI_ID, *NOVEMBER)

    for other in (awaited, explicit):
        assert other.products == blocking.products
        assert other.efl == blocking.efl
        assert other.bills == blocking.bills


@pytest.mark.parametrize("compare_async", [compare_products, acompare_products])
async def test_the_async_client_reads_the_store_in_a_worker_thread_never_on_the_event_loop(
    sandbox: SandboxServer,
    store: UsageStore,
    monkeypatch: pytest.MonkeyPatch,
    compare_async: Any,
) -> None:
    """A year of intervals takes a noticeable time to read and add up: the event loop keeps
    serving other tasks meanwhile, as it does while a usage sync writes the store."""
    fill_as_synced(store, sandbox, *NOVEMBER)
    loop_thread = threading.get_ident()
    read_in: list[int] = []
    readings = store.readings

    def recorded(*args: Any, **kwargs: Any) -> Any:
        read_in.append(threading.get_ident())
        return readings(*args, **kwargs)

    monkeypatch.setattr(store, "readings", recorded)
    async with KrakenClient(sandbox.url, credentials=CREDENTIALS) as async_kraken:
        comparison = await compare_async(async_kraken, store, ESI_ID, *NOVEMBER)

    assert comparison.products
    assert read_in
    assert loop_thread not in read_in


@pytest.mark.slow
def test_the_default_period_is_the_last_whole_months_in_the_store(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    fill_as_synced(store, sandbox, date(2026, 9, 15), date(2026, 11, 30))
    comparison = compare_products(kraken, store, ESI_ID)
    assert (comparison.first, comparison.last) == (date(2026, 10, 1), date(2026, 11, 30))


def test_nothing_to_compare_is_said_before_any_request(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient
) -> None:
    with pytest.raises(ComparisonError, match="no usage for ESI ID"):
        compare_products(kraken, store, ESI_ID)
    fill_as_synced(store, sandbox, date(2026, 11, 10), date(2026, 11, 20))
    with pytest.raises(ComparisonError, match="no whole month"):
        compare_products(kraken, store, ESI_ID)
    with pytest.raises(ComparisonError, match=r"no usage for ESI ID \d+ from 2026-01-01"):
        compare(kraken, store, (date(2026, 1, 1), date(2026, 1, 31)))
    assert sandbox.stats.operations == {}


def test_a_store_filled_here_holds_what_a_sync_stores(
    sandbox: SandboxServer, tmp_path: Path, kraken: SyncKrakenClient
) -> None:
    """The tests above fill their stores from the sandbox's generator: here is a real sync."""
    from oeus_kraken.usage import sync_usage_blocking

    today = datetime.fromtimestamp(sandbox.state.clock(), TEXAS).date()
    days = (today - timedelta(days=4), today - timedelta(days=3))
    with (
        UsageStore(tmp_path / "synced.sqlite3") as synced,
        UsageStore(tmp_path / "filled.sqlite3") as filled,
    ):
        sync_usage_blocking(kraken, synced, [ACCOUNT], since=days[0])
        fill_as_synced(filled, sandbox, *days)
        bounds = local_range_bounds(*days)
        assert len(filled.intervals(ESI_ID, *bounds)) > 180
        assert [(i.start, i.value, i.source) for i in synced.intervals(ESI_ID, *bounds)] == [
            (i.start, i.value, i.source) for i in filled.intervals(ESI_ID, *bounds)
        ]


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def org_env(sandbox_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)


@pytest.fixture
def november_db(sandbox: SandboxServer, tmp_path: Path) -> str:
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        fill_as_synced(store, sandbox, date(2026, 10, 1), NOVEMBER[1])
    return str(path)


@pytest.mark.slow
def test_the_command_prints_the_ranking_the_gaps_and_both_checks(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    db = str(tmp_path / "usage.sqlite3")
    with UsageStore(Path(db)) as store:
        fill_as_synced(store, sandbox, *SUMMER)
    run = cli("compare", ACCOUNT, "--from", "2026-06-01", "--to", "2026-08-31", "--db", db)
    assert run.code == 0, run.err

    assert (
        run.out.splitlines()[0]
        == f"ESI ID {ESI_ID} (account {ACCOUNT}): TDSP ONCOR, load zone LZ_NORTH"
    )
    assert "current product: Octopus 12M Fixed (OCTOPUS-12M-FIXED)" in run.out
    rows = table(run.out, ("rank", "product", "total", "¢/kWh", "against the current product"))
    assert len(rows) == 6
    assert rows[0].startswith("1 ")
    [current] = [r for r in rows if "Octopus 12M Fixed *" in r]
    assert current.endswith("current product")
    assert all(("saves $" in r or "more" in r) for r in rows if r is not current)
    assert "  2026-07: 8 of 2,976 intervals missing" in run.out
    as_csv = cli(
        "compare", ACCOUNT, "--from", "2026-06-01", "--to", "2026-08-31", "--db", db, "--csv"
    )
    flagged = {r["missing_intervals_by_month"] for r in csv.DictReader(io.StringIO(as_csv.out))}
    assert flagged == {"2026-07:8"}
    assert "EFL check: all 42 figures of 6 products are within 0.01 cents/kWh" in run.out
    bills = table(
        run.out, ("billing period", "billed", "modelled", "difference", "matches", "note")
    )
    assert [b.split()[-1] for b in bills if "2026-07" not in b] == ["yes", "yes"]
    assert "Time-of-use NIGHT band assumed to be 21:00-06:00" in run.out
    assert sandbox.stats.operations.get("getPropertyMeasurements", 0) == 0


def test_the_command_shows_a_failed_efl_check_and_keeps_the_product(
    cli: Cli, org_env: None, november_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    perturbed_delivery(monkeypatch, FLAT, Decimal("-0.03"))
    run = cli("compare", ESI_ID, "--from", "2026-11-01", "--to", "2026-11-30", "--db", november_db)
    assert run.code == 0, run.err
    assert "EFL check FAILED: 6 of 42 figures differ" in run.out
    failure = "Octopus 24M Fixed: totalApplicableRate at 500 kWh: API 19.23650, parts 19.20650"
    assert f"{failure}, off by +0.03000 cents/kWh" in run.out
    rows = table(run.out, ("rank", "product", "total", "¢/kWh", "against the current product"))
    assert any("Octopus 24M Fixed" in r for r in rows)


@pytest.mark.parametrize(
    ("period", "months"), [(("2026-11-01", "2026-11-30"), "1 month"), (AUTUMN[1::2], "2 months")]
)
def test_the_command_says_how_many_months_in_words(
    cli: Cli, org_env: None, november_db: str, period: tuple[str, str], months: str
) -> None:
    run = cli("compare", ESI_ID, "--from", period[0], "--to", period[1], "--db", november_db)
    assert run.code == 0, run.err
    assert f"{period[0]} to {period[1]} (Texas local dates, {months}): " in run.out


def test_json_parses_with_exact_cents_and_units(cli: Cli, org_env: None, november_db: str) -> None:
    run = cli("compare", ESI_ID, *AUTUMN, "--db", november_db, "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)

    assert document["period"] == {"from": "2026-10-01", "to": "2026-11-30"}
    assert document["night_hours"] == {"local": "21:00-06:00", "assumption": True}
    assert "cents" in document["units"]["*_cents"]
    assert document["units"]["kwh"] == "kWh"
    for item in document["products"]:
        months = [Decimal(m["total_cents"]) for m in item["months"]]
        assert Decimal(item["total_cents"]) == sum(months)
    first = document["products"][0]
    assert first["rank"] == 1
    assert document["cheapest_product_id"] == first["id"]
    assert [p["current"] for p in document["products"]].count(True) == 1
    assert document["efl_check"]["holds"] is True
    assert [b["matches"] for b in document["bill_check"]["bills"]] == [True, True]
    assert document["requests"] == 4


@pytest.mark.slow
def test_csv_parses_one_row_per_product_with_a_cents_column_per_month(
    cli: Cli, org_env: None, november_db: str
) -> None:
    run = cli("compare", ESI_ID, *AUTUMN, "--db", november_db, "--csv")
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(run.out)))

    assert len(rows) == 6
    assert list(rows[0])[-2:] == ["2026-10_cents", "2026-11_cents"]
    assert {"total_cents", "average_cents_per_kwh", "versus_current_cents"} <= set(rows[0])
    for row in rows:
        assert Decimal(row["total_cents"]) == Decimal(row["2026-10_cents"]) + Decimal(
            row["2026-11_cents"]
        )
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {r["missing_intervals_by_month"] for r in rows} == {""}  # autumn: nothing missing
    assert run.err == ""


@pytest.mark.parametrize(
    ("arguments", "code", "says"),
    [
        (("A-7B4E0A18", "--from", "2026-11-01"), "usage", "give both --from and --to"),
        ((ESI_ID, "--night", "9pm-6am"), "usage", "not a span of night hours"),
        ((ESI_ID, "--night", "21:10-06:00"), "usage", "quarter hour"),
        (
            (ESI_ID, "--from", "2026-11-30", "--to", "2026-11-01"),
            "usage",
            "ends (2026-11-01) before",
        ),
        # A store without the usage asked for exits 1 (README), for an ESI ID or an account.
        (("10443720009999999",), "error", "no usage for ESI ID 10443720009999999"),
        ((DEMO_ACCOUNT_NUMBERS[1],), "error", "has no ESI ID of account A-7B4E0A18"),
    ],
)
def test_a_command_that_cannot_compare_says_why_in_one_line(
    cli: Cli, org_env: None, november_db: str, arguments: tuple[str, ...], code: str, says: str
) -> None:
    line = assert_one_error_line(cli("compare", *arguments, "--db", november_db), "compare", code)
    assert says in line, line


def test_an_account_with_several_esi_ids_is_asked_to_name_one(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        for esi_id in ("10032789456123007", "10032789517730442"):
            fill_as_synced(
                store,
                sandbox,
                date(2026, 11, 1),
                date(2026, 11, 2),
                account=OTHER_ACCOUNT_NUMBER,
                esi_id=esi_id,
            )
    line = assert_one_error_line(
        cli("compare", OTHER_ACCOUNT_NUMBER, "--db", str(db)), "compare", "usage"
    )
    assert "has 2 ESI IDs (10032789456123007, 10032789517730442)" in line
    assert "oeus-kraken compare ESI_ID" in line


def test_no_store_is_said_and_none_is_made(cli: Cli, org_env: None, tmp_path: Path) -> None:
    db = tmp_path / "nothing.sqlite3"
    line = assert_one_error_line(cli("compare", ESI_ID, "--db", str(db)), "compare", "error")
    assert f"no usage store at {db}" in line
    assert not db.exists()


@pytest.mark.slow
def test_sync_brings_the_store_up_to_date_first_at_the_usual_floor(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    today = datetime.fromtimestamp(sandbox.state.clock(), TEXAS).date()
    first, last = today - timedelta(days=8), today - timedelta(days=4)
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        fill_as_synced(store, sandbox, first, today)  # a store already current
    run = cli(
        "compare",
        ACCOUNT,
        "--from",
        str(first),
        "--to",
        str(last),
        "--db",
        str(db),
        "--sync",
        "--json",
    )
    assert run.code == 0, run.err

    assert json.loads(run.out)["period"] == {"from": str(first), "to": str(last)}
    assert run.err.startswith("synced 1 ESI ID of 1 account")
    operations = sandbox.stats.operations
    assert operations["getPropertyMeasurements"] <= 5  # the revision window, not 9 days
    for name in (
        "getProductRatesForEsiId",
        "getEflRatesForEsiId",
        "getAccountAgreements",
        "getAccountBills",
    ):
        assert operations[name] == 1, operations


@pytest.mark.parametrize("stored", [False, True], ids=["not-in-the-store", "in-the-store"])
def test_a_sync_that_fails_the_account_is_one_line_saying_why_and_nothing_is_compared(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path, stored: bool
) -> None:
    # The sync's failure is the answer: not a line saying to "add --sync", given, nor a
    # comparison of what the store held before.
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:  # ESI_ID's usage, of an account the API does not know
        if stored:
            fill_as_synced(store, sandbox, *NOVEMBER, account="A-99999999")
    run = cli("compare", ESI_ID if stored else "A-99999999", "--db", str(db), "--sync")
    line = assert_one_error_line(run, "compare", "error")
    assert "A-99999999: not found, or not visible to these credentials" in line, line
    assert "add --sync" not in line
    assert run.out == ""
    assert "getProductRatesForEsiId" not in sandbox.stats.operations


def test_compare_sync_stopped_by_a_rate_limit_says_so_on_stderr_not_in_the_tables_place(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    # Nothing is compared, so the run failed: its line belongs on stderr, named, as every
    # failure's. Before: exit 5 with the sync's bare line on stdout (into `> table.txt`) and
    # nothing on stderr.
    sandbox.set_faults(data_rate_limit=1_000)
    run = cli("compare", ESI_ID, "--db", str(tmp_path / "usage.sqlite3"), "--sync")
    line = assert_one_error_line(run, "compare", "rate_limited")
    assert "rate limiting" in line, line
    assert run.out == ""


# -- the HTML page --------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_html_page_is_owner_only_and_self_contained(
    cli: Cli, org_env: None, november_db: str, tmp_path: Path
) -> None:
    page = tmp_path / "compare.html"
    run = cli("compare", ESI_ID, *AUTUMN, "--db", november_db, "--html", str(page))
    assert run.code == 0, run.err
    assert run.out.rstrip().endswith(f"HTML page: {page}")

    assert stat.S_IMODE(page.stat().st_mode) == 0o600
    text = page.read_text(encoding="utf-8")
    for outside in ("<script", "<link", "@import", "url(", "src="):
        assert outside not in text, outside
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text


@pytest.mark.slow
def test_the_html_page_passes_in_a_real_browser(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    executable, why = chromium()
    if executable is None:
        pytest.skip(f"no headless Chromium to test the page in: {why}")
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        fill_as_synced(store, sandbox, *SUMMER)
    page = tmp_path / "compare.html"
    run = cli(
        "compare",
        ESI_ID,
        "--from",
        "2026-06-01",
        "--to",
        "2026-08-31",
        "--db",
        str(db),
        "--html",
        str(page),
        "--json",
    )
    assert run.code == 0, run.err
    cheapest = json.loads(run.out)["products"][0]

    with open_page(executable, page, tmp_path / "profile") as browser:
        rows = browser.evaluate(
            "[...document.querySelectorAll('#ranking tbody tr')].map(r => "
            "[r.dataset.productId, r.dataset.totalCents])"
        )
        assert rows[0][0] == cheapest["id"]
        totals = [Decimal(total) for _, total in rows]
        assert totals[0] == min(totals) == Decimal(cheapest["total_cents"])
        assert browser.evaluate("document.querySelectorAll('svg polyline').length") >= 6
        for mobile in (False, True):  # a narrow window, then a phone (which would zoom out)
            browser.call(
                "Emulation.setDeviceMetricsOverride",
                width=375,
                height=812,
                deviceScaleFactor=2,
                mobile=mobile,
            )
            width, viewport = browser.evaluate("[document.documentElement.scrollWidth, innerWidth]")
            assert viewport == 375  # the phone did not zoom out to fit something wider
            assert width <= viewport  # no sideways scroll: only the tables' own boxes scroll
        browser.call("Emulation.setEmulatedMedia", media="print")
        boxes = "[...document.querySelectorAll('.scroll')].map(e => getComputedStyle(e).overflowX)"
        assert set(browser.evaluate(boxes)) == {"visible"}  # printed whole, not cut at a box
        report = browser.report()
    assert report.errors == []
    assert report.requests == [page.resolve().as_uri()]  # nothing fetched from anywhere else


def test_a_page_path_that_cannot_be_written_is_refused_before_any_request(
    cli: Cli, org_env: None, november_db: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    for page in (tmp_path / "no-such-folder" / "compare.html", tmp_path):
        run = cli("compare", ESI_ID, "--db", november_db, "--html", str(page))
        line = assert_one_error_line(run, "compare", "usage")
        assert f"--html {page}: cannot write a file there" in line
    assert sandbox.stats.operations == {}


def test_html_dash_is_refused_as_standard_output_carries_the_table(
    cli: Cli,
    org_env: None,
    november_db: str,
    sandbox: SandboxServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`--out -` is standard output for an export; the page comes beside the table, JSON or
    CSV, which standard output already carries, so `-` is refused, not a file named `-`."""
    monkeypatch.chdir(tmp_path)
    run = cli("compare", ESI_ID, "--db", november_db, "--html", "-")
    line = assert_one_error_line(run, "compare", "usage")
    assert "--html -" in line
    assert not (tmp_path / "-").exists()
    assert sandbox.stats.operations == {}


def test_a_disk_that_fills_up_while_the_page_is_written_is_one_line_and_keeps_the_earlier_page(
    cli: Cli, org_env: None, november_db: str, tmp_path: Path
) -> None:
    page = tmp_path / "compare.html"
    page.write_text("EARLIER")
    with file_size_limit(8192):  # the page is larger: its write fails with EFBIG
        run = cli("compare", ESI_ID, *AUTUMN, "--db", november_db, "--html", str(page))
    line = assert_one_error_line(run, "compare", "error")
    assert f"cannot write {page}: File too large" in line
    assert page.read_text() == "EARLIER"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_dates_no_store_can_hold_are_one_line(cli: Cli, org_env: None, november_db: str) -> None:
    run = cli("compare", ESI_ID, "--from", "0001-01-01", "--to", "0001-01-31", "--db", november_db)
    line = assert_one_error_line(run, "compare", "usage")
    assert "outside the dates a usage store can hold" in line


@pytest.mark.slow
@pytest.mark.parametrize("read_first_line", [False, True], ids=["closed", "head-1"])
def test_a_reader_that_leaves_early_ends_it_quietly(
    sandbox: SandboxServer, november_db: str, tmp_path: Path, read_first_line: bool
) -> None:
    from cli_helpers import process_env
    from test_cli_pipes import BROKEN, run_into_pipe

    env = process_env(
        {"KRAKEN_URL": sandbox.url, "KRAKEN_ORGANIZATION_SECRET_KEY": DEMO_ORGANIZATION_SECRET_KEY},
        tmp_path,
    )
    argv = ["compare", ESI_ID, "--from", "2026-11-01", "--to", "2026-11-30", "--db", november_db]
    code, err = run_into_pipe(argv, env, read_first_line=read_first_line, buffered=True)
    assert err == ""
    assert code in ((0, BROKEN) if read_first_line else (BROKEN,))


# Residential delivery charges the PUCT approved from March 1, 2024 (cents per kWh, cents per
# month), as published for all five TDSPs; the sandbox serves these.
PUBLISHED_DELIVERY = {
    "ONCOR": ("1044372", Decimal("4.54030"), Decimal("423")),
    "CENTERPOINT": ("1008901", Decimal("3.89570"), Decimal("439")),
    "AEP_TCC": ("1003278", Decimal("4.87870"), Decimal("479")),
    "AEP_TNC": ("1020404", Decimal("4.52540"), Decimal("479")),
    "TNMP": ("1040051", Decimal("5.03830"), Decimal("785")),
}


@pytest.mark.parametrize("tdsp", list(PUBLISHED_DELIVERY))
def test_every_tdsp_delivers_at_its_published_charges_and_every_efl_holds_there(
    sandbox: SandboxServer, store: UsageStore, kraken: SyncKrakenClient, tdsp: str
) -> None:
    prefix, per_kwh, per_month = PUBLISHED_DELIVERY[tdsp]
    esi_id = f"{prefix}0000000042"  # a premise of that TDSP (rates need no account)
    day = [
        Interval(esi_id, i.start, i.end, i.value)
        for i in flat_day(date(2026, 10, 14), Decimal("0.5"))
    ]
    store.upsert(day, fetched_at=FETCHED)
    comparison = compare_products(kraken, store, esi_id, date(2026, 10, 14), date(2026, 10, 14))

    assert comparison.service_provider == tdsp
    assert len(comparison.products) == 6
    for cost in comparison.products:
        assert cost.rates.delivery_cents_per_kwh == per_kwh
        assert cost.rates.delivery_cents_per_month == per_month
        assert cost.rates.fees_cents_per_month > 0  # every product has its subscription fee
    assert comparison.efl_holds
    assert all(check.checked >= 6 for check in comparison.efl)
    assert {p.rates.time_of_use for p in comparison.products} == {True, False}


def test_the_sync_line_before_a_comparison_shows_api_text_escaped(
    cli: Cli, org_env: None, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An ESI ID no stored account holds: --sync syncs every account, and its line names those
    # that failed with the API's own words, which may hold an escape code (README: API text is
    # printed escaped, so that it cannot drive the terminal).
    from graphql import GraphQLError

    from oeus_kraken.sandbox import _us_resolvers

    serve = _us_resolvers.measurements_connection

    def hostile_but_for_esi_id(meter: Any, **options: Any) -> Any:
        if meter is not None and meter.esi_id != ESI_ID:
            raise GraphQLError("boom\x1b[2J\x07", extensions={"errorCode": "KT-CT-9999"})
        return serve(meter, **options)

    monkeypatch.setattr(_us_resolvers, "measurements_connection", hostile_but_for_esi_id)
    today = datetime.fromtimestamp(sandbox.state.clock(), TEXAS).date()
    days = ("--from", str(today - timedelta(days=3)), "--to", str(today - timedelta(days=2)))
    run = cli("compare", ESI_ID, *days, "--db", str(tmp_path / "u.sqlite3"), "--sync", "--json")
    assert run.code == 0, run.err
    assert "boom\\x1b[2J\\x07" in run.err  # the failed accounts named, their words spelt out
    assert "\x1b" not in run.err + run.out
    assert "\x07" not in run.err + run.out
