"""The command line probed from outside, as a user runs it: what it says when its output cannot
be written with Python's output unbuffered, and which numbers it takes. Each test names the
behaviour that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli, clean_env, cli, process_env, run_into_full_disk, sandbox_env

from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.sandbox import SandboxServer

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_to_a_full_disk_with_unbuffered_output_is_one_line_and_exit_1(
    option: str, tmp_path: Path
) -> None:
    # PYTHONUNBUFFERED=1, as Docker images for Python set it: argparse's print meets the full
    # disk itself, and argparse drops that error. Before: exit 0, nothing said, nothing shown.
    result = run_into_full_disk([option], process_env({}, tmp_path), unbuffered=True)
    said = "oeus-kraken: cannot write the output: No space left on device\n"
    assert (result.returncode, result.stderr) == (EXIT_CODES["error"], said)


@pytest.mark.parametrize(
    "argv",
    [
        ("rates", "--postal-code", "75201", "--kwh", "\uff11\uff10\uff10\uff10"),
        ("quote", "--postal-code", "75201", "--annual-kwh", "\u0661\u0660\u0660\u0660"),
        ("usage", "sync", "--max-requests", "\uff13"),
        ("usage", "sync", "--concurrency", "\u0662"),
        ("sandbox", "--port", "-\uff11"),  # -1: "out of range" before; a 0 served
    ],
    ids=["--kwh", "--annual-kwh", "--max-requests", "--concurrency", "--port"],
)
def test_numbers_in_digits_of_another_script_are_refused_before_any_request(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, argv: tuple[str, ...]
) -> None:
    # Fullwidth or Arabic-Indic digits, refused as in the dates, ESI IDs and postal codes beside
    # them. Before: int() and Decimal() read them (a quote for 1000 kWh written in Arabic-Indic
    # digits was made; `sandbox --port` with a fullwidth 0 served on any port).
    run = cli(*argv)
    assert run.code == EXIT_CODES["usage"], run
    [line] = run.err_lines
    assert "is not a whole number" in line or "is not an amount of energy" in line, line
    assert sandbox.stats.requests == 0
