"""Readings that overlap: the store keys a reading by (ESI ID, start), so an hour's reading and
15-minute readings inside that hour could both be kept, and every export and total added that
hour twice. Now a page that overlaps stored readings of another length is refused, the store
unchanged; and a store that already holds overlaps (written by an older oeus-kraken) is
refused by export, chart and `aggregate`, never summed."""

from __future__ import annotations

import contextlib
import io
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import Cli, assert_one_error_line, cli
from usage_helpers import ESI, FETCHED, child, day_intervals, rewritten_sandbox, run_together

from oeus_kraken import ConfigurationError
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, SandboxServer
from oeus_kraken.usage import (
    TEXAS,
    Interval,
    OverlappingReadingsError,
    UsageStore,
    UsageStoreError,
    UsageStoreLockedError,
    aggregate,
    chart,
    local_day_bounds,
    sync_usage_blocking,
)

__all__ = ["cli"]  # a fixture, used by name

HOUR = timedelta(hours=1)
DAY = date(2026, 7, 14)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[UsageStore]:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        yield opened


def hour_of(quarters: list[Interval], first: int = 0) -> Interval:
    """One reading for the hour of quarters[first:first + 4]."""
    return Interval(ESI, quarters[first].start, quarters[first + 3].end, Decimal("1.00"))


def stored(store: UsageStore, day: date = DAY) -> list[tuple[datetime, datetime, Decimal]]:
    low, high = local_day_bounds(day)
    return [(i.start, i.end, i.value) for i in store.intervals(ESI, low, high)]


def day_kwh(store: UsageStore, day: date = DAY) -> Decimal:
    out = io.StringIO()
    store.export(ESI, day, day, interval="day", format="csv", out=out)
    return Decimal(out.getvalue().splitlines()[1].split(",")[5])


# --- upsert refuses a page that overlaps ---------------------------------------------------------


@pytest.mark.parametrize("first", ["quarters", "hour"])
def test_a_page_overlapping_stored_readings_of_another_length_is_refused_and_the_store_unchanged(
    store: UsageStore, first: str
) -> None:
    quarters = day_intervals(DAY)
    hour = hour_of(quarters)
    earlier, later = (
        ([*quarters], [hour]) if first == "quarters" else ([hour, *quarters[4:]], quarters[1:2])
    )
    store.upsert(earlier, fetched_at=FETCHED)
    before, kwh = stored(store), day_kwh(store)

    with pytest.raises(OverlappingReadingsError, match=r"2026-07-14 00:(00|15) CDT") as caught:
        store.upsert(later, fetched_at=FETCHED)

    assert isinstance(caught.value, UsageStoreError)
    assert caught.value.esi_id == ESI
    assert "forget" in str(caught.value)  # says how to take the new readings instead
    assert stored(store) == before  # nothing of the refused page is kept
    assert day_kwh(store) == kwh


def test_one_call_holding_an_hour_and_quarters_inside_it_is_refused_whole(
    store: UsageStore,
) -> None:
    quarters = day_intervals(DAY)
    with pytest.raises(OverlappingReadingsError, match="00:15"):
        store.upsert([hour_of(quarters), *quarters[1:]], fetched_at=FETCHED)
    assert stored(store) == []


def test_a_reading_revised_to_another_length_at_the_same_start_replaces_it_never_kept_twice(
    store: UsageStore,
) -> None:
    """Same start, another end: a revision (the row is replaced), as before; but an hour that
    replaces the first quarter would now cover the next three stored quarters: refused."""
    quarters = day_intervals(DAY)
    store.upsert([hour_of(quarters)], fetched_at=FETCHED)
    result = store.upsert(quarters, fetched_at=FETCHED)  # the hour becomes its first quarter
    assert (result.inserted, result.revised) == (len(quarters) - 1, 1)
    assert day_kwh(store) == 24
    with pytest.raises(OverlappingReadingsError, match="00:15"):
        store.upsert([hour_of(quarters)], fetched_at=FETCHED)
    assert day_kwh(store) == 24


