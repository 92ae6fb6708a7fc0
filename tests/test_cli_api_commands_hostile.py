"""The commands that call the API, against a server that fails them: each failure is one line
saying what the command's user can do (an option or variable to correct, run again later), never
what a program using the library would do (raise `timeout=`, create the client again); `quote`,
a mutation, is never sent twice after an answer that may have been acted on; and nothing secret
the API quotes back reaches stderr.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import cli_helpers
import pytest
from auth_helpers import token_response
from cli_helpers import Cli, assert_one_error_line, clean_env, cli, instant_waits, sandbox_env
from hostile_server import HostileServer, Request, at_once, trickle

import oeus_kraken._client
from oeus_kraken import SyncKrakenClient
from oeus_kraken.sandbox import DEMO_EMAIL, SandboxServer

__all__ = ["clean_env", "cli", "instant_waits", "sandbox_env"]  # fixtures, used by name

ACCOUNT = "A-5F3C9D21"
ESI_ID = "10443720004512388"
# A credential of the suite's own, distinctive enough to be found anywhere it leaks.
SECRET_KEY = "sk_live_CLIPROBE-secret-4f1e9a"
REFRESH_TOKEN = "RTCLIPROBE-secret-77b2c0"

# Each API command once, with what it calls first after any token (the operation a failure names).
API_COMMANDS = {
    "viewer": ("viewer",),
    "account": ("account", ACCOUNT),
    "products": ("products",),
    "rates": ("rates", "--esi-id", ESI_ID),
    "quote": ("quote", "--postal-code", "75001"),
    "fan-club": ("fan-club",),
    "esi": ("esi", ESI_ID),
    "address": ("address", "--street", "1 Main St", "--postal-code", "75001"),
    "usage": ("usage", ACCOUNT, "--from", "2026-10-15", "--to", "2026-10-15"),
}
# What a command's user cannot act on: the library's advice to a program.
PROGRAM_ADVICE = (
    "timeout=",
    "max_response_bytes=",
    "create it",
    "Create the client",
    "Point the client",
    "make schema",
)


def _is_token_request(request: Request) -> bool:
    return b"obtainKrakenToken" in request.body


def _token() -> Iterator[tuple[bytes, float]]:
    return at_once(json.dumps(token_response(refresh_token=REFRESH_TOKEN)).encode())


def _graphql_error(message: str, code: str) -> Iterator[tuple[bytes, float]]:
    error = {"message": message, "extensions": {"errorCode": code}}
    return at_once(json.dumps({"data": None, "errors": [error]}).encode())


@pytest.fixture
def quick_timeouts(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' client with a 0.5 s timeout in place of 30 s: what a timeout makes the
    command say, without waiting for the real one."""

    class Quick(SyncKrakenClient):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "timeout": 0.5})

    monkeypatch.setattr(oeus_kraken._client, "SyncKrakenClient", Quick)


def _served(
    monkeypatch: pytest.MonkeyPatch, data: Callable[[Request], Iterable[tuple[bytes, float]]]
) -> HostileServer:
    """A server answering token requests with a token, and every other request with `data`;
    KRAKEN_URL names it, KRAKEN_ORGANIZATION_SECRET_KEY the suite's key."""

    def answer(request: Request) -> Iterable[tuple[bytes, float]]:
        return _token() if _is_token_request(request) else data(request)

    server = HostileServer(answer)
    monkeypatch.setenv("KRAKEN_URL", server.url)
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", SECRET_KEY)
    return server


def _failure_line(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    data: Callable[[Request], Iterable[tuple[bytes, float]]],
    argv: tuple[str, ...],
    kind: str,
) -> str:
    """The one line `oeus-kraken ARGV` fails with against `_served(data)`, which gives no advice
    meant for a program."""
    with _served(monkeypatch, data):
        line = assert_one_error_line(cli(*argv), argv[0], kind)
    assert not any(advice in line for advice in PROGRAM_ADVICE), line
    return line


