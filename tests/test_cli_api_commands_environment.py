"""The API commands' environment as users write it: KRAKEN_URL with spaces around it, an
upper-case scheme, a host name beyond ASCII, a path with a slash too many; credential variables
set but blank. Each either works or is one line saying what to change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli, sandbox_env

from oeus_kraken.sandbox import DEMO_EMAIL, DEMO_PASSWORD, SandboxServer

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name


@pytest.mark.parametrize(
    "spell",
    [lambda url: f"  {url}\n", lambda url: url.replace("http://", "HTTP://")],
    ids=["spaces-and-a-newline-around", "upper-case-scheme"],
)
def test_kraken_url_spelt_loosely_still_reaches_the_endpoint(
    cli: Cli,
    clean_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    spell: Callable[[str], str],
) -> None:
    monkeypatch.setenv("KRAKEN_URL", spell(sandbox.url))
    run = cli("fan-club", "--json")
    assert (run.code, run.err) == (0, "")


@pytest.mark.usefixtures("clean_env")
def test_kraken_url_with_a_host_beyond_ascii_names_it_as_given_and_exits_4(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KRAKEN_URL", "https://bücher.invalid/v1/graphql/")
    line = assert_one_error_line(cli("fan-club"), "fan-club", "unreachable")
    assert "xn--bcher-kva.invalid" in line  # where it went
    assert "from KRAKEN_URL" in line


@pytest.mark.parametrize(("variable", "blank"), [("KRAKEN_PASSWORD", " "), ("KRAKEN_EMAIL", "\t")])
def test_a_credential_variable_set_but_blank_is_called_blank_not_unset(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, blank: str
) -> None:
    monkeypatch.setenv("KRAKEN_EMAIL", DEMO_EMAIL)
    monkeypatch.setenv("KRAKEN_PASSWORD", DEMO_PASSWORD)
    monkeypatch.setenv(variable, blank)
    line = assert_one_error_line(cli("viewer"), "viewer", "usage")
    assert f"{variable} is set but blank" in line
    assert DEMO_PASSWORD not in line
