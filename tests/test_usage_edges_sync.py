"""Issue 20, the usage sync at its edges (items 3, 4, 5 and the counts of 8): Ctrl-C stops it at
once, one bad account spoils no other, every date gets a result or one line, nothing is asked
for before a meter existed or after now, and every request is counted.

Against the sandbox over loopback; the CLI as a real process where a signal is the point.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from cli_helpers import Cli, assert_one_error_line, clean_env, cli, process_env, sandbox_env
from conftest import SandboxClock
from usage_helpers import AccountRewritten

from oeus_kraken import APIKey, ConfigurationError, KrakenClient, SyncKrakenClient
from oeus_kraken.cli import EXIT_CODES
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_API_KEY, USAGE_START, SandboxServer
from oeus_kraken.usage import (
    SyncReport,
    UsageStore,
    UsageSyncInterrupted,
    local_day_bounds,
    sync_usage,
    sync_usage_blocking,
)
from oeus_kraken.usage import _sync as usage_sync_module

__all__ = ["clean_env", "cli", "sandbox_env"]  # fixtures, used by name

ACCOUNT, SECOND_ACCOUNT = DEMO_ACCOUNT_NUMBERS
MISSING_ACCOUNT = "A-00000000"
CREDENTIALS = APIKey(DEMO_API_KEY)
BEGINNING = datetime.fromtimestamp(USAGE_START, tz=timezone.utc)
# The main demo account's supply began 2023-12-01 (its agreement); the sandbox's usage history
# begins 2025-12-01: the two years between are a span the API answers empty.
SUPPLY_START = datetime(2023, 12, 1, 6, tzinfo=timezone.utc)


def days_ago(days: int) -> date:
    """A `since` a few days back from today: a sync that proves its point in a few pages, and
    costs the same whatever day the suite runs (a fixed date costs more every day)."""
    return (datetime.now(timezone.utc) - timedelta(days=days)).date()


class RequestLog:
    """When each GraphQL request reached the sandbox (monotonic seconds), by operation."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.times: list[tuple[float, str]] = []
        switches = sandbox.state.switches
        original = switches.record_request

        def record(operation_name: str) -> None:
            self.times.append((time.monotonic(), operation_name))
            original(operation_name)

        switches.record_request = record  # type: ignore[method-assign]
        self._undo: Callable[[], None] = lambda: setattr(switches, "record_request", original)

    def after(self, moment: float) -> list[str]:
        return [name for at, name in self.times if at > moment]

    def close(self) -> None:
        self._undo()


@pytest.fixture
def request_log(sandbox: SandboxServer) -> Iterator[RequestLog]:
    log = RequestLog(sandbox)
    yield log
    log.close()


@pytest.fixture
def measured_spans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[datetime, datetime]]:
    """(startAt, endAt) of every measurements page the sandbox answered."""
    from oeus_kraken.sandbox import _us_resolvers

    spans: list[tuple[datetime, datetime]] = []
    original = _us_resolvers.measurements_connection

    def recording(meter: Any, **arguments: Any) -> Any:
        spans.append((arguments["start_at"], arguments["end_at"]))
        return original(meter, **arguments)

    monkeypatch.setattr(_us_resolvers, "measurements_connection", recording)
    return spans


def blocking_sync(sandbox: SandboxServer, store: UsageStore, accounts: list[str], **options: Any):
    with SyncKrakenClient(sandbox.url, credentials=CREDENTIALS) as kraken:
        return sync_usage_blocking(kraken, store, accounts, **options)


