"""Every `oeus-kraken ... --help`, as a user meets it: each one works, reads whole at any terminal
width (no option name split across lines), lists only the exit codes its command can give,
and names every option the README's command table gives it; and the options every API
command shares go before the command as well as after it.

The commands are found by walking the parser, so a command added later is walked too.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from auth_helpers import Waits
from cli_helpers import UNREACHABLE_URL, Cli, assert_one_error_line, clean_env, cli, instant_waits

from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.cli._main import build_parser, parse, route

__all__ = ["clean_env", "cli", "instant_waits"]  # fixtures

README = Path(__file__).resolve().parents[1] / "README.md"


def _parsers(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """Each command's words (`usage sync`; "" for oeus-kraken itself) and its parser."""
    yield " ".join(words), parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, (*words, *name.split()))


COMMANDS = [command for command, _ in _parsers(build_parser())]


def help_of(cli: Cli, command: str) -> str:
    run = cli(*command.split(), "--help")
    assert (run.code, run.err) == (0, ""), (command, run)
    assert "Traceback" not in run.out
    return run.out


def test_the_walk_finds_every_command() -> None:
    assert {"", "viewer", "usage", "usage sync", "usage chart", "schema diff"} <= set(COMMANDS)
    assert {"sandbox", "codegen", "compare", "fan-club"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("columns", [52, 80, 120])
def test_no_help_splits_an_option_or_a_hyphenated_word_across_lines(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, command: str, columns: int
) -> None:
    # argparse's textwrap breaks after a hyphen: `--max-` at a line's end, `requests` on the
    # next (or, re-filled, `--max- requests` mid-line). A path (`oeus-` / `kraken/...`) too.
    monkeypatch.setenv("COLUMNS", str(columns))
    text = help_of(cli, command)
    broken = re.findall(r"\S*\w-\s+\S*", text)
    assert not broken, (command, broken)


def test_every_option_and_argument_of_every_command_says_what_it_is() -> None:
    undocumented = [
        (command, action.option_strings or action.dest)
        for command, parser in _parsers(build_parser())
        for action in parser._actions
        if not action.help and not isinstance(action, argparse._SubParsersAction)
    ]
    assert not undocumented


# -- exit codes ------------------------------------------------------------------------------------

API = {0, 1, 2, 3, 4, 5, 130, 141}
STORE = {0, 1, 2, 130, 141}
EXPECTED_EXIT_CODES = {
    **dict.fromkeys(
        ["token", "viewer", "account", "usage", "esi", "address", "products", "rates"], API
    ),
    **dict.fromkeys(["quote", "fan-club", "compare"], API),
    "usage sync": API | {6, 7},
    "usage export": STORE | {8},
    "usage chart": STORE | {8},
    "usage status": STORE,
    "usage forget": STORE,
    "sandbox": {0, 1, 2},  # 1: its banner cannot be written
    "codegen": {0, 1, 2},
    "schema diff": {0, 1, 2, 3, 4, 5, 130, 141},
}


def listed_exit_codes(text: str) -> set[int]:
    """The codes a help's `Exit codes:` (or `exit statuses:`) paragraph lists: each number
    at the start of a clause (`0 ok, 1 API error, ...`) or of a line."""
    flat = " ".join(text.split())
    match = re.search(r"exit (?:codes|statuses):(.*)", flat, re.IGNORECASE)
    assert match, text
    return {int(code) for code in re.findall(r"(?:^|\s)(\d{1,3}) [A-Za-z(-]", match[1])}


@pytest.mark.parametrize("command", sorted(EXPECTED_EXIT_CODES))
def test_each_help_lists_the_exit_codes_its_command_can_give_and_no_other(
    cli: Cli, clean_env: None, command: str
) -> None:
    assert listed_exit_codes(help_of(cli, command)) == EXPECTED_EXIT_CODES[command]


def test_every_runnable_command_says_which_exit_codes_it_gives() -> None:
    runnable = {c for c in COMMANDS if c not in ("", "schema")}
    assert runnable == set(EXPECTED_EXIT_CODES)


def test_the_exit_codes_in_the_helps_are_the_readme_table_s() -> None:
    table = README.read_text().split("### Exit statuses", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    assert documented == set(EXIT_CODES.values())
    assert set().union(*EXPECTED_EXIT_CODES.values()) <= documented


# -- the README's command table ----------------------------------------------------------------


def readme_command_options() -> dict[str, set[str]]:
    """Each command in the README's command table, with the options its row names."""
    section = README.read_text().split("## Command line", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    options: dict[str, set[str]] = {}
    for row in rows:
        first_cell = row.split(" | ")[0]
        for span in re.findall(r"`([^`]+)`", first_cell):
            words = span.split()
            command = " ".join(words[:2]) if " ".join(words[:2]) in COMMANDS else words[0]
            options.setdefault(command, set()).update(re.findall(r"--[a-z][a-z-]*", span))
    return options


def test_the_readme_table_names_only_commands_that_exist() -> None:
    assert set(readme_command_options()) <= set(COMMANDS)
    assert len(readme_command_options()) >= 17


@pytest.mark.parametrize("command", sorted(readme_command_options()))
def test_each_option_the_readme_table_gives_a_command_is_in_its_help(
    cli: Cli, clean_env: None, command: str
) -> None:
    text = help_of(cli, command)
    for option in readme_command_options()[command]:
        assert re.search(rf"{option}\b(?!-)", text), (command, option)


# -- where the token cache is ----------------------------------------------------------------------


@pytest.mark.parametrize("command", ["viewer", "usage sync", "schema diff"])
def test_no_token_cache_help_names_the_cache_under_xdg_cache_home_when_set(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: str
) -> None:
    cache = tmp_path / "100% cache"  # a `%` is no argparse format
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    flat = " ".join(help_of(cli, command).split())
    assert f"{cache}/oeus-kraken/tokens.json" in flat
    assert "$XDG_CACHE_HOME/oeus-kraken/tokens.json, or ~/.cache/oeus-kraken/tokens.json" in flat


def test_no_token_cache_help_names_the_home_cache_when_xdg_cache_home_is_unset(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    flat = " ".join(help_of(cli, "viewer").split())
    assert f"{tmp_path}/.cache/oeus-kraken/tokens.json" in flat


# -- the shared options, before the command or after it ---------------------------------------

RANGE = ["--from", "2026-03-01", "--to", "2026-03-01"]


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["viewer"], 0),
        (["-v", "viewer"], 1),
        (["-vv", "viewer"], 2),
        (["viewer", "-vv"], 2),
        (["-v", "viewer", "-vv"], 2),  # both: the one after the command
        (["-vv", "usage", "status"], 2),
        (["-v", "schema", "diff", "a", "b"], 1),
    ],
)
def test_verbose_goes_before_the_command_or_after_it(argv: list[str], verbose: int) -> None:
    assert parse(argv).verbose == verbose


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--url", "", "viewer"], "viewer"),
        (["--url=", "viewer"], "viewer"),
        (["--url", "", "--no-token-cache", "usage", "sync"], "usage sync"),
        (["--api-key", "k", "--url", "", "usage", "A-1234ABCD", *RANGE], "usage"),
    ],
)
def test_the_url_given_before_the_command_is_the_one_used(
    cli: Cli, clean_env: None, argv: list[str], command: str
) -> None:
    line = assert_one_error_line(cli(*argv), command, "usage")
    assert "--url is empty" in line


