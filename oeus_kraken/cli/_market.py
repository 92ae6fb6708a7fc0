"""`products`, `rates`, `quote` and `fan-club`: what is on offer, at what price, for a premise.

Rates are cents per kWh as the API gives them; money (estimated bills, quotes) is shown in
dollars and cents, and kept in cents by --csv and --json.
"""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError, InvalidResponseError
from . import _output as output
from ._common import (
    Invocation,
    NotFoundError,
    account_number,
    add_command,
    add_formats,
    esi_id,
    output_format,
    positive_kwh,
    postal_code,
)
from ._output import RATE_UNITS, Column

if TYPE_CHECKING:
    from .._client import SyncKrakenClient

# The brand US quotes are made for (CreateQuoteInput.brandCode requires one; the US docs do not
# show the value, the sandbox and our tests use this one).
DEFAULT_BRAND = "OCTOPUS_ENERGY_USA"


def register(commands: Any, api: Any) -> None:
    products = add_command(
        commands,
        "products",
        summary="products; with --postal-code, their rates there (no credentials needed)",
        description="List the products on offer. With --postal-code, find the TDSP serving it "
        "and list each product's rate there. Public data: no credentials needed.",
        run=run_products,
        parents=[api],
        auth="public",
    )
    add_formats(products, csv=True)
    products.add_argument(
        "--postal-code",
        metavar="ZIP",
        type=postal_code,
        help="a Texas postal code, e.g. 75001: show rates there",
    )

    rates = add_command(
        commands,
        "rates",
        summary="every product's rate for an ESI ID or a postal code, cheapest first",
        description="Every product's rates for one premise (--esi-id: its TDSP and load zone) "
        "or for the TDSPs serving a postal code, worked out for --kwh a month, cheapest first: "
        "the energy rate and the rate with the monthly charges spread over that usage, in "
        "cents per kWh, and the month's estimated bill in dollars.",
        run=run_rates,
        parents=[api],
        auth="public",
    )
    add_formats(rates, csv=True)
    where = rates.add_mutually_exclusive_group(required=True)
    where.add_argument("--esi-id", metavar="ID", type=esi_id, help="a premise's ESI ID")
    where.add_argument(
        "--postal-code", metavar="ZIP", type=postal_code, help="a Texas postal code, e.g. 75001"
    )
    rates.add_argument(
        "--kwh",
        metavar="N",
        type=positive_kwh,
        help="kWh a month to work the rates out for (default: the API's, 1000)",
    )

    quote = add_command(
        commands,
        "quote",
        summary="a quote: every product's price for one premise (creates a quote)",
        description="Create a quote for a premise, as an affiliate enrolling a customer "
        "(createQuote): give its --postal-code, and its --esi-id if known (with only --esi-id, "
        "the postal code is looked up). --annual-kwh is the premise's usage a year; without "
        "it, Kraken estimates one. Or quote an existing customer's premise with --account "
        "(customerCreateQuote, which the account's user may call too). Each run creates a "
        "quote: it is a mutation, never retried blindly.",
        run=run_quote,
        parents=[api],
        auth="organisation",
    )
    add_formats(quote, csv=True)
    quote.add_argument(
        "--postal-code", metavar="ZIP", type=postal_code, help="the premise's postal code"
    )
    quote.add_argument("--esi-id", metavar="ID", type=esi_id, help="the premise's ESI ID")
    quote.add_argument(
        "--annual-kwh",
        metavar="N",
        type=positive_kwh,
        help="the premise's usage in kWh a year (default: Kraken's estimate)",
    )
    quote.add_argument(
        "--brand", metavar="CODE", default=DEFAULT_BRAND, help=f"brand code ({DEFAULT_BRAND})"
    )
    quote.add_argument(
        "--account",
        metavar="ACCOUNT",
        type=account_number,
        help="quote this account's premise instead (customerCreateQuote)",
    )

    fan_club = add_command(
        commands,
        "fan-club",
        summary="this hour's Octopus Fan Club discount (no credentials needed)",
        description="Print this hour's Octopus Fan Club discount on the energy charge, which "
        "follows the share of wind power on the Texas grid. Public data.",
        run=run_fan_club,
        parents=[api],
        auth="public",
    )
    add_formats(fan_club, csv=False)


