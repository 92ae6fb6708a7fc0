"""Products and their rates for a Texas postal code.

    python examples/products_for_postal_code.py 77002

Looks up which TDSP (the utility that owns the wires) serves the postal code, then lists the
products on offer there with their rates for that TDSP. Both operations are public: no
credentials needed. KRAKEN_URL chooses the API (production by default).
"""

from __future__ import annotations

import sys

from oeus_kraken import ConciseRatesInput, KrakenError, ServiceProvider, SyncKrakenClient

DEFAULT_POSTAL_CODE = "75001"


def tdsps_for(kraken: SyncKrakenClient, postal_code: str) -> list[ServiceProvider]:
    """The TDSPs serving `postal_code` (a few postal codes straddle two)."""
    answer = kraken.get_tdsp_by_postal_code(postal_code).tdsp_by_postalcode or []
    found = {tdsp.service_provider for tdsp in answer if tdsp and tdsp.service_provider}
    return sorted(found, key=lambda provider: provider.value)


def print_products(kraken: SyncKrakenClient, provider: ServiceProvider) -> None:
    result = kraken.get_products_with_rates(
        filter_rates_by=ConciseRatesInput(service_provider=provider)
    )
    for product in result.products_with_concise_applicable_rates or []:
        if product is None:
            continue
        term = f"{product.term} months" if product.term else "no fixed term"
        print(f"  {product.display_name} ({term})")
        for rate in product.rates or []:
            if rate is None or rate.total_applicable_rate is None:
                continue
            zone = rate.load_zone.value if rate.load_zone else "any load zone"
            print(f"    {rate.total_applicable_rate} ¢/kWh at {rate.kwh_usage} kWh ({zone})")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    postal_code = args[0] if args else DEFAULT_POSTAL_CODE
    try:
        with SyncKrakenClient.from_env() as kraken:
            providers = tdsps_for(kraken, postal_code)
            if not providers:
                print(f"No TDSP found for postal code {postal_code}.", file=sys.stderr)
                return 1
            for provider in providers:
                print(f"{postal_code} is served by {provider.value}:")
                print_products(kraken, provider)
    except KrakenError as error:
        print(f"products_for_postal_code: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
