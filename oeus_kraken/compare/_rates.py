"""Every product's rates at one ESI ID, from the API's answers, and the Electricity Facts Label
check: the averages the label states, worked out again from the parts.

The parts come from `products { rates(esiId:) }`: the TDSP's delivery charges (`tdspRates`), the
energy charges of the ESI ID's load zone (`loadZoneRates`) and what the product charges everywhere
(`agnosticRates`). Each rate's `unitType` says whether it is per kWh (KWH_CONSUMPTION) or per month
(MONTHS_ON_SUPPLY); each energy rate's `timeOfUse` names its band: ALL_DAY (or none) for every
interval, DAY and NIGHT for a time-of-use product's two bands. A band by any other name has hours
we do not know, and one of DAY and NIGHT without the other (and no ALL_DAY rate) leaves hours
without a price: that product is shown, not priced, with the reason.

An EFL average at U kWh a month is, in cents per kWh,

    energy + TDSP per kWh + TDSP per month / U                 totalApplicableRate
    ... + the product's monthly fees / U                       ...WithMonthlySubscriptionFees

with the DAY and NIGHT energy rates for a time-of-use product's `totalApplicable{Day,Night}Rate`
figures. Its blended `totalApplicableRate` assumes a day/night split the API does not state, so
that figure is skipped, saying so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from ._models import EflCheck, EflFigure, ProductRates

__all__ = ["EFL_USAGES", "MOST_CENTS", "efl_checks", "esi_id_area", "product_rates"]

EFL_USAGES = (Decimal(500), Decimal(1000), Decimal(2000))
"""The monthly usages an EFL states its average price at, kWh."""

MOST_CENTS = Decimal(1_000_000)
"""The largest rate or EFL figure taken as a price, cents per kWh or per month ($10,000): ERCOT's
price cap is 500 cents per kWh, so anything beyond is a garbled answer. Pricing one would
overflow Decimal arithmetic or rank a product on nonsense."""

_PER_KWH, _PER_MONTH = "KWH_CONSUMPTION", "MONTHS_ON_SUPPLY"
_ALL_DAY_NAMES = {None, "", "ALL_DAY", "ALL"}
_BANDS = {"DAY", "NIGHT"}


def _value(enum_or_text: Any) -> str | None:
    """The API's text of an enum member (or of a string, or None)."""
    if enum_or_text is None:
        return None
    return str(getattr(enum_or_text, "value", enum_or_text))


def _beyond(price: Decimal) -> str | None:
    """Why `price` (cents) is no real price, or None when it may be one."""
    if abs(price) <= MOST_CENTS:
        return None
    return f"a rate of {price:.6g} cents, beyond any real price (at most {MOST_CENTS:,} cents)"


def esi_id_area(efl_answer: Any, rates_answer: Any) -> tuple[str | None, str | None]:
    """(TDSP, load zone) of the ESI ID, as the API's rates for it say: the TDSP that most
    products' delivery rates name (the rates priced are the ESI ID's own); else the first EFL
    row naming one. Not the EFL rows first: concise rates the API does not filter list a row
    for every TDSP, the first of them Oncor's, wherever the ESI ID is."""
    named: Counter[tuple[str | None, str | None]] = Counter()
    for product in rates_answer.products or []:
        group = product.rates.tdsp_rates if product and product.rates else None
        rates = (group.consumption_rates or []) if group is not None else []
        named.update(
            {
                (_value(rate.service_provider), _value(rate.load_zone))
                for rate in rates
                if rate is not None and rate.service_provider is not None
            }
        )
    if named:
        return named.most_common(1)[0][0]
    for product in efl_answer.products_with_concise_applicable_rates or []:
        for row in (product.at_1000_kwh or []) if product else []:
            if row is not None and row.service_provider is not None:
                return _value(row.service_provider), _value(row.load_zone)
    return None, None


def _applies(rate: Any, service_provider: str | None, load_zone: str | None) -> bool:
    """Whether a rate is for this ESI ID's TDSP and load zone (a rate naming none is for all)."""
    provider, zone = _value(rate.service_provider), _value(rate.load_zone)
    return (provider is None or provider == service_provider) and (
        zone is None or zone == load_zone
    )


