"""The command line probed from outside, as a user runs it: what it says when its output cannot
be written with Python's output unbuffered, and where a `compare --sync` stopped by a rate
limit says so. Each test names the behaviour that failed before its fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import process_env, run_into_full_disk

from oeus_kraken.cli import EXIT_CODES


@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_to_a_full_disk_with_unbuffered_output_is_one_line_and_exit_1(
    option: str, tmp_path: Path
) -> None:
    # PYTHONUNBUFFERED=1, as Docker images for Python set it: argparse's print meets the full
    # disk itself, and argparse drops that error. Before: exit 0, nothing said, nothing shown.
    result = run_into_full_disk([option], process_env({}, tmp_path), unbuffered=True)
    said = "oeus-kraken: cannot write the output: No space left on device\n"
    assert (result.returncode, result.stderr) == (EXIT_CODES["error"], said)
