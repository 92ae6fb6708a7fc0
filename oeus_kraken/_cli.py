"""The `oeus-kraken` command line: a local sandbox, a token check, and quick looks at your data.

Credentials come from flags or, better (flags show in `ps` and shell history), from the
KRAKEN_* environment variables that `SyncKrakenClient.from_env()` reads. Output is a readable
table, or JSON with `--json`. Failures print one line to stderr and exit with a code that says
what kind of failure it was (see EXIT_CODES).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TextIO

import pydantic
from oeus_kraken_generated.input_types import ConciseRatesInput

from ._client import SyncKrakenClient
from ._config import PRODUCTION_URL, TEST_URL, credentials_from_env, url_from_env
from ._credentials import APIKey, Credentials, EmailPassword, OrganizationSecretKey, RefreshToken
from ._errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    KrakenError,
    RateLimitError,
)
from ._token_store import FileTokenStore, default_token_store_path
from .codegen import _command as codegen_command

EXIT_CODES = {
    "ok": 0,
    "error": 1,  # any other KrakenError (GraphQL error, invalid response, HTTP status)
    "usage": 2,  # bad arguments or environment
    "auth": 3,  # credentials missing or rejected
    "unreachable": 4,  # could not reach the API (network, DNS, timeout)
    "rate_limited": 5,  # rate limited; try again later
}

EPILOG = f"""\
credentials (first found wins): --organization-secret-key, --api-key, --email + --password,
--refresh-token, else the environment: KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_API_KEY,
KRAKEN_EMAIL + KRAKEN_PASSWORD, KRAKEN_REFRESH_TOKEN. Prefer the environment: options show in
`ps` and in shell history.

URL: --url, else KRAKEN_URL, else production
  production  {PRODUCTION_URL}
  test API    {TEST_URL}

exit codes: 0 ok, 1 API error, 2 bad arguments, 3 authentication failed, 4 API unreachable,
5 rate limited.

try it with no account and no network:
  oeus-kraken sandbox &                          # prints its URL and demo credentials
  KRAKEN_URL=<that url> KRAKEN_API_KEY=<demo key> oeus-kraken viewer
