"""The `oeus-kraken` command line, against the local Kraken sandbox.

Most runs are in-process (`main([...], out=...)`, with the environment patched); where a real
process matters (what reaches stderr, exit status, signals) the command runs as
`python -m oeus_kraken`. Every run starts from a clean environment: no KRAKEN_* variables from the
developer's shell, and the token cache in a temporary directory.

The contract: output is a readable table, or JSON with --json; the token itself is printed only
with --show-token; a failure prints exactly one line to stderr, never a traceback, and exits
with the code for its kind (EXIT_CODES: 1 API error, 2 bad arguments, 3 authentication,
4 unreachable, 5 rate limited).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from cli_helpers import (
    JWT,
    MONEY,
    SANDBOX_URL,
    UNREACHABLE_URL,
    Cli,
    Run,
    assert_one_error_line,
    clean_env,
    cli,
    instant_waits,
    process_env,
    run_into_full_disk,
    run_process,
    sandbox_env,
    table,
)
from conftest import SandboxClock
from pytest_httpx import HTTPXMock

from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    OTHER_ACCOUNT_NUMBER,
    SANDBOX_SIGNING_KEY,
    SandboxServer,
)

__all__ = ["clean_env", "cli", "instant_waits", "sandbox_env"]  # fixtures, used by name


# -- --help ----------------------------------------------------------------------------------------

COMMANDS = (
    "sandbox",
    "codegen",
    "token",
    "viewer",
    "account",
    "products",
    "rates",
    "quote",
    "fan-club",
    "esi",
    "address",
    "usage",
)


def test_help_names_every_command_the_credentials_and_the_exit_codes(
    cli: Cli, clean_env: None
) -> None:
    run = cli("--help")
    assert run.code == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\w", run.out, re.MULTILINE), command
    for variable in (
        "KRAKEN_URL",
        "KRAKEN_ORGANIZATION_SECRET_KEY",
        "KRAKEN_API_KEY",
        "KRAKEN_EMAIL",
        "KRAKEN_PASSWORD",
        "KRAKEN_REFRESH_TOKEN",
    ):
        assert variable in run.out
    assert "3 authentication failed" in run.out
    assert "4 API unreachable" in run.out
    assert "5 rate limited" in run.out
    assert "141 output closed early" in run.out
    for word in ("cents", "kWh", '"units"'):  # what the amounts are in
        assert word in run.out


CREDENTIAL_OPTIONS = (
    "--organization-secret-key",
    "--api-key",
    "--email",
    "--password",
    "--refresh-token",
    "KRAKEN_API_KEY",
)
CLIENT_OPTIONS = ("--json", "--url", *CREDENTIAL_OPTIONS, "Exit codes")


@pytest.mark.parametrize(
    ("command", "mentions"),
    [
        ("token", ("expires", "--show-token", *CLIENT_OPTIONS)),
        ("viewer", ("accounts", "balance", *CLIENT_OPTIONS)),
        ("account", ("ESI IDs", "number", *CLIENT_OPTIONS)),
        ("products", ("--postal-code", "no credentials needed", *CLIENT_OPTIONS)),
        ("rates", ("--esi-id", "--postal-code", "--kwh", "cents per kWh", *CLIENT_OPTIONS)),
        ("quote", ("--postal-code", "--esi-id", "--annual-kwh", "mutation", *CLIENT_OPTIONS)),
        ("fan-club", ("wind", "Auth: public", *CLIENT_OPTIONS)),
        ("esi", ("ESI_ID", "TDSP", "Auth: organisation", *CLIENT_OPTIONS)),
        ("address", ("--street", "--postal-code", "--unit", *CLIENT_OPTIONS)),
        ("usage", ("--from", "--to", "--interval", "--csv", "both ends", *CLIENT_OPTIONS)),
        ("usage sync", ("--since", "--db", "--max-requests", "--concurrency", *CLIENT_OPTIONS)),
        ("usage export", ("--from", "--parquet", "--db", "--out", "No API request")),
        ("usage status", ("--db", "gaps", "No API request")),
        ("usage chart", ("--out", "'chart' extra", "No API request")),
        ("sandbox", ("--port", "0: any free port", "demo credentials", "Ctrl-C", "--log-level")),
    ],
)
def test_each_command_has_help_saying_what_it_does_and_naming_its_options(
    cli: Cli, clean_env: None, command: str, mentions: tuple[str, ...]
) -> None:
    run = cli(*command.split(), "--help")
    assert run.code == 0
    usage, description = run.out.split("\n\n")[:2]
    assert usage.startswith(f"usage: oeus-kraken {command}")
    assert not description.startswith("options:")  # a sentence on what the command does
    flat = " ".join(run.out.split())  # argparse wraps lines
    for mention in mentions:
        assert mention in flat, mention
    assert run.err == ""


# -- token -----------------------------------------------------------------------------------------


@pytest.fixture
def frozen_sandbox(sandbox: SandboxServer, sandbox_clock: SandboxClock) -> SandboxServer:
    """With the sandbox's clock stopped, every token it issues a user is the same string, so the
    token one run printed can be looked for in another run's output."""
    sandbox_clock.freeze()
    return sandbox


