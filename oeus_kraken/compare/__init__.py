"""What would my usage have cost on every product? A plan comparison from the local usage store.

    from datetime import date
    from oeus_kraken import SyncKrakenClient
    from oeus_kraken.compare import compare_products
    from oeus_kraken.usage import UsageStore

    with SyncKrakenClient.from_env() as kraken, UsageStore() as store:
        comparison = compare_products(kraken, store, "10443720004512388",
                                      date(2025, 12, 1), date(2026, 11, 30))
        for product in comparison.products:         # cheapest first
            print(product.rank, product.rates.name, product.total_cents, product.current)

The period's 15-minute intervals come from the store (no request); every product on offer at the
ESI ID is priced per Texas local calendar month from its rates in parts (energy by time-of-use
band, TDSP delivery per kWh and per month, the product's monthly fees); each product's Electricity
Facts Label averages are worked out again from those parts and set beside the API's; and the
current product (from the account's agreement) is priced over each of the account's bills.
`comparison_document`, `write_csv` and `comparison_html` / `write_html` give it as JSON, CSV and
a self-contained HTML page; `usage_profile` is the stored usage added up by local day, month and
time-of-use band. Money is Decimal cents throughout.
"""

from __future__ import annotations

from ._compare import acompare_products, compare_products
from ._document import CSV_COLUMNS, UNITS, comparison_document, write_csv
from ._errors import ComparisonError
from ._html import comparison_html, write_html
from ._models import (
    DEFAULT_NIGHT,
    EFL_TOLERANCE,
    BillCheck,
    BillComparison,
    Comparison,
    DayUsage,
    EflCheck,
    EflFigure,
    HourlyShape,
    MonthCost,
    MonthUsage,
    NightHours,
    ProductCost,
    ProductRates,
    UsageProfile,
)
from ._profile import default_period, usage_profile

__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_NIGHT",
    "EFL_TOLERANCE",
    "UNITS",
    "BillCheck",
    "BillComparison",
    "Comparison",
    "ComparisonError",
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
    "acompare_products",
    "compare_products",
    "comparison_document",
    "comparison_html",
    "default_period",
    "usage_profile",
    "write_csv",
    "write_html",
]