def test_readings_that_only_touch_are_not_overlaps_across_pages_and_chunks(
    store: UsageStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from oeus_kraken.usage import _store

    monkeypatch.setattr(_store, "_CHUNK", 7)  # a page split across several chunks
    quarters = day_intervals(DAY)
    hours = [hour_of(quarters, i) for i in range(0, 48, 4)]  # the morning in hours
    store.upsert([*hours, *quarters[48:]], fetched_at=FETCHED)
    store.upsert(quarters[48:], fetched_at=FETCHED)  # unchanged
    store.upsert(list(reversed(quarters[48:])), fetched_at=FETCHED)  # any order
    assert len(stored(store)) == 12 + 48


# --- the ends of the calendar --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "local"),
    [
        (date(2026, 3, 8), "2026-03-08 03:00 CDT"),  # 23 hours: 02:00 does not exist
        (date(2026, 11, 1), "2026-11-01 01:00 CST"),  # 25 hours: 01:00 twice, CDT then CST
        (date(2025, 12, 31), "2025-12-31 23:00 CST"),  # the year's last hour
    ],
)
def test_on_dst_days_and_at_year_end_an_hour_over_stored_quarters_is_refused_by_its_local_time(
    store: UsageStore, day: date, local: str
) -> None:
    quarters = day_intervals(day)
    at = {
        date(2026, 3, 8): 8,  # 02:00 CST + 15 min * 8 = 03:00 CDT
        date(2026, 11, 1): 8,  # the second 01:00 (CST), an hour after the first (CDT)
        date(2025, 12, 31): len(quarters) - 4,
    }[day]
    store.upsert(quarters, fetched_at=FETCHED)
    kwh = day_kwh(store, day)
    hour = hour_of(quarters, at)
    assert f"{hour.start.astimezone(TEXAS):%Y-%m-%d %H:%M %Z}" == local
    # Same start as a stored quarter, so a revision of it, but reaching over the next three.
    with pytest.raises(OverlappingReadingsError, match=local):
        store.upsert([hour], fetched_at=FETCHED)
    assert day_kwh(store, day) == kwh


def test_the_two_one_oclock_hours_of_the_fall_back_day_are_not_one_overlap(
    store: UsageStore,
) -> None:
    """01:00 CDT and 01:00 CST are an hour apart in UTC: an hour's reading of the first and
    quarters of the second touch, never overlap, whatever their local clock says."""
    quarters = day_intervals(date(2026, 11, 1))
    store.upsert([hour_of(quarters, 4), *quarters[8:]], fetched_at=FETCHED)
    assert day_kwh(store, date(2026, 11, 1)) == 1 + Decimal("0.25") * 92


def test_a_reading_across_the_year_end_overlapping_new_years_first_quarter_is_refused(
    store: UsageStore,
) -> None:
    new_year = day_intervals(date(2026, 1, 1))
    store.upsert(new_year, fetched_at=FETCHED)
    across = Interval(ESI, new_year[0].start - timedelta(minutes=30), new_year[1].end, Decimal(1))
    with pytest.raises(OverlappingReadingsError, match="2026-01-01 00:00 CST"):
        store.upsert([across], fetched_at=FETCHED)
    assert stored(store, date(2025, 12, 31)) == []


# --- two processes at once -----------------------------------------------------------------------

OVERLAPPING_WRITER = """
    import sys
    from datetime import date
    from decimal import Decimal
    from pathlib import Path
    from oeus_kraken.usage import Interval, OverlappingReadingsError, UsageStore
    from usage_helpers import FETCHED, day_intervals

    path, go, length = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    quarters = day_intervals(date(2026, 7, 14))
    if length == "hour":
        page = [Interval(q.esi_id, q.start, quarters[i + 3].end, Decimal("1.00"))
                for i, q in enumerate(quarters) if i % 4 == 0]
    else:
        page = quarters[1:]  # not the hour's first quarter: neither page replaces the other
    store = UsageStore(path)
    print("ready", flush=True)
    while not go.exists():
        pass
    try:
        store.upsert(page, fetched_at=FETCHED)
    except OverlappingReadingsError:
        print("refused", flush=True)
    else:
        print("stored", flush=True)
"""


