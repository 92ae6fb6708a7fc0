"""Quotes (`createQuote`, `customerCreateQuote`) whose estimates follow the sandbox's rates.

A quote prices every product available now for one premise: its TDSP and load zone come from the
ESI ID (the meter point's `mpan`) or else the ZIP code, and its usage from
`annualConsumptionStandard` (kWh a year), or else the meter's expected year, or else 12,000 kWh.
For each product:

    applicableRates      = the concise rates for that TDSP at a month's share of the usage
                           (annual kWh / 12), exactly what productsWithConciseApplicableRates gives
    annualCostEstimate   = totalApplicableRateWithMonthlySubscriptionFees x annual kWh   (cents)
    monthlyCostEstimate  = annualCostEstimate / 12                                         (cents)

rounded to the cent; `monthlyAmount` / `annualAmount` are the same as whole cents. The cheapest
product is `recommended`. Quotes expire 30 days after they are made.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._data import TDSPS_BY_CODE, TDSPS_BY_POSTAL_CODE, Product, SandboxData, Tdsp, tdsp_for_esi_id
from ._errors import KrakenAPIError
from ._rates import concise_rates, filter_products

__all__ = ["DEFAULT_ANNUAL_KWH", "QuoteBook", "quote_input"]

DEFAULT_ANNUAL_KWH = Decimal("12000")
QUOTE_LIFETIME = timedelta(days=30)
_CENT = Decimal("1")
_CENTS = Decimal("0.01")


def _energy_product(product: Product) -> dict[str, Any]:
    """The platform's EnergyProductType shape for a sandbox product."""
    return {
        "id": product.id,
        "code": product.code,
        "displayName": product.display_name,
        "fullName": product.full_name,
        "description": product.description,
        "term": product.term,
        "availableFrom": product.available_from,
        "availableTo": product.available_to,
        "isHidden": False,
        "notes": product.notes,
        "isVariable": product.terms_contract_type == "VARIABLE",
        "isGreen": True,
        "isBusiness": False,
        "isChargedHalfHourly": False,
        "isPrepay": product.prepay,
        "isFixed": product.terms_contract_type == "FIXED",
        "isDomestic": True,
    }


class QuoteBook:
    """Makes quotes and numbers them. Thread-safe."""

    def __init__(self, data: SandboxData) -> None:
        self.data = data
        self._lock = threading.Lock()
        self._numbers = itertools.count(880_001)

    def reset(self) -> None:
        with self._lock:
            self._numbers = itertools.count(880_001)

    def _number(self) -> int:
        with self._lock:
            return next(self._numbers)

    def create(
        self,
        *,
        now: datetime,
        postcode: str,
        esi_id: str | None,
        annual_kwh: Decimal | None,
        expected_annual_kwh: Decimal | None = None,
    ) -> dict[str, Any]:
        """The QuoteType value for one premise."""
        tdsp = self._tdsp(postcode, esi_id)
        # `is None`, not `or`: a stated 0 kWh is refused like -5, never replaced by an estimate.
        usage = next(
            (u for u in (annual_kwh, expected_annual_kwh) if u is not None), DEFAULT_ANNUAL_KWH
        )
        if usage <= 0:
            raise KrakenAPIError(
                "KT-CT-8413", description="annualConsumptionStandard must be more than zero."
            )
        monthly = (usage / 12).quantize(Decimal("0.01"))
        number = self._number()
        quoted: list[dict[str, Any]] = []
        for product in filter_products(self.data.products, now=now):
            [rates] = concise_rates(
                product, {"serviceProvider": tdsp.service_provider, "kwhUsage": monthly}
            )
            rate = rates["totalApplicableRateWithMonthlySubscriptionFees"]
            annual = (rate * usage).quantize(_CENTS, rounding=ROUND_HALF_UP)
            monthly_cost = (annual / 12).quantize(_CENTS, rounding=ROUND_HALF_UP)
            time_of_use = product.based_on_time_of_use
            quoted.append(
                {
                    "id": f"{number}-{product.id}",
                    "name": product.display_name,
                    "description": product.description,
                    "product": _energy_product(product),
                    "recommended": False,
                    "monthlyAmount": int(monthly_cost.quantize(_CENT, rounding=ROUND_HALF_UP)),
                    "annualAmount": int(annual.quantize(_CENT, rounding=ROUND_HALF_UP)),
                    "annualSaving": None,
                    "elecTariffCode": f"{product.code}-{tdsp.service_provider}",
                    "gasTariffCode": "",
                    "isVariable": product.terms_contract_type == "VARIABLE",
                    "expiresAt": now + QUOTE_LIFETIME,
                    "loadZone": tdsp.load_zone,
                    "serviceProvider": tdsp.service_provider,
                    "estimatedDetails": {
                        "kwhUsage": usage,
                        "dayPercentage": Decimal("70") if time_of_use else Decimal("100"),
                        "nightPercentage": Decimal("30") if time_of_use else Decimal("0"),
                        "usagePeriod": "ANNUALLY",
                        "monthlyCostEstimate": monthly_cost,
                        "annualCostEstimate": annual,
                        "applicableRates": rates,
                    },
                }
            )
        if quoted:
            cheapest = min(quoted, key=lambda q: Decimal(q["annualAmount"]))
            cheapest["recommended"] = True
        return {
            "quoteId": str(number),
            "code": f"Q-{number:X}",
            "postcode": postcode,
            "mpan": esi_id or "",
            "includesElectricity": True,
            "includesGas": False,
            "isBusiness": False,
            "paymentMethod": "DIRECTDEBIT",
            "elecEstimate": annual_kwh is None,
            "gasEstimate": False,
            "elecAnnualConsumptionStandard": int(usage),
            "quotedProducts": quoted,
        }

    def _tdsp(self, postcode: str, esi_id: str | None) -> Tdsp:
        if esi_id:
            tdsp = tdsp_for_esi_id(esi_id)
            if tdsp is None:
                raise KrakenAPIError(
                    "KT-CT-8413", description=f"{esi_id!r} is not an ESI ID the sandbox serves."
                )
            return tdsp
        codes = TDSPS_BY_POSTAL_CODE.get(postcode.strip()[:5], ())
        if not codes:
            raise KrakenAPIError(
                "KT-CT-8413", description=f"No TDSP serves the postcode {postcode!r}."
            )
        return TDSPS_BY_CODE[codes[0]]


def quote_input(fields: Mapping[str, Any]) -> tuple[str, str | None, Decimal | None]:
    """(postcode, ESI ID, annual kWh) from a CreateQuoteInput."""
    points = [p for p in fields.get("electricityMeterPoints") or [] if p]
    point = points[0] if points else {}
    annual = point.get("annualConsumptionStandard")
    return (
        str(fields.get("postcode", "")),
        point.get("mpan") or None,
        Decimal(annual) if annual is not None else None,
    )