# -- products ------------------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    Column("code", "code"),
    Column("name", "display_name"),
    Column("term", "term_months"),
)
POSTAL_RATE_COLUMNS = (
    Column("product", "product"),
    Column("term", "term_months"),
    Column("cents/kWh at 1000 kWh", "total_rate_cents_per_kwh"),
)


def tdsps_serving(client: SyncKrakenClient, code: str) -> list[Any]:
    """The TDSPs (with their load zones) serving a postal code: one, or a few for a ZIP code
    two TDSPs share. None is an error saying so."""
    answer = client.get_tdsp_by_postal_code(code).tdsp_by_postalcode or []
    found = [t for t in answer if t is not None and t.service_provider is not None]
    if not found:
        raise NotFoundError(
            f"no TDSP serves postal code {code} in the API's data: it may be outside ERCOT's "
            "competitive market (a co-op or municipal utility serves it) or not in Texas"
        )
    return found


def run_products(call: Invocation) -> None:
    from oeus_kraken_generated.input_types import ConciseRatesInput

    client, fmt, out = call.client(), output_format(call.args), call.out
    if not call.args.postal_code:
        result = client.get_products()
        if fmt == "json":
            output.print_json(result, out, {"term": "months"})
            return
        products = [p for p in result.products or [] if p is not None]
        listed = output.rows_of(
            products, lambda p: p.code, lambda p: p.display_name, lambda p: p.term
        )
        output.write_rows(PRODUCT_COLUMNS, listed, fmt, out)
        return
    tdsp = tdsps_serving(client, call.args.postal_code)[0]
    rates = client.get_products_with_rates(
        filter_rates_by=ConciseRatesInput(service_provider=tdsp.service_provider)
    )
    if fmt == "json":
        output.print_json(rates, out, RATE_UNITS)
        return
    if fmt == "table":
        zone = tdsp.load_zone.value if tdsp.load_zone else "?"
        print(
            f"{call.args.postal_code}: TDSP {tdsp.service_provider.value}, load zone {zone}",
            file=out,
        )
    rows: list[list[object]] = [
        [product.display_name, product.term, rate.total_applicable_rate]
        for product in rates.products_with_concise_applicable_rates or []
        if product is not None
        for rate in product.rates or []
        if rate is not None
    ]
    output.write_rows(POSTAL_RATE_COLUMNS, rows, fmt, out)


# -- rates ---------------------------------------------------------------------------------------


RATE_COLUMNS = (
    Column("product", "product"),
    Column("term", "term_months"),
    Column("TDSP", "service_provider"),
    Column("load zone", "load_zone"),
    Column("kWh/month", "kwh_a_month", lambda v: "" if v is None else f"{v:,}"),
    Column("energy ¢/kWh", "total_rate_cents_per_kwh"),
    Column("with fees ¢/kWh", "total_rate_with_fees_cents_per_kwh"),
    Column("est. month", "estimated_month_cents", output.dollars),
    Column("code", "product_id", in_table=False),
)


