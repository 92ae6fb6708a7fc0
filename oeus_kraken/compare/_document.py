"""A comparison as data for programs: one JSON document, and one CSV table.

Both keep exact numbers (decimals as text, never floats) and name their units: the JSON document
has a "units" object and keys that end in their unit (`total_cents`, `average_cents_per_kwh`);
the CSV has one row per product, cheapest first, with its total and then one column per month
(`2026-01_cents`), so that a product's total is the sum of its month columns, to the digit; its
`missing_intervals_by_month` column flags the months priced from an incomplete store
("2026-07:8").
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TextIO

from .._text import printable
from ._models import (
    EFL_TOLERANCE,
    BillCheck,
    Comparison,
    EflCheck,
    MonthCost,
    MonthUsage,
    ProductCost,
    exact,
)

__all__ = [
    "CSV_COLUMNS",
    "UNITS",
    "average_text",
    "comparison_document",
    "decimal_text",
    "write_csv",
]

UNITS = {
    "*_cents": "US cents (exact decimals; a bill rounds to whole cents), before tax",
    "billed_cents": "US cents: the bill's charges before tax (totalCharges.netTotal)",
    "billed_with_tax_cents": "US cents: the bill's charges with tax (totalCharges.grossTotal)",
    "*_cents_per_kwh": "US cents per kWh",
    "*_cents_per_month": "US cents per month",
    "kwh": "kWh",
    "*_kwh": "kWh",
    "kwh_usage": "kWh a month (the usage an EFL average is stated at)",
    "*_intervals": "15-minute intervals",
    "month": "a Texas local calendar month, YYYY-MM",
    "from, to, from_date, to_date, issued_date": "Texas local dates, both ends included",
    "term_months": "months",
    "versus_current_cents": "this product's total minus the current product's: negative saves",
    "difference_cents": "billed minus modelled",
    "difference_cents_per_kwh": "the API's figure minus the one worked out from the rate parts",
}

CSV_COLUMNS = (
    "rank",
    "product_id",
    "product_code",
    "product",
    "current",
    "priced",
    "kwh",
    "total_cents",
    "average_cents_per_kwh",
    "versus_current_cents",
    "unpriced_reason",
    "missing_intervals_by_month",
)
_AVERAGE_PLACES = Decimal("0.0001")


def decimal_text(value: Decimal | None) -> str | None:
    """An exact decimal as fixed-point text without trailing zeros ("1.25"); None stays None."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def average_text(value: Decimal | None) -> str | None:
    """An average in cents per kWh, to a ten-thousandth of a cent."""
    return None if value is None else decimal_text(value.quantize(_AVERAGE_PLACES))


def _month(day: date) -> str:
    return f"{day:%Y-%m}"


def _usage_month(month: MonthUsage) -> dict[str, Any]:
    return {
        "month": _month(month.month),
        "from": month.first_day.isoformat(),
        "to": month.last_day.isoformat(),
        "kwh": decimal_text(month.kwh),
        "night_kwh": decimal_text(month.night_kwh),
        "intervals": month.intervals,
        "expected_intervals": month.expected_intervals,
        "missing_intervals": month.missing_intervals,
        "flagged": month.missing_intervals > 0,
        "partial": month.partial,
    }


def _cost_month(cost: MonthCost) -> dict[str, Any]:
    return {
        "month": _month(cost.month),
        "kwh": decimal_text(cost.kwh),
        "energy_cents": decimal_text(cost.energy_cents),
        "delivery_cents": decimal_text(cost.delivery_cents),
        "fees_cents": decimal_text(cost.fees_cents),
        "total_cents": decimal_text(cost.total_cents),
        "missing_intervals": cost.missing_intervals,
    }


def _product(cost: ProductCost) -> dict[str, Any]:
    rates = cost.rates
    return {
        "rank": cost.rank,
        "id": rates.id,
        "code": rates.code,
        "name": rates.name,
        "term_months": rates.term_months,
        "current": cost.current,
        "priced": cost.priced,
        "unpriced_reason": rates.unpriced,
        "time_of_use": rates.time_of_use,
        "wholesale": rates.wholesale,
        "prepay": rates.prepay,
        "rates": {
            "energy_cents_per_kwh": {band: decimal_text(v) for band, v in rates.energy.items()},
            "delivery_cents_per_kwh": decimal_text(rates.delivery_cents_per_kwh),
            "delivery_cents_per_month": decimal_text(rates.delivery_cents_per_month),
            "fees_cents_per_month": decimal_text(rates.fees_cents_per_month),
        },
        "kwh": decimal_text(cost.kwh),
        "total_cents": decimal_text(cost.total_cents),
        "average_cents_per_kwh": average_text(cost.average_cents_per_kwh),
        "versus_current_cents": decimal_text(cost.versus_current_cents),
        "months": [_cost_month(m) for m in cost.months],
    }