def shown_token(run: Run) -> str:
    [token] = [line.removeprefix("token: ") for line in run.out.splitlines() if "token: " in line]
    return token


@pytest.mark.slow
def test_token_prints_expiry_and_claims_but_not_the_token_unless_asked(
    cli: Cli,
    sandbox_env: None,
    frozen_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)

    plain = cli("token")
    shown = cli("token", "--show-token")

    assert plain.code == shown.code == 0
    assert plain.err == shown.err == ""
    token = shown_token(shown)
    claims = jwt.decode(
        token, SANDBOX_SIGNING_KEY, algorithms=["HS256"], options={"verify_exp": False}
    )
    assert token not in plain.out
    assert not JWT.search(plain.out)
    assert re.search(r"^token expires at: +\d{4}-\d\d-\d\dT", plain.out, re.MULTILINE)
    assert re.search(r"^refresh token expires at: +\d{4}-\d\d-\d\dT", plain.out, re.MULTILINE)
    assert f"  sub: {claims['sub']}" in plain.out.splitlines()
    assert "  gty: API-KEY" in plain.out.splitlines()
    assert f"  exp: {claims['exp']}" in plain.out.splitlines()
    assert plain.out in shown.out  # --show-token adds the token and changes nothing else


@pytest.mark.slow
def test_token_as_a_process_with_credentials_from_the_environment(
    cli: Cli,
    sandbox_env: None,
    frozen_sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    env = {"KRAKEN_URL": frozen_sandbox.url, "KRAKEN_API_KEY": DEMO_API_KEY}

    run = run_process("token", env=env, tmp_path=tmp_path / "process")

    assert run.code == 0, run.err
    assert run.err == ""
    assert "token expires at:" in run.out
    assert "  sub: kraken|account-user:1001" in run.out.splitlines()
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    token = shown_token(cli("token", "--show-token"))  # the same token: the clock is stopped
    assert token not in run.out
    assert not JWT.search(run.out)


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv",
    [
        ("token",),
        ("token", "--show-token"),
        ("viewer",),
        ("account", DEMO_ACCOUNT_NUMBERS[0]),
        ("products",),
        ("products", "--postal-code", "75001"),
    ],
    ids=" ".join,
)
def test_json_output_is_json(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    argv: tuple[str, ...],
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli(*argv, "--json")
    assert run.code == 0, run.err
    document = json.loads(run.out)
    if argv[0] == "token":
        assert set(document) >= {"expires_at", "refresh_token_expires_at", "claims"}
        assert document["claims"]["gty"] == "API-KEY"
        assert ("token" in document) == ("--show-token" in argv)
    elif argv[0] == "viewer":
        numbers = [a["number"] for a in document["viewer"]["accounts"]]
        assert numbers == list(DEMO_ACCOUNT_NUMBERS)
    elif argv[0] == "account":
        assert document["account"]["number"] == DEMO_ACCOUNT_NUMBERS[0]
    elif "--postal-code" in argv:
        products = document["productsWithConciseApplicableRates"]
        assert products
        assert {r["serviceProvider"] for p in products for r in p["rates"]} == {"ONCOR"}
    else:
        assert "OCTOPUS-12M-FIXED" in [p["code"] for p in document["products"]]


# -- tables ----------------------------------------------------------------------------------------


def test_viewer_prints_the_user_and_a_table_of_accounts(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_EMAIL", DEMO_EMAIL)
    monkeypatch.setenv("KRAKEN_PASSWORD", DEMO_PASSWORD)
    run = cli("viewer")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0].endswith(f"<{DEMO_EMAIL}>")
    rows = table(run.out, ("account", "status", "balance"))
    assert [row.split()[0] for row in rows] == list(DEMO_ACCOUNT_NUMBERS)
    for row in rows:
        assert re.fullmatch(rf"A-\w{{8}} +ACTIVE +{MONEY}", row), row
    assert "$-" not in run.out  # a debit reads -$12.34


def test_account_prints_its_status_balance_and_a_table_of_properties(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    number = DEMO_ACCOUNT_NUMBERS[0]
    run = cli("account", number)
    assert run.code == 0, run.err
    assert re.fullmatch(rf"{number} +ACTIVE +balance {MONEY}", run.out.splitlines()[0])
    [row] = table(run.out, ("property", "postal code", "ESI IDs"))
    assert re.search(r", TX \d{5} +\d{5} +\d{17}$", row), row


def test_products_need_no_credentials_and_print_a_table(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer
) -> None:
    run = cli("products")
    assert run.code == 0, run.err
    rows = table(run.out, ("code", "name", "term"))
    assert any(re.fullmatch(r"OCTOPUS-12M-FIXED +Octopus 12M Fixed +12", row) for row in rows)
    assert sandbox.stats.token_requests == 0


def test_a_name_from_the_api_stays_on_its_row_and_sends_no_control_codes_to_the_terminal(
    cli: Cli, clean_env: None, httpx_mock: HTTPXMock
) -> None:
    # A product name is the API's text: a newline in it must not make a row of its own that
    # reads like another product, nor an escape code clear the screen or retitle the window.
    hostile = "Free Power\n2     Fake Plan\x1b[2J\x1b]0;pwned\x07 ünïcode $(rm -rf ~)"
    product = dict.fromkeys(
        ["fullName", "description", "term", "prepay", "basedOnTimeOfUse", "isWholesale",
         "availableFrom", "availableTo", "generationCredit"]
    )  # fmt: skip
    answer = {"data": {"products": [{**product, "id": "1", "code": "X", "displayName": hostile}]}}
    httpx_mock.add_response(url="https://kraken.test/v1/graphql/", json=answer)

    run = cli("products", "--url", "https://kraken.test/v1/graphql/")

    assert run.code == 0, run.err
    [_, _, row] = run.out.splitlines()
    assert row.startswith("X ")
    assert "ünïcode $(rm -rf ~)" in row  # printable text as it is
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in run.out.replace("\n", ""))


def test_products_for_a_postal_code_print_its_tdsp_and_their_rates_there(
    cli: Cli, sandbox_env: None
) -> None:
    run = cli("products", "--postal-code", "75001")
    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == "75001: TDSP ONCOR, load zone LZ_NORTH"
    rows = table(run.out, ("product", "term", "cents/kWh at 1000 kWh"))
    assert any(re.fullmatch(r"Octopus 12M Fixed +12 +19\.16480", row) for row in rows), rows


# -- failures: one line on stderr, an exit code per kind ---------------------------------------


@pytest.mark.usefixtures("instant_waits")  # the retries' waits recorded, not slept
def test_an_unreachable_api_in_process(cli: Cli, clean_env: None) -> None:
    run = cli("token", "--url", UNREACHABLE_URL, "--api-key", DEMO_API_KEY)
    assert "could not reach" in assert_one_error_line(run, "token", "unreachable")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (("token", "--api-key", "sk_test_not_a_key"), "KT-CT-1139"),
        (("viewer", "--email", DEMO_EMAIL, "--password", "not-the-password"), "KT-CT-1138"),
        (("token", "--organization-secret-key", "sk_test_org_not_a_key"), "KT-CT-1140"),
    ],
    ids=["api-key", "email-password", "organization-secret-key"],
)
def test_bad_credentials_exit_3(
    cli: Cli, sandbox_env: None, argv: tuple[str, ...], code: str
) -> None:
    run = cli(*argv)
    line = assert_one_error_line(run, argv[0], "auth")
    assert code in line
    assert argv[-1] not in line  # the secret is not repeated


