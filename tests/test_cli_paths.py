"""The command line: what a failure's one line says."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli

__all__ = ["clean_env", "cli"]  # fixtures, used by name

SCHEMA = str(Path(__file__).resolve().parent.parent / "schema.graphql")


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("schema diff", (SCHEMA, SCHEMA)),
        ("codegen", ("--package", "mine", "--target", "{tmp}/out")),
    ],
)
def test_a_path_a_command_reads_and_the_os_refuses_is_never_said_to_be_written(
    cli: Cli, clean_env: None, tmp_path: Path, command: str, options: tuple[str, ...]
) -> None:
    """A name too long (ENAMETOOLONG), as a folder that may not be searched (EACCES) would be:
    the OS's reason is said, and the path is not called one that could not be written."""
    queries = str(tmp_path / ("a" * 300))
    given = [o.format(tmp=tmp_path) for o in options]
    line = assert_one_error_line(
        cli(*command.split(), *given, "--queries", queries), command, "usage"
    )
    assert "File name too long" in line
    assert "cannot write" not in line
    assert not (tmp_path / "out").exists()
