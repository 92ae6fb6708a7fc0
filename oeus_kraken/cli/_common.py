"""What every command shares: exit codes, the options for reaching the API, checks of what a user
types (refused before any request, saying the expected shape), and the client they build.

A command is registered with `add_command(...)` and runs as `run(call)`, where `call` is an
`Invocation`: the parsed options, the output stream, and the client, made on first use from the
URL and credentials the options or the environment name.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TextIO
from urllib.parse import urldefrag, urlsplit

from .._config import (
    PRODUCTION_URL,
    TEST_URL,
    check_url,
    credentials_from_env,
    is_loopback,
    shown_url,
)
from .._credentials import APIKey, Credentials, EmailPassword, OrganizationSecretKey, RefreshToken
from .._errors import ConfigurationError, KrakenError
from .._folders import expand_home

if TYPE_CHECKING:
    from .._client import SyncKrakenClient
    from .._token_store import FileTokenStore

EXIT_CODES = {
    "ok": 0,  # done; a usage sync: complete
    "error": 1,  # any other KrakenError (GraphQL error, invalid response, HTTP status, the store)
    "usage": 2,  # bad arguments or environment (also: credentials missing, extra not installed)
    "auth": 3,  # credentials rejected
    "unreachable": 4,  # could not reach the API (network, DNS, timeout)
    "rate_limited": 5,  # rate limited; try again later
    "stopped": 6,  # a usage sync stopped early, resumable: the hour's budget, or --max-requests
    "partial": 7,  # a usage sync: some accounts failed (named), the others synced
    "no_rows": 8,  # nothing in the range asked for (export: an empty file still written; chart)
    "interrupted": 130,  # Ctrl-C (128 + SIGINT)
    "broken_pipe": 141,  # the output's reader went away (`| head`): 128 + SIGPIPE, as for `yes`
}

# Each code in the words of a command's help, which lists only the codes that command can give.
EXIT_MEANINGS = {
    "ok": "ok",
    "error": "API error",
    "usage": "bad arguments or environment",
    "auth": "authentication failed",
    "unreachable": "API unreachable",
    "rate_limited": "rate limited",
    "stopped": "stopped early by the hour's budget or --max-requests (resumable)",
    "partial": "some accounts failed (the others synced)",
    "no_rows": "no rows in range",
    "interrupted": "interrupted",
    "broken_pipe": "output closed early (| head)",
}
# What a command that calls the API can end with; a store command makes no request (1: the
# store or a file it writes cannot be used).
API_EXITS = ("ok", "error", "usage", "auth", "unreachable", "rate_limited")
STORE_EXITS = ("ok", "error", "usage")
STORE_ERROR = "the store cannot be read, or a file written"


def exit_codes_text(kinds: Sequence[str], *, error: str = EXIT_MEANINGS["error"]) -> str:
    """`0 ok, 1 API error, ...` for these kinds of EXIT_CODES; every command can also be
    interrupted (130) and have its reader go away (141)."""
    meanings = EXIT_MEANINGS | {"error": error}
    every = [*kinds, "interrupted", "broken_pipe"]
    return ", ".join(f"{EXIT_CODES[kind]} {meanings[kind]}" for kind in every)


# Who may call a command's operations, as each command's help says.
Auth = Literal["public", "account user or organisation", "organisation"]

_CREDENTIAL_HELP = (
    "Credentials come from the options above, else KRAKEN_ORGANIZATION_SECRET_KEY, "
    "KRAKEN_API_KEY, KRAKEN_EMAIL + KRAKEN_PASSWORD or KRAKEN_REFRESH_TOKEN; the URL from --url, "
    "else KRAKEN_URL, else production."
)


class NotFoundError(KrakenError):
    """The API answered, and what was asked for is not there (exit 1)."""


def wrap(text: str, width: int) -> list[str]:
    """`text`'s words in lines of `width`, never breaking inside a word: textwrap's default
    breaks after a hyphen (`--max-` and `requests` on the next line) and inside a word longer
    than the line (a URL, a path), and an option split so cannot be copied or searched for."""
    return textwrap.wrap(
        " ".join(text.split()), width, break_on_hyphens=False, break_long_words=False
    )


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, wrapped by `wrap` (argparse offers no switch for it)."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return wrap(text, width)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(indent + line for line in wrap(text, width - len(indent)))


class RawDescriptionHelpFormatter(argparse.RawDescriptionHelpFormatter, HelpFormatter):
    """A description and epilog laid out by hand, kept as they are; options' help as above."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other failure of the command,
    and whose help never splits an option name across lines (HelpFormatter)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CODES["usage"], f"{self.prog}: {message} (see {self.prog} --help)\n")

    def _print_message(self, message: str, file: Any = None) -> None:
        # argparse drops an OSError here. With stdout unbuffered (PYTHONUNBUFFERED=1, as
        # Docker images set), the write itself meets the full disk or the closed pipe, so
        # `--help > /dev/full` exited 0 having shown nothing: let it through (main says it in
        # one line). On stderr, where an argument error goes, there is nowhere to say it.
        if file is sys.stdout and message:
            file.write(message)
        else:
            super()._print_message(message, file)


