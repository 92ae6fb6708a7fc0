"""What a seeded account is charged for a month: its meters' usage priced at its product's rates,
so that its bills agree with its usage and with what `products { rates }` says, to the cent.

For each ESI ID of the account, a month of consumption costs (cents, before tax):

    energy     Σ interval kWh x the product's energy rate in the meter's load zone (a wholesale
               product: x the ERCOT price of that interval plus the product's adder, instead)
    delivery   kWh x the TDSP's rate per kWh + the TDSP's charge per month
    fees       the product's monthly subscription fee

rounded half up to a whole cent for the account, plus the gross receipts tax the sandbox's bills
carry (1.997 %, also rounded half up). Usage is the meter's actual usage (every interval,
including those the API is late with or has not delivered yet, as a real bill is), Texas local
calendar months. Months before the usage history starts (USAGE_START) have no intervals: a
typical month (`MONTHLY_KWH`) is charged instead. No seeded account is on a time-of-use product:
the API states no hours for its bands, so the sandbox does not bill one.

Adding up a month takes ~30 ms per meter, so each meter-month is added up once per process.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from ._data import MONTHLY_KWH, TDSPS_BY_CODE, Amounts, Product, Property
from ._grid import CENTRAL, wholesale_price
from ._rates import energy_rates
from ._usage import INTERVAL_SECONDS, USAGE_START, WHOLESALE_ADDER, Meter, true_value

__all__ = ["TAX_RATE", "metered_month", "monthly_charge"]

TAX_RATE = Decimal("0.01997")  # gross receipts, on the net charge


def _month_bounds(year: int, month: int) -> tuple[int, int]:
    """Unix times of the local month's first midnight and of the next month's."""
    following = date(year + month // 12, month % 12 + 1, 1)
    first = datetime.combine(date(year, month, 1), time(0), tzinfo=CENTRAL)
    return int(first.timestamp()), int(datetime.combine(following, time(0), CENTRAL).timestamp())


@functools.lru_cache(maxsize=512)
def metered_month(meter: Meter, year: int, month: int) -> tuple[Decimal, Decimal]:
    """(kWh, cents of energy at the wholesale price plus adder) of the meter's local month."""
    low, high = _month_bounds(year, month)
    kwh = wholesale = Decimal(0)
    for start in range(low, high, INTERVAL_SECONDS):
        value = true_value(meter, start)
        kwh += value
        if meter.wholesale:
            wholesale += value * (wholesale_price(meter.load_zone, start) + WHOLESALE_ADDER)
    return kwh, wholesale


def _meter_month(product: Product, meter: Meter, year: int, month: int) -> tuple[Decimal, Decimal]:
    """(kWh, energy cents) of one meter's month on `product`."""
    rate, night_rate = energy_rates(product, meter.load_zone)
    if night_rate is not None:
        raise ValueError(f"the sandbox bills no time-of-use product ({product.code})")
    if _month_bounds(year, month)[0] < USAGE_START:
        typical = Decimal(MONTHLY_KWH[month - 1])
        return typical, typical * rate
    kwh, wholesale = metered_month(meter, year, month)
    return kwh, wholesale if product.is_wholesale else kwh * rate


def monthly_charge(
    product: Product, properties: tuple[Property, ...], year: int, month: int
) -> tuple[Amounts, Decimal]:
    """(net and tax in cents, kWh) for a month of consumption of every ESI ID in `properties`."""
    net, total_kwh = Decimal(0), Decimal(0)
    for prop in properties:
        tdsp = TDSPS_BY_CODE[prop.service_provider]
        for esi_id in prop.esi_ids:
            meter = Meter(esi_id, tdsp.load_zone, tdsp.consumption_rate, product.is_wholesale)
            kwh, energy = _meter_month(product, meter, year, month)
            delivery = kwh * tdsp.consumption_rate + tdsp.standing_rate
            net += energy + delivery + product.monthly_fee
            total_kwh += kwh
    cents = int(net.to_integral_value(ROUND_HALF_UP))
    tax = int((cents * TAX_RATE).to_integral_value(ROUND_HALF_UP))
    return Amounts(cents, tax), total_kwh
