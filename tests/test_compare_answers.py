"""Plan comparison against answers the sandbox never gives: bands whose hours nobody states, rates
that are not numbers or are in a unit we do not price, names full of HTML, products offered only
elsewhere, an agreement naming a product no longer on offer, no products at all, absurd dates.

A scripted Kraken (conftest.FakeKraken) answers each operation; both clients run every test.
"""

from __future__ import annotations

import contextlib
import decimal
import inspect
import io
import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from auth_helpers import FakeKraken, data_response
from cli_helpers import Cli, cli, table
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken import ConfigurationError, OrganizationSecretKey
from oeus_kraken.compare import (
    Comparison,
    ComparisonError,
    compare_products,
    comparison_document,
    comparison_html,
    write_csv,
)
from oeus_kraken.usage import Interval, UsageStore

ACCOUNT = "A-1B2C3D4E"
DAY = date(2026, 10, 14)
CREDENTIALS = OrganizationSecretKey("sk_test_not_a_real_organization_key")
ONCOR = {"serviceProvider": "ONCOR", "loadZone": "LZ_NORTH"}
HTML_NAME = 'Fine & <b onmouseover="alert(1)">Dandy</b>'

__all__ = ["cli"]  # a fixture, used by name


def rate(price: str, unit: str = "KWH_CONSUMPTION", **fields: Any) -> dict[str, Any]:
    return {"pricePerUnit": price, "unitType": unit, "band": "ENERGY", "serviceProvider": None,
            "loadZone": None, **fields}  # fmt: skip


def offered(
    product_id: str, name: str, energy: list[dict[str, Any]], *, where: dict[str, Any] = ONCOR
) -> dict[str, Any]:
    delivery = rate("4.54030", band="DELIVERY", timeOfUse="ALL_DAY", **where)
    monthly = rate("423", "MONTHS_ON_SUPPLY", band="DELIVERY", **where)
    return {
        "id": product_id,
        "code": f"CODE-{product_id}",
        "displayName": name,
        "fullName": name,
        "term": 12,
        "prepay": False,
        "basedOnTimeOfUse": False,
        "isWholesale": False,
        "rates": {
            "tdspRates": {"consumptionRates": [delivery], "standingRates": [monthly]},
            "loadZoneRates": {"consumptionRates": energy, "standingRates": []},
            "agnosticRates": {"consumptionRates": [],
                              "standingRates": [rate("500", "MONTHS_ON_SUPPLY")]},
        },
    }  # fmt: skip


HOUSTON = {"serviceProvider": "CENTERPOINT", "loadZone": "LZ_HOUSTON"}
PRODUCTS = [
    offered("1", HTML_NAME, [rate("10", timeOfUse="ALL_DAY")]),
    offered("2", "Peak saver", [rate("20", timeOfUse="PEAK"), rate("5", timeOfUse="OFF_PEAK")]),
    offered("4", "Per day", [rate("10", timeOfUse="ALL_DAY"),
                             rate("30", "DAYS_ON_SUPPLY", timeOfUse="ALL_DAY")]),
    offered("5", "Houston only", [rate("1", timeOfUse="ALL_DAY")], where=HOUSTON),
]  # fmt: skip


def agreements(product_code: str) -> dict[str, Any]:
    tariff = {"__typename": "StandardTariff", "productCode": product_code, "displayName": None,
              "fullName": None, "tariffCode": None}  # fmt: skip
    agreement = {"id": 1, "validFrom": None, "validTo": None, "meterPoint": {"mpan": ESI},
                 "tariff": tariff}  # fmt: skip
    return {"account": {"number": ACCOUNT, "electricityAgreements": [agreement]}}


NO_BILLS = {
    "account": {
        "number": ACCOUNT,
        "bills": {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None},
                  "edges": []},
    }
}  # fmt: skip