# -- what a user types, checked before any request ------------------------------------------------

ACCOUNT_NUMBER_EXAMPLE = "A-1234ABCD"
# Kraken account numbers are "A-" and 8 characters, hex in every one seen (A-5F3C9D21); any
# letter is accepted, in either case, so that an unseen real variant is not refused.
_ACCOUNT_NUMBER = re.compile(r"A-[0-9A-Z]{8}", re.IGNORECASE)
ESI_ID_EXAMPLE = "10443720004512388"
# ESI IDs are digits: 17 for most TDSPs, 22 for some (CenterPoint's long form).
_ESI_ID = re.compile(r"[0-9]{17,22}")
_POSTAL_CODE = re.compile(r"([0-9]{5})(-[0-9]{4})?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def account_number(text: str) -> str:
    """An account number as Kraken writes it (upper case), or an argparse error saying the shape."""
    candidate = text.strip()
    if not _ACCOUNT_NUMBER.fullmatch(candidate):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a Kraken account number: expected A- and 8 letters or digits, "
            f"e.g. {ACCOUNT_NUMBER_EXAMPLE}"
        )
    return candidate.upper()


def esi_id(text: str) -> str:
    candidate = text.strip()
    if not _ESI_ID.fullmatch(candidate):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ESI ID: expected 17 to 22 digits, e.g. {ESI_ID_EXAMPLE}"
        )
    return candidate


def account_or_esi_id(text: str) -> str:
    candidate = text.strip()
    if _ESI_ID.fullmatch(candidate):
        return candidate
    if _ACCOUNT_NUMBER.fullmatch(candidate):
        return candidate.upper()
    raise argparse.ArgumentTypeError(
        f"{text!r} is neither an account number (A- and 8 letters or digits, e.g. "
        f"{ACCOUNT_NUMBER_EXAMPLE}) nor an ESI ID (17 to 22 digits, e.g. {ESI_ID_EXAMPLE})"
    )


def postal_code(text: str) -> str:
    """The 5-digit ZIP code of a ZIP or ZIP+4 (what the API is asked with)."""
    match = _POSTAL_CODE.fullmatch(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a US postal code: expected 5 digits or ZIP+4, e.g. 75001 or "
            "75001-1234"
        )
    return match[1]


def local_date(text: str) -> date:
    """A Texas local date (America/Chicago), YYYY-MM-DD."""
    candidate = text.strip()
    try:
        if not _DATE.fullmatch(candidate):
            raise ValueError
        return date.fromisoformat(candidate)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: expected YYYY-MM-DD (a Texas local date), e.g. 2026-03-08"
        ) from None


def _in_ascii(text: str) -> str:
    """`text` without its spaces at the ends, if it is ASCII; else "", which no number is.
    int() and Decimal() read the digits of every script (fullwidth, Arabic-Indic): a --kwh or
    --port in them was taken, where the dates, ESI IDs and postal codes beside them are
    refused, as README says of anything but what it names."""
    stripped = text.strip()
    return stripped if stripped.isascii() else ""


def positive_kwh(text: str) -> Decimal:
    try:
        value = Decimal(_in_ascii(text))
    except InvalidOperation:
        value = Decimal("NaN")
    # At least 1 kWh: the rates spread the monthly fees over it, and 1e-300 kWh made fees per
    # kWh beyond any number (the sandbox answered with a decimal error, not a rate).
    if not value.is_finite() or not 1 <= value <= 10_000_000:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an amount of energy: expected a number of kWh from 1 to "
            "10,000,000, e.g. 1000"
        )
    return value