def _rate_rows(products: list[Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for product in products:
        if product is None:
            continue
        for rate in product.rates or []:
            if rate is None:
                continue
            with_fees = rate.total_applicable_rate_with_monthly_subscription_fees
            month = (
                (with_fees * rate.kwh_usage).quantize(Decimal("0.01"))
                if with_fees is not None and rate.kwh_usage is not None
                else None
            )
            rows.append(
                [
                    product.display_name,
                    product.term,
                    rate.service_provider,
                    rate.load_zone,
                    rate.kwh_usage,
                    rate.total_applicable_rate,
                    with_fees,
                    month,
                    product.id,
                ]
            )
    cheapest_first = Decimal("Infinity")
    rows.sort(key=lambda r: r[7] if isinstance(r[7], Decimal) else cheapest_first)
    return rows


def run_rates(call: Invocation) -> None:
    from oeus_kraken.unset import UNSET

    client, fmt, out, args = call.client(), output_format(call.args), call.out, call.args
    kwh = UNSET if args.kwh is None else args.kwh  # not given: the API's default
    products: list[Any]
    if args.esi_id:
        result = client.get_rates_for_esi_id(args.esi_id, kwh_usage=kwh)
        products = list(result.products_with_concise_applicable_rates or [])
        document: Any = result
        where = f"ESI ID {args.esi_id}"
    else:
        tdsps = tdsps_serving(client, args.postal_code)
        answers = [
            (
                tdsp,
                client.get_rates_for_service_provider(tdsp.service_provider, kwh_usage=kwh),
            )
            for tdsp in tdsps
        ]
        products = [p for _, a in answers for p in a.products_with_concise_applicable_rates or []]
        document = {
            "postalCode": args.postal_code,
            "serviceProviders": [
                {
                    "serviceProvider": tdsp.service_provider.value,
                    "loadZone": tdsp.load_zone.value if tdsp.load_zone else None,
                    **output.jsonable(answer),
                }
                for tdsp, answer in answers
            ],
        }
        where = f"postal code {args.postal_code}"
    rows = _rate_rows(products)
    if not rows:
        raise NotFoundError(
            f"no rates for {where}: no TDSP in the API's data serves it (check the "
            f"{'ESI ID' if args.esi_id else 'postal code'})"
        )
    if fmt == "json":
        output.print_json(document, out, RATE_UNITS)
        return
    if fmt == "table":
        served = sorted({(str(output.plain(r[2])), str(output.plain(r[3]))) for r in rows})
        tdsps_text = "; ".join(f"TDSP {tdsp}, load zone {zone}" for tdsp, zone in served)
        print(f"{where}: {tdsps_text}", file=out)
    output.write_rows(RATE_COLUMNS, rows, fmt, out)


# -- quote ---------------------------------------------------------------------------------------

QUOTE_COLUMNS = (
    Column("product", "product"),
    Column("term", "term_months"),
    Column("with fees ¢/kWh", "total_rate_with_fees_cents_per_kwh"),
    Column("month", "monthly_cost_cents", output.dollars),
    Column("year", "annual_cost_cents", output.dollars),
    Column("recommended", "recommended", lambda v: "*" if v else ""),
    Column("code", "product_code", in_table=False),
    Column("expires", "expires_at", in_table=False),
)
QUOTE_UNITS = {
    **RATE_UNITS,
    "kwhUsage": "kWh per usagePeriod (ANNUALLY: a year); in applicableRates, kWh a month",
    "monthlyAmount": "cents (whole)",
    "annualAmount": "cents (whole)",
    "monthlyCostEstimate": "cents",
    "annualCostEstimate": "cents",
    "dayPercentage": "percent",
    "nightPercentage": "percent",
}


def _quote_input(call: Invocation) -> Any:
    from oeus_kraken_generated.input_types import (
        CreateQuoteInput,
        ElectricityMeterPointConsumptionInput,
    )

    args = call.args
    code = args.postal_code
    if code is None:
        premises = call.client().lookup_address_by_esi_id(args.esi_id).address_lookup or []
        found = [p.post_code for p in premises if p is not None and p.post_code]
        if not found:
            raise NotFoundError(
                f"no premise with ESI ID {args.esi_id} in the API's address lookup, so no "
                "postal code to quote for: give --postal-code"
            )
        try:
            code = postal_code(found[0])
        except argparse.ArgumentTypeError:
            # The API's text, not the user's argument: its error escaped as a traceback.
            raise NotFoundError(
                f"the API's address lookup gives ESI ID {args.esi_id} the postal code "
                f"{found[0]!r}, which is not a US postal code, so no quote "
                "was made: give --postal-code"
            ) from None
    annual = args.annual_kwh
    point = ElectricityMeterPointConsumptionInput(
        mpan=args.esi_id,
        is_estimate=annual is None,
        annual_consumption_standard=None if annual is None else int(annual),
    )
    return CreateQuoteInput(postcode=code, brand_code=args.brand, electricity_meter_points=[point])


def run_quote(call: Invocation) -> None:
    args, fmt, out = call.args, output_format(call.args), call.out
    if args.account is not None:
        premise_options = {
            "--postal-code": args.postal_code,
            "--esi-id": args.esi_id,
            "--annual-kwh": args.annual_kwh,
        }
        given = [option for option, value in premise_options.items() if value is not None]
        if given:
            raise ConfigurationError(
                f"--account quotes that account's own premise: leave out {', '.join(given)}"
            )
        call.account = args.account
        args.auth = "account user or organisation"  # customerCreateQuote: the account's user too
        client, call.making = call.client(), "the quote"
        answer: Any = client.create_customer_quote(args.account)
        payload = answer.customer_create_quote
    else:
        if args.postal_code is None and args.esi_id is None:
            raise ConfigurationError(
                "give the premise: --postal-code ZIP (and --esi-id ID if known), or --esi-id "
                "alone, or --account ACCOUNT for a customer's own premise"
            )
        quote_input = _quote_input(call)  # (its address lookup makes nothing)
        client, call.making = call.client(), "the quote"
        answer = client.create_quote(quote_input)
        payload = answer.create_quote
    call.making = None
    quote = payload.quote if payload is not None else None
    if quote is None:
        raise NotFoundError("the API made no quote (its answer has none)")
    if fmt == "json":
        output.print_json(answer, out, QUOTE_UNITS)
        return
    products = [q for q in quote.quoted_products or [] if q is not None]
    if fmt == "table":
        _quote_heading(quote, products, call)
    rows = []
    for item in products:
        details = item.estimated_details
        rates = details.applicable_rates if details else None
        rows.append(
            [
                item.name,
                item.product.term if item.product else None,
                rates.total_applicable_rate_with_monthly_subscription_fees if rates else None,
                details.monthly_cost_estimate if details else item.monthly_amount,
                details.annual_cost_estimate if details else item.annual_amount,
                item.recommended,
                item.product.code if item.product else None,
                item.expires_at,
            ]
        )
    output.write_rows(QUOTE_COLUMNS, rows, fmt, out)


def _quote_heading(quote: Any, products: list[Any], call: Invocation) -> None:
    first = products[0] if products else None
    details = first.estimated_details if first else None
    usage = ""
    if details is not None and details.kwh_usage is not None:
        period = " a year" if output.plain(details.usage_period) == "ANNUALLY" else ""
        given = call.args.account is None and call.args.annual_kwh is not None
        usage = f", {details.kwh_usage:,.0f} kWh{period} ({'as given' if given else 'estimated'})"
    where = ""
    if first is not None and first.service_provider is not None:
        zone = output.plain(first.load_zone) or "?"
        where = f", TDSP {output.plain(first.service_provider)}, load zone {zone}"
    esi = f", ESI ID {call.args.esi_id}" if call.args.esi_id else ""
    # isoformat: %Y is not padded to four digits (the year 1 as "1-01-01").
    expires = f"; expires {first.expires_at.isoformat()[:10]}" if first and first.expires_at else ""
    code = quote.code if quote.code is not None else "(the API gives it no code)"  # not "None"
    output.print_line(f"quote {code} for {quote.postcode}{esi}{where}{usage}{expires}", call.out)


# -- fan club ------------------------------------------------------------------------------------


def run_fan_club(call: Invocation) -> None:
    answer = call.client().get_fan_club_discount()
    if call.args.json:
        output.print_json(
            answer,
            call.out,
            {"discountAmount": "a fraction of the energy charge (0.2: 20 % off)"},
        )
        return
    discount = answer.get_fan_club_discount
    amount = discount.discount_amount if discount is not None else None
    if amount is None:
        print("Octopus Fan Club: no discount given this hour", file=call.out)
        return
    if not 0 <= amount <= 1:
        # A fraction of the energy charge: 1.5 read as "150% off" (and -0.5 as "-50% off").
        raise InvalidResponseError(
            f"the API gives a Fan Club discount of {amount}, which is no fraction of the energy "
            "charge (0 to 1): the answer is not usable, try again later"
        )
    print(
        f"Octopus Fan Club discount this hour: {amount * 100:.0f}% off the energy charge "
        "(0% when wind is under 30% of the Texas grid, 20% from 30%, 50% from 45%)",
        file=call.out,
    )