def _efl(check: EflCheck) -> dict[str, Any]:
    return {
        "product_id": check.product_id,
        "product": check.product_name,
        "holds": check.holds,
        "figures": [
            {
                "kwh_usage": decimal_text(f.kwh_usage),
                "figure": f.name,
                "api_cents_per_kwh": decimal_text(f.api_cents_per_kwh),
                "computed_cents_per_kwh": decimal_text(f.computed_cents_per_kwh),
                "difference_cents_per_kwh": decimal_text(f.difference),
                "holds": f.holds,
                "skipped": f.skipped,
            }
            for f in check.figures
        ],
    }


def _bills(check: BillCheck, comparison: Comparison) -> dict[str, Any]:
    return {
        "product_code": comparison.current_product_code,
        "skipped": check.skipped,
        "note": check.note,
        "bills": [
            {
                "bill_id": b.bill_id,
                "from_date": b.from_date.isoformat(),
                "to_date": b.to_date.isoformat(),
                "issued_date": b.issued_date.isoformat() if b.issued_date else None,
                "billed_cents": b.billed_cents,
                "billed_with_tax_cents": b.billed_with_tax_cents,
                "modelled_cents": decimal_text(b.modelled_cents),
                "difference_cents": decimal_text(b.difference_cents),
                "matches": b.matches,
                "missing_intervals": b.missing_intervals,
                "note": b.note,
            }
            for b in check.bills
        ],
    }


@exact
def comparison_document(comparison: Comparison) -> dict[str, Any]:
    """The whole comparison as one JSON-ready document (exact decimals as text)."""
    usage = comparison.usage
    cheapest = comparison.cheapest
    return {
        "esi_id": comparison.esi_id,
        "account_number": comparison.account_number,
        "service_provider": comparison.service_provider,
        "load_zone": comparison.load_zone,
        "period": {"from": comparison.first.isoformat(), "to": comparison.last.isoformat()},
        "night_hours": {"local": str(comparison.night), "assumption": True},
        "current_product_code": comparison.current_product_code,
        "cheapest_product_id": cheapest.rates.id if cheapest else None,
        "usage": {
            "kwh": decimal_text(usage.kwh),
            "missing_intervals": usage.missing_intervals,
            "months": [_usage_month(m) for m in usage.months],
        },
        "products": [_product(p) for p in comparison.products],
        "efl_check": {
            "holds": comparison.efl_holds,
            "tolerance_cents_per_kwh": decimal_text(EFL_TOLERANCE),
            "products": [_efl(check) for check in comparison.efl],
        },
        "bill_check": _bills(comparison.bills, comparison),
        "assumptions": list(comparison.assumptions),
        "requests": comparison.requests,
        "units": UNITS,
    }


def _missing_by_month(comparison: Comparison) -> str:
    """The months with missing intervals and how many: "2026-07:8 2026-08:2" (or "")."""
    return " ".join(
        f"{_month(m.month)}:{m.missing_intervals}"
        for m in comparison.usage.months
        if m.missing_intervals
    )


def _csv_rows(comparison: Comparison) -> Iterator[list[object]]:
    missing = _missing_by_month(comparison)
    for cost in comparison.products:
        by_month = {m.month: m.total_cents for m in cost.months}
        yield [
            "" if cost.rank is None else cost.rank,
            cost.rates.id,
            printable(cost.rates.code or ""),
            printable(cost.rates.name),
            "true" if cost.current else "false",
            "true" if cost.priced else "false",
            decimal_text(cost.kwh),
            decimal_text(cost.total_cents) or "",
            average_text(cost.average_cents_per_kwh) or "",
            decimal_text(cost.versus_current_cents) or "",
            printable(cost.rates.unpriced or ""),
            missing,
            *(decimal_text(by_month.get(m.month)) or "" for m in comparison.usage.months),
        ]


@exact
def write_csv(comparison: Comparison, out: TextIO) -> int:
    """One row per product, cheapest first, with a `YYYY-MM_cents` column per month; returns
    the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    months: Sequence[MonthUsage] = comparison.usage.months
    writer.writerow([*CSV_COLUMNS, *(f"{_month(m.month)}_cents" for m in months)])
    count = 0
    for row in _csv_rows(comparison):
        writer.writerow(row)
        count += 1
    return count