def positive_int(text: str) -> int:
    try:
        value = whole_number(text)
    except argparse.ArgumentTypeError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return value


def whole_number(text: str) -> int:
    try:
        return int(_in_ascii(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def non_empty_path(text: str) -> Path:
    """A path, with `~` expanded as a shell would (a quoted '~/x' is still your home)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    try:
        return expand_home(text)
    except ConfigurationError as exc:  # no home folder for a ~ (a container's arbitrary uid)
        raise argparse.ArgumentTypeError(exc.message) from None


def today_in_texas() -> date:
    from ..usage import local_date as texas_date

    return texas_date(datetime.now(timezone.utc))


def check_not_future(first: date, option: str) -> None:
    """Usage of a day still to come does not exist: a range starting then is refused."""
    today = today_in_texas()
    if first > today:
        raise ConfigurationError(
            f"{option} {first} is in the future (it is {today} in Texas): there is no usage "
            f"yet; give {today} or an earlier date"
        )


def check_date_range(first: date, last: date) -> None:
    if last < first:
        raise ConfigurationError(
            f"--to {last} is before --from {first}: the range is both dates and every day "
            "between (give --to on or after --from)"
        )


# -- options ---------------------------------------------------------------------------------------


# The options every command calling the API shares, with their defaults: accepted before the
# command too (`oeus-kraken -v viewer`), as git's and kubectl's are. Each is declared with no
# default (SUPPRESS), so that a run's namespace holds it only when it was given, and the one
# after the command, parsed last, wins; `_main.parse` then fills in these defaults.
SHARED_OPTIONS = {
    "verbose": 0,
    "url": None,
    "allow_insecure_http": False,
    "no_token_cache": False,
    "organization_secret_key": None,
    "api_key": None,
    "email": None,
    "password": None,
    "refresh_token": None,
}
# Those of them that take a value (`--url URL`), which `_main.route` steps over.
SHARED_VALUE_OPTIONS = tuple(
    f"--{dest.replace('_', '-')}" for dest, default in SHARED_OPTIONS.items() if default is None
)


def logging_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="the library's logs on stderr (retries, token requests; never secrets); -vv: "
        "also each HTTP request",
    )
    return parent


def token_cache_path() -> Path | None:
    """Where the token cache is, or None with no home folder to put it in (no HOME, and a uid
    with no passwd entry: a container run as an arbitrary user), where Path.home() raises."""
    from .._token_store import default_token_store_path

    try:
        return default_token_store_path()
    except RuntimeError:
        return None


def token_store(args: argparse.Namespace) -> FileTokenStore | None:
    """The token cache this run reads and writes: none with --no-token-cache or no home folder."""
    from .._token_store import FileTokenStore

    path = None if args.no_token_cache else token_cache_path()
    if path is None:
        return None
    try:
        return FileTokenStore(path)
    except ConfigurationError:  # a folder where the cache file goes: run without, as before
        logging.getLogger("oeus_kraken").warning(
            "token cache %s is a folder, not a file; running without a token cache", path
        )
        return None


def token_cache_help() -> str:
    """--no-token-cache's help, naming the cache file this run would use, and the rule."""
    path = token_cache_path()
    here = "none here: no home folder" if path is None else str(path).replace("%", "%%")
    return (  # (help text is a %-format)
        f"do not read or write the token cache, here {here} "
        "($XDG_CACHE_HOME/oeus-kraken/tokens.json, or ~/.cache/oeus-kraken/tokens.json when "
        "XDG_CACHE_HOME is unset, empty or relative)"
    )


def api_options() -> argparse.ArgumentParser:
    """The options of every command that calls the API (SHARED_OPTIONS: none has a default)."""
    parent = argparse.ArgumentParser(
        add_help=False, parents=[logging_options()], argument_default=argparse.SUPPRESS
    )
    parent.add_argument(
        "--url",
        help=f"GraphQL endpoint (default: KRAKEN_URL, else production {PRODUCTION_URL}; "
        f"test API: {TEST_URL})",
    )
    parent.add_argument(
        "--allow-insecure-http",
        action="store_true",
        help="allow an http:// URL that is not on this machine (credentials and tokens then "
        "travel unencrypted)",
    )
    parent.add_argument("--no-token-cache", action="store_true", help=token_cache_help())
    creds = parent.add_argument_group("credentials (prefer the KRAKEN_* environment variables)")
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
    return parent


def add_formats(parser: argparse.ArgumentParser, *, csv: bool) -> None:
    """--json, and --csv for a command whose output is a table."""
    formats = parser.add_mutually_exclusive_group()
    formats.add_argument(
        "--json", action="store_true", help="print JSON (the API's numbers, with their units)"
    )
    if csv:
        formats.add_argument(
            "--csv", action="store_true", help="print CSV: a header line, then one line per row"
        )


def output_format(args: argparse.Namespace) -> Literal["table", "json", "csv"]:
    if getattr(args, "json", False):
        return "json"
    if getattr(args, "csv", False):
        return "csv"
    return "table"


Run = Callable[["Invocation"], int | None]


def add_command(
    commands: Any,
    name: str,
    *,
    summary: str | None,
    description: str,
    run: Run,
    parents: Sequence[argparse.ArgumentParser],
    auth: Auth | None,
    exits: str | None = None,
    epilog: str | None = None,
    prog: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand. `summary` None leaves it out of the top-level list (the `usage` verbs,
    which `usage --help` names). `auth` None: the command does not call the API. `exits`: the
    exit codes it can give (exit_codes_text; default: those of a command calling the API)."""
    if epilog is None:
        epilog = _CREDENTIAL_HELP if auth is not None else ""
        epilog += f" Exit codes: {exits or exit_codes_text(API_EXITS)}."
    if auth is not None:
        # On a line of its own after a description laid out by hand in lines.
        description += ("\n" if "\n" in description else " ") + f"Auth: {auth}."
    options: dict[str, Any] = {
        "parents": list(parents),
        "description": description,
        # Wrapped here too: a command whose description is laid out by hand keeps the epilog's
        # lines as they are.
        "epilog": "\n".join(wrap(epilog, 92)),
    }
    if summary is not None:
        options["help"] = summary
    if prog is not None:
        options["prog"] = prog
    parser: argparse.ArgumentParser = commands.add_parser(name, **options)
    parser.set_defaults(run=run, auth=auth)
    return parser


# -- the client ------------------------------------------------------------------------------------


# Where each kind of credential comes from: its option(s), its variable(s). A failure line
# names the one this run used, so that the user knows what to correct.
_CREDENTIAL_SOURCES: dict[type, tuple[str, str]] = {
    OrganizationSecretKey: ("--organization-secret-key", "KRAKEN_ORGANIZATION_SECRET_KEY"),
    APIKey: ("--api-key", "KRAKEN_API_KEY"),
    EmailPassword: ("--email and --password", "KRAKEN_EMAIL and KRAKEN_PASSWORD"),
    RefreshToken: ("--refresh-token", "KRAKEN_REFRESH_TOKEN"),
}


def credentials_and_source(args: argparse.Namespace) -> tuple[Credentials | None, str | None]:
    """The run's credential, and the option or variable it came from (None, None: none)."""
    from_options = _credentials(args)
    credentials = from_options or credentials_from_env()
    if credentials is None:
        return None, None
    option, variable = _CREDENTIAL_SOURCES[type(credentials)]
    return credentials, option if from_options else variable


def _credentials(args: argparse.Namespace) -> Credentials | None:
    """The credential the options give, if any."""
    # Stripped as the KRAKEN_* variables are (credentials_from_env): `--api-key "$(cat key)"`
    # keeps a Windows file's \r, which the same key from the environment never carried.
    given = {
        "--organization-secret-key": args.organization_secret_key,
        "--api-key": args.api_key,
        "--email": args.email,
        "--password": args.password,
        "--refresh-token": args.refresh_token,
    }
    # An option given blank (`--api-key "$KEY"` with KEY unset) is a mistake, as an empty
    # --url is: read as not given, the run went on as whoever KRAKEN_* named.
    for option, value in given.items():
        if value is not None and not value.strip():
            raise ConfigurationError(
                f"{option} is empty: give its value (better in the environment, see --help), "
                "or leave the option out"
            )
    org_key, api_key, email, password, refresh_token = (
        (value or "").strip() for value in given.values()
    )
    if org_key:
        return OrganizationSecretKey(org_key)
    if api_key:
        return APIKey(api_key)
    if email or password:
        if not (email and password):
            raise ConfigurationError("--email and --password go together")
        return EmailPassword(email, password)
    if refresh_token:
        return RefreshToken(refresh_token)
    return None


def api_url(args: argparse.Namespace) -> tuple[str, str]:
    """The endpoint, and where it came from (for messages). An empty --url or KRAKEN_URL is a
    mistake (a variable that did not expand, a script's empty default), not a wish for
    production: it is refused rather than sent there."""
    if args.url is not None:
        if not args.url.strip():
            raise ConfigurationError(
                "--url is empty: give the GraphQL endpoint, e.g. --url "
                f"{TEST_URL}, or leave --url out (then KRAKEN_URL, else production)"
            )
        return args.url.strip(), "--url"
    from_env = os.environ.get("KRAKEN_URL")
    if from_env is not None:
        if not from_env.strip():
            raise ConfigurationError(
                "KRAKEN_URL is set but empty: set it to the GraphQL endpoint, or unset it "
                "(`unset KRAKEN_URL`) to use production"
            )
        return from_env.strip(), "KRAKEN_URL"
    return PRODUCTION_URL, "the default, production"


def _checked_url(url: str, source: str, allow_insecure_http: bool) -> str:
    """The URL to call, without its #fragment: no request sends one, and so no message of the
    library's that names the URL shows what it may hold."""
    try:
        return urldefrag(check_url(url, allow_insecure_http=allow_insecure_http)).url
    except ValueError:  # a ConfigurationError, or urllib's own for a malformed host ("[::1")
        pass
    host = port_ok = None
    with contextlib.suppress(ValueError):
        parts = urlsplit(url)
        host = parts.hostname if parts.scheme == "http" else None
        port_ok = parts.port is None or parts.port > 0  # urllib: ValueError outside 0-65535
    # The plain-http refusal only for what it is about: a well-formed URL off this machine
    # without the override (it was also said of 127.0.0.1:99999, and to a run that gave it).
    if host and port_ok and not allow_insecure_http and not is_loopback(host):
        raise ConfigurationError(
            f"refusing plain http:// for {host!r} (from {source}): credentials and tokens "
            "would travel unencrypted. Use https://, or http:// on this machine (127.0.0.1, "
            "localhost) such as a sandbox; --allow-insecure-http overrides this."
        ) from None
    # A value with no scheme at all is often a key in the wrong variable: never printed.
    given = repr(shown_url(url)) if "://" in url else "the value (not shown: it may be a key)"
    raise ConfigurationError(
        f"{given} (from {source}) is not an http(s) URL with a host (and a port, if any, from "
        f"1 to 65535): expected e.g. {PRODUCTION_URL}"
    ) from None


_WHOSE = {
    "account user or organisation": "an account user's or an organisation's credentials",
    "organisation": "an organisation's credentials (its secret key)",
}


@dataclass
class Invocation:
    """One run of one command: what it was given, and what it made (closed by `close`)."""

    command: str
    args: argparse.Namespace
    out: TextIO
    url: str | None = None
    url_source: str | None = None
    account: str | None = None  # the account number asked about, for error messages
    credential_source: str | None = None  # "--api-key", "KRAKEN_API_KEY": for error messages
    # What a mutation under way would make ("the quote"): Ctrl-C then says it may exist.
    making: str | None = None
    _client: SyncKrakenClient | None = field(default=None, repr=False)

    def client(self) -> SyncKrakenClient:
        if self._client is None:
            self._client = self._make_client()
        return self._client

    def _make_client(self) -> SyncKrakenClient:
        from .._client import SyncKrakenClient

        args = self.args
        self.url, self.url_source = api_url(args)
        url = _checked_url(self.url, self.url_source, args.allow_insecure_http)
        credentials, self.credential_source = credentials_and_source(args)
        if credentials is None and args.auth != "public":
            raise ConfigurationError(
                f"no credentials: {self.command} needs {_WHOSE[args.auth]}. Set "
                "KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_API_KEY, KRAKEN_EMAIL + KRAKEN_PASSWORD "
                "or KRAKEN_REFRESH_TOKEN, or pass the matching option (see --help)"
            )
        # Tokens are cached between runs (an owner-only file) so that running a command twice
        # within a token's lifetime asks the API for one token, not two.
        store = token_store(args)
        return SyncKrakenClient(
            url,
            credentials=credentials,
            token_store=store,
            allow_insecure_http=args.allow_insecure_http,
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