def test_no_credentials_for_a_command_that_needs_them_exit_2_saying_what_to_set(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer
) -> None:
    line = assert_one_error_line(cli("viewer"), "viewer", "usage")
    assert "KRAKEN_API_KEY" in line
    assert "--help" in line
    assert sandbox.stats.requests == 0


@pytest.mark.usefixtures("instant_waits")
def test_a_rate_limited_token_request_exits_5_not_3(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer
) -> None:
    sandbox.set_faults(token_rate_limit=10)  # more than the call's retries
    run = cli("token", "--api-key", DEMO_API_KEY)
    line = assert_one_error_line(run, "token", "rate_limited")
    assert "KT-CT-1199" in line
    assert "not a credentials problem" in line


def test_another_users_account_exits_1_with_kt_ct_4177(cli: Cli, sandbox_env: None) -> None:
    run = cli("account", OTHER_ACCOUNT_NUMBER, "--api-key", DEMO_API_KEY)
    assert "KT-CT-4177" in assert_one_error_line(run, "account", "error")


@pytest.mark.parametrize(
    "argv",
    [("viewer", "--email", DEMO_EMAIL), ("token", "--password", DEMO_PASSWORD)],
    ids=["email-only", "password-only"],
)
def test_email_and_password_go_together(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, argv: tuple[str, ...]
) -> None:
    line = assert_one_error_line(cli(*argv), argv[0], "usage")
    assert line.endswith("--email and --password go together")
    assert DEMO_PASSWORD not in line
    assert sandbox.stats.requests == 0


