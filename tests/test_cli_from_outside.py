"""The command line probed from outside, as a user runs it: what it says when its output cannot
be written with Python's output unbuffered, which numbers it takes, and what it says of a
damaged usage store. Each test names the behaviour that failed before its fix."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from cli_helpers import (
    Cli,
    assert_one_error_line,
    clean_env,
    cli,
    process_env,
    run_into_full_disk,
    sandbox_env,
)
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.sandbox import DEMO_ORGANIZATION_SECRET_KEY, SandboxServer
from oeus_kraken.usage import TEXAS, UsageStore, UsageStoreError, local_day_bounds

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


@pytest.mark.parametrize("value", ["abc", "", "NaN", "-Infinity", "1E+999999"])
@pytest.mark.parametrize(
    "command",
    [
        ("export", "--csv"),
        ("export", "--interval", "day", "--csv"),
        ("chart", "--out", "day.svg"),
    ],
    ids=["export", "export --interval day", "chart"],
)
def test_a_damaged_stored_reading_is_one_line_naming_the_store_and_its_repair_exit_1(
    cli: Cli, clean_env: None, tmp_path: Path, value: str, command: tuple[str, ...]
) -> None:
    # A value the store never writes (hand-edited, another tool's). Before: "a number in the
    # API's answer is too large ... try again later" (no API was asked), NaN refused as a bad
    # argument (exit 2), and the chart drawn from it (exit 0).
    db = _damaged_store(tmp_path, value)
    verb, *options = command
    if verb == "chart":
        options[-1] = str(tmp_path / options[-1])
    run = cli("usage", verb, ESI, *JULY_1, *options, "--db", str(db))
    line = assert_one_error_line(run, f"usage {verb}", "error")
    assert f"the usage store {db} is damaged" in line, line
    assert f"usage forget {ESI} --from 2026-07-01 --to 2026-07-01" in line, line


def test_stored_readings_read_from_python_refuse_a_damaged_value(tmp_path: Path) -> None:
    # What compare adds up (UsageStore.readings) and intervals() read it alike. Before:
    # decimal.InvalidOperation, or a NaN kWh handed on.
    with UsageStore(_damaged_store(tmp_path, "NaN")) as store:
        start, end = local_day_bounds(date(2026, 7, 1))
        for read in (store.readings, store.intervals):
            with pytest.raises(UsageStoreError, match="is damaged"):
                read(ESI, start, end)


JULY_1 = ("--from", "2026-07-01", "--to", "2026-07-01")


def _damaged_store(tmp_path: Path, value: str) -> Path:
    """A store of 2026-07-01 whose reading at noon (Texas) holds `value`, as written by hand."""
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        store.upsert(day_intervals(date(2026, 7, 1)), fetched_at=FETCHED)
    noon = int(datetime(2026, 7, 1, 12, tzinfo=TEXAS).timestamp())
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        assert conn.execute("UPDATE intervals SET value = ? WHERE start_at = ?", (value, noon))
    return db


@pytest.mark.parametrize(
    "variables",
    [
        {"KRAKEN_API_KEY": "\udcff\udcfesk_live_SECRET"},
        {"KRAKEN_EMAIL": "me@example.com", "KRAKEN_PASSWORD": "pw-SECRET\udcff"},
    ],
    ids=["api key", "password"],
)
def test_a_credential_of_bytes_that_are_not_utf8_is_one_line_exit_2_not_a_traceback(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    variables: dict[str, str],
) -> None:
    # An environment variable set in another encoding (Latin-1 bytes): Python keeps the bytes
    # as lone surrogates. Before: a PydanticSerializationError traceback from the token
    # request's JSON, exit 1.
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    run = cli("--no-token-cache", "viewer")
    line = assert_one_error_line(run, "viewer", "usage")
    assert "not UTF-8" in line, line
    assert "SECRET" not in run.err
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("option", ["--street", "--unit", "--city"])
def test_address_text_of_bytes_that_are_not_utf8_says_so_in_a_users_words(
    cli: Cli, sandbox_env: None, sandbox: SandboxServer, option: str
) -> None:
    # Typed in a Latin-1 terminal: lone surrogates. Before: exit 2 with a line for a programmer
    # ("use str, int, float ... or the generated input models").
    given = {"--street": "2415 Elm Street", option: "Elm\udce9"}
    options = [part for pair in given.items() for part in pair]
    run = cli("address", *options, "--postal-code", "75201")
    line = assert_one_error_line(run, "address", "usage")
    assert f"{option} 'Elm\\udce9' holds bytes that are not UTF-8" in line, line
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize("argv", [("usage", "status"), ("compare", ESI)], ids=["status", "compare"])
def test_a_stored_time_that_is_no_date_is_one_line_saying_the_store_is_damaged(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: tuple[str, ...],
) -> None:
    # A hand-edited store whose last reading starts in the year 33658. Before: a ValueError
    # traceback ("year 33658 is out of range").
    monkeypatch.setenv("KRAKEN_ORGANIZATION_SECRET_KEY", DEMO_ORGANIZATION_SECRET_KEY)
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        store.upsert(day_intervals(date(2026, 7, 1)), fetched_at=FETCHED)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        (last,) = conn.execute("SELECT MAX(start_at) FROM intervals").fetchone()
        moved = "UPDATE intervals SET start_at = ?, end_at = ? WHERE start_at = ?"
        conn.execute(moved, (10**12, 10**12 + 900, last))
    run = cli(*argv, "--db", str(db))
    line = assert_one_error_line(run, argv[0] if argv[0] == "compare" else "usage status", "error")
    assert "holds a time that is no date" in line, line


def test_a_sync_time_that_is_text_is_one_line_saying_the_store_is_damaged(
    cli: Cli, clean_env: None, tmp_path: Path
) -> None:
    # 'abc' where a sync's start time goes (an INTEGER column SQLite lets hold text). Before:
    # a TypeError traceback from `usage status`.
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        store.upsert(day_intervals(date(2026, 7, 1)), fetched_at=FETCHED)
    with contextlib.closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO syncs (meter, started_at) VALUES (1, 'abc')")
    run = cli("usage", "status", "--db", str(db))
    line = assert_one_error_line(run, "usage status", "error")
    assert "holds a time that is no date" in line, line


def test_export_csv_spells_out_a_newline_and_an_escape_code_in_a_readings_source(
    cli: Cli, clean_env: None, tmp_path: Path
) -> None:
    # The source is the API's text, stored as given. Before: written raw, its row over two
    # lines (README: one line per row) and the escape code to the terminal of `--csv`.
    db = tmp_path / "usage.sqlite3"
    with UsageStore(db) as store:
        [first, *_] = day_intervals(date(2026, 7, 1))
        store.upsert([dataclasses.replace(first, source="AMS\nX\x1b[2J")], fetched_at=FETCHED)
    run = cli("usage", "export", ESI, *JULY_1, "--csv", "--db", str(db))
    assert run.code == 0, run
    _header, row = run.out.splitlines()
    assert ",AMS\\nX\\x1b[2J," in row, row
