"""`token`, `viewer` and `account`: who the credentials are, and the accounts they see."""

from __future__ import annotations

import json
from typing import Any

from . import _output as output
from ._common import (
    Invocation,
    NotFoundError,
    account_number,
    add_command,
    add_formats,
    output_format,
)
from ._output import BALANCE_UNITS, Column


def register(commands: Any, api: Any) -> None:
    token = add_command(
        commands,
        "token",
        summary="obtain a token and show its expiry and claims",
        description="Obtain a Kraken token with the given credentials (or reuse the cached one) "
        "and print when it expires and its claims. The token itself is printed only with "
        "--show-token.",
        run=run_token,
        parents=[api],
        auth="account user or organisation",
    )
    add_formats(token, csv=False)
    token.add_argument("--show-token", action="store_true", help="also print the token (a secret)")

    viewer = add_command(
        commands,
        "viewer",
        summary="who you are, and your accounts with balances",
        description="Print the account user the credentials belong to, and their accounts with "
        "status and balance (dollars in the table; --csv and --json keep the API's cents).",
        run=run_viewer,
        parents=[api],
        auth="account user or organisation",
    )
    add_formats(viewer, csv=True)

    account = add_command(
        commands,
        "account",
        summary="one account: status, balance, properties, ESI IDs",
        description="Print one account: its status and balance, and its properties with their "
        "ESI IDs.",
        run=run_account,
        parents=[api],
        auth="account user or organisation",
    )
    add_formats(account, csv=True)
    account.add_argument(
        "number", metavar="ACCOUNT", type=account_number, help="account number, e.g. A-1234ABCD"
    )


def run_token(call: Invocation) -> None:
    info = call.client().authenticate()
    shown: dict[str, Any] = {
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "refresh_token_expires_at": (
            info.refresh_expires_at.isoformat() if info.refresh_expires_at else None
        ),
        "claims": info.claims,
    }
    out = call.out
    if call.args.show_token:
        shown["token"] = info.token
    if call.args.json:
        print(json.dumps(output.finite(shown), indent=2), file=out)  # claims are the API's
        return
    print(f"token expires at:         {shown['expires_at'] or 'unknown'}", file=out)
    print(f"refresh token expires at: {shown['refresh_token_expires_at'] or 'unknown'}", file=out)
    for name, value in sorted(info.claims.items()):
        output.print_line(f"  {name}: {value}", out)  # the token endpoint's text
    if call.args.show_token:
        print(f"token: {info.token}", file=out)


ACCOUNT_COLUMNS = (
    Column("account", "number"),
    Column("status", "status"),
    Column("balance", "balance_cents", output.dollars),
)


def run_viewer(call: Invocation) -> None:
    result = call.client().get_viewer()
    fmt = output_format(call.args)
    if fmt == "json":
        output.print_json(result, call.out, BALANCE_UNITS)
        return
    viewer = result.viewer
    accounts = [a for a in (viewer.accounts or []) if a is not None] if viewer else []
    if fmt == "table":
        if viewer is None:
            print("(no viewer: these credentials are not an account user's)", file=call.out)
            return
        output.print_line(f"{viewer.given_name} {viewer.family_name} <{viewer.email}>", call.out)
    rows = output.rows_of(accounts, lambda a: a.number, lambda a: a.status, lambda a: a.balance)
    output.write_rows(ACCOUNT_COLUMNS, rows, fmt, call.out)


PROPERTY_COLUMNS = (
    Column("property", "address"),
    Column("postal code", "postal_code"),
    Column("ESI IDs", "esi_ids", lambda ids: ", ".join(ids.split()) or "-"),
)


def run_account(call: Invocation) -> None:
    call.account = call.args.number
    result = call.client().get_account(call.args.number)
    fmt = output_format(call.args)
    if fmt == "json":
        output.print_json(result, call.out, BALANCE_UNITS)
        return
    account = result.account
    if account is None:
        raise NotFoundError(f"the API returned no account {call.args.number}")
    if fmt == "table":
        status = account.status.value if account.status else "unknown"
        balance = output.dollars(account.balance)
        output.print_line(f"{account.number}  {status}  balance {balance}", call.out)
    rows = [
        [
            prop.address or "",
            prop.postcode,
            " ".join(p.mpan for p in prop.electricity_meter_points or [] if p is not None),
        ]
        for prop in account.properties or []
        if prop is not None
    ]
    output.write_rows(PROPERTY_COLUMNS, rows, fmt, call.out)
