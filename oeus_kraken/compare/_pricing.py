"""Pricing: a product's cost for each month of the period, the ranking, and the bill check.

A product's cost for a local calendar month, in cents before tax:

    energy     day kWh x the DAY (or ALL_DAY) rate + night kWh x the NIGHT (or ALL_DAY) rate
    delivery   kWh x the TDSP's rate per kWh + the TDSP's charge per month
    fees       the product's monthly subscription or base fees

The monthly charges of a month the period cuts are prorated by its days (to a ten-thousandth of a
cent). Everything else is exact, so a product's total is exactly the sum of its months. A month
whose intervals are not all stored is priced from those that are, and carries their count.

The bill check prices each bill's own period (its local days) on the current product, with one
month's charges per bill, and sets it beside the bill's charges before tax.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ._models import (
    BillCheck,
    BillComparison,
    DayUsage,
    MonthCost,
    MonthUsage,
    ProductCost,
    ProductRates,
    UsageProfile,
    whole_cents,
)

__all__ = ["bill_check", "month_costs", "rank_products"]

_PRORATED_PLACES = Decimal("0.0001")


def _energy(rates: ProductRates, kwh: Decimal, night_kwh: Decimal) -> Decimal:
    return (kwh - night_kwh) * rates.energy_rate(False) + night_kwh * rates.energy_rate(True)


def _month_cost(rates: ProductRates, month: MonthUsage) -> MonthCost:
    def prorated(per_month: Decimal) -> Decimal:
        return (
            per_month if not month.partial else (per_month * month.share).quantize(_PRORATED_PLACES)
        )

    return MonthCost(
        month=month.month,
        kwh=month.kwh,
        energy_cents=_energy(rates, month.kwh, month.night_kwh),
        delivery_cents=month.kwh * rates.delivery_cents_per_kwh
        + prorated(rates.delivery_cents_per_month),
        fees_cents=prorated(rates.fees_cents_per_month),
        missing_intervals=month.missing_intervals,
    )


def month_costs(rates: ProductRates, usage: UsageProfile) -> tuple[MonthCost, ...]:
    """The product's cost for each month of the period (none when it cannot be priced)."""
    if rates.unpriced is not None:
        return ()
    return tuple(_month_cost(rates, month) for month in usage.months)


def _shown(cost: ProductCost) -> Decimal:
    """A priced product's total to the cent, as shown."""
    return whole_cents(cost.total_cents or Decimal(0))


def _named(cost: ProductCost) -> tuple[str, str]:
    return cost.rates.name, cost.rates.id


def rank_products(
    products: Sequence[ProductRates], usage: UsageProfile, current_code: str | None
) -> tuple[ProductCost, ...]:
    """Every product priced and ranked, cheapest first, those that cannot be priced last; the
    current product marked and every other one set against it. Products that cost the same
    to the cent (as shown: `whole_cents`) share a rank (listed by name, then product id), and
    the next one's rank counts them all: 1, 2, 2, 4."""
    costs = [ProductCost(rates, month_costs(rates, usage)) for rates in products]
    # Name, then id: two products may share a name, and their order must not be the answer's.
    priced = sorted((c for c in costs if c.priced), key=lambda c: (_shown(c), *_named(c)))
    unpriced = sorted((c for c in costs if not c.priced), key=_named)
    current = next(
        (c for c in priced if current_code is not None and c.rates.code == current_code), None
    )
    ranked: list[ProductCost] = []
    for position, cost in enumerate(priced, start=1):
        tied = ranked and _shown(ranked[-1]) == _shown(cost)
        rank = ranked[-1].rank if tied else position
        versus = None
        if current is not None and cost.total_cents is not None:
            versus = cost.total_cents - (current.total_cents or Decimal(0))
        ranked.append(
            ProductCost(cost.rates, cost.months, rank, cost is current, versus_current_cents=versus)
        )
    is_current = [
        ProductCost(
            c.rates, c.months, current=current_code is not None and c.rates.code == current_code
        )
        for c in unpriced
    ]
    return (*ranked, *is_current)