"""

# For each command's own --help (argparse wraps it): where its credentials and URL come from, and
# what it exits with.
COMMAND_EPILOG = (
    "Credentials come from the options above, else KRAKEN_ORGANIZATION_SECRET_KEY, "
    "KRAKEN_API_KEY, KRAKEN_EMAIL + KRAKEN_PASSWORD or KRAKEN_REFRESH_TOKEN; the URL from --url, "
    "else KRAKEN_URL. Exit codes: 0 ok, 1 API error, 2 bad arguments, 3 authentication failed, "
    "4 API unreachable, 5 rate limited."
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="oeus-kraken",
        description="Octopus Energy USA Kraken API from the command line.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="GraphQL endpoint (default: KRAKEN_URL, else production)")
    common.add_argument("--json", action="store_true", help="print JSON instead of a table")
    common.add_argument(
        "--no-token-cache",
        action="store_true",
        help="do not read or write the token cache (~/.cache/oeus-kraken/tokens.json)",
    )
    creds = common.add_argument_group("credentials (prefer the KRAKEN_* environment variables)")
    creds.add_argument(
        "--organization-secret-key",
        metavar="KEY",
        help="an affiliate organisation's secret key (KRAKEN_ORGANIZATION_SECRET_KEY)",
    )
    creds.add_argument(
        "--api-key", metavar="KEY", help="an account user's API key (KRAKEN_API_KEY)"
    )
    creds.add_argument("--email", help="a customer's email, with --password (KRAKEN_EMAIL)")
    creds.add_argument("--password", help="the customer's password (KRAKEN_PASSWORD)")
    creds.add_argument(
        "--refresh-token", metavar="TOKEN", help="a Kraken refresh token (KRAKEN_REFRESH_TOKEN)"
    )

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            parents=[common],
            help=summary,
            description=description,
            epilog=COMMAND_EPILOG,
        )

    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sandbox = commands.add_parser(
        "sandbox",
        help="run a local Kraken sandbox server (no network, demo credentials)",
        description="Run the local Kraken sandbox on 127.0.0.1 until interrupted (Ctrl-C). It "
        "prints its URL and the demo credentials. Needs the 'sandbox' extra: "
        "pip install 'oeus-kraken[sandbox]'.",
    )
    sandbox.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    codegen_command.add_parser(commands)
    command(
        "token",
        "obtain a token and show its expiry and claims",
        "Obtain a Kraken token with the given credentials (or reuse the cached one) and print "
        "when it expires and its claims. The token itself is printed only with --show-token.",
    ).add_argument("--show-token", action="store_true", help="also print the token (a secret)")
    command(
        "viewer",
        "who you are, and your accounts with balances",
        "Print the account user the credentials belong to, and their accounts with status and "
        "balance.",
    )
    command(
        "account",
        "one account: status, balance, properties, ESI IDs",
        "Print one account: its status and balance, and its properties with their ESI IDs.",
    ).add_argument("number", help="account number, e.g. A-1234ABCD")
    command(
        "products",
        "products; with --postal-code, their rates there (no credentials needed)",
        "List the products on offer. With --postal-code, find the TDSP serving it and list "
        "each product's rate there. Public data: no credentials needed.",
    ).add_argument(
        "--postal-code", metavar="ZIP", help="a Texas postal code, e.g. 75001: show rates there"
    )
    return parser


def _credentials(args: argparse.Namespace) -> Credentials | None:
    if args.organization_secret_key:
        return OrganizationSecretKey(args.organization_secret_key)
    if args.api_key:
        return APIKey(args.api_key)
    if args.email or args.password:
        if not (args.email and args.password):
            raise ConfigurationError("--email and --password go together")
        return EmailPassword(args.email, args.password)
    if args.refresh_token:
        return RefreshToken(args.refresh_token)
    return credentials_from_env()


# The commands that call operations needing a token (products are public).
_NEEDS_CREDENTIALS = frozenset({"token", "viewer", "account"})


def _client(args: argparse.Namespace) -> SyncKrakenClient:
    credentials = _credentials(args)
    if credentials is None and args.command in _NEEDS_CREDENTIALS:
        raise AuthenticationError(
            "no credentials: set KRAKEN_API_KEY, KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_EMAIL + "
            "KRAKEN_PASSWORD or KRAKEN_REFRESH_TOKEN, or pass the matching option (see --help)"
        )
    # Tokens are cached between runs (owner-only file) so that running a command twice within a
    # token's lifetime asks the API for one token, not two.
    store = None if args.no_token_cache else FileTokenStore(default_token_store_path())
    return SyncKrakenClient(args.url or url_from_env(), credentials=credentials, token_store=store)


def _jsonable(value: Any) -> Any:
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return value


def _table(rows: Sequence[Sequence[object]], header: Sequence[str], out: TextIO) -> None:
    cells = [[str(h) for h in header], *[["" if c is None else str(c) for c in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)
    if not rows:
        print("(none)", file=out)


def _dollars(cents: int | None) -> str:
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    return f"{sign}${Decimal(abs(cents)) / 100:,.2f}"


def _cmd_token(client: SyncKrakenClient, args: argparse.Namespace, out: TextIO) -> None:
    info = client.authenticate()
    shown: dict[str, Any] = {
        "expires_at": info.expires_at.isoformat() if info.expires_at else None,
        "refresh_token_expires_at": (
            info.refresh_expires_at.isoformat() if info.refresh_expires_at else None
        ),
        "claims": info.claims,
    }
    if args.show_token:
        shown["token"] = info.token
    if args.json:
        print(json.dumps(shown, indent=2), file=out)
        return
    print(f"token expires at:         {shown['expires_at'] or 'unknown'}", file=out)
    print(f"refresh token expires at: {shown['refresh_token_expires_at'] or 'unknown'}", file=out)
    for name, value in sorted(info.claims.items()):
        print(f"  {name}: {value}", file=out)
    if args.show_token:
        print(f"token: {info.token}", file=out)


def _cmd_viewer(client: SyncKrakenClient, args: argparse.Namespace, out: TextIO) -> None:
    result = client.get_viewer()
    if args.json:
        print(json.dumps(_jsonable(result), indent=2), file=out)
        return
    viewer = result.viewer
    if viewer is None:
        print("(no viewer: these credentials are not an account user's)", file=out)
        return
    print(f"{viewer.given_name} {viewer.family_name} <{viewer.email}>", file=out)
    accounts = [a for a in viewer.accounts or [] if a is not None]
    _table(
        [(a.number, a.status.value if a.status else None, _dollars(a.balance)) for a in accounts],
        ("account", "status", "balance"),
        out,
    )


def _cmd_account(client: SyncKrakenClient, args: argparse.Namespace, out: TextIO) -> None:
    result = client.get_account(args.number)
    if args.json:
        print(json.dumps(_jsonable(result), indent=2), file=out)
        return
    account = result.account
    if account is None:
        print(f"(no account {args.number})", file=out)
        return
    status = account.status.value if account.status else "unknown"
    print(f"{account.number}  {status}  balance {_dollars(account.balance)}", file=out)
    rows = []
    for prop in account.properties or []:
        if prop is None:
            continue
        points = [p for p in prop.electricity_meter_points or [] if p is not None]
        esi_ids = ", ".join(p.mpan for p in points) or "-"
        rows.append((prop.address or "", prop.postcode, esi_ids))
    _table(rows, ("property", "postal code", "ESI IDs"), out)


def _cmd_products(client: SyncKrakenClient, args: argparse.Namespace, out: TextIO) -> None:
    if not args.postal_code:
        result = client.get_products()
        if args.json:
            print(json.dumps(_jsonable(result), indent=2), file=out)
            return
        products = [p for p in result.products or [] if p is not None]
        _table([(p.code, p.display_name, p.term) for p in products], ("code", "name", "term"), out)
        return
    tdsps = [t for t in client.get_tdsp_by_postal_code(args.postal_code).tdsp_by_postalcode or []]
    areas = [t for t in tdsps if t is not None and t.service_provider is not None]
    if not areas:
        raise ConfigurationError(f"no TDSP serves postal code {args.postal_code!r}")
    tdsp = areas[0]
    provider = tdsp.service_provider
    assert provider is not None  # filtered above
    rates = client.get_products_with_rates(
        filter_rates_by=ConciseRatesInput(service_provider=provider)
    )
    if args.json:
        print(json.dumps(_jsonable(rates), indent=2), file=out)
        return
    zone = tdsp.load_zone.value if tdsp.load_zone else "?"
    print(f"{args.postal_code}: TDSP {provider.value}, load zone {zone}", file=out)
    rows = [
        (product.display_name, product.term, rate.total_applicable_rate)
        for product in rates.products_with_concise_applicable_rates or []
        if product is not None
        for rate in product.rates or []
        if rate is not None
    ]
    _table(rows, ("product", "term", "cents/kWh at 1000 kWh"), out)


def _cmd_sandbox(args: argparse.Namespace, out: TextIO) -> None:
    try:
        from .sandbox import serve
    except ImportError as exc:
        raise ConfigurationError(str(exc)) from exc
    try:
        serve(port=args.port, out=out)
    except ValueError as exc:  # a port out of range
        raise ConfigurationError(str(exc)) from exc
    except OSError as exc:  # e.g. the port is in use
        raise ConfigurationError(
            f"could not serve on port {args.port}: {exc.strerror or exc}; "
            "choose another --port (0: any free port)"
        ) from exc


_COMMANDS: dict[str, Callable[[SyncKrakenClient, argparse.Namespace, TextIO], None]] = {
    "token": _cmd_token,
    "viewer": _cmd_viewer,
    "account": _cmd_account,
    "products": _cmd_products,
}


def _exit_code(error: KrakenError) -> int:
    if isinstance(error, ConfigurationError):
        return EXIT_CODES["usage"]
    if isinstance(error, AuthenticationError):
        return EXIT_CODES["auth"]
    if isinstance(error, APIConnectionError):
        return EXIT_CODES["unreachable"]
    if isinstance(error, RateLimitError):
        return EXIT_CODES["rate_limited"]
    return EXIT_CODES["error"]


def _run(args: argparse.Namespace, out: TextIO) -> None:
    # A failure is reported in one line by main(). Without a handler of its own, the library's
    # log warnings (token request backoff, retries, token cache) would reach stderr as well,
    # through logging's last-resort handler.
    quiet = logging.NullHandler()
    library_logger = logging.getLogger("oeus_kraken")
    library_logger.addHandler(quiet)
    try:
        with _client(args) as client:
            _COMMANDS[args.command](client, args, out)
    finally:
        library_logger.removeHandler(quiet)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        if args.command == "sandbox":
            _cmd_sandbox(args, out)
        elif args.command == "codegen":
            return codegen_command.run(args, out)
        else:
            _run(args, out)
    except KrakenError as error:
        print(f"oeus-kraken {args.command}: {error}", file=sys.stderr)
        return _exit_code(error)
    except KeyboardInterrupt:
        return 130
    return EXIT_CODES["ok"]