# -- what to do, in the command line's words ------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "variables", "source"),
    [
        (
            (),
            {"KRAKEN_ORGANIZATION_SECRET_KEY": "sk_test_org_not_a_key"},
            "KRAKEN_ORGANIZATION_SECRET_KEY",
        ),
        (("--api-key", "sk_test_not_a_key"), {}, "--api-key"),
        (
            (),
            {"KRAKEN_EMAIL": DEMO_EMAIL, "KRAKEN_PASSWORD": "not-it"},
            "KRAKEN_EMAIL and KRAKEN_PASSWORD",
        ),
        ((), {"KRAKEN_REFRESH_TOKEN": "not-a-refresh-token"}, "KRAKEN_REFRESH_TOKEN"),
    ],
    ids=["org-key-variable", "api-key-option", "email-password-variables", "refresh-token"],
)
def test_a_rejected_credential_names_the_option_or_variable_to_correct(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    options: tuple[str, ...],
    variables: dict[str, str],
    source: str,
) -> None:
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    line = assert_one_error_line(cli("viewer", "--no-token-cache", *options), "viewer", "auth")
    assert source in line
    assert not any(advice in line for advice in PROGRAM_ADVICE), line


def _no_answer(_: Request) -> Iterable[tuple[bytes, float]]:
    return [(b"", 5.0)]  # nothing, for longer than the timeout


def _trickling(_: Request) -> Iterable[tuple[bytes, float]]:
    return trickle(b'{"data": {}}' + b" " * 100, every=0.1)  # past the deadline, a byte at a time


@pytest.mark.usefixtures("clean_env", "quick_timeouts", "instant_waits")
@pytest.mark.parametrize("server", [_no_answer, _trickling], ids=["no-answer", "trickling"])
@pytest.mark.parametrize("argv", API_COMMANDS.values(), ids=API_COMMANDS.keys())
def test_a_call_that_times_out_says_run_again_later_not_raise_a_timeout(
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    server: Callable[[Request], Iterable[tuple[bytes, float]]],
    argv: tuple[str, ...],
) -> None:
    line = _failure_line(cli, monkeypatch, server, argv, "unreachable")
    assert "run the command again later" in line.lower()


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("argv", API_COMMANDS.values(), ids=API_COMMANDS.keys())
def test_an_answer_beyond_the_size_cap_says_to_check_the_url_not_raise_the_cap(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    def endless(_: Request) -> Iterator[tuple[bytes, float]]:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        yield head + b"Transfer-Encoding: chunked\r\n\r\n", 0.0
        while True:  # a body that never ends
            yield b"100000\r\n" + b" " * 0x100000 + b"\r\n", 0.0

    assert "GraphQL endpoint" in _failure_line(cli, monkeypatch, endless, argv, "error")


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("argv", API_COMMANDS.values(), ids=API_COMMANDS.keys())
def test_an_answer_of_another_shape_says_to_upgrade_not_regenerate_code(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    def wrong_shape(_: Request) -> Iterator[tuple[bytes, float]]:
        # Each command's root field, a number where an object or a list belongs.
        wrong = dict.fromkeys(("viewer", "account", "getFanClubDiscount", "createQuote"), 5)
        wrong |= dict.fromkeys(
            ("products", "addressLookup", "productsWithConciseApplicableRates"), 5
        )
        return at_once(json.dumps({"data": wrong}).encode())

    line = _failure_line(cli, monkeypatch, wrong_shape, argv, "error")
    assert "upgrade oeus-kraken" in line


@pytest.mark.usefixtures("clean_env", "instant_waits")
@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("301 Moved Permanently", "set KRAKEN_URL to the GraphQL endpoint itself"),
        ("404 Not Found", "check the URL (from KRAKEN_URL)"),
        ("502 Bad Gateway", "run the command again later"),
    ],
)
@pytest.mark.parametrize("argv", API_COMMANDS.values(), ids=API_COMMANDS.keys())
def test_an_http_status_with_no_graphql_answer_says_what_to_do_about_it(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, status: str, advice: str, argv: tuple[str, ...]
) -> None:
    def page(_: Request) -> Iterable[tuple[bytes, float]]:
        headers = "Location: https://elsewhere.example/v1/graphql/\r\n" if "301" in status else ""
        return at_once(b"<html><body>no</body></html>", status=status, headers=headers)

    assert advice in _failure_line(cli, monkeypatch, page, argv, "error")