def _rates(group: Any, kind: str, area: tuple[str | None, str | None]) -> Iterator[Any]:
    for rate in (getattr(group, kind, None) or []) if group is not None else []:
        if rate is not None and rate.price_per_unit is not None and _applies(rate, *area):
            yield rate


class _Parts:
    """A product's rates added up by what they are charged on."""

    def __init__(self) -> None:
        self.energy: dict[str, Decimal] = {}
        self.delivery_kwh = Decimal(0)
        self.delivery_month = Decimal(0)
        self.fees_month = Decimal(0)
        self.problems: list[str] = []

    def add(self, rate: Any, *, delivery: bool, default_unit: str) -> None:
        unit = _value(rate.unit_type) or default_unit
        price = Decimal(rate.price_per_unit)
        absurd = _beyond(price)
        if absurd is not None:
            self.problems.append(absurd)
        elif unit == _PER_MONTH:
            if delivery:
                self.delivery_month += price
            else:
                self.fees_month += price
        elif unit != _PER_KWH:
            self.problems.append(f"a rate in {unit}, which it cannot be priced in")
        elif delivery:
            self.delivery_kwh += price
        else:
            self._add_energy(_value(getattr(rate, "time_of_use", None)), price)

    def _add_energy(self, time_of_use: str | None, price: Decimal) -> None:
        band = "ALL_DAY" if time_of_use in _ALL_DAY_NAMES else str(time_of_use).upper()
        if band != "ALL_DAY" and band not in _BANDS:
            self.problems.append(
                f"its {time_of_use} band's hours are not known (only DAY and NIGHT are)"
            )
        self.energy[band] = self.energy.get(band, Decimal(0)) + price


def product_rates(
    rates_answer: Any, service_provider: str | None, load_zone: str | None
) -> list[ProductRates]:
    """Every product with rates at the ESI ID (its TDSP delivers there), from
    getProductRatesForEsiId's answer; a product the answer lists again is taken once, as
    first listed."""
    area = (service_provider, load_zone)
    found = []
    seen: set[str] = set()
    for product in rates_answer.products or []:
        rates = product.rates if product is not None else None
        if rates is None or not any(_rates(rates.tdsp_rates, "consumption_rates", area)):
            continue  # not offered at this ESI ID
        if str(product.id) in seen:
            continue  # listed again by the answer: one product, one row (else it tied itself)
        seen.add(str(product.id))
        parts = _Parts()
        for group, delivery in ((rates.tdsp_rates, True), (rates.load_zone_rates, False)):
            for kind, unit in (("consumption_rates", _PER_KWH), ("standing_rates", _PER_MONTH)):
                for rate in _rates(group, kind, area):
                    parts.add(rate, delivery=delivery, default_unit=unit)
        for kind, unit in (("consumption_rates", _PER_KWH), ("standing_rates", _PER_MONTH)):
            for rate in _rates(rates.agnostic_rates, kind, area):
                parts.add(rate, delivery=False, default_unit=unit)
        found.append(_product(product, parts))
    return found


def _product(product: Any, parts: _Parts) -> ProductRates:
    unpriced = None
    if parts.problems:
        unpriced = "; ".join(dict.fromkeys(parts.problems))
    elif not parts.energy:
        unpriced = "the API gives it no energy rate here"
    elif "ALL_DAY" not in parts.energy and len(_BANDS & set(parts.energy)) == 1:
        # One band only: the other band's hours would be priced at 0 cents a kWh (and the
        # product ranked cheapest on it), a gap in its rates, not a free tariff.
        [missing] = _BANDS - set(parts.energy)
        unpriced = f"the API gives it no {missing} rate here (nor an ALL_DAY one)"
    return ProductRates(
        id=str(product.id),
        code=product.code,
        name=product.display_name or product.full_name or product.code or str(product.id),
        term_months=product.term,
        time_of_use=bool(product.based_on_time_of_use) or bool(_BANDS & set(parts.energy)),
        wholesale=bool(product.is_wholesale),
        prepay=bool(product.prepay),
        energy=dict(parts.energy),
        delivery_cents_per_kwh=parts.delivery_kwh,
        delivery_cents_per_month=parts.delivery_month,
        fees_cents_per_month=parts.fees_month,
        unpriced=unpriced,
    )