def test_two_processes_upserting_overlapping_pages_at_once_store_one_and_refuse_the_other(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    store_path = tmp_path / "usage.sqlite3"
    UsageStore(store_path).close()  # both open an existing store, then write at once
    for attempt in range(3):
        go = tmp_path / f"go-{attempt}"
        writers = [child(OVERLAPPING_WRITER, store_path, go, n) for n in ("hour", "15m")]
        outcomes = [out.strip() for out in run_together(writers, go, timeout=60)]
        # Whichever came first is stored (and found unchanged by its next attempts).
        assert sorted(outcomes) == ["refused", "stored"]
        with UsageStore(store_path) as store:
            kinds = {end - start for start, end, _ in stored(store)}
            assert len(kinds) == 1, kinds  # one length only: hours, or quarters
            assert day_kwh(store) in (24, Decimal("23.75"))


# --- a store that already holds overlaps ---------------------------------------------------------


@pytest.fixture
def older_store(tmp_path: Path) -> Path:
    """A store an older oeus-kraken wrote: an hour's reading and 15-minute ones inside it."""
    quarters = day_intervals(DAY)
    store_path = tmp_path / "usage.sqlite3"
    with UsageStore(store_path) as store:
        store.link("A-1234ABCD", ESI)
        store.upsert(quarters, fetched_at=FETCHED)
    hour = hour_of(quarters)
    with contextlib.closing(sqlite3.connect(store_path, isolation_level=None)) as conn:
        conn.execute(
            "UPDATE intervals SET end_at = ?, value = '1.00' WHERE start_at = ?",
            (int(hour.end.timestamp()), int(hour.start.timestamp())),
        )
    return store_path


@pytest.mark.parametrize("interval", ["15m", "hour", "day"])
def test_exporting_a_store_that_holds_overlaps_is_refused_naming_the_first_and_the_repair(
    older_store: Path, interval: str
) -> None:
    with (
        UsageStore(older_store, read_only=True) as store,
        pytest.raises(OverlappingReadingsError, match="2026-07-14 00:15 CDT") as caught,
    ):
        store.export(ESI, DAY, DAY, interval=interval, format="csv", out=io.StringIO())  # type: ignore[arg-type]
    assert "forget" in str(caught.value)


def test_usage_export_of_a_store_that_holds_overlaps_is_one_line_exit_1_and_no_file(
    older_store: Path, tmp_path: Path, cli: Cli
) -> None:
    out = tmp_path / "day.csv"
    run = cli(
        "usage", "export", "A-1234ABCD", "--from", str(DAY), "--to", str(DAY),
        "--interval", "day", "--out", str(out), "--db", str(older_store),
    )  # fmt: skip
    line = assert_one_error_line(run, "usage export", "error")
    assert "overlap" in line
    assert "00:15" in line
    assert not out.exists()


def test_forgetting_the_overlapped_readings_repairs_the_store(older_store: Path) -> None:
    with UsageStore(older_store) as store:
        low, _ = local_day_bounds(DAY)
        assert store.forget(ESI, low, low + HOUR) == 4  # the hour's reading and 3 quarters
        assert store.missing(ESI, low, low + HOUR) == [(low, low + HOUR)]  # due again
        store.upsert(day_intervals(DAY)[:4], fetched_at=FETCHED)  # what a sync fetches again
        assert day_kwh(store) == 24


def test_aggregate_refuses_intervals_that_overlap_instead_of_adding_them_twice() -> None:
    quarters = day_intervals(DAY)
    with pytest.raises(ConfigurationError, match="overlap"):
        list(aggregate([hour_of(quarters), *quarters[1:]], "day"))


# --- a sync --------------------------------------------------------------------------------------


def _sync_over_a_stored_hour(sandbox: SandboxServer, tmp_path: Path) -> dict[str, str]:
    """The store holds an hour's reading; the API now answers 15-minute readings for that
    hour, without its first quarter (so none replaces the hour): a sync of both demo accounts.
    Checks the store kept the hour and synced the other account; returns the failures."""
    account, other = DEMO_ACCOUNT_NUMBERS
    midnight, _ = local_day_bounds(SYNCED_DAY)

    def without_the_first_quarter(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in edges if datetime.fromisoformat(e["node"]["startAt"]) != midnight]

    with (
        rewritten_sandbox(sandbox.url, without_the_first_quarter) as kraken,
        UsageStore(tmp_path / "usage.sqlite3") as store,
    ):
        store.upsert([Interval(METER, midnight, midnight + HOUR, Decimal(1))], fetched_at=FETCHED)
        report = sync_usage_blocking(
            kraken, store, [account, other], since=SYNCED_DAY,
            now=datetime(2026, 3, 3, 12, tzinfo=timezone.utc),
        )  # fmt: skip
        assert store.intervals(METER, midnight, midnight + HOUR)[0].end == midnight + HOUR
        assert [i.start for i in store.intervals(METER, midnight, midnight + HOUR)] == [midnight]
        others = store.esi_ids(other)
        assert others
        assert all(store.coverage(esi_id) for esi_id in others)
    return report.failures


METER, SYNCED_DAY = "10443720004512388", date(2026, 3, 2)  # the first demo property's ESI ID


def test_a_sync_whose_page_overlaps_stored_readings_fails_that_account_only_and_keeps_the_store(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """Before: the quarters were kept beside the hour."""
    failures = _sync_over_a_stored_hour(sandbox, tmp_path)
    assert list(failures) == [DEMO_ACCOUNT_NUMBERS[0]]
    assert "overlap" in failures[DEMO_ACCOUNT_NUMBERS[0]]


def test_a_sync_refusing_an_overlapping_page_says_the_repair_command_in_full(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The account's reason ends with what to run; before, it was cut at 200 characters (as an
    API's message is), which the store's path alone can fill: the repair was never seen, and it
    was Python only (UsageStore.forget) where now it is a command."""
    [reason] = _sync_over_a_stored_hour(sandbox, tmp_path).values()
    assert reason.endswith(
        f"`oeus-kraken usage forget {METER} --from {SYNCED_DAY} --to {SYNCED_DAY}`, or "
        "UsageStore.forget in Python) and sync again"
    ), reason


def test_the_repair_a_refused_export_names_is_a_command_that_repairs_the_store(
    older_store: Path, cli: Cli
) -> None:
    """Before, the line said UsageStore.forget(esi_id, start, end), which a command line user
    could not run; now it names `oeus-kraken usage forget`, which does."""
    export = (
        "usage", "export", "A-1234ABCD", "--from", str(DAY), "--to", str(DAY),
        "--interval", "day", "--db", str(older_store),
    )  # fmt: skip
    line = assert_one_error_line(cli(*export), "usage export", "error")
    repair = line.split("`")[1].split()
    assert repair[:3] == ["oeus-kraken", "usage", "forget"], line
    forgot = cli(*repair[1:], "--db", str(older_store))
    assert (forgot.code, forgot.err) == (0, "")
    assert forgot.out.startswith(f"forgot 96 stored readings of ESI ID {ESI} from {DAY} to {DAY}")
    repaired = cli(*export)  # the day is now to be fetched again: no rows, and no overlap
    assert (repaired.code, "overlap" in repaired.err) == (8, False), repaired.err


def test_forget_while_a_sync_holds_the_store_is_refused_naming_it_and_deletes_nothing(
    older_store: Path, cli: Cli
) -> None:
    """Before, `forget` ran beside a sync: the sync recorded the slots it had fetched, now
    forgotten, as gaps the API had not filled, and the next sync asked for none of them ("0
    new"), against "the next sync fetches them again"."""
    low, _ = local_day_bounds(DAY)
    argv = ("usage", "forget", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(older_store))
    with UsageStore(older_store) as syncing, syncing.sync_lock():
        with UsageStore(older_store) as store, pytest.raises(UsageStoreLockedError):
            store.forget(ESI, low, low + HOUR)
        line = assert_one_error_line(cli(*argv), "usage forget", "error")
        assert "another sync is running" in line
        assert len(syncing.intervals(ESI, low, low + HOUR)) == 4  # the hour's and 3 quarters
    assert cli(*argv).code == 0  # once the sync is done


@pytest.mark.parametrize("to", ["9999-12-31", "2200-01-01"])
def test_usage_forget_to_a_date_past_today_forgets_through_today(
    older_store: Path, cli: Cli, to: str
) -> None:
    """--help: "a date past today: today". Before, 9999-12-31 (a user's "everything") was
    refused with exit 2, as a day with no end."""
    run = cli("usage", "forget", ESI, "--from", str(DAY), "--to", to, "--db", str(older_store))
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith(f"forgot 96 stored readings of ESI ID {ESI} from {DAY} to ")
    assert to not in run.out  # the range it forgot ends today, not at the date given
    with UsageStore(older_store) as store:
        low, _ = local_day_bounds(DAY)
        assert store.intervals(ESI, low, low + HOUR) == []


def test_usage_forget_from_a_date_past_today_forgets_nothing(older_store: Path, cli: Cli) -> None:
    run = cli(
        "usage", "forget", ESI, "--from", "9999-12-31", "--to", "9999-12-31",
        "--db", str(older_store),
    )  # fmt: skip
    assert (run.code, run.err) == (0, "")
    assert run.out.startswith(f"forgot 0 stored readings of ESI ID {ESI}")


def test_usage_forget_of_no_store_says_so_and_makes_none(tmp_path: Path, cli: Cli) -> None:
    missing = tmp_path / "none.sqlite3"
    argv = ("usage", "forget", ESI, "--from", str(DAY), "--to", str(DAY), "--db", str(missing))
    line = assert_one_error_line(cli(*argv), "usage forget", "error")
    assert "nothing to forget" in line
    assert not missing.exists()


def test_usage_forget_names_what_it_takes_an_esi_id_not_an_account(cli: Cli) -> None:
    result = cli("usage", "forget", "A-5F3C9D21", "--from", str(DAY), "--to", str(DAY))
    assert result.code == 2
    assert "argument ESI_ID:" in result.err
    assert "ACCOUNT" not in result.err


def test_charting_a_store_that_holds_overlaps_is_refused_and_draws_nothing(
    older_store: Path, tmp_path: Path
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "day.png"
    with (
        UsageStore(older_store, read_only=True) as store,
        pytest.raises(OverlappingReadingsError, match="2026-07-14 00:15 CDT"),
    ):
        chart(store, ESI, DAY, DAY, out)
    assert not out.exists()