# -- the bill check --------------------------------------------------------------------------------


def _bill_period_cost(rates: ProductRates, days: Sequence[DayUsage]) -> Decimal:
    kwh = sum((d.kwh for d in days), Decimal(0))
    night = sum((d.night_kwh for d in days), Decimal(0))
    return (
        _energy(rates, kwh, night)
        + kwh * rates.delivery_cents_per_kwh
        + rates.delivery_cents_per_month
        + rates.fees_cents_per_month
    )


def _statement(node: Any) -> tuple[int | None, int | None]:
    """(charges before tax, charges with tax) of a bill, in cents, where it says."""
    charges = getattr(node, "total_charges", None)
    if charges is None:
        return None, None
    return charges.net_total, charges.gross_total


def _compare_bill(node: Any, rates: ProductRates, usage: UsageProfile) -> BillComparison:
    first, last = node.from_date, node.to_date
    billed, with_tax = _statement(node)
    days = [d for d in usage.days if first <= d.day <= last]
    missing = sum(d.missing_intervals for d in days)
    modelled, note = None, None
    if first < usage.first or last > usage.last:
        note = f"its period is not all inside the one compared ({usage.first} to {usage.last})"
    else:
        modelled = _bill_period_cost(rates, days)
        if missing:
            note = f"{missing} intervals missing from the store: modelled from the rest"
        elif rates.wholesale:
            note = "billed at ERCOT's price every 15 minutes; modelled at the quoted rate"
    return BillComparison(
        bill_id=None if node.id is None else str(node.id),
        from_date=first,
        to_date=last,
        issued_date=node.issued_date,
        billed_cents=billed,
        billed_with_tax_cents=with_tax,
        modelled_cents=modelled,
        missing_intervals=missing,
        note=note,
    )


def bill_check(
    bills_answer: Any, current: ProductCost | None, usage: UsageProfile, skipped: str | None
) -> BillCheck:
    """The account's bills (getAccountBills' answer) inside the period beside the current
    product's modelled cost; or why there is no such check."""
    if skipped is not None:
        return BillCheck(skipped=skipped)
    if current is None or not current.priced:
        return BillCheck(skipped="the account's current product is not among those priced")
    connection = bills_answer.account.bills if bills_answer.account is not None else None
    listed = [e.node for e in (connection.edges if connection else []) if e and e.node]
    # A bill the answer lists again is one bill: checked once, not a second row beside itself.
    # One without an id (the schema allows it) is its own: keyed by None, all but the first of
    # them were dropped.
    first_listed: dict[object, Any] = {}
    for node in listed:
        first_listed.setdefault(object() if node.id is None else str(node.id), node)
    nodes = list(first_listed.values())
    note = _unfetched(connection, len(nodes))
    inside = [
        n
        for n in nodes
        if isinstance(n.from_date, date)
        and isinstance(n.to_date, date)
        and n.to_date >= usage.first
        and n.from_date <= usage.last
    ]
    if not inside:
        skipped = f"the account has no bill for {usage.first} to {usage.last}"
        return BillCheck(skipped=skipped if note is None else f"{skipped} among those fetched")
    inside.sort(key=lambda n: n.from_date)
    return BillCheck(bills=tuple(_compare_bill(n, current.rates, usage) for n in inside), note=note)


def _unfetched(connection: Any, fetched: int) -> str | None:
    """What the one request for bills (a page of at most BILLS_PAGE, newest first) left out:
    without saying so, a period of more bills (ten years of monthly ones, a prepaid account's
    daily ones) would look checked in full."""
    if connection is None or not (connection.page_info and connection.page_info.has_next_page):
        return None
    total = connection.total_count
    if isinstance(total, int) and total > fetched:
        return (
            f"{total - fetched:,} of the period's {total:,} bills were not checked: only the "
            f"newest {fetched:,} come in one request; compare a shorter period to check them"
        )
    return (
        f"only the newest {fetched:,} of the period's bills come in one request and were "
        "checked; compare a shorter period to check the others"
    )