def test_kraken_email_without_kraken_password_names_the_missing_variable(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_EMAIL", DEMO_EMAIL)
    line = assert_one_error_line(cli("viewer"), "viewer", "usage")
    assert "KRAKEN_PASSWORD is not set" in line


def test_a_plain_http_url_off_loopback_is_refused_before_sending_credentials(
    cli: Cli, clean_env: None
) -> None:
    run = cli("token", "--url", "http://example.com/v1/graphql/", "--api-key", DEMO_API_KEY)
    assert "refusing plain http://" in assert_one_error_line(run, "token", "usage")


# -- sandbox ---------------------------------------------------------------------------------------


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_relative_xdg_cache_home_is_ignored_never_a_token_cache_in_the_working_folder(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # XDG: "a relative path ... should be considered invalid and ignored". It put tokens.json in
    # ./cache/oeus-kraken/ under whatever folder the command ran in (a git checkout, say).
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", "cache")

    run = cli("viewer", "--api-key", DEMO_API_KEY)

    assert run.code == 0, run.err
    assert list(work.iterdir()) == []
    assert (home / ".cache" / "oeus-kraken" / "tokens.json").is_file()


@pytest.mark.skipif(sys.platform == "win32", reason="HOME and passwd are the POSIX rule")
@pytest.mark.parametrize("argv", [("viewer",), ("viewer", "--help"), ("sandbox", "--help")])
def test_with_no_home_folder_the_commands_run_without_a_token_cache(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...]
) -> None:
    # No HOME and a uid with no passwd entry (a container run as an arbitrary user): every
    # command, --help too, was a "RuntimeError: Could not determine home directory" traceback,
    # as the token cache's path is named in the help.
    import pwd

    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("HOME", raising=False)

    def no_passwd_entry(uid: int) -> object:
        raise KeyError(uid)

    monkeypatch.setattr(pwd, "getpwuid", no_passwd_entry)

    run = cli(*argv, "--api-key", DEMO_API_KEY) if argv == ("viewer",) else cli(*argv)

    assert run.code == 0, run.err
    assert "Traceback" not in run.err
    if argv == ("viewer", "--help"):
        assert "no home folder" in " ".join(run.out.split())


def test_a_path_under_a_home_folder_that_is_not_there_is_refused_in_one_line(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `--schema ~/tomorrow.graphql` with no home folder: a RuntimeError traceback out of
    # argparse (which turns only TypeError and ValueError into its one line).
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.setattr(Path, "expanduser", _no_home)

    run = cli("sandbox", "--schema", "~/tomorrow.graphql")

    line = assert_one_error_line(run, "sandbox", "usage")
    assert "no home folder" in line


def _no_home(self: Path) -> Path:
    raise RuntimeError("Could not determine home directory.")


def test_sandbox_on_a_port_in_use_exits_2_in_one_line(
    cli: Cli, clean_env: None, sandbox: SandboxServer, busy_port: int
) -> None:
    # (`sandbox` is requested so that the schema is already built in this process.)
    line = assert_one_error_line(cli("sandbox", "--port", str(busy_port)), "sandbox", "usage")
    assert "in use" in line
    assert "--port" in line


def test_sandbox_on_a_port_out_of_range_exits_2_in_one_line(cli: Cli, clean_env: None) -> None:
    line = assert_one_error_line(cli("sandbox", "--port", "70000"), "sandbox", "usage")
    assert "65535" in line


@pytest.mark.slow
def test_sandbox_whose_banner_cannot_be_written_says_so_not_that_the_port_failed(
    tmp_path: Path,
) -> None:
    # /dev/full: the banner's write fails with ENOSPC; it said "could not serve on port N: No
    # space left on device; choose another --port", exit 2.
    result = run_into_full_disk(["sandbox", "--port", "0"], process_env({}, tmp_path))
    assert result.returncode == EXIT_CODES["error"]
    [line] = result.stderr.splitlines()
    assert line == "oeus-kraken sandbox: cannot write the output: No space left on device"


def test_ctrl_c_while_the_sandbox_starts_is_its_normal_end_too(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Ctrl-C before uvicorn took over SIGINT (the schema still being built: about a second)
    # was "oeus-kraken sandbox: interrupted (Ctrl-C)", exit 130; README and --help: 0.
    import oeus_kraken.sandbox

    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(oeus_kraken.sandbox, "serve", interrupted)
    run = cli("sandbox", "--port", "0")
    assert (run.code, run.err) == (EXIT_CODES["ok"], "")


def test_ctrl_c_while_the_command_line_is_read_is_one_line_and_exit_130(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # argparse building every command's parser takes a tenth of a second after start; a
    # Ctrl-C then was exit 130 with nothing said (seen with SIGINT 0.15 s into `usage sync`).
    import oeus_kraken.cli._main

    def interrupted(argv: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(oeus_kraken.cli._main, "parse", interrupted)
    run = cli("usage", "sync")
    assert (run.code, run.err) == (EXIT_CODES["interrupted"], "oeus-kraken: interrupted (Ctrl-C)\n")


def test_sandbox_help_gives_its_own_exit_statuses_ctrl_c_its_normal_end(cli: Cli) -> None:
    # The README: `sandbox` stopped with Ctrl-C exits 0, not 130; no API or sync status applies.
    run = cli("sandbox", "--help")
    epilog = " ".join(run.out.split("Exit codes:", 1)[1].split())
    assert epilog.startswith("0 stopped with Ctrl-C (its normal end), 2 ")
    assert "130" not in epilog
    assert "rate limited" not in epilog


QUIET_LINE = "Requests are not logged (--log-level info logs each one).\n"


@dataclass(frozen=True)
class SandboxConsole:
    banner: list[str]  # stdout up to the banner's last line
    rest: str  # stdout after it
    err: str
    code: int | None


def run_sandbox_console(tmp_path: Path, *options: str, requests: int = 2) -> SandboxConsole:
    """`oeus-kraken sandbox --port 0 OPTIONS` as a process: read its banner, send it `requests`
    GraphQL requests, stop it with Ctrl-C (SIGINT), and collect everything it printed."""
    with subprocess.Popen(
        [sys.executable, "-m", "oeus_kraken", "sandbox", "--port", "0", *options],
        env=process_env({}, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        try:
            assert process.stdout is not None
            last = QUIET_LINE if "--log-level" not in options else "Usage knobs"
            banner = [process.stdout.readline()]
            while banner[-1] and not banner[-1].startswith(last):
                banner.append(process.stdout.readline())
            match = re.match(rf"oeus-kraken sandbox on ({SANDBOX_URL}) ", banner[0])
            assert match, banner
            for _ in range(requests):
                answer = httpx.post(match[1], json={"query": "{ products { code } }"}, timeout=10)
                assert answer.json()["data"]["products"]
        finally:
            process.send_signal(signal.SIGINT)
            rest, err = process.communicate(timeout=30)
    return SandboxConsole(banner, rest, err, process.returncode)


@pytest.mark.slow
def test_the_sandbox_console_is_one_banner_with_its_credentials_then_quiet_and_stops_on_sigint(
    tmp_path: Path,
) -> None:
    console = run_sandbox_console(tmp_path, requests=3)

    assert console.code == 0, console.err
    assert console.err == ""  # no uvicorn start-up, request or shutdown lines, no traceback
    text = "".join(console.banner)
    for secret in (DEMO_ORGANIZATION_SECRET_KEY, DEMO_API_KEY, DEMO_EMAIL, DEMO_PASSWORD):
        assert secret in text
    assert console.banner[-1] == QUIET_LINE
    assert console.rest == ""
    assert sum("oeus-kraken sandbox on" in line for line in console.banner) == 1


@pytest.mark.slow
def test_the_sandbox_logs_start_up_and_each_request_at_log_level_info(tmp_path: Path) -> None:
    console = run_sandbox_console(tmp_path, "--log-level", "info", requests=3)

    assert console.code == 0, console.err
    assert "Started server process" in console.err
    assert len(re.findall(r'"POST /v1/graphql/ HTTP/1\.1" 200', console.err)) == 3
    assert QUIET_LINE not in [*console.banner, console.rest]
    assert "Traceback" not in console.err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_answer_and_stop(port: int, process: subprocess.Popen[str]) -> str:
    """Wait until the sandbox `process` on `port` answers a GraphQL request, stop it with Ctrl-C
    (SIGINT); its stderr."""
    url = f"http://127.0.0.1:{port}/v1/graphql/"
    try:
        for _ in range(600):
            if process.poll() is not None:
                break
            try:
                answer = httpx.post(url, json={"query": "{ products { code } }"}, timeout=10)
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            assert answer.json()["data"]["products"]
            break
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    return err


@pytest.mark.slow
def test_the_sandbox_with_no_stdout_at_all_serves_and_stops_on_sigint(tmp_path: Path) -> None:
    # `>&-`: sys.stdout is None; uvicorn's log formatter asked sys.stdout.isatty() and the
    # sandbox exited 2 at once, "Unable to configure formatter 'default'".
    port = free_port()
    command = f"exec {sys.executable} -m oeus_kraken sandbox --port {port} >&-"
    with subprocess.Popen(
        ["sh", "-c", command], env=process_env({}, tmp_path), stderr=subprocess.PIPE, text=True
    ) as process:
        err = serve_answer_and_stop(port, process)
    assert (process.returncode, err) == (0, "")


@pytest.mark.slow
def test_the_sandbox_log_has_no_colour_codes_when_stderr_is_no_terminal(tmp_path: Path) -> None:
    # Its log goes to stderr; uvicorn coloured it when *stdout* was a terminal, so `sandbox
    # --log-level info 2> log` on a terminal wrote escape codes into the file.
    port = free_port()
    terminal, stdout = os.openpty()
    try:
        with subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oeus_kraken",
                "sandbox",
                "--port",
                str(port),
                "--log-level",
                "info",
            ],
            env=process_env({}, tmp_path),
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        ) as process:
            err = serve_answer_and_stop(port, process)
    finally:
        os.close(stdout)
        os.close(terminal)
    assert process.returncode == 0, err
    assert "Started server process" in err
    assert "\x1b" not in err


# -- -v: the library's logs ------------------------------------------------------------------------


@pytest.mark.slow
def test_without_verbose_a_failure_is_one_line_and_with_it_the_retries_come_first(
    tmp_path: Path,
) -> None:
    env = {"KRAKEN_API_KEY": DEMO_API_KEY, "KRAKEN_URL": UNREACHABLE_URL}

    quiet = run_process("viewer", env=env, tmp_path=tmp_path)
    verbose = run_process("viewer", "-v", env=env, tmp_path=tmp_path)

    assert_one_error_line(quiet, "viewer", "unreachable")
    *logs, last = verbose.err_lines
    assert verbose.code == quiet.code
    assert last == quiet.err_lines[0]
    assert logs, verbose.err
    assert all(line.startswith("oeus-kraken: WARNING: ") for line in logs), logs
    assert any("retry 1 of" in line for line in logs), logs


def test_very_verbose_logs_each_request_and_never_a_secret(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    env = {"KRAKEN_URL": sandbox.url, "KRAKEN_EMAIL": DEMO_EMAIL, "KRAKEN_PASSWORD": DEMO_PASSWORD}

    run = run_process("token", "-vv", "--show-token", env=env, tmp_path=tmp_path)

    assert run.code == 0, run.err
    assert re.search(r"HTTP Request: POST .*/v1/graphql/ .*200", run.err), run.err
    assert "Requesting a Kraken token" in run.err
    token = shown_token(run)
    assert token
    for secret in (DEMO_PASSWORD, token):
        assert secret not in run.err
    assert not JWT.search(run.err)


def test_very_verbose_request_lines_show_the_url_without_its_query(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    # httpx's own line per request names the URL: a key in its query must not reach stderr.
    env = {"KRAKEN_URL": f"{sandbox.url}?apikey=KEY-SECRET", "KRAKEN_API_KEY": DEMO_API_KEY}

    run = run_process("viewer", "-vv", "--no-token-cache", env=env, tmp_path=tmp_path)

    assert run.code == 0, run.err
    assert f"HTTP Request: POST {sandbox.url} " in run.err
    assert "KEY-SECRET" not in run.err + run.out
