"""`esi` and `address`: which Texas premise an ESI ID is, or which ESI IDs an address has, with
the TDSP and load zone serving it (`addressLookup`, for affiliates: organisation credentials)."""

from __future__ import annotations

from typing import Any

from .._errors import ConfigurationError
from .._text import is_utf8
from . import _output as output
from ._common import (
    Invocation,
    NotFoundError,
    add_command,
    add_formats,
    esi_id,
    output_format,
    postal_code,
)
from ._output import Column


def register(commands: Any, api: Any) -> None:
    esi = add_command(
        commands,
        "esi",
        summary="the premise an ESI ID belongs to: address, TDSP, load zone",
        description="Look up the premise with this ESI ID: its address, the TDSP and ERCOT load "
        "zone serving it, and whether it is an Octopus customer already.",
        run=run_esi,
        parents=[api],
        auth="organisation",
    )
    add_formats(esi, csv=True)
    esi.add_argument("esi_id", metavar="ESI_ID", type=esi_id, help="17 to 22 digits")

    address = add_command(
        commands,
        "address",
        summary="the premises (and ESI IDs) at a street address",
        description="Look up the premises at a street address in a postal code, each with its "
        "ESI ID, TDSP and load zone: every unit of a building unless --unit narrows it down.",
        run=run_address,
        parents=[api],
        auth="organisation",
    )
    add_formats(address, csv=True)
    address.add_argument(
        "--street",
        required=True,
        metavar="TEXT",
        help='house number and street, e.g. "1100 Louisiana St"',
    )
    address.add_argument(
        "--postal-code", required=True, metavar="ZIP", type=postal_code, help="e.g. 77002"
    )
    address.add_argument("--unit", metavar="TEXT", help='apartment or suite, e.g. "Apt 804"')
    address.add_argument("--city", metavar="TEXT", help="narrow down by city")
    address.add_argument("--state", metavar="XX", help="narrow down by state, e.g. TX")


PREMISE_COLUMNS = (
    Column("ESI ID", "esi_id"),
    Column("address", "address"),
    Column("unit", "address2"),
    Column("city", "city"),
    Column("state", "state"),
    Column("postal code", "postal_code"),
    Column("TDSP", "service_provider"),
    Column("load zone", "load_zone"),
    Column("customer", "is_octopus_customer"),
)


def _print(call: Invocation, answer: Any, nothing: str) -> None:
    premises = [p for p in answer.address_lookup or [] if p is not None]
    fmt = output_format(call.args)
    if not premises:
        raise NotFoundError(nothing)
    if fmt == "json":
        output.print_json(answer, call.out)
        return
    rows = output.rows_of(
        premises,
        lambda p: p.esi_id,
        lambda p: p.address,
        lambda p: p.address_2,
        lambda p: p.city,
        lambda p: p.state,
        lambda p: p.post_code,
        lambda p: p.service_provider,
        lambda p: p.load_zone,
        lambda p: p.is_customer.is_oe_customer if p.is_customer else None,
    )
    output.write_rows(PREMISE_COLUMNS, rows, fmt, call.out)


def run_esi(call: Invocation) -> None:
    answer = call.client().lookup_address_by_esi_id(call.args.esi_id)
    _print(call, answer, f"no premise with ESI ID {call.args.esi_id} in the API's address lookup")


def run_address(call: Invocation) -> None:
    args = call.args
    street = args.street.strip()
    if not street:
        raise ConfigurationError(
            '--street is empty: give a house number and street, e.g. "1100 Louisiana St"'
        )
    texts = {"--street": street, "--unit": args.unit, "--city": args.city, "--state": args.state}
    for option, text in texts.items():
        if text and not is_utf8(text):
            # Bytes from a terminal in another encoding (lone surrogates): before, one line
            # for a programmer ("use str, int, float ... or the generated input models").
            raise ConfigurationError(
                f"{option} {text!r} holds bytes that are not UTF-8 text (a terminal "
                "or shell in another encoding): type it again in UTF-8"
            )
    options = {
        name: value
        for name, value in (("address_2", args.unit), ("city", args.city), ("state", args.state))
        if value
    }
    answer = call.client().lookup_address_by_street_address(street, args.postal_code, **options)
    _print(
        call, answer, f"no premise at {street!r} in {args.postal_code} in the API's address lookup"
    )
