"""The commands against a server that answers what it likes: the sandbox's answers doctored on
the way (`doctored`), or a scripted answer. Text from the API reaches the terminal only as
printable text, in the lines around a table as in its cells, and in the one line of a failure.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from cli_helpers import Cli, Run, clean_env, cli, sandbox_env
from hostile_server import HostileServer, Request, at_once

from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_ORGANIZATION_SECRET_KEY, SandboxServer

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

ESI_ID = "10443720004512388"  # the first demo account's meter
# A newline to forge a line of its own, escape codes to clear the screen and retitle the window,
# and a right-to-left override to show text backwards.
HOSTILE = "\n2     Fake line\x1b[2J\x1b]0;pwned\x07\u202eevil"


def _control_codes(text: str) -> list[str]:
    return [c for line in text.splitlines() for c in line if not c.isprintable()]


def _doctor_strings(value: Any, keys: frozenset[str]) -> Any:
    if isinstance(value, dict):
        return {
            k: v + HOSTILE if k in keys and isinstance(v, str) else _doctor_strings(v, keys)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_doctor_strings(v, keys) for v in value]
    return value


def _expiring(value: Any, when: str) -> Any:
    """`value` with every expiresAt in it `when`."""
    if isinstance(value, dict):
        return {k: when if k == "expiresAt" else _expiring(v, when) for k, v in value.items()}
    if isinstance(value, list):
        return [_expiring(v, when) for v in value]
    return value


@pytest.fixture
def doctored(sandbox: SandboxServer) -> Iterator[Callable[[Callable[[Any], Any]], str]]:
    """`doctored(change)`: the URL of a server passing each request to the sandbox and its answer
    through `change` (token requests untouched)."""
    servers: list[HostileServer] = []
    http = httpx.Client()

    def start(change: Callable[[Any], Any]) -> str:
        def answer(request: Request) -> Iterator[tuple[bytes, float]]:
            headers = {k: v for k, v in request.headers.items() if k == "authorization"}
            headers["content-type"] = "application/json"
            document = http.post(sandbox.url, content=request.body, headers=headers).json()
            if request.operation != "getKrakenToken":
                document = change(document)
            yield from at_once(json.dumps(document).encode())

        server = HostileServer(answer).__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__(None, None, None)
    http.close()


@pytest.mark.parametrize(
    ("argv", "keys"),
    [
        (["viewer"], {"givenName", "familyName", "email"}),
        (["account", DEMO_ACCOUNT_NUMBERS[0]], {"number"}),
        (["quote", "--esi-id", ESI_ID, "--annual-kwh", "12000"], {"code", "postcode"}),
    ],
    ids=["viewer", "account", "quote"],
)
def test_api_text_in_the_line_above_a_table_sends_no_control_codes_to_the_terminal(
    cli: Cli,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    doctored: Callable[[Callable[[Any], Any]], str],
    argv: list[str],
    keys: set[str],
) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    url = doctored(lambda document: _doctor_strings(document, frozenset(keys)))

    run = cli(*argv, "--url", url)

    assert run.code == 0, run.err
    assert _control_codes(run.out) == []
    assert not any(line.startswith("2     Fake line") for line in run.out.splitlines())
    assert "\\n2     Fake line\\x1b[2J" in run.out.splitlines()[0]  # shown, spelt out


def test_an_api_error_message_with_a_newline_and_escape_codes_is_still_one_plain_line(
    cli: Cli, clean_env: None
) -> None:
    said = {"message": f"Something failed{HOSTILE}", "extensions": {"errorCode": "KT-CT-9999"}}
    body = json.dumps({"data": None, "errors": [said]}).encode()
    with HostileServer(lambda request: at_once(body)) as server:
        run = cli("products", "--url", server.url)

    assert run.code == 1, run
    [line] = run.err_lines
    assert line.startswith("oeus-kraken products: ")
    assert "Something failed\\n2     Fake line\\x1b[2J" in line
    assert _control_codes(run.err) == []


@pytest.fixture
def quote_in_year_1(
    cli: Cli,
    clean_env: None,
    monkeypatch: pytest.MonkeyPatch,
    doctored: Callable[[Callable[[Any], Any]], str],
) -> Callable[..., Run]:
    """Runs `quote ... OPTIONS` against a server whose quoted products expire in the year 1."""
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    url = doctored(lambda document: _expiring(document, "0001-01-01T00:00:00+00:00"))
    return lambda *options: cli(
        "quote", "--esi-id", ESI_ID, "--annual-kwh", "12000", *options, "--url", url
    )


def test_a_quote_expiring_in_the_year_1_shows_it_as_0001(
    quote_in_year_1: Callable[..., Run],
) -> None:
    run = quote_in_year_1()

    assert run.code == 0, run.err
    assert run.out.splitlines()[0].endswith("; expires 0001-01-01")


def test_csv_writes_a_utc_time_in_the_year_1_as_iso_8601(
    quote_in_year_1: Callable[..., Run],
) -> None:
    run = quote_in_year_1("--csv")

    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(run.out)))
    assert rows
    assert {row["expires_at"] for row in rows} == {"0001-01-01T00:00:00Z"}


# -- the token's claims, as the token endpoint gives them ----------------------------------------


def _token_server(claims: dict[str, Any]) -> HostileServer:
    """A server answering every request with a token carrying `claims` (as its payload)."""
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    token = f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part(claims)}.c2ln"
    answer = {"token": token, "payload": claims, "refreshToken": None, "refreshExpiresIn": None}
    body = json.dumps({"data": {"obtainKrakenToken": answer}}).encode()
    return HostileServer(lambda request: at_once(body))


def _claims(**more: Any) -> dict[str, Any]:
    now = int(time.time())
    return {"sub": "kraken|account-user:1", "iat": now, "exp": now + 3600, **more}


def test_token_claims_with_control_codes_are_printed_as_printable_text(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "sk_test_key")
    with _token_server(_claims(sub=f"kraken|x{HOSTILE}", **{f"we{HOSTILE}ird": 1})) as server:
        run = cli("token", "--no-token-cache", "--url", server.url)

    assert run.code == 0, run.err
    assert _control_codes(run.out) == []
    assert not any(line.startswith("2     Fake line") for line in run.out.splitlines())


def test_token_json_is_strict_json_though_a_claim_is_beyond_a_double(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "sk_test_key")
    claims = json.dumps(_claims()).replace("}", ', "huge": 1e400, "big": 1e300}')
    with _token_server(json.loads(claims)) as server:
        run = cli("token", "--json", "--no-token-cache", "--url", server.url)

    assert run.code == 0, run.err

    def refuse(constant: str) -> None:
        raise AssertionError(f"{constant} is not JSON")

    shown = json.loads(run.out, parse_constant=refuse)
    assert shown["claims"]["huge"] is None
    assert shown["claims"]["big"] == 1e300


def test_a_token_expiring_at_the_end_of_9999_is_held_and_shown_ending_there(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", "sk_test_key")
    # Issued 5 s ago, to end at 9999-12-31T23:59:59Z: held from now, it ends 5 s past the year 9999.
    claims = _claims(exp=253402300799, iat=int(time.time()) - 5)
    with _token_server(claims) as server:
        run = cli("token", "--no-token-cache", "--url", server.url)

    # Held from now, it ends 5 s past the calendar: shown as its last second, not a ValueError.
    assert run.code == 0, run
    assert "9999-12-31" in run.out
    assert "Traceback" not in run.err


# -- numbers no sum can be made of -------------------------------------------------------------


def _decimals(value: Any, to: str) -> Any:
    """`value` with each decimal the API gives as text ("19.1648") replaced by `to`."""
    if isinstance(value, dict):
        return {k: _decimals(v, to) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v, to) for v in value]
    if isinstance(value, str) and value.replace(".", "", 1).isdigit() and "." in value:
        return to
    return value


@pytest.mark.parametrize(
    "number", ["1e999999", "1e30"], ids=["beyond-decimal-range", "beyond-28-digits"]
)
def test_rates_the_api_gives_too_large_to_work_out_a_month_are_one_line_and_exit_1(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    doctored: Callable[[Callable[[Any], Any]], str],
    number: str,
) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    url = doctored(lambda document: _decimals(document, number))

    run = cli("rates", "--postal-code", "75001", "--url", url)

    assert run.code == 1, run
    [line] = run.err_lines
    assert line.startswith("oeus-kraken rates: ")
    assert "number" in line


def test_a_fan_club_discount_beyond_decimal_range_is_one_line_and_exit_1(
    cli: Cli, clean_env: None
) -> None:
    body = b'{"data": {"getFanClubDiscount": {"discountAmount": "1e999999"}}}'
    with HostileServer(lambda request: at_once(body)) as server:
        run = cli("fan-club", "--url", server.url)

    assert run.code == 1, run
    [line] = run.err_lines
    assert line.startswith("oeus-kraken fan-club: ")
