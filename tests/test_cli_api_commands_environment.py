"""The API commands' environment as users write it: KRAKEN_URL with spaces around it, an
upper-case scheme, a host name beyond ASCII, a path with a slash too many; credential variables
set but blank. Each either works or is one line saying what to change."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import (
    Cli,
    assert_one_error_line,
    clean_env,
    cli,
    instant_waits,
    process_env,
    run_process,
    sandbox_env,
)

from oeus_kraken.sandbox import (
    DEMO_EMAIL,
    DEMO_ORGANIZATION_SECRET_KEY,
    DEMO_PASSWORD,
    SandboxServer,
)

__all__ = ["clean_env", "cli", "instant_waits", "sandbox_env"]  # fixtures, used by name


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


@pytest.mark.usefixtures("clean_env", "instant_waits")
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


def _viewer_under_umask_0(argv: tuple[str, ...], sandbox: SandboxServer, tmp_path: Path) -> int:
    env = process_env(
        {"KRAKEN_URL": sandbox.url, "KRAKEN_ORGANIZATION_SECRET_KEY": DEMO_ORGANIZATION_SECRET_KEY},
        tmp_path,
    )
    done = subprocess.run(
        [sys.executable, "-m", "oeus_kraken", *argv],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: os.umask(0),  # what a careless shell or service manager leaves
    )
    return done.returncode


@pytest.mark.usefixtures("clean_env")
def test_the_token_cache_is_owner_only_even_under_umask_0(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    assert _viewer_under_umask_0(("viewer", "--csv"), sandbox, tmp_path) == 0
    folder = tmp_path / "cache" / "oeus-kraken"
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert "tokens.json" in modes
    assert set(modes.values()) == {0o600}, modes


@pytest.mark.usefixtures("clean_env")
def test_no_token_cache_writes_no_file_at_all(sandbox: SandboxServer, tmp_path: Path) -> None:
    assert _viewer_under_umask_0(("viewer", "--no-token-cache"), sandbox, tmp_path) == 0
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("option", "blank"),
    [
        ("--api-key", ""),
        ("--organization-secret-key", " "),
        ("--refresh-token", ""),
        ("--email", ""),
        ("--password", "\n"),
    ],
)
def test_a_credential_option_given_blank_is_refused_not_replaced_by_the_environments(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    blank: str,
) -> None:
    # `--api-key "$USER_KEY"` with USER_KEY unset: the run must not go on as whoever the
    # environment names (here the organisation, which sees every account).
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    line = assert_one_error_line(cli("viewer", option, blank), "viewer", "usage")
    assert f"{option} is empty" in line
    assert sandbox.stats.requests == 0


@pytest.mark.usefixtures("clean_env")
def test_a_folder_where_the_token_cache_file_goes_leaves_the_commands_working(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """A token store path that is a folder is refused as the store is made; the command's own
    cache path with a folder there (not a path the user gave) runs without a cache instead."""
    (tmp_path / "cache" / "oeus-kraken" / "tokens.json").mkdir(parents=True)
    env = {"KRAKEN_URL": sandbox.url}
    env["KRAKEN_ORGANIZATION_SECRET_KEY"] = DEMO_ORGANIZATION_SECRET_KEY

    run = run_process("viewer", "--csv", env=env, tmp_path=tmp_path)

    assert (run.code, run.err) == (0, "")
