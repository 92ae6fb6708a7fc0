"""`usage export|status|chart` read the local store with no API request and never create one;
`usage sync` refuses bad arguments before it touches the API or the store; the word after
`usage` picks the command; the sync's progress bar shows on a terminal only.

(The sync itself is tested with the sync engine.)
"""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli, run_process, sandbox_env
from usage_helpers import ESI, FETCHED, day_intervals

from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.cli._main import route
from oeus_kraken.cli._usage_store import Progress
from oeus_kraken.sandbox import DEMO_API_KEY, SandboxServer
from oeus_kraken.usage import AGGREGATE_COLUMNS, INTERVAL_COLUMNS, UsageStore

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

ACCOUNT = "A-1234ABCD"
FIRST = date(2026, 7, 13)
DAYS = 3
RANGE = ("--from", "2026-07-13", "--to", "2026-07-15")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Three days of one ESI ID of ACCOUNT, the middle one missing 4 intervals (one gap)."""
    path = tmp_path / "usage.sqlite3"
    with UsageStore(path) as store:
        store.link(ACCOUNT, ESI)
        for n in range(DAYS):
            skip = frozenset(range(40, 44)) if n == 1 else frozenset()
            store.upsert(day_intervals(FIRST + timedelta(days=n), skip=skip), fetched_at=FETCHED)
    return path


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- the word after `usage` ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "routed"),
    [
        (["usage", "sync"], ["usage sync"]),
        (["usage", "export", ACCOUNT, "--csv"], ["usage export", ACCOUNT, "--csv"]),
        (["usage", "status", "--db", "x"], ["usage status", "--db", "x"]),
        (["usage", "chart", ACCOUNT], ["usage chart", ACCOUNT]),
        (["usage", ACCOUNT, "--from", "2026-07-13"], ["usage", ACCOUNT, "--from", "2026-07-13"]),
        (["usage", "--help"], ["usage", "--help"]),
        (["viewer", "sync"], ["viewer", "sync"]),  # only after `usage`
        (["--version"], ["--version"]),
        ([], []),
    ],
)
def test_the_first_word_after_usage_picks_the_store_command(
    argv: list[str], routed: list[str]
) -> None:
    assert route(argv) == routed


@pytest.mark.parametrize("verb", ["status", "sync", "export"])
def test_with_no_home_folder_a_store_command_without_db_is_refused_in_one_line(
    cli: Cli, clean_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, verb: str
) -> None:
    # No HOME and a uid with no passwd entry (a container run as an arbitrary user): the
    # default store's path was a RuntimeError traceback (older platformdirs: a store made under
    # ./~/.local/share in the folder the command ran in).
    import pwd

    def no_passwd_entry(uid: int) -> object:
        raise KeyError(uid)

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setattr(pwd, "getpwuid", no_passwd_entry)
    argv = {"status": [], "sync": ["--api-key", DEMO_API_KEY], "export": [ACCOUNT, *RANGE]}

    run = cli("usage", verb, *argv[verb])

    line = assert_one_error_line(run, f"usage {verb}", "usage")
    assert "no home folder" in line
    assert "--db" in line
    assert list(tmp_path.iterdir()) == []


def test_usage_help_names_the_store_commands(cli: Cli, clean_env: None) -> None:
    text = " ".join(cli("usage", "--help").out.split())
    for verb in ("sync", "export", "status", "chart"):
        assert f"oeus-kraken usage {verb}" in text


# -- export ----------------------------------------------------------------------------------------


def test_export_writes_csv_a_header_then_one_line_per_interval_with_no_request(
    tmp_path: Path, sandbox: SandboxServer, store_path: Path
) -> None:
    env = {"KRAKEN_URL": sandbox.url}  # no credentials: none needed
    run = run_process(
        "usage", "export", ACCOUNT, *RANGE, "--db", str(store_path), env=env, tmp_path=tmp_path
    )

    assert run.code == 0, run.err
    header, *lines = run.out.splitlines()
    assert header == ",".join(INTERVAL_COLUMNS)
    assert len(lines) == DAYS * 96 - 4
    assert sandbox.stats.requests == 0


def test_export_by_day_as_json_and_by_esi_id(cli: Cli, clean_env: None, store_path: Path) -> None:
    days = json.loads(
        cli(
            "usage", "export", ESI, *RANGE, "--interval", "day", "--json", "--db", str(store_path)
        ).out
    )
    assert [(d["intervals"], d["expected_intervals"]) for d in days] == [
        (96, 96),
        (92, 96),
        (96, 96),
    ]
    assert list(days[0]) == list(AGGREGATE_COLUMNS)
    assert Decimal(days[0]["kwh"]) == 24  # 0.25 kWh an interval


def test_export_to_a_file_says_how_many_rows(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    out = tmp_path / "hours.csv"
    run = cli(
        "usage",
        "export",
        ACCOUNT,
        *RANGE,
        "--interval",
        "hour",
        "--db",
        str(store_path),
        "--out",
        str(out),
    )
    # 3 days of 24 hours, the hour of the gap too: it has no interval, and says so.
    assert run.out == f"wrote 72 rows to {out}\n"
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 + 72
    assert sum(line.endswith(",0,4,false") for line in lines) == 1


@pytest.mark.parametrize("form", ["--csv", "--json"])
def test_export_to_a_path_that_is_a_folder_is_one_line_and_leaves_the_folder_as_it_was(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, form: str
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "mine.txt").write_text("MINE", encoding="utf-8")

    run = cli(
        "usage", "export", ACCOUNT, *RANGE, form, "--db", str(store_path), "--out", str(folder)
    )

    line = assert_one_error_line(run, "usage export", "error")
    assert f"cannot write {folder}" in line
    assert sorted(p.name for p in folder.iterdir()) == ["mine.txt"]
    assert not [p.name for p in tmp_path.iterdir() if ".partial" in p.name]


@pytest.mark.slow
def test_export_parquet_is_a_dataset_directory(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    pytest.importorskip("pyarrow")  # the parquet extra; installed by `make install`
    refused = cli("usage", "export", ACCOUNT, *RANGE, "--parquet", "--db", str(store_path))
    written = cli(
        "usage",
        "export",
        ACCOUNT,
        *RANGE,
        "--parquet",
        "--db",
        str(store_path),
        "--out",
        str(tmp_path / "ds"),
    )

    assert "--parquet writes a dataset" in assert_one_error_line(refused, "usage export", "usage")
    assert written.code == 0, written.err
    assert len(list((tmp_path / "ds").glob(f"date=*/{ESI}.parquet"))) == DAYS


@pytest.mark.parametrize("command", ["export", "chart"])
def test_reading_a_store_that_is_not_there_says_so_and_creates_nothing(
    cli: Cli, clean_env: None, tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "nowhere" / "usage.sqlite3"
    extra = ("--out", str(tmp_path / "c.png")) if command == "chart" else ()
    run = cli("usage", command, ACCOUNT, *RANGE, "--db", str(missing), *extra)

    line = assert_one_error_line(run, f"usage {command}", "error")
    assert f"no usage store at {missing}" in line
    assert "usage sync" in line
    assert not missing.parent.exists()


def test_export_of_an_account_the_store_does_not_have_says_to_sync_it(
    cli: Cli, clean_env: None, store_path: Path
) -> None:
    run = cli("usage", "export", "A-00000000", *RANGE, "--db", str(store_path))
    line = assert_one_error_line(run, "usage export", "error")
    assert "no account or ESI ID 'A-00000000'" in line


@pytest.mark.parametrize("command", ["usage export", "usage chart", "compare"])
def test_a_range_in_the_future_is_said_to_have_no_usage_yet_not_sent_to_sync(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    store_path: Path,
    tmp_path: Path,
    command: str,
) -> None:
    # A sync asks for nothing after now, so "sync it first" sent the user round in a circle.
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    future = ("--from", "2999-01-01", "--to", "2999-01-31", "--db", str(store_path))
    extra = ("--out", str(tmp_path / "c.png")) if command == "usage chart" else ()
    run = cli(*command.split(), ESI, *future, *extra)
    code = "error" if command == "compare" else "no_rows"
    line = assert_one_error_line(run, command, code)
    assert "no usage yet" in line, line
    assert "sync" not in line, line


# -- status ----------------------------------------------------------------------------------------


def test_status_shows_coverage_gaps_and_syncs_per_account_and_esi_id(
    cli: Cli, clean_env: None, store_path: Path
) -> None:
    run = cli("usage", "status", "--db", str(store_path))
    [row] = csv_rows(cli("usage", "status", "--db", str(store_path), "--csv").out)
    [document] = json.loads(cli("usage", "status", "--db", str(store_path), "--json").out)

    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == f"usage store {store_path}"
    assert (row["account_number"], row["esi_id"], row["intervals"]) == (
        ACCOUNT,
        ESI,
        str(DAYS * 96 - 4),
    )
    assert (row["gaps"], row["missing_intervals"], row["last_sync"]) == ("1", "4", "")
    assert row["covered_from"] == "2026-07-13T00:00:00-05:00"
    [gap] = document["gaps"]
    assert gap["start"] == "2026-07-14T10:00:00-05:00"
    assert gap["end"] == "2026-07-14T11:00:00-05:00"
    assert document["missing_intervals"] == 4
    assert "never" in run.out


def test_status_shows_the_last_sync_and_its_requests(
    cli: Cli, clean_env: None, store_path: Path
) -> None:
    with UsageStore(store_path) as store:
        started = datetime(2026, 7, 16, 12, tzinfo=timezone.utc)
        sync = store.begin_sync(ESI, started_at=started)
        store.finish_sync(
            sync, finished_at=started + timedelta(minutes=1), requests=7, intervals=284, revised=0
        )
    [row] = csv_rows(cli("usage", "status", "--db", str(store_path), "--csv").out)
    assert row["requests_used"] == "7"
    assert row["last_sync"] == "2026-07-16 07:01 CDT"


@pytest.mark.slow
def test_status_of_no_store_says_how_to_make_one_and_creates_nothing(
    tmp_path: Path, sandbox: SandboxServer
) -> None:
    run = run_process("usage", "status", env={}, tmp_path=tmp_path)  # the default path

    assert run.code == 0, run.err
    assert run.out.startswith("no usage store at ")
    assert "`oeus-kraken usage sync` makes one" in run.out
    assert not (tmp_path / "data").exists()


# -- chart -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_chart_writes_a_png(cli: Cli, clean_env: None, store_path: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")  # the chart extra; installed by `make install`
    out = tmp_path / "usage.png"
    run = cli("usage", "chart", ACCOUNT, *RANGE, "--db", str(store_path), "--out", str(out))
    assert run.code == 0, run.err
    assert run.out == f"wrote {out}\n"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chart_without_matplotlib_names_the_extra_and_exits_2(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, module, None)  # import fails, as when not installed
    run = cli(
        "usage", "chart", ACCOUNT, *RANGE, "--db", str(store_path), "--out", str(tmp_path / "c.png")
    )
    line = assert_one_error_line(run, "usage chart", "usage")
    assert "pip install 'oeus-kraken[chart]'" in line
    assert not (tmp_path / "c.png").exists()


# -- sync: arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (("--max-requests", "0"), "'0' is not a whole number of 1 or more"),
        (("--max-requests", "many"), "'many' is not a whole number"),
        (("--concurrency", "-2"), "'-2' is not a whole number of 1 or more"),
        (("--concurrency", "65"), "'65' is not a whole number from 1 to 64"),
        (("--since", "last week"), "'last week' is not a date"),
        (("A-5F3C9D21", "A-123"), "'A-123' is not a Kraken account number"),
        (("--db", ""), "argument --db: the path is empty"),
    ],
    ids=[
        "max-requests-0",
        "max-requests-word",
        "concurrency",
        "concurrency-over-the-cap",
        "since",
        "account",
        "empty-db",
    ],
)
def test_sync_refuses_bad_arguments_before_any_request(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: tuple[str, ...],
    expected: str,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    line = assert_one_error_line(cli("usage", "sync", *argv), "usage sync", "usage")
    assert expected in line
    assert sandbox.stats.requests == 0
    assert not (tmp_path / "data").exists()  # no store made


# -- sync: the progress bar ------------------------------------------------------------------------


class Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def progress(done: int, total: int, intervals: int, requests: int) -> SimpleNamespace:
    """What the sync reports after a page (a SyncProgress's fields)."""
    return SimpleNamespace(
        esi_id=ESI, requests=requests, intervals=intervals, done_windows=done, total_windows=total
    )


def test_the_progress_bar_on_a_terminal_shows_intervals_and_requests() -> None:
    terminal = Terminal(tty=True)
    bar = Progress(terminal)

    bar(progress(1, 4, 100, 2))
    bar(progress(2, 5, 12_345, 130))  # gaps found on the way raise the estimate
    bar.close()

    text = terminal.getvalue()
    assert "12,345 intervals, 130 requests" in text
    assert "2/5 windows" in text


def test_the_progress_bar_is_silent_when_stderr_is_not_a_terminal() -> None:
    piped = Terminal(tty=False)
    bar = Progress(piped)
    bar(progress(1, 4, 100, 2))
    bar.close()
    assert piped.getvalue() == ""


# -- sync, end to end against the sandbox ---------------------------------------------------------


@pytest.mark.slow
def test_sync_fills_the_store_and_a_second_sync_costs_only_the_recent_days(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    db = str(tmp_path / "usage.sqlite3")
    since = (datetime.now(timezone.utc) - timedelta(days=10)).date().isoformat()

    first = cli("usage", "sync", "A-5F3C9D21", "--since", since, "--db", db)
    assert first.code == 0, first.err
    assert first.out.startswith("synced 1 ESI ID of 1 account:")
    pages = sandbox.stats.operations["getPropertyMeasurements"]

    second = cli("usage", "sync", "A-5F3C9D21", "--since", since, "--db", db, "--json")
    assert second.code == 0, second.err
    report = json.loads(second.out)
    assert report["stopped_reason"] is None
    assert report["inserted"] == 0
    assert sandbox.stats.operations["getPropertyMeasurements"] - pages <= 4  # 3 days, 100 a page

    status = cli("usage", "status", "--db", db, "--json")
    assert status.code == 0
    assert "A-5F3C9D21" in status.out


def test_sync_stopped_by_max_requests_says_so_and_exits_6(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", "sync", "--max-requests", "3", "--db", str(tmp_path / "u.sqlite3"))
    assert run.code == EXIT_CODES["stopped"] == 6, run.err
    assert "stopped at --max-requests 3" in run.out
    assert sandbox.stats.requests - sandbox.stats.token_requests == 3


# -- paths the commands print ----------------------------------------------------------------------


def test_a_path_with_a_newline_or_an_escape_code_is_printed_escaped_on_one_line(
    cli: Cli, clean_env: None, store_path: Path, tmp_path: Path
) -> None:
    """`wrote N rows to PATH` and status's `usage store PATH` spell a newline or an escape code in
    the path as \\n and \\x1b, as a failure's line does: the path cannot add a line to the output
    nor act on the terminal. Before, they were printed raw ('wrote 3 rows to a' then 'b.csv')."""
    odd = "a\nb\x1b[31m"
    folder = tmp_path / odd
    folder.mkdir()
    store = folder / "usage.sqlite3"
    store_path.rename(store)
    out = folder / "out.csv"
    export = cli("usage", "export", ACCOUNT, *RANGE, "--db", str(store), "--out", str(out))
    assert export.code == 0, export.err
    assert export.out == f"wrote {3 * 96 - 4} rows to {tmp_path}/a\\nb\\x1b[31m/out.csv\n"
    status = cli("usage", "status", "--db", str(store))
    assert status.out.splitlines()[0] == f"usage store {tmp_path}/a\\nb\\x1b[31m/usage.sqlite3"
    missing = cli("usage", "status", "--db", str(folder / "none.sqlite3"))
    assert missing.out.startswith(f"no usage store at {tmp_path}/a\\nb\\x1b[31m/none.sqlite3 yet")
    assert "\x1b" not in export.out + status.out + missing.out