def sync_cli(
    sandbox: SandboxServer, tmp_path: Path, *args: str, command: tuple[str, ...] = ("usage", "sync")
) -> subprocess.Popen[str]:
    env = process_env({"KRAKEN_URL": sandbox.url, "KRAKEN_API_KEY": DEMO_API_KEY}, tmp_path)
    return subprocess.Popen(
        [sys.executable, "-m", "oeus_kraken", *command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_pages(sandbox: SandboxServer, pages: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while sandbox.stats.count("getPropertyMeasurements") < pages:
        assert time.monotonic() < deadline, "the sync never got going"
        time.sleep(0.02)


def counted_requests(db: Path) -> int:
    with UsageStore(db, read_only=True) as store:
        return store.requests_used()


def gap_rows(db: Path) -> int:
    with contextlib.closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM gap_attempts").fetchone()[0])


# -- 3. Ctrl-C stops a sync within 2 s -------------------------------------------------------------


@pytest.mark.slow
def test_item3_ctrl_c_stops_a_cli_sync_within_2_s_with_no_request_after_it(
    sandbox: SandboxServer, request_log: RequestLog, tmp_path: Path
) -> None:
    sandbox.set_faults(delay=0.05)
    db = tmp_path / "usage.sqlite3"
    with sync_cli(sandbox, tmp_path, "--since", "2026-01-01", "--db", str(db)) as child:
        wait_for_pages(sandbox, 5)
        signalled = time.monotonic()
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
        took = time.monotonic() - signalled

    assert child.returncode == EXIT_CODES["interrupted"] == 130, err
    assert took < 2.0
    assert request_log.after(signalled + 0.01) == []  # none sent after the signal
    assert "Traceback" not in err
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("oeus-kraken usage sync: interrupted: kept "), line
    assert "the next sync resumes" in line
    # Consistent, every request counted, and the next run completes from where it stopped.
    sent = sandbox.stats.requests - sandbox.stats.token_requests
    assert counted_requests(db) == sent
    with UsageStore(db) as store:
        records = [s.last_sync for s in store.status()]
        assert all(r is not None and r.stopped_reason == "interrupted" for r in records)
        sandbox.set_faults(delay=0)
        report = blocking_sync(sandbox, store, [ACCOUNT], since=days_ago(4))
        assert report.stopped_reason is None


@pytest.mark.slow
def test_ctrl_c_in_compare_sync_says_what_the_sync_kept_as_usage_sync_does(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    sandbox.set_faults(delay=0.05)
    db = tmp_path / "usage.sqlite3"
    argv = (ACCOUNT, "--from", "2026-01-01", "--to", "2026-11-30", "--db", str(db), "--sync")
    with sync_cli(sandbox, tmp_path, *argv, command=("compare",)) as child:
        wait_for_pages(sandbox, 5)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=30)
    assert child.returncode == EXIT_CODES["interrupted"], err
    assert out == ""
    [line] = err.splitlines()
    assert line.startswith("oeus-kraken compare: interrupted: kept "), line
    assert "the next sync resumes" in line


@pytest.mark.slow
def test_item3_a_second_ctrl_c_exits_at_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.set_faults(delay=0.05)
    db = tmp_path / "usage.sqlite3"
    with sync_cli(sandbox, tmp_path, "--since", "2026-01-01", "--db", str(db)) as child:
        wait_for_pages(sandbox, 3)
        sandbox.set_faults(delay=5.0)  # the pages now in flight outlast the first stop's grace
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)
        time.sleep(0.4)  # the first one is being handled: its grace for the pages runs
        again = time.monotonic()
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=30)
        took = time.monotonic() - again
    assert child.returncode == 130
    assert took < 0.6  # not the rest of the first Ctrl-C's grace for what is in flight
    assert "interrupted again: stopped at once" in err
    assert "Traceback" not in err
    with UsageStore(db) as store:  # consistent
        assert store.status()


def test_item3_ctrl_c_in_the_blocking_api_raises_usage_sync_interrupted_with_the_report(
    sandbox: SandboxServer,
    request_log: RequestLog,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sandbox.set_faults(delay=0.02)
    pages: list[int] = []
    # When the sync took the Ctrl-C: Python runs the signal's handler in the main thread when
    # that thread next runs, which on a busy machine can be many milliseconds after the signal.
    interrupted_at: list[float] = []
    taking = usage_sync_module._Run.interrupt

    def took(run: Any) -> None:
        interrupted_at.append(time.monotonic())
        taking(run)

    monkeypatch.setattr(usage_sync_module._Run, "interrupt", took)

    def progress(_: Any) -> None:
        pages.append(1)
        if len(pages) == 3:
            # Ctrl-C: SIGINT, which the main thread gets (the sync's threads block it).
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

    with UsageStore(tmp_path / "u.sqlite3") as store:
        with pytest.raises(UsageSyncInterrupted) as caught:
            blocking_sync(sandbox, store, [ACCOUNT], since=date(2026, 1, 1), progress=progress)
        report = caught.value.report
        assert isinstance(caught.value, KeyboardInterrupt)
        assert report.stopped_reason == "interrupted"
        assert report.inserted > 0
        assert str(caught.value) == report.message
        [status] = store.status()
        assert status.last_sync is not None
        assert status.last_sync.finished
        assert status.intervals == report.inserted
    # None sent once it was taken (one already on its way may land a moment later): a sync that
    # went on would send a page every 20 ms.
    assert request_log.after(interrupted_at[0] + 0.05) == []


@pytest.mark.slow
def test_item3_cancelling_sync_usage_stops_it_the_same_way(
    sandbox: SandboxServer, request_log: RequestLog, tmp_path: Path
) -> None:
    sandbox.set_faults(delay=0.05)
    db = tmp_path / "u.sqlite3"

    async def run() -> float:
        pages = asyncio.Event()
        seen: list[int] = []

        def progress(_: Any) -> None:
            seen.append(1)
            if len(seen) >= 3:
                pages.set()

        async with KrakenClient(sandbox.url, credentials=CREDENTIALS) as kraken:
            with UsageStore(db) as store:
                task = asyncio.ensure_future(
                    sync_usage(kraken, store, [ACCOUNT], since=date(2026, 1, 1), progress=progress)
                )
                await pages.wait()
                cancelled = time.monotonic()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                return cancelled

    cancelled = asyncio.run(run())
    assert request_log.after(cancelled + 0.01) == []
    with UsageStore(db) as store:
        [status] = store.status()
        assert status.last_sync is not None
        assert status.last_sync.stopped_reason == "interrupted"
        assert store.requests_used() == sandbox.stats.requests - sandbox.stats.token_requests
        report = blocking_sync(sandbox, store, [ACCOUNT], since=days_ago(4))
        assert report.stopped_reason is None


# -- 4. One account's failure spoils no other ------------------------------------------------------


def test_item4_one_bad_account_spoils_no_other_and_the_summary_names_it(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    db = tmp_path / "u.sqlite3"
    run = cli("usage", "sync", MISSING_ACCOUNT, ACCOUNT, "--since", "2026-12-01", "--db", str(db))
    assert run.code == EXIT_CODES["partial"] == 7, run
    [line] = run.out.splitlines()
    assert "1 account failed" in line
    assert f"{MISSING_ACCOUNT}: not found, or not visible to these credentials (KT-CT-4177)" in line
    with UsageStore(db) as store:
        [status] = store.status()
    assert status.account_number == ACCOUNT
    assert status.intervals > 0


def test_an_api_error_in_the_sync_summary_cannot_drive_the_terminal(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # An account's failure is the API's own message, in the summary line; an escape code in it
    # reached the terminal as it was (the other commands print API text escaped: README).
    from graphql import GraphQLError

    from oeus_kraken.sandbox import _us_resolvers

    def hostile(*_: Any, **__: Any) -> Any:
        raise GraphQLError("boom\x1b[2J\x1b]0;pwned\x07", extensions={"errorCode": "KT-CT-9999"})

    monkeypatch.setattr(_us_resolvers, "measurements_connection", hostile)
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", "sync", ACCOUNT, "--since", "2026-12-01", "--db", str(tmp_path / "u.db"))
    assert run.code == EXIT_CODES["error"], run
    [line] = run.out.splitlines()
    assert "\x1b" not in line
    assert "\x07" not in line
    assert "boom\\x1b[2J\\x1b]0;pwned\\x07" in line  # shown, spelt out


def test_item4_the_library_report_names_each_failed_account_and_why(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    with UsageStore(tmp_path / "u.sqlite3") as store:
        report = blocking_sync(
            sandbox,
            store,
            [ACCOUNT, MISSING_ACCOUNT, "A-FFFFFFFF"],
            since=date(2026, 12, 1),
        )
    assert set(report.failures) == {MISSING_ACCOUNT, "A-FFFFFFFF"}
    assert all("KT-CT-4177" in why for why in report.failures.values())
    assert report.stopped_reason is None
    assert report.inserted > 0


def sync_today_through(
    sandbox: SandboxServer, transport: httpx.BaseTransport, tmp_path: Path, account: str
) -> tuple[SyncReport, list[str]]:
    """A sync of today's usage of `account` in a new store, through `transport`: its report,
    and the ESI IDs it stored."""
    with (
        httpx.Client(transport=transport) as http,
        SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY), http_client=http) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        # Today in Texas (the machine's date is a day ahead of it after 00:00 UTC, 6 hours a day).
        today = datetime.now(ZoneInfo("America/Chicago")).date()
        return sync_usage_blocking(kraken, store, [account], since=today), store.esi_ids()


def test_an_esi_id_from_the_api_that_is_not_digits_fails_its_account_and_is_not_stored(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # What the API names an ESI ID becomes a file name in a Parquet export and a cell in a CSV.
    account = DEMO_ACCOUNT_NUMBERS[0]  # its ESI ID, as the README shows it:
    transport = AccountRewritten("10443720004512388", "../../=HYPERLINK()")
    report, esi_ids = sync_today_through(sandbox, transport, tmp_path, account)
    assert esi_ids == []
    assert "not digits" in report.failures[account], report.failures
    assert sandbox.stats.operations.get("getPropertyMeasurements", 0) == 0


@pytest.mark.parametrize(
    ("valid_from", "measured"),
    [("9999-12-31T23:59:00-06:00", False), ("0001-01-01T00:00:00+05:00", True)],
    ids=["9999", "0001"],
)
def test_a_supply_start_past_the_calendars_end_in_utc_is_that_end_not_a_crash(
    sandbox: SandboxServer, tmp_path: Path, valid_from: str, measured: bool
) -> None:
    # Before: a bare OverflowError ("date value out of range") out of sync_usage_blocking, for
    # an agreement's validFrom (a placeholder date) that UTC cannot hold.
    account = DEMO_ACCOUNT_NUMBERS[0]
    transport = AccountRewritten("2024-12-01T00:00:00-06:00", valid_from)  # its supply start
    report, _ = sync_today_through(sandbox, transport, tmp_path, account)
    assert not report.failures
    # A supply that starts in 9999 has no usage to ask for; one from year 1, all of it.
    assert ("getPropertyMeasurements" in sandbox.stats.operations) is measured


def test_an_account_named_twice_is_synced_once(sandbox: SandboxServer, tmp_path: Path) -> None:
    with UsageStore(tmp_path / "u.sqlite3") as store:
        report = blocking_sync(sandbox, store, [ACCOUNT, ACCOUNT], since=date(2026, 12, 1))
    assert (report.accounts, report.esi_ids) == (1, 1)
    assert sandbox.stats.operations.get("getAccount") == 1
    assert report.inserted == report.intervals  # one walk: nothing received twice


def test_an_empty_list_of_accounts_syncs_none_rather_than_every_account(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # An integrator's filter that matched nothing must not sync all of an organisation's
    # accounts; every account the credential sees is `accounts=None` (the default).
    with UsageStore(tmp_path / "u.sqlite3") as store:
        report = blocking_sync(sandbox, store, [], since=date(2026, 12, 1))
        assert store.status() == []
    assert (report.accounts, report.esi_ids, report.requests) == (0, 0, 0)
    assert sandbox.stats.requests == 0


@pytest.mark.parametrize(
    "options",
    [
        {"accounts": [""]},
        {"accounts": ["  "]},
        {"accounts": [ACCOUNT, None]},
        {"accounts": [12345678]},
        {"now": date(2026, 12, 1)},
        {"now": "2026-12-01T00:00:00Z"},
        {"progress": 3},
        {"progress": "print"},
    ],
    ids=["empty", "blank", "none", "number", "now-a-date", "now-a-string", "progress-3", "str"],
)
def test_a_bad_account_now_or_progress_is_a_configuration_error_before_any_request(
    sandbox: SandboxServer, tmp_path: Path, options: dict[str, Any]
) -> None:
    accounts = options.pop("accounts", [ACCOUNT])
    with UsageStore(tmp_path / "u.sqlite3") as store, pytest.raises(ConfigurationError):
        blocking_sync(sandbox, store, accounts, since=date(2026, 12, 1), **options)
    assert sandbox.stats.requests == 0


def test_item4_when_every_account_fails_the_sync_exits_1(
    cli: Cli, sandbox_env: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", "sync", MISSING_ACCOUNT, "--db", str(tmp_path / "u.sqlite3"))
    assert run.code == EXIT_CODES["error"] == 1
    assert MISSING_ACCOUNT in run.out


# -- 5. Every date gets a result or one line; nothing before supply or after now -----------------


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1969-12-31", "2038-01-19"])
@pytest.mark.parametrize(
    "command",
    [
        ("usage", "sync", ACCOUNT, "--since", "{day}"),
        ("usage", ACCOUNT, "--from", "2026-12-01", "--to", "{day}"),
        ("usage", ACCOUNT, "--from", "{day}", "--to", "{day}"),
        ("usage", "export", ACCOUNT, "--from", "{day}", "--to", "9999-12-31"),
        ("usage", "export", ACCOUNT, "--from", "{day}", "--to", "{day}", "--interval", "day"),
        ("usage", "chart", ACCOUNT, "--from", "{day}", "--to", "{day}", "--out", "{out}"),
    ],
    ids=["sync-since", "usage-to", "usage-from", "export", "export-day", "chart"],
)
def test_item5_every_date_a_user_can_type_gets_a_result_or_one_line(
    cli: Cli,
    sandbox_env: None,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    command: tuple[str, ...],
    day: str,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    db = tmp_path / "u.sqlite3"
    with UsageStore(db) as store:
        store.link(ACCOUNT, "10443720004512388")
    argv = [part.format(day=day, out=tmp_path / "c.png") for part in command]
    if argv[1] in ("export", "chart", "sync"):
        argv += ["--db", str(db)]
    if argv[1] == "sync":
        argv += ["--max-requests", "3"]
    run = cli(*argv)
    assert "Traceback" not in run.err
    if run.code == 0:
        return
    assert run.code in (2, 6, 8), run
    assert len(run.err_lines) == 1 or run.code == 6, run


@pytest.mark.parametrize(
    ("accounts", "fault", "code"),
    [
        ((MISSING_ACCOUNT,), {}, "error"),  # every account failed
        ((MISSING_ACCOUNT, ACCOUNT), {}, "partial"),  # some did
        ((ACCOUNT,), {"data_rate_limit": 1_000}, "rate_limited"),
    ],
    ids=["every-account-failed", "some-failed", "rate-limited"],
)
@pytest.mark.parametrize("json_report", [False, True], ids=["text", "json"])
def test_a_sync_that_fails_says_so_in_one_line_on_stderr_and_reports_on_stdout(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    accounts: tuple[str, ...],
    fault: dict[str, int],
    code: str,
    json_report: bool,
) -> None:
    """README: "Failures are one line on stderr". Before, a sync whose accounts failed, or that
    a rate limit stopped, printed its summary on stdout only: nothing on stderr."""
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    sandbox.set_faults(**fault)
    argv = ["usage", "sync", *accounts, "--since", "2026-12-01", "--db", str(tmp_path / "u.db")]
    run = cli(*argv, *(["--json"] if json_report else []))

    line = assert_one_error_line(run, "usage sync", code)
    if json_report:
        assert json.loads(run.out)["message"] in line
    else:
        assert run.out == line.removeprefix("oeus-kraken usage sync: ") + "\n"


def test_item5_a_future_since_is_exit_2_before_any_request(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    run = cli("usage", "sync", "--since", "2030-01-01", "--db", str(tmp_path / "u.sqlite3"))
    line = assert_one_error_line(run, "usage sync", "usage")
    assert "--since 2030-01-01 is in the future" in line
    assert sandbox.stats.requests == 0


def test_item5_to_past_today_is_today_and_no_request_is_sent_for_future_windows(
    cli: Cli,
    sandbox_env: None,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
    measured_spans: list[tuple[datetime, datetime]],
) -> None:
    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    today = datetime.now(timezone.utc).date()
    first = (today - timedelta(days=2)).isoformat()
    to_today = cli("usage", ACCOUNT, "--from", first, "--to", today.isoformat(), "--csv")
    asked_today = len(measured_spans)
    ten_years = cli("usage", ACCOUNT, "--from", first, "--to", "2036-12-01", "--csv")
    assert to_today.code == ten_years.code == 0
    assert ten_years.out == to_today.out
    # (The spans in the message: this failed once in a loaded full run, 8 requests for 6.)
    assert len(measured_spans) == 2 * asked_today, measured_spans
    now = datetime.now(timezone.utc) + timedelta(minutes=15)
    assert all(datetime.fromisoformat(str(end)) <= now for _, end in measured_spans)
    future = cli("usage", ACCOUNT, "--from", "2030-01-01", "--to", "2030-01-02", "--csv")
    assert future.code == 0
    assert len(measured_spans) == 2 * asked_today  # all of it ahead: not even the account


def sync_at(sandbox: SandboxServer, db: Path, since: date, now: datetime) -> tuple[int, int]:
    """(measurement requests, gap rows) of one sync of ACCOUNT at `now`."""
    before = sandbox.stats.count("getPropertyMeasurements")
    with UsageStore(db) as store:
        report = blocking_sync(sandbox, store, [ACCOUNT], since=since, now=now)
    assert report.stopped_reason is None
    return sandbox.stats.count("getPropertyMeasurements") - before, gap_rows(db)


@pytest.mark.slow
def test_item5_since_2000_costs_a_handful_more_than_since_2024_the_first_time_and_later(
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    measured_spans: list[tuple[datetime, datetime]],
    tmp_path: Path,
) -> None:
    now = BEGINNING + timedelta(days=20)  # the sandbox's first 20 days: a few pages
    old, recent = tmp_path / "old.sqlite3", tmp_path / "recent.sqlite3"
    old_first, old_gaps = sync_at(sandbox, old, date(2000, 1, 1), now)
    recent_first, _ = sync_at(sandbox, recent, date(2024, 1, 1), now)
    assert old_first <= recent_first + 3
    assert old_gaps <= 3  # the empty years are one range, not one row per interval
    # A span before the supply began is never asked for.
    asked = [datetime.fromisoformat(str(start)) for start, _ in measured_spans]
    assert min(asked) >= SUPPLY_START

    # Each later sync comes after the empty span's backoff ran out (1 h after the first attempt,
    # 2 h after the second), so it is asked for again: days of new data would prove nothing more.
    for later in (timedelta(hours=2), timedelta(hours=8)):
        old_again, old_gaps = sync_at(sandbox, old, date(2000, 1, 1), now + later)
        recent_again, _ = sync_at(sandbox, recent, date(2024, 1, 1), now + later)
        assert old_again <= recent_again + 3
        assert old_gaps <= 3


# -- 8. Honest counts ------------------------------------------------------------------------------


@pytest.mark.slow
def test_item8_status_counts_every_request_lookups_and_budget_checks_included(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    db = tmp_path / "u.sqlite3"
    with UsageStore(db) as store:
        report = blocking_sync(sandbox, store, None, since=days_ago(4))
        assert report.stopped_reason is None
        sent = sandbox.stats.requests - sandbox.stats.token_requests
        assert sandbox.stats.count("getViewer") == 1
        assert sandbox.stats.count("getRateLimitInfo") >= 1
        assert report.requests == sent
        assert store.requests_used() == sent
        # Per ESI ID: its pages and the budget checks its walk made; the rest are the lookups.
        lookups = sandbox.stats.count("getViewer") + sandbox.stats.count("getAccount")
        assert sum(s.requests_used for s in store.status()) == sent - lookups


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_item8_a_killed_sync_has_counted_the_requests_it_sent(
    cli: Cli, clean_env: None, sandbox: SandboxServer, tmp_path: Path
) -> None:
    db = tmp_path / "u.sqlite3"
    with sync_cli(sandbox, tmp_path, "--since", "2026-01-01", "--db", str(db)) as child:
        wait_for_pages(sandbox, 12)
        os.kill(child.pid, signal.SIGKILL)
        child.communicate(timeout=30)
    time.sleep(0.2)
    sent = sandbox.stats.requests - sandbox.stats.token_requests
    counted = counted_requests(db)
    # Counted before it is sent: a kill between the two is the only over-count, one a worker.
    assert sent <= counted <= sent + 4
    run = cli("usage", "status", "--db", str(db))
    assert f"API requests by all syncs: {counted:,}" in run.out


def test_item8_the_default_since_is_a_local_midnight(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    now = datetime(2026, 12, 7, 15, 37, tzinfo=timezone.utc)  # 09:37 in Texas
    with UsageStore(tmp_path / "u.sqlite3") as store:
        blocking_sync(sandbox, store, [ACCOUNT], now=now, max_requests=3)
        [status] = store.status()
    assert status.covered is not None
    first = status.covered[0]
    assert (first.hour, first.minute) == (0, 0)  # Texas midnight, not UTC's
    assert first == local_day_bounds(first.date())[0]
    assert first.date() == date(2025, 12, 6)  # a year and a day back


@pytest.mark.parametrize("at", ["making the client", "opening the store"])
def test_item3_ctrl_c_before_the_sync_begins_says_nothing_was_fetched(
    cli: Cli, sandbox_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    # The first second of a run goes on loading modules, the token cache and the store: a
    # Ctrl-C then is still one line saying what became of the sync, like one during it.
    def ctrl_c(*_: Any, **__: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    if at == "making the client":
        monkeypatch.setattr("oeus_kraken.cli._common.Invocation.client", ctrl_c)
    else:
        monkeypatch.setattr("oeus_kraken.usage.UsageStore", ctrl_c)
    run = cli("usage", "sync", ACCOUNT, "--db", str(tmp_path / "usage.sqlite3"))
    assert run.code == EXIT_CODES["interrupted"] == 130
    assert "Traceback" not in run.err
    [line] = run.err_lines
    assert line == (
        "oeus-kraken usage sync: interrupted before the sync began: nothing was asked for or "
        "stored; run it again to sync"
    )


@pytest.mark.parametrize("json_report", [False, True], ids=["text", "json"])
def test_item3_ctrl_c_during_a_cli_sync_says_what_it_kept_in_one_line_on_stderr(
    cli: Cli, sandbox_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, json_report: bool
) -> None:
    # README's exit table: 130 is "in one line on stderr; a usage sync's line says what it
    # kept", as every other command's (and compare --sync's) is. The line was on stdout, with no
    # command name: `usage sync > log` showed nothing on the terminal at Ctrl-C.
    report = SyncReport(1, 1, 31, 2900, 2900, 0, "interrupted", "interrupted: kept 2,900 intervals")

    def interrupted(*_: Any, **__: Any) -> SyncReport:
        raise UsageSyncInterrupted(report)

    monkeypatch.setenv("KRAKEN_API_KEY", DEMO_API_KEY)
    monkeypatch.setattr("oeus_kraken.usage.sync_usage_blocking", interrupted)
    json_flag = ["--json"] if json_report else []
    run = cli("usage", "sync", ACCOUNT, "--db", str(tmp_path / "usage.sqlite3"), *json_flag)
    line = assert_one_error_line(run, "usage sync", "interrupted")
    assert line == "oeus-kraken usage sync: interrupted: kept 2,900 intervals"
    if json_report:  # the report itself, for a program, stays the output
        assert json.loads(run.out)["stopped_reason"] == "interrupted"
    else:
        assert run.out == ""
