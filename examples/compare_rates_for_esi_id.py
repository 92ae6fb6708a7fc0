"""Compare every product's rate for one ESI ID, cheapest first.

    python examples/compare_rates_for_esi_id.py 10443720004512388 [KWH_A_MONTH]

An ESI ID fixes the TDSP (the utility that owns the wires) and the ERCOT load zone, and with them
the delivery charges every product adds. `getRatesForEsiId` gives each product's rates there,
worked out for a month's usage (1000 kWh unless given): the energy rate, and the rate with the
monthly charges spread over that usage, both in cents per kWh. The month's estimated bill is the
second times the usage. Public data: no credentials needed; KRAKEN_URL chooses the API.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from oeus_kraken import KrakenError, SyncKrakenClient

DEFAULT_KWH = Decimal(1000)


@dataclass(frozen=True)
class Offer:
    product: str
    term_months: int | None
    provider: str
    rate: Decimal  # cents per kWh, energy only
    rate_with_fees: Decimal  # cents per kWh, monthly charges included
    kwh: Decimal  # a month's usage the rates are for

    @property
    def month_dollars(self) -> Decimal:
        return (self.rate_with_fees * self.kwh / 100).quantize(Decimal("0.01"))


def offers(kraken: SyncKrakenClient, esi_id: str, kwh: Decimal) -> list[Offer]:
    result = kraken.get_rates_for_esi_id(esi_id, kwh_usage=kwh)
    found = []
    for product in result.products_with_concise_applicable_rates or []:
        if product is None:
            continue
        for rate in product.rates or []:
            if rate is None or rate.total_applicable_rate is None:
                continue
            with_fees = rate.total_applicable_rate_with_monthly_subscription_fees
            found.append(
                Offer(
                    product=product.display_name or product.id,
                    term_months=product.term,
                    provider=rate.service_provider.value if rate.service_provider else "?",
                    rate=rate.total_applicable_rate,
                    rate_with_fees=with_fees
                    if with_fees is not None
                    else rate.total_applicable_rate,
                    kwh=rate.kwh_usage if rate.kwh_usage is not None else kwh,
                )
            )
    return sorted(found, key=lambda offer: offer.month_dollars)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage: compare_rates_for_esi_id.py ESI_ID [KWH_A_MONTH]", file=sys.stderr)
        return 2
    esi_id = args[0]
    try:
        kwh = Decimal(args[1]) if len(args) == 2 else DEFAULT_KWH
    except InvalidOperation:
        print(f"compare_rates_for_esi_id: {args[1]!r} is not a number of kWh", file=sys.stderr)
        return 2
    try:
        with SyncKrakenClient.from_env() as kraken:
            found = offers(kraken, esi_id, kwh)
    except KrakenError as error:
        print(f"compare_rates_for_esi_id: {error}", file=sys.stderr)
        return 1
    if not found:
        print(
            f"No rates for ESI ID {esi_id}: no TDSP in the API's data serves it.", file=sys.stderr
        )
        return 1
    print(f"ESI ID {esi_id} ({found[0].provider}), {kwh:,} kWh a month, cheapest first:")
    cheapest = found[0].month_dollars
    for offer in found:
        term = f"{offer.term_months} months" if offer.term_months else "no fixed term"
        extra = offer.month_dollars - cheapest
        more = f"  (+${extra:,.2f})" if extra else "  (cheapest)"
        month = f"${offer.month_dollars:,.2f}"
        print(
            f"  {month:>9} a month  {offer.rate_with_fees:>8} ¢/kWh with fees"
            f"  {offer.product} ({term}){more}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