# -- the EFL check ---------------------------------------------------------------------------------


def _average(rates: ProductRates, usage: Decimal, *, night: bool, fees: bool) -> Decimal:
    fixed = rates.delivery_cents_per_month + (rates.fees_cents_per_month if fees else 0)
    return rates.energy_rate(night) + rates.delivery_cents_per_kwh + fixed / usage


# (figure, night band, with fees) for a flat product and for a time-of-use one.
_FLAT_FIGURES = (
    ("total_applicable_rate", False, False),
    ("total_applicable_rate_with_monthly_subscription_fees", False, True),
)
_TIME_OF_USE_FIGURES = (
    ("total_applicable_day_rate", False, False),
    ("total_applicable_day_rate_with_monthly_subscription_fees", False, True),
    ("total_applicable_night_rate", True, False),
    ("total_applicable_night_rate_with_monthly_subscription_fees", True, True),
)
_NO_SPLIT = (
    "a time-of-use product's average assumes a day/night split, and the API does not state it "
    "(its day and night figures are checked)"
)


def _api_name(attribute: str) -> str:
    head, *rest = attribute.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _figures(rates: ProductRates, usage: Decimal, row: Any) -> Iterator[EflFigure]:
    if rates.time_of_use:
        for attribute, _, _ in _FLAT_FIGURES:
            api = getattr(row, attribute, None) if row is not None else None
            yield EflFigure(usage, _api_name(attribute), api, None, skipped=_NO_SPLIT)
    for attribute, night, fees in _TIME_OF_USE_FIGURES if rates.time_of_use else _FLAT_FIGURES:
        name = _api_name(attribute)
        api = getattr(row, attribute, None) if row is not None else None
        if api is not None and _beyond(api) is not None:
            yield EflFigure(usage, name, None, None, skipped=f"the API's {_beyond(api)}")
        elif rates.unpriced is not None:
            yield EflFigure(usage, name, api, None, skipped=f"not priced: {rates.unpriced}")
        elif api is None:
            yield EflFigure(usage, name, None, None, skipped=f"the API gives no {name} here")
        else:
            yield EflFigure(usage, name, api, _average(rates, usage, night=night, fees=fees))


def _rows_at(concise: Any, service_provider: str | None) -> Iterable[tuple[Decimal, Any]]:
    for usage, rows in zip(
        EFL_USAGES, (concise.at_500_kwh, concise.at_1000_kwh, concise.at_2000_kwh), strict=True
    ):
        candidates = [r for r in rows or [] if r is not None]
        # This TDSP's row, else one naming no TDSP: never another TDSP's figures.
        row = next(
            (r for r in candidates if _value(r.service_provider) == service_provider),
            next((r for r in candidates if r.service_provider is None), None),
        )
        yield usage, row


def efl_checks(
    efl_answer: Any, products: Sequence[ProductRates], service_provider: str | None
) -> tuple[EflCheck, ...]:
    """Each product's EFL figures at 500, 1,000 and 2,000 kWh beside the parts' (from
    getEflRatesForEsiId's answer), in the order of `products`."""
    concise = {str(p.id): p for p in efl_answer.products_with_concise_applicable_rates or [] if p}
    checks = []
    for rates in products:
        found = concise.get(rates.id)
        figures: list[EflFigure] = []
        if found is None:
            figures = [
                EflFigure(usage, "totalApplicableRate", None, None, "the API gives no EFL here")
                for usage in EFL_USAGES
            ]
        else:
            for usage, row in _rows_at(found, service_provider):
                figures.extend(_figures(rates, usage, row))
        checks.append(EflCheck(rates.id, rates.name, tuple(figures)))
    return tuple(checks)