def script(
    fake: FakeKraken,
    products: list[dict[str, Any]],
    current: str = "CODE-1",
    efl: list[dict[str, Any]] | None = None,
) -> None:
    fake.answer_token()
    fake.answer("getProductRatesForEsiId", {"data": {"products": products}})
    fake.answer("getEflRatesForEsiId", {"data": {"productsWithConciseApplicableRates": efl or []}})
    fake.answer("getAccountAgreements", {"data": agreements(current)})
    fake.answer("getAccountBills", {"data": NO_BILLS})


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        opened.upsert(day_intervals(DAY), fetched_at=FETCHED)
        opened.link(ACCOUNT, ESI)
        yield opened


async def compared(make_client: Any, store: UsageStore, **options: Any) -> Comparison:
    client = make_client(credentials=CREDENTIALS)
    result = compare_products(client, store, ESI, DAY, DAY, **options)
    return await result if inspect.isawaitable(result) else result  # type: ignore[no-any-return]


async def test_a_product_that_cannot_be_priced_is_shown_with_why_never_dropped(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    script(fake_kraken, PRODUCTS)
    comparison = await compared(make_client, store)

    shown = {p.rates.name: p for p in comparison.products}
    assert set(shown) == {HTML_NAME, "Peak saver", "Per day"}  # not the one in Houston
    assert comparison.products[0].rates.name == HTML_NAME
    assert shown[HTML_NAME].rank == 1
    assert shown[HTML_NAME].current
    reasons = {name: p.rates.unpriced for name, p in shown.items() if not p.priced}
    assert "its PEAK band's hours are not known" in (reasons["Peak saver"] or "")
    assert "a rate in DAYS_ON_SUPPLY" in (reasons["Per day"] or "")
    for name in reasons:
        assert shown[name].rank is None
        assert shown[name].total_cents is None
    assert all(f.holds is None for check in comparison.efl for f in check.figures)  # no EFL given
    assert comparison.bills.skipped == f"the account has no bill for {DAY} to {DAY}"


async def test_text_from_the_api_is_escaped_in_the_page(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    script(fake_kraken, PRODUCTS)
    page = comparison_html(await compared(make_client, store))

    assert "<b onmouseover" not in page
    assert "Fine &amp; &lt;b onmouseover=&quot;alert(1)&quot;&gt;Dandy&lt;/b&gt;" in page


async def test_a_current_product_no_longer_on_offer_is_named_and_nothing_is_set_against_it(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    script(fake_kraken, PRODUCTS[:1], current="RETIRED-90-DAY")
    comparison = await compared(make_client, store)

    assert comparison.current_product_code == "RETIRED-90-DAY"
    assert comparison.current is None
    assert comparison.products[0].versus_current_cents is None
    assert comparison.bills.skipped == "the account's current product is not among those priced"


async def test_no_product_at_this_esi_id_is_an_error_saying_so(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    elsewhere = {**PRODUCTS[0], "rates": None}  # no rates at this ESI ID
    script(
        fake_kraken,
        [elsewhere, {**PRODUCTS[1], "rates": {**PRODUCTS[1]["rates"], "tdspRates": None}}],
    )
    with pytest.raises(ComparisonError, match=f"no product with rates at ESI ID {ESI}"):
        await compared(make_client, store)


@pytest.mark.parametrize("price", ["1e999999", "-1e30", "1e7"])
async def test_a_rate_beyond_any_real_price_leaves_its_product_unpriced_and_the_rest_compared(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore, price: str
) -> None:
    """A garbled answer's absurd rate (here over $10,000 a kWh) must neither overflow the
    arithmetic nor top the ranking: its product is shown, not priced, saying why."""
    absurd = {**offered("3", "Absurd", [rate(price, timeOfUse="ALL_DAY")]), "code": "CODE-3"}
    script(fake_kraken, [PRODUCTS[0], absurd])
    comparison = await compared(make_client, store)

    first, shown = comparison.products
    assert (first.rates.name, first.rank) == (HTML_NAME, 1)
    assert shown.rates.name == "Absurd"
    assert not shown.priced
    assert "beyond any real price" in (shown.rates.unpriced or "")
    page = comparison_html(comparison)
    assert "Absurd" in page
    assert len(json.dumps(comparison_document(comparison))) < 50_000


async def test_an_efl_figure_beyond_any_real_price_is_skipped_saying_so(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    row = {**ONCOR, "kwhUsage": "1000", "totalApplicableRate": "1e999999",
           "totalApplicableRateWithMonthlySubscriptionFees": "-1e999999",
           "totalApplicableDayRate": None, "totalApplicableNightRate": None,
           "totalApplicableDayRateWithMonthlySubscriptionFees": None,
           "totalApplicableNightRateWithMonthlySubscriptionFees": None}  # fmt: skip
    efl = {"id": "1", "displayName": HTML_NAME, "at500Kwh": [row], "at1000Kwh": [row],
           "at2000Kwh": [row]}  # fmt: skip
    script(fake_kraken, PRODUCTS[:1], efl=[efl])
    comparison = await compared(make_client, store)

    figures = comparison.efl[0].figures
    assert all(f.holds is None for f in figures)
    assert all("beyond any real price" in (f.skipped or "") for f in figures)
    assert len(json.dumps(comparison_document(comparison))) < 50_000


async def test_the_esi_ids_tdsp_is_the_one_its_rates_name_whatever_tdsps_the_efl_rows_list(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """An EFL answer listing every TDSP's row (as the API does for concise rates it does not
    filter) must not make a CenterPoint ESI ID an Oncor one: the rates priced name its TDSP,
    and its EFL row is the CenterPoint one."""
    houston = offered("7", "Houston flat", [rate("10", timeOfUse="ALL_DAY")], where=HOUSTON)

    def row(where: dict[str, Any], figure: str) -> dict[str, Any]:
        return {**where, "kwhUsage": "1000", "totalApplicableRate": figure,
                "totalApplicableRateWithMonthlySubscriptionFees": None,
                "totalApplicableDayRate": None, "totalApplicableNightRate": None,
                "totalApplicableDayRateWithMonthlySubscriptionFees": None,
                "totalApplicableNightRateWithMonthlySubscriptionFees": None}  # fmt: skip

    # 10 + 4.5403 + 423 / kWh at CenterPoint in this script (its delivery is `offered`'s).
    oncor = row(ONCOR, "99.99999")
    efl = {"id": "7", "displayName": "Houston flat", "at500Kwh": [oncor],
           "at1000Kwh": [oncor, row(HOUSTON, "14.96330")],
           "at2000Kwh": [oncor, row(HOUSTON, "14.75180")]}  # fmt: skip
    script(fake_kraken, [houston], current="CODE-7", efl=[efl])
    comparison = await compared(make_client, store)

    assert (comparison.service_provider, comparison.load_zone) == ("CENTERPOINT", "LZ_HOUSTON")
    assert [p.rates.name for p in comparison.products] == ["Houston flat"]
    at_1000 = [f for f in comparison.efl[0].figures if f.kwh_usage == 1000 and f.holds is not None]
    assert [(f.name, f.holds) for f in at_1000] == [("totalApplicableRate", True)]
    at_500 = [f for f in comparison.efl[0].figures if f.kwh_usage == 500]  # only Oncor's row
    assert all(f.holds is None for f in at_500), at_500
    assert comparison.efl_holds


@pytest.mark.parametrize(
    ("first", "last", "says"),
    [
        (date(1, 1, 1), date(1, 1, 31), "outside the dates a usage store can hold"),
        (date(9999, 12, 1), date(9999, 12, 31), "outside the dates a usage store can hold"),
        (date(2000, 1, 1), date(2026, 12, 31), "longer than 3,653 days"),
        (date(2026, 2, 1), date(2026, 1, 1), "ends (2026-01-01) before it starts"),
    ],
)
def test_a_period_no_store_can_hold_is_refused_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore, first: date, last: date, says: str
) -> None:
    from oeus_kraken import SyncKrakenClient

    with (
        SyncKrakenClient(credentials=CREDENTIALS) as client,
        pytest.raises(ConfigurationError) as raised,
    ):
        compare_products(client, store, ESI, first, last)
    assert says in str(raised.value)
    assert fake_kraken.requests() == []


@pytest.mark.parametrize(
    "ends",
    [("2026-10-14", "2026-10-14"), (20261014, 20261014), (DAY, "2026-10-14")],
    ids=["text", "numbers", "one-text"],
)
def test_a_period_that_is_not_dates_is_a_configuration_error_before_any_request(
    fake_kraken: FakeKraken, store: UsageStore, ends: tuple[Any, Any]
) -> None:
    from oeus_kraken import SyncKrakenClient

    with (
        SyncKrakenClient(credentials=CREDENTIALS) as client,
        pytest.raises(ConfigurationError, match=r"datetime\.date"),
    ):
        compare_products(client, store, ESI, *ends)
    assert fake_kraken.requests() == []


def test_the_flat_energy_rate_prices_every_interval_alike(
    fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """96 intervals of 0.25 kWh on the one flat product: the sum worked out by hand."""
    from oeus_kraken import SyncKrakenClient

    script(fake_kraken, PRODUCTS[:1])
    with SyncKrakenClient(credentials=CREDENTIALS) as client:
        [cost] = compare_products(client, store, ESI, DAY, DAY).products
    [month] = cost.months
    share = Decimal(1) / Decimal(31)  # one day of October: the monthly charges prorated
    assert month.kwh == Decimal("24.00")
    assert month.energy_cents == Decimal("240.00")
    assert month.delivery_cents == Decimal("24.00") * Decimal("4.54030") + (423 * share).quantize(
        Decimal("0.0001")
    )
    assert month.fees_cents == (500 * share).quantize(Decimal("0.0001"))


def test_without_an_account_there_are_two_requests_and_no_current_product_or_bill_check(
    fake_kraken: FakeKraken, tmp_path: Path
) -> None:
    from oeus_kraken import SyncKrakenClient

    script(fake_kraken, PRODUCTS[:1])
    with UsageStore(tmp_path / "unlinked.sqlite3") as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)  # no account linked
        with SyncKrakenClient(credentials=CREDENTIALS) as client:
            comparison = compare_products(client, store, ESI, DAY, DAY)

    assert [r.operation_name for r in fake_kraken.requests()] == [
        "getProductRatesForEsiId",
        "getEflRatesForEsiId",
    ]
    assert comparison.requests == 2
    assert comparison.current is None
    assert (
        comparison.bills.skipped
        == "no account is linked to this ESI ID in the store (give the account)"
    )


# Three flat products on the store's one October day (24 kWh; one day's share of the monthly
# charges: 138.7414 cents with delivery): the current one at 378.7414 cents ($3.79), one
# 0.0024 cents dearer (also $3.79), and one at 278.4214 cents ($2.78).
PENNIES = [
    offered("1", "Current", [rate("10", timeOfUse="ALL_DAY")]),
    offered("2", "Dearer by a speck", [rate("10.0001", timeOfUse="ALL_DAY")]),
    offered("3", "Cheaper", [rate("5.82", timeOfUse="ALL_DAY")]),
]


async def test_products_whose_totals_come_to_the_same_cent_share_a_rank(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Money is paid in whole cents: a product dearer by a fraction of a cent costs the same,
    as the table shows it, so it shares the rank; the exact difference is still given."""
    script(fake_kraken, PENNIES)
    comparison = await compared(make_client, store)

    ranks = {p.rates.name: p.rank for p in comparison.products}
    assert ranks == {"Cheaper": 1, "Current": 2, "Dearer by a speck": 2}
    speck = next(p for p in comparison.products if p.rates.name == "Dearer by a speck")
    assert speck.versus_current_cents == Decimal("0.0024")
    page = comparison_html(comparison)  # its saving is the difference of its totals, $3.79 - $2.78
    assert "saves $1.01" in page
    assert "the same" in page


def test_the_tables_saving_is_the_difference_of_the_totals_it_shows(
    cli: Cli, fake_kraken: FakeKraken, store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader checks the table by subtracting its totals: $3.79 - $2.78 must read "saves
    $1.01", although the exact saving, 100.32 cents, rounds to $1.00."""
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    script(fake_kraken, PENNIES)
    run = cli("compare", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(store.path))
    assert run.code == 0, run.err

    rows = table(run.out, ("rank", "product", "total", "¢/kWh", "against the current product"))
    cheaper, current, speck = rows
    assert cheaper.split()[:3] == ["1", "Cheaper", "$2.78"], rows
    assert cheaper.endswith("saves $1.01"), rows
    assert current.split()[:4] == ["2", "Current", "*", "$3.79"], rows
    assert speck.split()[:2] == ["2", "Dearer"], rows
    assert "$3.79" in speck, rows
    assert speck.endswith("the same"), rows


@pytest.mark.parametrize(
    "older_from",
    [None, "2025-01-01T00:00:00", "2025-01-01T00:00:00-06:00"],
    ids=["no-start", "no-offset", "offset"],
)
async def test_the_current_product_is_the_latest_agreements_whatever_its_dates_offsets(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore, older_from: str | None
) -> None:
    """The ESI ID's latest agreement names the current product, whether or not the answer's
    start dates carry an offset (one without is Texas local time) or are there at all."""
    answer = agreements("CODE-OLD")
    [older] = answer["account"]["electricityAgreements"]
    older["validFrom"] = older_from
    newer = {**older, "id": 2, "validFrom": "2026-02-01T00:00:00+00:00",
             "tariff": {**older["tariff"], "productCode": "CODE-1"}}  # fmt: skip
    answer["account"]["electricityAgreements"] = [newer, older]
    script(fake_kraken, PRODUCTS[:1])
    fake_kraken.set_default("getAccountAgreements", lambda _sent: data_response(answer))
    comparison = await compared(make_client, store)

    assert comparison.current_product_code == "CODE-1"
    assert comparison.products[0].current


async def test_a_product_the_api_lists_twice_is_compared_once(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """A product repeated in the answer (a server's paging or join gone wrong) is one product:
    one row, one rank, one EFL check, not a tie with itself."""
    script(fake_kraken, [PRODUCTS[0], PENNIES[2], PRODUCTS[0]])
    comparison = await compared(make_client, store)

    assert [(p.rates.id, p.rank) for p in comparison.products] == [("3", 1), ("1", 2)]
    assert [check.product_id for check in comparison.efl] == ["3", "1"]


@pytest.mark.parametrize(("band", "other"), [("NIGHT", "DAY"), ("DAY", "NIGHT")])
async def test_a_time_of_use_product_without_a_rate_for_one_band_is_not_priced_as_free_then(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore, band: str, other: str
) -> None:
    """A product whose energy rates cover only the NIGHT band (or only DAY) leaves the other
    hours without a price: they must not be priced at 0 cents, which ranked it cheapest."""
    half = {**offered("9", "Half a tariff", [rate("5", timeOfUse=band)]), "code": "CODE-9"}
    script(fake_kraken, [PRODUCTS[0], half])
    comparison = await compared(make_client, store)

    first, shown = comparison.products
    assert (first.rates.id, first.rank) == ("1", 1)
    assert not shown.priced
    assert shown.rank is None
    assert f"no {other} rate" in (shown.rates.unpriced or "")


async def test_products_that_tie_in_name_and_cost_are_listed_by_id_whatever_the_apis_order(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Ties are listed by name, then by product id: the order must not follow the answer's."""
    twins = [
        {**offered(pid, "Twin", [rate("10", timeOfUse="ALL_DAY")]), "code": f"CODE-{pid}"}
        for pid in ("8", "7")
    ]
    script(fake_kraken, twins, current="CODE-8")
    comparison = await compared(make_client, store)

    assert [(p.rates.id, p.rank) for p in comparison.products] == [("7", 1), ("8", 1)]


def _outside_their_charts(page: str) -> list[str]:
    """The page's chart marks drawn outside their chart's box, or with a negative height (which
    a browser refuses, logging an error)."""
    found = []
    for width, height, body in re.findall(r'<svg viewBox="0 0 (\d+) (\d+)"(.*?)</svg>', page):
        for attribute, value in re.findall(r'\b(height|y|cy)="([-0-9.]+)"', body):
            if not 0 <= float(value) <= int(height):
                found.append(f"{attribute}={value} in a chart {height} high")
        for points in re.findall(r'points="([^"]*)"', body):
            for x, y in (point.split(",") for point in points.split()):
                if not (0 <= float(x) <= int(width) and 0 <= float(y) <= int(height)):
                    found.append(f"point {x},{y} in a chart {width} by {height}")
    return found


async def test_negative_costs_and_usage_are_drawn_inside_the_charts(
    make_client: Any, fake_kraken: FakeKraken, tmp_path: Path
) -> None:
    """A month that costs less than nothing (a credit larger than the charges) or a household
    that sends more to the grid than it takes: the charts' axes reach below zero, and no mark
    is drawn outside its chart or with a negative height."""
    credit = {**offered("9", "Credit", [rate("-50", timeOfUse="ALL_DAY")]), "code": "CODE-9"}
    script(fake_kraken, [PRODUCTS[0], credit])
    with UsageStore(tmp_path / "exporting.sqlite3") as exporting:
        exporting.upsert(
            [*day_intervals(DAY), *day_intervals(date(2026, 11, 3), value=Decimal("-0.25"))],
            fetched_at=FETCHED,
        )
        exporting.link(ACCOUNT, ESI)
        client = make_client(credentials=CREDENTIALS)
        result = compare_products(client, exporting, ESI, DAY, date(2026, 11, 3))
        comparison = await result if inspect.isawaitable(result) else result

    assert comparison.products[0].months[0].total_cents < 0  # Credit in October
    assert comparison.usage.months[1].kwh < 0  # November
    page = comparison_html(comparison)
    assert _outside_their_charts(page) == []
    assert ">-$" in page  # an axis label below zero


async def test_the_callers_decimal_context_changes_no_figure(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """Money is exact whatever the caller's decimal context: a program that works in 4 digits
    rounding down (or traps inexact results) gets the same comparison, JSON, CSV and page as
    one on Python's default context, not a bare decimal.InvalidOperation or rounded sums."""
    script(fake_kraken, PENNIES[:2])
    expected = await compared(make_client, store)
    script(fake_kraken, PENNIES[:2])
    with decimal.localcontext() as cramped:
        cramped.prec, cramped.rounding = 4, decimal.ROUND_DOWN
        cramped.traps[decimal.Inexact] = True
        comparison = await compared(make_client, store)
        shown = (
            [(p.rates.id, p.total_cents, p.versus_current_cents) for p in comparison.products],
            comparison_document(comparison),
            comparison_html(comparison),
        )
        csv_text = io.StringIO()
        write_csv(comparison, csv_text)

    assert shown[0] == [
        (p.rates.id, p.total_cents, p.versus_current_cents) for p in expected.products
    ]
    assert shown[0][0][1] == Decimal("378.7414")
    assert shown[1] == comparison_document(expected)
    assert shown[2] == comparison_html(expected).replace(
        f"{expected.made_at:%Y-%m-%d %H:%M}", f"{comparison.made_at:%Y-%m-%d %H:%M}"
    )
    expected_csv = io.StringIO()
    write_csv(expected, expected_csv)
    assert csv_text.getvalue() == expected_csv.getvalue()


def _statement(bill_id: str, day: date, net: int) -> dict[str, Any]:
    charges = {"netTotal": net, "taxTotal": 0, "grossTotal": net}
    return {"node": {"__typename": "StatementType", "id": bill_id, "billType": "STATEMENT",
                     "fromDate": str(day), "toDate": str(day), "issuedDate": None,
                     "temporaryUrl": None, "paymentDueDate": None, "openingBalance": 0,
                     "closingBalance": 0, "totalCredits": None,
                     "totalCharges": charges}}  # fmt: skip


async def test_a_bill_check_that_did_not_get_every_bill_of_the_period_says_so(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore, cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The bills come in one request of at most 100, newest first: a period with more (ten
    years of monthly bills, or a prepaid account's daily ones) must not look fully checked."""
    script(fake_kraken, PRODUCTS[:1])
    more = {"account": {"number": ACCOUNT, "bills": {
        "totalCount": 140, "pageInfo": {"hasNextPage": True, "endCursor": "YXJyYXk6OTk="},
        "edges": [_statement("7", DAY, 1272)]}}}  # fmt: skip
    fake_kraken.set_default("getAccountBills", lambda _sent: data_response(more))
    comparison = await compared(make_client, store)

    [bill] = comparison.bills.bills
    assert bill.matches
    assert comparison.bills.note is not None
    assert "139 of the period's 140 bills were not checked" in comparison.bills.note
    assert comparison_document(comparison)["bill_check"]["note"] == comparison.bills.note
    assert "139 of the period" in comparison_html(comparison)

    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    run = cli("compare", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(store.path))
    assert run.code == 0, run.err
    assert "139 of the period's 140 bills were not checked" in run.out


async def test_a_bill_the_api_lists_twice_is_checked_once(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    script(fake_kraken, PRODUCTS[:1])
    twice = {"account": {"number": ACCOUNT, "bills": {
        "totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": [_statement("7", DAY, 1272), _statement("7", DAY, 1272)]}}}  # fmt: skip
    fake_kraken.set_default("getAccountBills", lambda _sent: data_response(twice))
    comparison = await compared(make_client, store)

    assert [b.bill_id for b in comparison.bills.bills] == ["7"]


def test_api_text_in_the_tables_heading_cannot_add_a_line_or_drive_the_terminal(
    cli: Cli, fake_kraken: FakeKraken, store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The TDSP, load zone and a retired product's code come from the API: shown escaped, as
    every other text from it (README, "Command line")."""
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    where = {"serviceProvider": "ONC\x1b[2JOR", "loadZone": "LZ\nNORTH"}
    script(
        fake_kraken,
        [offered("1", "Plain", [rate("10", timeOfUse="ALL_DAY")], where=where)],
        current="RETIRED\x1b[31m\nFAKE LINE",
    )
    run = cli("compare", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(store.path))
    assert run.code == 0, run.err

    assert "\x1b" not in run.out
    heading = run.out.splitlines()[:3]
    assert heading[0].endswith(r"TDSP ONC\x1b[2JOR, load zone LZ\nNORTH"), heading
    assert heading[2] == r"current product: RETIRED\x1b[31m\nFAKE LINE, not on offer at this ESI ID"


def test_compare_csv_spells_out_a_newline_and_an_escape_code_in_a_products_name(
    cli: Cli, fake_kraken: FakeKraken, store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the table does: one line per product (README, "Command line"). Before, the name went
    out raw, its row over two lines, the escape code to the terminal."""
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    script(fake_kraken, [offered("1", "Plain\n12\x1b[2J", [rate("10", timeOfUse="ALL_DAY")])])
    days = ("--from", str(DAY), "--to", str(DAY))
    run = cli("compare", ESI, *days, "--db", str(store.path), "--csv")
    assert run.code == 0, run.err

    _header, row = run.out.splitlines()
    assert "Plain\\n12\\x1b[2J" in row, row


async def test_bills_without_an_id_are_each_checked_never_merged_into_one(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore
) -> None:
    """The schema lets a bill's id be null: bills the API gives no id are not the same bill
    listed twice. All but the first were dropped, as if every id-less bill were one."""
    script(fake_kraken, PRODUCTS[:1])
    unnamed = [_statement("7", DAY, 1272), _statement("7", DAY, 900)]
    for edge in unnamed:
        edge["node"]["id"] = None
    answer = {"account": {"number": ACCOUNT, "bills": {
        "totalCount": 2, "pageInfo": {"hasNextPage": False, "endCursor": None},
        "edges": unnamed}}}  # fmt: skip
    fake_kraken.set_default("getAccountBills", lambda _sent: data_response(answer))
    comparison = await compared(make_client, store)

    assert sorted(b.billed_cents or 0 for b in comparison.bills.bills) == [900, 1272]
    assert [b.bill_id for b in comparison.bills.bills] == [None, None]
    assert [b["bill_id"] for b in comparison_document(comparison)["bill_check"]["bills"]] == [
        None,
        None,
    ]


@pytest.mark.parametrize("kwh", ["123456789012345678901234567.891", "-2000000"])
async def test_a_stored_reading_beyond_any_meters_is_a_comparison_error_before_any_request(
    make_client: Any, fake_kraken: FakeKraken, tmp_path: Path, kwh: str
) -> None:
    """A reading the store holds (up to 38 digits) but no meter gives cannot be priced: said,
    naming it, before any request. It escaped as decimal.InvalidOperation, no KrakenError,
    once the API's rates had been asked for."""
    with UsageStore(tmp_path / "usage.sqlite3") as garbled:
        garbled.upsert(day_intervals(DAY, value=Decimal(kwh)), fetched_at=FETCHED)
        with pytest.raises(ComparisonError, match=rf"{re.escape(kwh)} kWh.* 2026-10-14 00:00"):
            await compared(make_client, garbled)
    assert fake_kraken.sent == []


async def test_stored_readings_that_overlap_are_a_comparison_error_not_counted_twice(
    make_client: Any, fake_kraken: FakeKraken, tmp_path: Path
) -> None:
    """The store keys a reading by its start, so an hour's reading and a later sync's 15-minute
    readings inside that hour can both be there: their kWh were added together, the hour
    priced twice over, without a word."""
    quarters = day_intervals(DAY)
    hour = Interval(ESI, quarters[0].start, quarters[4].start, Decimal("1.00"))
    with UsageStore(tmp_path / "usage.sqlite3") as overlapping:
        overlapping.upsert(quarters, fetched_at=FETCHED)
        # As an older oeus-kraken kept them (upsert now refuses them): its first quarter made
        # an hour, the three after it still there.
        with contextlib.closing(sqlite3.connect(overlapping.path, isolation_level=None)) as conn:
            conn.execute(
                "UPDATE intervals SET end_at = ?, value = '1.00' WHERE start_at = ?",
                (int(hour.end.timestamp()), int(hour.start.timestamp())),
            )
        with pytest.raises(ComparisonError, match=r"overlap.* 2026-10-14 00:15"):
            await compared(make_client, overlapping)
    assert fake_kraken.sent == []


async def test_an_esi_id_the_store_links_to_two_accounts_is_asked_which_before_any_request(
    make_client: Any, fake_kraken: FakeKraken, store: UsageStore, cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A premise changes hands (a new tenant's account), and a store of an organisation's
    accounts links its ESI ID to both: the first account by number was taken, its agreement
    (none active: "current product not known") and its bills checked, whichever was meant."""
    store.link("A-0AAAAAAA", ESI)  # sorts before ACCOUNT
    with pytest.raises(ConfigurationError, match=r"A-0AAAAAAA, A-1B2C3D4E"):
        await compared(make_client, store)
    assert fake_kraken.sent == []

    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", CREDENTIALS.key)
    run = cli("compare", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(store.path))
    assert run.code == 2, run
    assert "A-0AAAAAAA, A-1B2C3D4E" in run.err

    script(fake_kraken, PRODUCTS[:1])  # named, it compares
    assert (await compared(make_client, store, account_number=ACCOUNT)).account_number == ACCOUNT
