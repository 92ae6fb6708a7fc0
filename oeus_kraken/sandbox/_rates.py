"""Products and their Texas rates: the `products` filters, concise rates, and rate groups.

All rates are Decimal cents: per kWh for consumption, per month for standing charges and fees.
A product's energy rate is for LZ_NORTH; other load zones add `LOAD_ZONE_ADJUSTMENTS`. The TDSP
adds its delivery charges on top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ._data import (
    LOAD_ZONE_ADJUSTMENTS,
    TDSPS,
    TDSPS_BY_CODE,
    TDSPS_BY_POSTAL_CODE,
    Product,
    Tdsp,
    tdsp_for_esi_id,
)
from ._errors import KrakenAPIError

__all__ = [
    "concise_rates",
    "energy_rates",
    "filter_products",
    "product_rates",
    "tdsps_for_postal_code",
]

DEFAULT_KWH_USAGE = Decimal("1000")
_PLACES = Decimal("0.00001")


def _q(value: Decimal) -> Decimal:
    return value.quantize(_PLACES)


def filter_products(
    products: Iterable[Product],
    *,
    now: datetime,
    product_id: str | None = None,
    display_name: str | None = None,
    prepay: bool | None = None,
    based_on_time_of_use: bool | None = None,
    available_at: datetime | None = None,
) -> list[Product]:
    """The products matching every filter given, available at `available_at` (default: now)."""
    when = available_at or now
    return [
        p
        for p in products
        if p.available_at(when)
        and (product_id is None or p.id == str(product_id))
        and (display_name is None or p.display_name.casefold() == display_name.casefold())
        and (prepay is None or p.prepay == prepay)
        and (based_on_time_of_use is None or p.based_on_time_of_use == based_on_time_of_use)
    ]


def tdsps_for_postal_code(postal_code: str) -> list[dict[str, str]]:
    """`tdspByPostalcode`: the TDSPs serving a ZIP code (ZIP+4 accepted), [] when unknown."""
    codes = TDSPS_BY_POSTAL_CODE.get(postal_code.strip()[:5], ())
    return [{"serviceProvider": code, "loadZone": TDSPS_BY_CODE[code].load_zone} for code in codes]


def _select_tdsps(
    *,
    service_provider: str | None = None,
    load_zone: str | None = None,
    esi_id: str | None = None,
    postcode: str | None = None,
) -> list[Tdsp]:
    selected = list(TDSPS)
    if service_provider is not None:
        selected = [t for t in selected if t.service_provider == service_provider]
    if load_zone is not None:
        selected = [t for t in selected if t.load_zone == load_zone]
    if esi_id is not None:
        match = tdsp_for_esi_id(esi_id)
        selected = [t for t in selected if t is match]
    if postcode is not None:
        codes = TDSPS_BY_POSTAL_CODE.get(postcode.strip()[:5], ())
        selected = [t for t in selected if t.service_provider in codes]
    return selected


def energy_rates(product: Product, load_zone: str) -> tuple[Decimal, Decimal | None]:
    """(day or flat rate, night rate or None) in cents per kWh for a load zone."""
    adjustment = LOAD_ZONE_ADJUSTMENTS[load_zone]
    night = product.night_rate + adjustment if product.night_rate is not None else None
    return product.energy_rate + adjustment, night


def concise_rates(product: Product, filter_by: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """`rates(filterRatesBy:)` of productsWithConciseApplicableRates: one row per TDSP."""
    filter_by = filter_by or {}
    kwh = filter_by.get("kwhUsage")
    kwh = DEFAULT_KWH_USAGE if kwh is None else Decimal(kwh)
    if kwh <= 0:
        raise KrakenAPIError(None, "kwhUsage must be more than zero.", error_type="VALIDATION")
    rows = []
    for tdsp in _select_tdsps(
        service_provider=filter_by.get("serviceProvider"),
        load_zone=filter_by.get("loadZone"),
        esi_id=filter_by.get("esiId"),
    ):
        day, night = energy_rates(product, tdsp.load_zone)
        # Delivery charges per kWh: the TDSP's per-kWh rate plus its monthly charge spread.
        delivery = tdsp.consumption_rate + tdsp.standing_rate / kwh
        fee_per_kwh = product.monthly_fee / kwh
        try:  # the largest figure of the row: beyond decimal's 28 digits for kWh near zero
            _q(max(day, night or day) + delivery + fee_per_kwh)
        except InvalidOperation:
            raise KrakenAPIError(
                None,
                f"kwhUsage {kwh} is too small to work out a rate per kWh.",
                error_type="VALIDATION",
            ) from None

        def total(energy: Decimal, delivery: Decimal = delivery) -> Decimal:
            return energy + delivery

        # Time-of-use: the flat figures assume a 70/30 day/night split.
        flat = day if night is None else day * Decimal("0.7") + night * Decimal("0.3")
        row: dict[str, Any] = {
            "kwhUsage": kwh,
            "serviceProvider": tdsp.service_provider,
            "loadZone": tdsp.load_zone,
            "serviceProviderConsumptionRate": _q(tdsp.consumption_rate),
            "serviceProviderStandingRate": _q(tdsp.standing_rate),
            "loadZoneConsumptionRate": _q(flat),
            "totalApplicableRate": _q(total(flat)),
            "totalApplicableRateWithMonthlySubscriptionFees": _q(total(flat) + fee_per_kwh),
            "serviceProviderStandingRateUnitType": "MONTHS_ON_SUPPLY",
            "serviceProviderConsumptionRateUnitType": "KWH_CONSUMPTION",
            "loadZoneConsumptionRateUnitType": "KWH_CONSUMPTION",
            "totalApplicableDayRate": None,
            "totalApplicableNightRate": None,
            "totalApplicableDayRateWithMonthlySubscriptionFees": None,
            "totalApplicableNightRateWithMonthlySubscriptionFees": None,
            "loadZoneDayTimeConsumptionRate": None,
            "loadZoneNightTimeConsumptionRate": None,
            "loadZoneDayTimeRateUnitType": None,
            "loadZoneNightTimeRateUnitType": None,
        }
        if night is not None:
            row |= {
                "totalApplicableDayRate": _q(total(day)),
                "totalApplicableNightRate": _q(total(night)),
                "totalApplicableDayRateWithMonthlySubscriptionFees": _q(total(day) + fee_per_kwh),
                "totalApplicableNightRateWithMonthlySubscriptionFees": _q(
                    total(night) + fee_per_kwh
                ),
                "loadZoneDayTimeConsumptionRate": _q(day),
                "loadZoneNightTimeConsumptionRate": _q(night),
                "loadZoneDayTimeRateUnitType": "KWH_CONSUMPTION",
                "loadZoneNightTimeRateUnitType": "KWH_CONSUMPTION",
            }
        rows.append(row)
    return rows


def _efl(product: Product, tdsp: Tdsp) -> dict[str, Any]:
    return {
        "serviceProvider": tdsp.service_provider,
        "url": f"https://sandbox.example.com/efl/{product.code}/{tdsp.service_provider}.pdf",
        "language": "en",
    }


def product_rates(
    product: Product,
    *,
    service_provider: str | None = None,
    postcode: str | None = None,
    esi_id: str | None = None,
) -> dict[str, Any]:
    """`ProductType.rates(...)`: delivery (TDSP), energy (load zone) and product-wide rates."""
    tdsps = _select_tdsps(service_provider=service_provider, esi_id=esi_id, postcode=postcode)
    tdsp_consumption = [
        {
            "pricePerUnit": _q(t.consumption_rate),
            "band": "DELIVERY",
            "serviceProvider": t.service_provider,
            "loadZone": t.load_zone,
            "timeOfUse": "ALL_DAY",
            "unitType": "KWH_CONSUMPTION",
            "efls": [_efl(product, t)],
        }
        for t in tdsps
    ]
    tdsp_standing = [
        {
            "pricePerUnit": _q(t.standing_rate),
            "band": "DELIVERY",
            "serviceProvider": t.service_provider,
            "loadZone": t.load_zone,
            "unitType": "MONTHS_ON_SUPPLY",
        }
        for t in tdsps
    ]
    zone_consumption: list[dict[str, Any]] = []
    for zone in dict.fromkeys(t.load_zone for t in tdsps):
        day, night = energy_rates(product, zone)
        bands = [("ALL_DAY", day)] if night is None else [("DAY", day), ("NIGHT", night)]
        zone_consumption += [
            {
                "pricePerUnit": _q(price),
                "band": "ENERGY",
                "serviceProvider": None,
                "loadZone": zone,
                "timeOfUse": time_of_use,
                "unitType": "KWH_CONSUMPTION",
                "efls": [],
            }
            for time_of_use, price in bands
        ]
    agnostic_standing = (
        [
            {
                "pricePerUnit": _q(product.monthly_fee),
                "band": "SUBSCRIPTION",
                "serviceProvider": None,  # the same everywhere
                "loadZone": None,
                "unitType": "MONTHS_ON_SUPPLY",
            }
        ]
        if product.monthly_fee
        else []
    )
    return {
        "tdspRates": {"consumptionRates": tdsp_consumption, "standingRates": tdsp_standing},
        "loadZoneRates": {"consumptionRates": zone_consumption, "standingRates": []},
        "agnosticRates": {"consumptionRates": [], "standingRates": agnostic_standing},
    }