@pytest.mark.usefixtures("clean_env")
def test_a_redirected_token_request_names_the_variable_to_set(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    redirect = at_once(
        b"", status="308 Permanent Redirect", headers="Location: https://x.example/\r\n"
    )
    with HostileServer(lambda _: redirect) as server:
        monkeypatch.setenv("KRAKEN_URL", server.url)
        monkeypatch.setenv("KRAKEN_API_KEY", SECRET_KEY)
        line = assert_one_error_line(cli("viewer"), "viewer", "error")
    assert "Set KRAKEN_URL to the GraphQL endpoint itself" in line
    assert "Point the client" not in line
    assert line.count("GraphQL endpoint") == 1  # (said once)


def test_a_page_that_names_the_endpoint_itself_still_gets_the_advice(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sandbox's 404 page says where its endpoint is: the line still says what to change.
    monkeypatch.setenv("KRAKEN_URL", sandbox.url + "v1/graphql/")
    line = assert_one_error_line(cli("fan-club"), "fan-club", "error")
    assert "check the URL (from KRAKEN_URL)" in line


# -- quote: a mutation, sent once ----------------------------------------------------------------


@pytest.mark.usefixtures("clean_env", "quick_timeouts", "instant_waits")
@pytest.mark.parametrize("fault", ["no answer", "connection dropped mid-answer"])
@pytest.mark.parametrize(
    "argv",
    [("quote", "--postal-code", "75001"), ("quote", "--account", ACCOUNT, "--json")],
    ids=["create-quote", "customer-quote"],
)
def test_a_quote_is_sent_once_when_its_answer_may_have_been_acted_on(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, fault: str, argv: tuple[str, ...]
) -> None:
    def cut_short(_: Request) -> Iterator[tuple[bytes, float]]:
        if fault == "no answer":
            yield b"", 5.0
            return
        yield b'HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n{"data":', 0.0
        raise OSError("the connection drops")  # (HostileServer closes it)

    with _served(monkeypatch, cut_short) as server:
        run = cli(*argv)
        mutations = [r for r in server.requests if not _is_token_request(r)]
    assert_one_error_line(run, "quote", "unreachable")
    assert len(mutations) == 1


# -- secrets the API quotes back -------------------------------------------------------------------


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize(
    "argv", [API_COMMANDS["viewer"], API_COMMANDS["quote"]], ids=["query", "mutation"]
)
def test_a_credential_or_refresh_token_an_api_error_quotes_back_is_not_on_stderr(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    def quoting_back(_: Request) -> Iterable[tuple[bytes, float]]:
        return _graphql_error(f"could not read {SECRET_KEY} / {REFRESH_TOKEN}", "KT-CT-1605")

    with _served(monkeypatch, quoting_back):
        run = cli(*argv, "-v")
    assert run.code == 1
    assert (SECRET_KEY in run.err, REFRESH_TOKEN in run.err) == (False, False)


# -- answers a command cannot use ------------------------------------------------------------------


@pytest.mark.usefixtures("clean_env")
def test_a_quote_for_an_esi_id_whose_looked_up_postal_code_is_garbled_is_one_line_and_no_quote(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`quote --esi-id` asks the address lookup for the premise's postal code: one that is no
    US postal code is the API's fault, said in one line (exit 1), and no quote is created. It
    escaped as argparse's ArgumentTypeError, a traceback."""
    fields = "houseNumber address address2 city state serviceProvider loadZone isCustomer"
    premise = dict.fromkeys(fields.split())

    def lookup(request: Request) -> Iterable[tuple[bytes, float]]:
        found = {"addressLookup": [premise | {"esiId": ESI_ID, "postCode": "not a zip"}]}
        return at_once(json.dumps({"data": found}).encode())

    with _served(monkeypatch, lookup) as server:
        line = assert_one_error_line(cli("quote", "--esi-id", ESI_ID), "quote", "error")
        operations = [r.operation for r in server.requests if not _is_token_request(r)]
    assert "'not a zip'" in line, line
    assert "--postal-code" in line, line
    assert operations == ["lookupAddressByEsiId"]  # no createQuote


@pytest.mark.usefixtures("clean_env")
def test_a_balance_of_more_than_28_digits_is_shown_to_the_cent_not_rounded(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cents become dollars exactly, however many digits: 32 nines of cents showed as
    $1,000,000,000,000,000,000,000,000,000,000.00 (divided by 100 in Python's 28-digit context)."""
    balance = int("9" * 32)

    def account(_: Request) -> Iterable[tuple[bytes, float]]:
        found = {"number": ACCOUNT, "status": "ACTIVE", "balance": balance, "properties": []}
        return at_once(json.dumps({"data": {"account": found}}).encode())

    with _served(monkeypatch, account):
        run = cli("account", ACCOUNT)
    assert run.code == 0, run.err
    assert f"balance ${balance // 100:,}.99" in run.out, run.out


@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("amount", ["1.5", "-0.5"])
def test_a_fan_club_discount_that_is_no_fraction_is_one_line_not_shown_as_a_discount(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, amount: str
) -> None:
    """A discount is a fraction of the energy charge, 0 to 1: 1.5 showed as "150% off" and
    -0.5 as "-50% off", a discount no one gives."""

    def discount(_: Request) -> Iterable[tuple[bytes, float]]:
        found = {"getFanClubDiscount": {"discountAmount": amount}}
        return at_once(json.dumps({"data": found}).encode())

    with _served(monkeypatch, discount):
        line = assert_one_error_line(cli("fan-club"), "fan-club", "error")
    assert f"discount of {amount}" in line, line


@pytest.mark.usefixtures("clean_env")
def test_a_months_estimate_of_half_a_cent_is_shown_rounded_away_from_zero_as_a_bill_rounds(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """1.2345 cents/kWh for 1,000 kWh is 1,234.5 cents: $12.35, as a bill and `compare` round
    (README), where Python's half-to-even formatting showed $12.34."""
    fields = (
        "serviceProvider loadZone kwhUsage totalApplicableRate "
        "totalApplicableRateWithMonthlySubscriptionFees totalApplicableDayRate "
        "totalApplicableNightRate totalApplicableDayRateWithMonthlySubscriptionFees "
        "totalApplicableNightRateWithMonthlySubscriptionFees serviceProviderConsumptionRate "
        "serviceProviderConsumptionRateUnitType serviceProviderStandingRate "
        "serviceProviderStandingRateUnitType loadZoneConsumptionRate "
        "loadZoneConsumptionRateUnitType loadZoneDayTimeConsumptionRate "
        "loadZoneDayTimeRateUnitType loadZoneNightTimeConsumptionRate "
        "loadZoneNightTimeRateUnitType"
    )
    rate = dict.fromkeys(fields.split()) | {
        "serviceProvider": "ONCOR",
        "kwhUsage": "1000",
        "totalApplicableRate": "1.2345",
        "totalApplicableRateWithMonthlySubscriptionFees": "1.2345",
    }
    product = {"id": "1", "displayName": "Half", "fullName": "Half", "description": None,
               "term": 12, "prepay": False, "rates": [rate]}  # fmt: skip

    def rates(_: Request) -> Iterable[tuple[bytes, float]]:
        found = {"productsWithConciseApplicableRates": [product]}
        return at_once(json.dumps({"data": found}).encode())

    with _served(monkeypatch, rates):
        run = cli("rates", "--esi-id", ESI_ID)
    assert run.code == 0, run.err
    [row] = [line for line in run.out.splitlines() if line.startswith("Half")]
    assert row.endswith("$12.35"), row


@pytest.mark.usefixtures("clean_env")
def test_a_quote_without_a_code_says_so_not_none(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """The schema lets a quote's code be null: the heading read "quote None for 75001"."""

    def quoted(request: Request) -> Iterable[tuple[bytes, float]]:
        quote = {"quoteId": None, "code": None, "postcode": "75001", "quotedProducts": []}
        return at_once(json.dumps({"data": {"createQuote": {"quote": quote}}}).encode())

    with _served(monkeypatch, quoted):
        run = cli("quote", "--postal-code", "75001")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "quote (the API gives it no code) for 75001", run.out


@pytest.mark.parametrize(
    ("argv", "held", "warned"),
    [
        (("quote", "--postal-code", "75001"), "createQuote", True),
        (("quote", "--esi-id", ESI_ID), "lookupAddressByEsiId", False),
    ],
    ids=["during-the-mutation", "before-it"],
)
def test_ctrl_c_while_a_quote_is_under_way_says_one_may_have_been_made(
    tmp_path: Path, argv: tuple[str, ...], held: str, warned: bool
) -> None:
    """Ctrl-C once the quote was asked for: the API may have made it, as after a timeout,
    which says so; the line said only "interrupted (Ctrl-C)", and a user asked again. Ctrl-C
    before (while its postal code is looked up) made nothing, and says nothing of it."""
    arrived = threading.Event()

    def holding(request: Request) -> Iterable[tuple[bytes, float]]:
        if _is_token_request(request):
            return _token()
        if request.operation == held:
            arrived.set()
        return [(b"", 30.0)]  # no answer while the test runs

    with HostileServer(holding) as server:
        env = {"KRAKEN_URL": server.url, "KRAKEN_ORGANIZATION_SECRET_KEY": SECRET_KEY}
        child = subprocess.Popen(
            [sys.executable, "-m", "oeus_kraken", *argv, "--no-token-cache"],
            env=cli_helpers.process_env(env, tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert arrived.wait(60), "the request never arrived"
            child.send_signal(signal.SIGINT)
            _, err = child.communicate(timeout=60)
        finally:
            child.kill()
    assert child.returncode == 130, err
    [line] = err.splitlines()
    assert line.startswith("oeus-kraken quote: interrupted (Ctrl-C)"), line
    assert ("for the quote, which it may have made" in line) == warned, line


@pytest.mark.usefixtures("clean_env")
def test_csv_spells_out_a_newline_and_an_escape_code_in_the_apis_text_as_a_table_does(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    # README: CSV is a header line, then one line per row, and the API's text cannot add a
    # line nor drive the terminal. Before: both went out raw, the row over two lines.
    name = "Fixed\n12\x1b[2J"

    def products(_: Request) -> Iterable[tuple[bytes, float]]:
        product = dict.fromkeys(_PRODUCT_FIELDS) | {"id": "1", "code": "F-12", "term": 12}
        found = {"products": [product | {"displayName": name, "isWholesale": False}]}
        return at_once(json.dumps({"data": found}).encode())

    with _served(monkeypatch, products):
        run = cli("products", "--csv")
    assert run.code == 0, run
    assert run.out.splitlines() == ["code,display_name,term_months", "F-12,Fixed\\n12\\x1b[2J,12"]


# What getProducts asks of a product (queries/products.graphql).
_PRODUCT_FIELDS = [
    "fullName",
    "description",
    "prepay",
    "basedOnTimeOfUse",
    "availableFrom",
    "availableTo",
    "generationCredit",
]