def test_an_option_given_before_and_after_the_command_the_one_after_wins(
    cli: Cli, clean_env: None, instant_waits: Waits
) -> None:
    run = cli("--url", "", "--api-key", "key", "viewer", "--url", UNREACHABLE_URL)
    line = assert_one_error_line(run, "viewer", "unreachable")
    assert "from --url" in line


def test_a_value_before_the_command_is_not_taken_for_the_command(cli: Cli, clean_env: None) -> None:
    # `usage` as a password is the password, not the start of `usage sync`.
    assert route(["--password", "usage", "sync"]) == ["--password", "usage", "sync"]
    assert route(["--url", "U", "usage", "sync", "-v"]) == ["--url", "U", "usage sync", "-v"]
    assert route(["--ur", "U", "usage", "sync"]) == ["--ur", "U", "usage sync"]


@pytest.mark.parametrize(
    ("argv", "option", "command"),
    [
        (["--url", "U", "usage", "status"], "--url", "usage status"),
        (["--api-key", "K", "usage", "export", "A-1234ABCD", *RANGE], "--api-key", "usage export"),
        (["-v", "sandbox"], "-v", "sandbox"),
        (["--no-token-cache", "codegen"], "--no-token-cache", "codegen"),
        (["--url", "U", "schema", "diff", "a", "b"], "--url", "schema diff"),
    ],
)
def test_a_shared_option_before_a_command_that_has_no_such_option_is_refused_in_one_line(
    cli: Cli, clean_env: None, argv: list[str], option: str, command: str
) -> None:
    run = cli(*argv)
    assert (run.code, run.out) == (EXIT_CODES["usage"], "")
    [line] = run.err_lines
    assert line.startswith(f"oeus-kraken: {option} does not apply to `{command}`"), line


def test_the_top_level_help_names_the_shared_options(cli: Cli, clean_env: None) -> None:
    text = help_of(cli, "")
    for option in ("--verbose", "--url", "--allow-insecure-http", "--no-token-cache", "--api-key"):
        assert option in text
    assert "before or after the command" in " ".join(text.split())
