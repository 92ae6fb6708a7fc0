"""Errors say where and what, in a user's words, before any request when they can.

Each failure is one line on stderr, `oeus-kraken COMMAND: ...`, with the exit code for its kind:
the URL it could not reach and where that URL came from; an empty URL refused (never a silent
fall-back to production); account numbers, ESI IDs, postal codes and dates of the wrong shape
refused with the shape expected; an account the credentials cannot see named as such; missing
credentials a usage error (2); the http:// refusal naming --allow-insecure-http; rate limits
saying when to run again. Each kind is shown once with a real process, and its variants in this
process.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_helpers import (
    UNREACHABLE_URL,
    Cli,
    Run,
    assert_one_error_line,
    clean_env,
    cli,
    instant_waits,
    run_process,
    sandbox_env,
)

from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    OTHER_ACCOUNT_NUMBER,
    SandboxServer,
)

__all__ = ["clean_env", "cli", "instant_waits", "sandbox_env"]  # fixtures, used by name

ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
ESI_ID = "10443720004512388"  # the first demo account's meter
DAY = ("--from", "2026-07-14", "--to", "2026-07-14")


@pytest.fixture
def org_env(sandbox_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)


# -- the URL ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_unreachable_host_names_the_url_and_where_it_came_from(tmp_path: Path) -> None:
    # A real process: only there would the library's own log warnings (token request backoff,
    # retries) reach stderr next to the error line.
    env = {"KRAKEN_API_KEY": DEMO_API_KEY}

    run = run_process("viewer", "--url", UNREACHABLE_URL, env=env, tmp_path=tmp_path)

    line = assert_one_error_line(run, "viewer", "unreachable")
    assert f"(URL {UNREACHABLE_URL}, from --url)" in line
    assert "could not reach the Kraken API" in line
    assert run.out == ""


@pytest.mark.usefixtures("instant_waits")
def test_an_unreachable_host_from_kraken_url_says_it_came_from_there(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_URL", UNREACHABLE_URL)

    run = cli("viewer", "--api-key", DEMO_API_KEY)

    line = assert_one_error_line(run, "viewer", "unreachable")
    assert f"(URL {UNREACHABLE_URL}, from KRAKEN_URL)" in line
    assert "could not reach" in line


def test_an_empty_url_option_is_refused_not_sent_to_production(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer
) -> None:
    # KRAKEN_URL names the sandbox: an empty --url must not fall back to it, nor to production.
    run = cli("products", "--url", "")

    line = assert_one_error_line(run, "products", "usage")
    assert "--url is empty" in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_an_empty_kraken_url_is_refused_not_a_fall_back_to_production(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KRAKEN_URL", value)

    run = cli("products")

    line = assert_one_error_line(run, "products", "usage")
    assert "KRAKEN_URL is set but empty" in line
    assert "unset KRAKEN_URL" in line


@pytest.mark.parametrize("url", ["ftp://example.com/graphql", "https://"])
def test_a_url_that_is_not_http_is_refused_naming_it(cli: Cli, clean_env: None, url: str) -> None:
    line = assert_one_error_line(cli("products", "--url", url), "products", "usage")
    assert repr(url) in line
    assert "(from --url)" in line


@pytest.mark.parametrize("value", ["not a url", "sk_live_SECRET0123456789abcdef"])
def test_a_url_value_that_is_no_url_at_all_is_refused_without_echoing_it(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # Such a value is often a key in the wrong variable (KRAKEN_URL=$KRAKEN_API_KEY): the line
    # says where it came from and what is wrong, and never prints it.
    monkeypatch.setenv("KRAKEN_URL", value)
    run = cli("products")
    line = assert_one_error_line(run, "products", "usage")
    assert value not in run.err + run.out
    assert "KRAKEN_URL" in line
    assert "not an http(s) URL" in line


@pytest.mark.parametrize(
    ("url", "options"),
    [
        ("http://127.0.0.1:99999/v1/graphql/", ()),
        ("http://localhost:port/v1/graphql/", ()),
        ("http://kraken.example.invalid:99999/v1/graphql/", ("--allow-insecure-http",)),
    ],
    ids=["loopback", "no number", "--allow-insecure-http given"],
)
def test_a_url_whose_port_is_no_port_says_so_not_that_http_is_refused(
    cli: Cli, clean_env: None, url: str, options: tuple[str, ...]
) -> None:
    # It said "refusing plain http:// for '127.0.0.1' ... use http:// on this machine
    # (127.0.0.1, ...)", and "--allow-insecure-http overrides this" to a run that gave it.
    line = assert_one_error_line(cli("products", "--url", url, *options), "products", "usage")
    assert "refusing plain http://" not in line
    assert "port" in line
    assert repr(url) in line


@pytest.mark.usefixtures("instant_waits")
def test_the_http_refusal_names_the_option_that_overrides_it(cli: Cli, clean_env: None) -> None:
    key = ("--api-key", DEMO_API_KEY)
    url = "http://kraken.example.invalid/v1/graphql/"

    refused = cli("viewer", "--url", url, *key)
    allowed = cli("viewer", "--url", url, "--allow-insecure-http", *key)

    line = assert_one_error_line(refused, "viewer", "usage")
    assert "refusing plain http://" in line
    assert "--allow-insecure-http overrides this" in line
    assert "allow_insecure_http=True" not in line  # the library's name, not the CLI's
    # With the option, the client goes on to try the host (which does not exist).
    assert url in assert_one_error_line(allowed, "viewer", "unreachable")


# -- credentials -----------------------------------------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", " "])
def test_a_credential_option_read_from_a_file_with_its_line_end_works_as_the_variable_does(
    cli: Cli, sandbox_env: None, end: str
) -> None:
    # `--api-key "$(cat key.txt)"` keeps a Windows file's \r; KRAKEN_API_KEY set from the same
    # file worked (the environment's values are stripped), the option was "authentication
    # failed", exit 3, and the key was not to be sent again.
    run = cli("viewer", "--no-token-cache", "--api-key", DEMO_API_KEY + end)
    assert run.code == 0, run.err
    assert DEMO_EMAIL in run.out


def test_missing_credentials_exit_2_as_a_process(tmp_path: Path, sandbox: SandboxServer) -> None:
    run = run_process("viewer", env={"KRAKEN_URL": sandbox.url}, tmp_path=tmp_path)

    line = assert_one_error_line(run, "viewer", "usage")
    assert "no credentials" in line
    assert "KRAKEN_API_KEY" in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize(
    ("argv", "whose"),
    [
        (("account", ACCOUNT), "an account user's or an organisation's"),
        (("usage", ACCOUNT, *DAY), "an account user's or an organisation's"),
        (("esi", ESI_ID), "an organisation's"),
        (("address", "--street", "2415 Elm St", "--postal-code", "75201"), "an organisation's"),
        (("quote", "--postal-code", "75201"), "an organisation's"),
        (("quote", "--account", ACCOUNT), "an account user's or an organisation's"),
        (("usage", "sync", ACCOUNT), "an account user's or an organisation's"),
    ],
    ids=lambda v: v if isinstance(v, str) else " ".join(v[:2]),
)
def test_each_command_needing_credentials_says_whose_and_exits_2(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, argv: tuple[str, ...], whose: str
) -> None:
    command = "usage sync" if argv[:2] == ("usage", "sync") else argv[0]
    line = assert_one_error_line(cli(*argv), command, "usage")
    assert f"needs {whose} credentials" in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize(
    "argv",
    [
        ("products",),
        ("rates", "--postal-code", "75001"),
        ("rates", "--esi-id", ESI_ID),
        ("fan-club",),
    ],
    ids=" ".join,
)
def test_public_commands_need_no_credentials(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, argv: tuple[str, ...]
) -> None:
    run = cli(*argv)
    assert run.code == 0, run.err
    assert sandbox.stats.token_requests == 0


# -- account numbers -------------------------------------------------------------------------------

NOT_ACCOUNT_NUMBERS = [
    "",
    " ",
    "A-",
    "A-1234",
    "A-1234ABCDE",
    "B-1234ABCD",
    "A1234ABCD",
    "A-12-4ABC",
]


def test_an_account_number_of_the_wrong_shape_is_refused_before_any_request_as_a_process(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = {"KRAKEN_URL": sandbox.url, "KRAKEN_API_KEY": DEMO_API_KEY}
    run = run_process("account", "A-12345", env=env, tmp_path=tmp_path)

    line = assert_one_error_line(run, "account", "usage")
    assert "'A-12345' is not a Kraken account number" in line
    assert "A- and 8 letters or digits, e.g. A-1234ABCD" in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("number", NOT_ACCOUNT_NUMBERS)
@pytest.mark.parametrize(
    "command",
    [
        ("account", "{}"),
        ("usage", "{}", *DAY),
        ("usage", "export", "{}", *DAY),
        ("usage", "chart", "{}", *DAY, "--out", "x.png"),
        ("usage", "sync", "{}"),
        ("quote", "--account", "{}"),
    ],
    ids=lambda c: " ".join(w for w in c[:2] if w != "{}"),
)
def test_every_command_refuses_an_account_number_of_the_wrong_shape(
    cli: Cli, org_env: None, sandbox: SandboxServer, command: tuple[str, ...], number: str
) -> None:
    argv = [number if word == "{}" else word for word in command]
    name = " ".join(command[:2]) if command[1] in ("export", "chart", "sync") else command[0]
    line = assert_one_error_line(cli(*argv), name, "usage")
    assert f"{number!r} is" in line
    assert "A-1234ABCD" in line
    assert sandbox.stats.requests == 0


def test_an_account_number_in_lower_case_is_the_same_account(cli: Cli, org_env: None) -> None:
    run = cli("account", ACCOUNT.lower())
    assert run.code == 0, run.err
    assert run.out.startswith(ACCOUNT)


@pytest.mark.slow
def test_another_users_account_says_not_found_or_not_visible_and_to_check_the_number(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = {"KRAKEN_URL": sandbox.url, "KRAKEN_API_KEY": DEMO_API_KEY}
    run = run_process("account", OTHER_ACCOUNT_NUMBER, env=env, tmp_path=tmp_path)

    line = assert_one_error_line(run, "account", "error")
    assert line == (
        f"oeus-kraken account: account {OTHER_ACCOUNT_NUMBER} not found, or not visible to "
        "these credentials (KT-CT-4177): check the account number; `oeus-kraken viewer` lists "
        "the accounts an account user's credentials see"
    )


@pytest.mark.parametrize(
    "argv",
    [
        ("usage", OTHER_ACCOUNT_NUMBER, *DAY),
        ("quote", "--account", OTHER_ACCOUNT_NUMBER),
        ("account", "A-00000000"),
    ],
    ids=["usage", "quote", "no-such-account"],
)
def test_kt_ct_4177_names_the_account_for_every_command(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    account = argv[-1] if argv[0] != "usage" else argv[1]
    line = assert_one_error_line(cli(*argv), argv[0], "error")
    assert f"account {account} not found, or not visible to these credentials" in line
    assert "check the account number" in line


# -- ESI IDs, postal codes, dates, amounts ---------------------------------------------------------


@pytest.mark.parametrize("value", ["", "1044372000451238", "1044372000451238X", "A-5F3C9D21"])
@pytest.mark.parametrize(
    "command",
    [("esi", "{}"), ("rates", "--esi-id", "{}"), ("usage", ACCOUNT, *DAY, "--esi-id", "{}")],
    ids=lambda c: c[0],
)
def test_an_esi_id_of_the_wrong_shape_is_refused_with_the_shape(
    cli: Cli, org_env: None, sandbox: SandboxServer, command: tuple[str, ...], value: str
) -> None:
    argv = [value if word == "{}" else word for word in command]
    line = assert_one_error_line(cli(*argv), command[0], "usage")
    assert "is not an ESI ID: expected 17 to 22 digits" in line
    assert sandbox.stats.requests == 0


NOT_POSTAL_CODES = ["", "7500", "750011", "75OO1", "75001-12", "75001 1234", "abcde"]


def test_a_postal_code_of_the_wrong_shape_is_refused_as_a_process(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    run = run_process(
        "products", "--postal-code", "7500", env={"KRAKEN_URL": sandbox.url}, tmp_path=tmp_path
    )
    line = assert_one_error_line(run, "products", "usage")
    assert "'7500' is not a US postal code: expected 5 digits or ZIP+4" in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("code", NOT_POSTAL_CODES)
@pytest.mark.parametrize(
    "command",
    [
        ("products", "--postal-code", "{}"),
        ("rates", "--postal-code", "{}"),
        ("address", "--street", "1 Main St", "--postal-code", "{}"),
        ("quote", "--postal-code", "{}"),
    ],
    ids=lambda c: c[0],
)
def test_every_command_refuses_a_postal_code_of_the_wrong_shape(
    cli: Cli, org_env: None, sandbox: SandboxServer, command: tuple[str, ...], code: str
) -> None:
    argv = [code if word == "{}" else word for word in command]
    line = assert_one_error_line(cli(*argv), command[0], "usage")
    assert "5 digits or ZIP+4" in line
    assert sandbox.stats.requests == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", [("products", "--postal-code"), ("rates", "--postal-code")], ids=lambda c: c[0]
)
def test_a_well_formed_postal_code_no_tdsp_serves_says_so(
    tmp_path: Path, sandbox: SandboxServer, command: tuple[str, ...]
) -> None:
    run = run_process(*command, "99999", env={"KRAKEN_URL": sandbox.url}, tmp_path=tmp_path)
    line = assert_one_error_line(run, command[0], "error")
    assert "no TDSP serves postal code 99999" in line


def test_a_zip_plus_4_is_its_zip_code(cli: Cli, sandbox_env: None) -> None:
    plus_4, plain = (
        cli("products", "--postal-code", "75001-1234"),
        cli("products", "--postal-code", "75001"),
    )
    assert plus_4.code == plain.code == 0, plus_4.err
    assert plus_4.out == plain.out


@pytest.mark.parametrize(
    ("dates", "expected"),
    [
        (("--from", "2026-13-01", "--to", "2026-07-14"), "'2026-13-01' is not a date"),
        (("--from", "07/14/2026", "--to", "2026-07-14"), "expected YYYY-MM-DD"),
        (("--from", "20260714", "--to", "2026-07-14"), "expected YYYY-MM-DD"),
        (("--from", "2026-07-15", "--to", "2026-07-14"), "--to 2026-07-14 is before --from"),
        (("--to", "2026-07-14"), "the following arguments are required: --from"),
    ],
    ids=["month-13", "us-style", "no-dashes", "backwards", "missing"],
)
@pytest.mark.parametrize("command", [("usage",), ("usage", "export")], ids=" ".join)
def test_dates_are_texas_local_iso_dates_in_order(
    cli: Cli,
    org_env: None,
    sandbox: SandboxServer,
    tmp_path: Path,
    command: tuple[str, ...],
    dates: tuple[str, ...],
    expected: str,
) -> None:
    store = ("--db", str(tmp_path / "none.sqlite3")) if command[-1] == "export" else ()
    line = assert_one_error_line(cli(*command, ACCOUNT, *dates, *store), " ".join(command), "usage")
    assert expected in line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("kwh", ["0", "-5", "lots", "nan", "1e99"])
def test_kwh_must_be_a_positive_amount(cli: Cli, sandbox_env: None, kwh: str) -> None:
    run = cli("rates", "--postal-code", "75001", "--kwh", kwh)
    assert "is not an amount of energy" in assert_one_error_line(run, "rates", "usage")


@pytest.mark.parametrize("command", ["rates", "quote"])
@pytest.mark.parametrize("kwh", ["1e-300", "0.5"])
def test_kwh_below_one_is_refused_before_any_request(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, command: str, kwh: str
) -> None:
    # 1e-300 kWh was sent: the monthly fees spread over it are beyond any number, and the
    # sandbox's answer was "[<class 'decimal.InvalidOperation'>]" three times, exit 1.
    option = "--kwh" if command == "rates" else "--annual-kwh"
    credentials = (
        () if command == "rates" else ("--organization-secret-key", DEMO_ORGANIZATION_SECRET_KEY)
    )
    run = cli(command, "--postal-code", "75001", option, kwh, *credentials)
    line = assert_one_error_line(run, command, "usage")
    assert "is not an amount of energy" in line
    assert "from 1 to 10,000,000" in line
    assert sandbox.stats.requests == 0


# -- rate limits, in a user's words ----------------------------------------------------------------


def rate_limited_token_run(
    cli: Cli, tmp_path: Path, sandbox: SandboxServer, as_a_process: bool
) -> Run:
    argv = ("token", "--no-token-cache")
    if as_a_process:
        env = {"KRAKEN_URL": sandbox.url, "KRAKEN_API_KEY": DEMO_API_KEY}
        return run_process(*argv, env=env, tmp_path=tmp_path)
    return cli(*argv, "--api-key", DEMO_API_KEY)


@pytest.mark.parametrize(
    ("faults", "said", "as_a_process"),
    [
        ({"token_rate_limit": 10}, "(KT-CT-1199)", False),
        ({"too_many_requests": 10, "retry_after": 1}, "(HTTP 429)", False),
        pytest.param(
            {"too_many_requests": 10, "retry_after": 150},
            "(HTTP 429)",
            True,
            marks=pytest.mark.slow,
        ),
    ],
    ids=["kt-ct-1199", "429-one-second", "429-minutes-as-a-process"],
)
@pytest.mark.usefixtures("instant_waits")  # in this process: the retries' waits are not slept
def test_a_rate_limit_says_when_to_run_again_in_words(
    cli: Cli,
    sandbox_env: None,
    tmp_path: Path,
    sandbox: SandboxServer,
    faults: dict[str, int],
    said: str,
    as_a_process: bool,
) -> None:
    sandbox.set_faults(**faults)

    run = rate_limited_token_run(cli, tmp_path, sandbox, as_a_process)

    line = assert_one_error_line(run, "token", "rate_limited")
    assert said in line
    assert "this is not a credentials problem" in line
    wait = re.search(r"run the command again (in (\d+) (second|seconds|minutes)|later)", line)
    assert wait, line
    if wait[2]:
        assert (wait[2] == "1") == (wait[3] == "second")  # "1 second", "2 seconds"
    assert not re.search(r"\b1 seconds\b|more seconds|\d s\b", line), line
