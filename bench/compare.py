"""The plan comparison's figure from issue 22: a year of 15-minute intervals priced on 20 products.

    .venv/bin/python bench/compare.py [--repeats N] [--json PATH]

One ESI ID-year (35,040 intervals) in a fresh store in a scratch folder, and the API's answers for
20 products at that ESI ID (14 flat, 4 time-of-use, 2 wholesale, each with a monthly fee), its
agreement and a year of bills, built once as the generated models a client returns. Then the
whole `compare_products`, as a user calls it, with a client that hands those answers back at
once: the requests are the network's time, not the comparison's, and are left out; everything
else is in (reading the year from the store, adding it up by local day, month and band, pricing
and ranking 20 products, the EFL check of 120+ figures, the bill check). Its parts are timed too:
reading the store, adding the year up, pricing and ranking.

Each time is the best of --repeats runs. Exits 1 if the whole comparison takes 0.5 s or more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from _figures import Figure, best, finish, timed

from oeus_kraken import (
    GetAccountAgreements,
    GetAccountBills,
    GetEflRatesForEsiId,
    GetProductRatesForEsiId,
)
from oeus_kraken.compare import DEFAULT_NIGHT, Comparison, compare_products, usage_profile

# The pricing step on its own, to show its share: internal steps, timed here only.
from oeus_kraken.compare._pricing import rank_products
from oeus_kraken.compare._rates import product_rates
from oeus_kraken.usage import INTERVAL, Interval, UsageStore, local_range_bounds

ESI = "10443720000000001"
ACCOUNT = "A-BE4C0000"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
FETCHED = datetime(2027, 1, 2, tzinfo=timezone.utc)
PRODUCTS = 20
TARGET_S = 0.5


def year_of_intervals() -> Iterator[Interval]:
    start, end = local_range_bounds(*YEAR)
    for i in range((end - start) // INTERVAL):
        begins = start + i * INTERVAL
        yield Interval(ESI, begins, begins + INTERVAL, Decimal(i % 173) / 100 + Decimal("0.013"))


def _rate(price: str, unit: str, band: str, **where: Any) -> dict[str, Any]:
    return {"pricePerUnit": price, "unitType": unit, "band": band, **where}


def _product(n: int) -> dict[str, Any]:
    kind = "tou" if n % 5 == 1 else "wholesale" if n in (7, 14) else "flat"
    energy = [_rate(f"{12 + n * 0.2:.5f}", "KWH_CONSUMPTION", "ENERGY", timeOfUse="ALL_DAY")]
    if kind == "tou":
        energy = [
            _rate(f"{15 + n * 0.1:.5f}", "KWH_CONSUMPTION", "ENERGY", timeOfUse="DAY"),
            _rate(f"{7 + n * 0.1:.5f}", "KWH_CONSUMPTION", "ENERGY", timeOfUse="NIGHT"),
        ]
    zone = {"serviceProvider": None, "loadZone": "LZ_NORTH"}
    return {
        "id": str(100 + n),
        "code": f"BENCH-{n}",
        "displayName": f"Bench product {n}",
        "fullName": f"Bench product {n}",
        "term": 12,
        "prepay": False,
        "basedOnTimeOfUse": kind == "tou",
        "isWholesale": kind == "wholesale",
        "rates": {
            "tdspRates": {
                "consumptionRates": [
                    _rate("4.54030", "KWH_CONSUMPTION", "DELIVERY", timeOfUse="ALL_DAY",
                          serviceProvider="ONCOR", loadZone="LZ_NORTH"),
                ],
                "standingRates": [
                    _rate("423.00000", "MONTHS_ON_SUPPLY", "DELIVERY",
                          serviceProvider="ONCOR", loadZone="LZ_NORTH"),
                ],
            },
            "loadZoneRates": {"consumptionRates": [{**r, **zone} for r in energy],
                              "standingRates": []},
            "agnosticRates": {
                "consumptionRates": [],
                "standingRates": [_rate(f"{100 * (n % 10)}", "MONTHS_ON_SUPPLY", "SUBSCRIPTION",
                                        serviceProvider=None, loadZone=None)],
            },
        },
    }  # fmt: skip


def _efl_row(product: dict[str, Any], usage: int) -> dict[str, Any]:
    """The EFL figures the API would state for `product` at `usage` kWh: those of its parts."""
    rates = product["rates"]
    energy = {
        r["timeOfUse"]: Decimal(r["pricePerUnit"])
        for r in rates["loadZoneRates"]["consumptionRates"]
    }
    fee = Decimal(rates["agnosticRates"]["standingRates"][0]["pricePerUnit"]) / usage
    delivery = Decimal("4.54030") + Decimal(423) / usage
    row: dict[str, Any] = {
        "serviceProvider": "ONCOR",
        "loadZone": "LZ_NORTH",
        "kwhUsage": str(usage),
    }
    for name, band in (("", "ALL_DAY"), ("Day", "DAY"), ("Night", "NIGHT")):
        value = energy.get(band)
        row[f"totalApplicable{name}Rate"] = None if value is None else str(value + delivery)
        row[f"totalApplicable{name}RateWithMonthlySubscriptionFees"] = (
            None if value is None else str(value + delivery + fee)
        )
    return row


def _bills() -> dict[str, Any]:
    edges = []
    for month in range(1, 13):
        first = date(2026, month, 1)
        last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        node = {
            "__typename": "StatementType",
            "id": str(month),
            "billType": "STATEMENT",
            "fromDate": first.isoformat(),
            "toDate": last.isoformat(),
            "issuedDate": (last + timedelta(days=3)).isoformat(),
            "temporaryUrl": None,
            "paymentDueDate": None,
            "openingBalance": 0,
            "closingBalance": 0,
            "totalCharges": {"netTotal": 15000, "taxTotal": 300, "grossTotal": 15300},
            "totalCredits": {"netTotal": 0, "taxTotal": 0, "grossTotal": 0},
        }
        edges.append({"node": node})
    page = {"hasNextPage": False, "endCursor": None}
    return {
        "account": {
            "number": ACCOUNT,
            "bills": {"totalCount": 12, "pageInfo": page, "edges": edges},
        }
    }


class AnswersAtOnce:
    """A client whose four comparison methods return answers built beforehand."""

    def __init__(self) -> None:
        products = [_product(n) for n in range(PRODUCTS)]
        self.rates = GetProductRatesForEsiId.model_validate({"products": products})
        concise = [
            {"id": p["id"], "displayName": p["displayName"],
             **{f"at{u}Kwh": [_efl_row(p, u)] for u in (500, 1000, 2000)}}
            for p in products
        ]  # fmt: skip
        self.efl = GetEflRatesForEsiId.model_validate(
            {"productsWithConciseApplicableRates": concise}
        )
        tariff = {"__typename": "StandardTariff", "productCode": "BENCH-0",
                  "displayName": "Bench product 0", "fullName": "Bench product 0",
                  "tariffCode": "BENCH-0-ONCOR"}  # fmt: skip
        agreement = {"id": 1, "validFrom": "2025-01-01T00:00:00-06:00", "validTo": None,
                     "meterPoint": {"mpan": ESI}, "tariff": tariff}  # fmt: skip
        self.agreements = GetAccountAgreements.model_validate(
            {"account": {"number": ACCOUNT, "electricityAgreements": [agreement]}}
        )
        self.bills = GetAccountBills.model_validate(_bills())

    def get_product_rates_for_esi_id(self, esi_id: str) -> GetProductRatesForEsiId:
        return self.rates

    def get_efl_rates_for_esi_id(self, esi_id: str) -> GetEflRatesForEsiId:
        return self.efl

    def get_account_agreements(self, account_number: str) -> GetAccountAgreements:
        return self.agreements

    def get_account_bills(self, account_number: str, **_: Any) -> GetAccountBills:
        return self.bills


def figures_of(
    client: AnswersAtOnce, store: UsageStore, repeats: int, figures: list[Figure]
) -> Comparison:
    """Time the whole comparison and its parts into `figures`; returns the comparison."""

    def whole() -> Comparison:
        return compare_products(client, store, ESI, *YEAR)  # type: ignore[call-overload, no-any-return]

    comparison = whole()
    assert len(comparison.products) == PRODUCTS
    assert all(p.priced for p in comparison.products)
    assert comparison.usage.missing_intervals == 0
    assert comparison.efl_holds
    seconds = best(repeats, partial(timed, whole))
    figures.append(
        Figure(f"compare a year on {PRODUCTS} products", seconds, "s", f"< {TARGET_S:g}",
               seconds < TARGET_S)
    )  # fmt: skip
    bounds = local_range_bounds(*YEAR)
    profile = usage_profile(store, ESI, *YEAR, DEFAULT_NIGHT)
    rates = product_rates(client.rates, "ONCOR", "LZ_NORTH")
    for name, part in (
        ("  of which: read the year from the store", lambda: store.readings(ESI, *bounds)),
        (
            "  of which: read it and add it up by day, month, band",
            lambda: usage_profile(store, ESI, *YEAR, DEFAULT_NIGHT),
        ),
        (
            f"  of which: price and rank {PRODUCTS} products",
            lambda: rank_products(rates, profile, "BENCH-0"),
        ),
    ):
        figures.append(Figure(name, best(repeats, partial(timed, part)), "s"))
    return comparison


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    figures: list[Figure] = []

    client = AnswersAtOnce()
    with (
        tempfile.TemporaryDirectory() as scratch,
        UsageStore(Path(scratch) / "usage.sqlite3") as store,
    ):
        store.upsert(year_of_intervals(), fetched_at=FETCHED)
        store.link(ACCOUNT, ESI)
        comparison = figures_of(client, store, args.repeats, figures)

    intervals = sum(m.intervals for m in comparison.usage.months)
    print(f"plan comparison, one ESI ID-year ({intervals:,} intervals), best of {args.repeats}")
    width = max(len(f.name) for f in figures)
    for figure in figures:
        holds = {None: "", True: "yes", False: "NO"}[figure.holds]
        value = f"{figure.value:>8.3f} {figure.unit:<3}"
        print(f"  {figure.name:<{width}}  {value} {figure.target:>7}  {holds}")
    return finish(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
