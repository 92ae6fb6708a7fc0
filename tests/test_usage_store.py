"""The usage store: what it keeps, what it counts, what it says is missing, and that it stays
consistent with two processes at once, a kill mid-write, and files it did not make."""

from __future__ import annotations

import ast
import contextlib
import os
import signal
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from usage_helpers import ESI, FETCHED, OTHER_ESI, child, day_intervals, run_together

from oeus_kraken import ConfigurationError, KrakenError
from oeus_kraken.usage import (
    GAP_RETRY_FIRST,
    GAP_RETRY_MAX,
    INTERVAL,
    TEXAS,
    Interval,
    UpsertResult,
    UsageStore,
    UsageStoreError,
    UsageStoreLockedError,
    _store,
    default_usage_store_path,
    local_day_bounds,
)

UTC = timezone.utc
DAY = date(2026, 7, 14)
DAY_START, DAY_END = local_day_bounds(DAY)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "usage.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[UsageStore]:
    with UsageStore(store_path) as store:
        yield store


def raw(path: Path) -> contextlib.closing[sqlite3.Connection]:
    """The store file opened behind the store's back, to check what is really on disk; closed
    on leaving the `with` (a connection's own `with` only ends a transaction)."""
    return contextlib.closing(sqlite3.connect(path, isolation_level=None))


def slot(n: int) -> datetime:
    """The start of the n-th 15-minute interval of DAY."""
    return DAY_START + n * INTERVAL


# --- What it depends on -----------------------------------------------------------------------


def test_the_usage_store_imports_no_client_module() -> None:
    """It must work with no API client at all (and survive the client's rewrite)."""
    client_modules = {"_client", "_tokens", "_responses", "_config", "_retry"}
    package = Path(_store.__file__).parent
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[-1], *(a.name for a in node.names)}
                assert not names & client_modules, f"{source.name} imports {names & client_modules}"


def test_importing_the_usage_package_loads_no_optional_extra(tmp_path: Path) -> None:
    code = (
        "import sys, oeus_kraken.usage\n"
        "print(sorted(m for m in ('matplotlib', 'pyarrow', 'platformdirs', 'httpx') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    # httpx comes with `import oeus_kraken` (the parent package), not with the store.
    assert result.stdout.strip() in ("[]", "['httpx']")


# --- Opening ---------------------------------------------------------------------------------


def test_a_new_store_is_a_wal_mode_file_at_the_current_schema_version(
    store: UsageStore, store_path: Path
) -> None:
    assert store.schema_version == len(_store._MIGRATIONS)
    with raw(store_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(_store._MIGRATIONS)


def test_a_new_store_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private" / "usage.sqlite3"
    UsageStore(path).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_a_store_others_can_read_is_made_owner_only_before_usage_is_written_to_it(
    tmp_path: Path,
) -> None:
    # Made by another tool or restored from a backup: SQLite gives the -wal and -shm files it
    # writes the intervals into the store's own mode.
    path = tmp_path / "usage.sqlite3"
    UsageStore(path).close()
    path.chmod(0o644)
    with UsageStore(path) as store:
        store.upsert(day_intervals(date(2026, 7, 14)), fetched_at=FETCHED)
        files = [path, *path.parent.glob("usage.sqlite3-*")]
        assert {f.name: f.stat().st_mode & 0o777 for f in files} == dict.fromkeys(
            [f.name for f in files], 0o600
        )


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is the Linux one")
def test_the_default_path_is_in_the_users_data_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_usage_store_path() == tmp_path / "data" / "oeus-kraken" / "usage.sqlite3"
    with UsageStore() as store:
        assert store.path == default_usage_store_path()
        assert store.path.exists()


def _no_passwd_entry(uid: int) -> object:
    raise KeyError(f"getpwuid(): uid not found: {uid}")


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is the Linux one")
@pytest.mark.parametrize("home", [None, "home"], ids=["no HOME", "a relative HOME"])
def test_with_no_home_folder_the_default_store_is_a_configuration_error_not_the_working_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, home: str | None
) -> None:
    # No HOME (or a relative one) and a uid with no passwd entry: a container run as an
    # arbitrary user. platformdirs raised a RuntimeError (older releases: a relative
    # ~/.local/share, a store made under whatever folder the program ran in).
    import pwd

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    if home is None:
        monkeypatch.delenv("HOME", raising=False)
    else:
        monkeypatch.setenv("HOME", home)
    monkeypatch.setattr(pwd, "getpwuid", _no_passwd_entry)

    with pytest.raises(ConfigurationError, match=r"no home folder.*give the store's path"):
        UsageStore()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG rule is the Linux one")
def test_a_relative_xdg_data_home_and_a_relative_home_are_ignored_never_the_working_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The XDG spec: a relative path "should be considered invalid and ignored"; a relative HOME
    # counts as unset (the passwd entry's home is used), as the token cache's does.
    import pwd

    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("XDG_DATA_HOME", "data")
    monkeypatch.setenv("HOME", "home")
    monkeypatch.setattr(pwd, "getpwuid", lambda uid: SimpleNamespace(pw_dir=str(home)))

    expected = home / ".local" / "share" / "oeus-kraken" / "usage.sqlite3"
    assert default_usage_store_path() == expected
    with UsageStore() as store:
        assert store.path == expected
    assert list(work.iterdir()) == []


def test_a_closed_store_says_so(store_path: Path) -> None:
    store = UsageStore(store_path)
    store.close()
    store.close()  # twice is fine
    with pytest.raises(UsageStoreError, match="closed"):
        store.coverage(ESI)


def test_a_closed_store_refuses_a_with_block_and_its_sync_lock(store_path: Path) -> None:
    # Both were taken: `with store:` after close() ran its body, and sync_lock() held the lock
    # file for a store nothing could then write; every other method says "closed".
    with UsageStore(store_path) as store:
        pass
    with pytest.raises(UsageStoreError, match="closed"), store:
        pytest.fail("the body of a with block over a closed store ran")
    with pytest.raises(UsageStoreError, match="closed"), store.sync_lock():
        pytest.fail("a closed store's sync lock was taken")


def test_a_file_that_is_not_sqlite_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "usage.sqlite3"
    path.write_bytes(b"this is a shopping list, not a database" * 100)
    with pytest.raises(UsageStoreError, match="not an oeus-kraken usage store") as caught:
        UsageStore(path)
    assert caught.value.path == path
    assert isinstance(caught.value, KrakenError)


def test_another_programs_sqlite_database_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with raw(path) as conn:
        conn.execute("CREATE TABLE recipes (name TEXT)")
    with pytest.raises(UsageStoreError, match="something else"):
        UsageStore(path)
    with raw(path) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master")]
        assert tables == ["recipes"]
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0


def test_a_path_that_cannot_be_created_is_a_usage_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UsageStoreError, match="cannot create") as refused:
        UsageStore(blocker / "usage.sqlite3")
    # What is in the way, named (the OS says only "File exists" or "Not a directory").
    assert f"{blocker} is a file, not a folder" in str(refused.value)
    with pytest.raises(UsageStoreError, match=f"{blocker} is a file, not a folder"):
        UsageStore(blocker / "deeper" / "usage.sqlite3")


# --- Schema migrations ----------------------------------------------------------------------


CURRENT = len(_store._MIGRATIONS)


def add_tariff_column(conn: sqlite3.Connection) -> None:
    """A synthetic next version: what a real schema change will look like."""
    conn.execute("ALTER TABLE intervals ADD COLUMN tariff TEXT")
    conn.execute("UPDATE intervals SET tariff = 'fixed'")


def test_a_file_is_migrated_to_the_next_version_keeping_its_data(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with UsageStore(store_path) as current:
        assert current.schema_version == CURRENT
        current.upsert(day_intervals(DAY), fetched_at=FETCHED)

    monkeypatch.setattr(_store, "_MIGRATIONS", (*_store._MIGRATIONS, add_tariff_column))
    with UsageStore(store_path) as migrated:
        assert migrated.schema_version == CURRENT + 1
        assert len(migrated.intervals(ESI, DAY_START, DAY_END)) == 96
    with raw(store_path) as conn:
        assert conn.execute("SELECT DISTINCT tariff FROM intervals").fetchall() == [("fixed",)]


def test_a_migration_that_fails_leaves_the_file_as_it_was(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with UsageStore(store_path) as v1:
        v1.upsert(day_intervals(DAY), fetched_at=FETCHED)

    def half_done_then_broken(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE intervals ADD COLUMN tariff TEXT")
        conn.execute("DELETE FROM intervals")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_store, "_MIGRATIONS", (*_store._MIGRATIONS, half_done_then_broken))
    with pytest.raises(UsageStoreError):
        UsageStore(store_path)

    monkeypatch.undo()
    with UsageStore(store_path) as again:
        assert again.schema_version == CURRENT
        assert len(again.intervals(ESI, DAY_START, DAY_END)) == 96
    with raw(store_path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(intervals)")]
        assert "tariff" not in columns


@pytest.mark.parametrize("read_only", [False, True], ids=["writing", "read_only"])
def test_a_store_path_that_is_a_folder_says_so_and_what_to_give(
    tmp_path: Path, read_only: bool
) -> None:
    # `--db ~`: "cannot open the usage store /root: unable to open database file" (SQLite's
    # words), or for status "no usage store at /root".
    with pytest.raises(UsageStoreError) as raised:
        UsageStore(tmp_path, read_only=read_only)
    assert str(raised.value) == (
        f"{tmp_path} is a folder, not a usage store: give a file path, such as "
        f"{tmp_path / 'usage.sqlite3'}"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("end", _store.BESIDE_THE_STORE)
@pytest.mark.parametrize("read_only", [False, True], ids=["writing", "read_only"])
def test_a_path_naming_a_file_kept_beside_another_store_is_refused_not_made_a_store(
    store_path: Path, end: str, read_only: bool
) -> None:
    # `--db usage.sqlite3<TAB>` offers usage.sqlite3.lock and usage.sqlite3-wal, empty while
    # no sync runs. A sync there made a store of the lock file, and the next sync of
    # usage.sqlite3 truncated it to write its pid: everything synced into it was lost.
    with UsageStore(store_path) as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    beside = Path(f"{store_path}{end}")
    beside.touch()  # as SQLite and the sync lock leave them
    with pytest.raises(ConfigurationError) as raised:
        UsageStore(beside, read_only=read_only)
    assert str(raised.value) == (
        f"{beside} is a file kept beside the usage store {store_path}, not a store: give "
        f"{store_path} itself, or a name of its own for a new store"
    )
    assert beside.stat().st_size == 0
    assert not Path(f"{beside}-wal").exists()


def test_a_store_another_program_holds_locked_is_busy_for_a_reader_not_read_past_its_lock(
    store_path: Path,
) -> None:
    # A reader that could not get its shared lock fell back to `immutable=1`, meant for
    # read-only media: it read the file as if nothing could be writing it, past the lock.
    with UsageStore(store_path) as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    with raw(store_path) as holder:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        with pytest.raises(UsageStoreError, match="stayed busy"):
            UsageStore(store_path, read_only=True, busy_timeout=0.1)


def test_a_full_disk_while_writing_says_so_and_what_to_do_and_keeps_what_was_stored(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with UsageStore(store_path) as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    connect = sqlite3.connect

    def on_a_full_disk(*args: object, **kwargs: object) -> sqlite3.Connection:
        conn = connect(*args, **kwargs)  # type: ignore[arg-type]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's SQLITE_FULL, as a disk's
        return conn

    monkeypatch.setattr(sqlite3, "connect", on_a_full_disk)
    year = [i for n in range(1, 366) for i in day_intervals(DAY + timedelta(days=n))]
    with UsageStore(store_path) as store:
        with pytest.raises(UsageStoreError) as raised:
            store.upsert(year, fetched_at=FETCHED)
        assert len(store.intervals(ESI, DAY_START, DAY_END)) == 96  # what was stored is kept
    # It was "usage store PATH: database or disk is full": what happened, not what to do.
    message = str(raised.value)
    assert message.startswith(f"the disk holding the usage store {store_path} is full"), message
    assert "free some space" in message


def test_a_file_from_a_newer_version_is_refused_not_downgraded(store_path: Path) -> None:
    UsageStore(store_path).close()
    with raw(store_path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(UsageStoreError, match=r"schema version 99.*upgrade oeus-kraken"):
        UsageStore(store_path)


# --- Intervals --------------------------------------------------------------------------------


def test_intervals_come_back_exactly_as_stored(store: UsageStore) -> None:
    read_at = datetime(2026, 7, 15, 9, 30, tzinfo=UTC)
    given = Interval(
        ESI,
        slot(0),
        slot(1),
        Decimal("0.1234567890123"),
        unit="kWh",
        cost=Decimal("1.875"),
        source="SMART_METER",
        read_at=read_at,
    )
    assert store.upsert([given], fetched_at=FETCHED) == UpsertResult(1, 0, 0)
    assert store.intervals(ESI, DAY_START, DAY_END) == [given]


def test_intervals_are_stored_in_utc_whatever_zone_they_arrive_in(store: UsageStore) -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    given = Interval(ESI, slot(4).astimezone(tokyo), slot(5).astimezone(tokyo), Decimal("1"))
    store.upsert([given], fetched_at=FETCHED)
    [back] = store.intervals(ESI, DAY_START, DAY_END)
    assert back.start == slot(4)
    assert back.start.tzinfo is UTC


def test_upserting_the_same_intervals_again_changes_nothing(store: UsageStore) -> None:
    assert store.upsert(day_intervals(DAY), fetched_at=FETCHED) == UpsertResult(96, 0, 0)
    again = store.upsert(day_intervals(DAY), fetched_at=FETCHED + timedelta(hours=1))
    assert again == UpsertResult(inserted=0, revised=0, unchanged=96)
    assert store.status()[0].revisions == 0


def test_a_revised_value_replaces_the_old_one_and_is_counted(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    revised = Interval(ESI, slot(10), slot(11), Decimal("0.75"), source="ACTUAL")
    result = store.upsert([revised, *day_intervals(DAY)[11:13]], fetched_at=FETCHED)
    assert result == UpsertResult(inserted=0, revised=1, unchanged=2)

    [stored] = store.intervals(ESI, slot(10), slot(11))
    assert stored.value == Decimal("0.75")
    assert stored.source == "ACTUAL"
    store.upsert([Interval(ESI, slot(10), slot(11), Decimal("0.8"))], fetched_at=FETCHED)
    [status] = store.status()
    assert status.revisions == 2  # the same interval revised twice counts twice
    assert status.intervals == 96


def test_a_changed_cost_is_a_revision(store: UsageStore) -> None:
    store.upsert([Interval(ESI, slot(0), slot(1), Decimal("1"), cost=None)], fetched_at=FETCHED)
    priced = Interval(ESI, slot(0), slot(1), Decimal("1"), cost=Decimal("3.1"))
    assert store.upsert([priced], fetched_at=FETCHED).revised == 1
    assert store.intervals(ESI, slot(0), slot(1)) == [priced]


def test_the_same_number_spelled_differently_is_not_a_revision(store: UsageStore) -> None:
    store.upsert([Interval(ESI, slot(0), slot(1), Decimal("0.250"))], fetched_at=FETCHED)
    result = store.upsert([Interval(ESI, slot(0), slot(1), Decimal("0.25"))], fetched_at=FETCHED)
    assert result == UpsertResult(0, 0, 1)
    assert store.intervals(ESI, slot(0), slot(1))[0].value == Decimal("0.25")


def test_the_last_of_two_intervals_with_the_same_start_in_one_call_wins(store: UsageStore) -> None:
    first = Interval(ESI, slot(0), slot(1), Decimal("1"))
    second = Interval(ESI, slot(0), slot(1), Decimal("2"))
    assert store.upsert([first, second], fetched_at=FETCHED) == UpsertResult(1, 0, 0)
    assert store.intervals(ESI, slot(0), slot(1)) == [second]


@pytest.mark.slow
def test_one_upsert_may_mix_esi_ids_and_span_more_than_a_chunk(store: UsageStore) -> None:
    many = [
        Interval(esi, slot(n), slot(n + 1), Decimal(n % 10))
        for n in range(_store._CHUNK + 500)
        for esi in (ESI, OTHER_ESI)
    ]
    result = store.upsert(iter(many), fetched_at=FETCHED)  # any iterable, consumed once
    assert result == UpsertResult(len(many), 0, 0)
    assert store.esi_ids() == [ESI, OTHER_ESI]
    assert store.coverage(OTHER_ESI) == (slot(0), slot(_store._CHUNK + 500))


YEAR_1 = datetime.min.replace(tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (
            Interval(ESI, datetime(2026, 7, 14, 12), datetime(2026, 7, 14, 12, 15), Decimal(1)),
            "time zone",
        ),
        (Interval(ESI, slot(5), slot(4), Decimal(1)), "end after it starts"),
        (Interval(ESI, slot(5), slot(5), Decimal(1)), "end after it starts"),
        (
            Interval(ESI, slot(0), slot(0) + timedelta(days=1, seconds=1), Decimal(1)),
            "within a day",
        ),
        (Interval(ESI, slot(5) + timedelta(microseconds=1), slot(6), Decimal(1)), "whole seconds"),
        (  # no Texas local time: status and export could not show it (an OverflowError before)
            Interval(ESI, YEAR_1, YEAR_1 + timedelta(minutes=15), Decimal(1)),
            "before the first Texas local day",
        ),
        (Interval(ESI, slot(5), slot(6), 0.25), "must be a Decimal, not float"),  # type: ignore[arg-type]
        (Interval(ESI, slot(5), slot(6), Decimal("NaN")), "finite"),
        (Interval(ESI, slot(5), slot(6), Decimal(1), cost=1.5), "cost must be a Decimal"),  # type: ignore[arg-type]
        (Interval("", slot(5), slot(6), Decimal(1)), "ESI ID"),
        (
            Interval(ESI, slot(5), slot(6), Decimal(1), read_at=datetime(2026, 7, 15)),
            "read_at .* no time zone",
        ),
    ],
)
def test_a_bad_interval_is_refused_and_nothing_of_its_batch_is_written(
    store: UsageStore, bad: Interval, message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        store.upsert([*day_intervals(DAY)[:3], bad], fetched_at=FETCHED)
    assert store.intervals(ESI, DAY_START, DAY_END) == []
    assert store.esi_ids() == []  # not even the meter it would have created
    assert store.upsert(day_intervals(DAY)[:3], fetched_at=FETCHED) == UpsertResult(3, 0, 0)


@pytest.mark.parametrize("read", ["intervals", "readings"])
def test_reading_back_with_dates_in_place_of_datetimes_is_a_configuration_error(
    store: UsageStore, read: str
) -> None:
    # A date has no time zone to tell which instant it means (an AttributeError before).
    with pytest.raises(ConfigurationError, match=r"start 2026-07-14 is a date.*aware datetime"):
        getattr(store, read)(ESI, date(2026, 7, 14), date(2026, 7, 15))


def test_fetched_at_must_be_aware(store: UsageStore) -> None:
    with pytest.raises(ConfigurationError, match="fetched_at"):
        store.upsert(day_intervals(DAY), fetched_at=datetime(2026, 12, 1))


def test_one_store_can_be_written_from_several_threads_at_once(store: UsageStore) -> None:
    days = [DAY + timedelta(days=n) for n in range(8)]

    def write(day: date) -> int:
        pages = day_intervals(day)
        return sum(
            store.upsert(pages[i : i + 10], fetched_at=FETCHED).inserted for i in range(0, 96, 10)
        )

    with ThreadPoolExecutor(max_workers=4) as pool:
        inserted = list(pool.map(write, days))
    assert inserted == [96] * 8
    assert store.status()[0].intervals == 8 * 96
    assert store.missing(ESI, DAY_START, local_day_bounds(days[-1])[1]) == []


# --- Accounts -----------------------------------------------------------------------------------


def test_accounts_and_their_esi_ids(store: UsageStore) -> None:
    store.link("A-0002", OTHER_ESI)
    store.link("A-0001", ESI)
    store.link("A-0001", OTHER_ESI)
    store.link("A-0001", ESI)  # twice is once
    assert store.accounts() == ["A-0001", "A-0002"]
    assert store.esi_ids("A-0001") == [ESI, OTHER_ESI]
    assert store.esi_ids("A-0002") == [OTHER_ESI]
    assert store.esi_ids("A-9999") == []
    assert store.esi_ids() == [ESI, OTHER_ESI]


# --- Coverage and gaps ----------------------------------------------------------------------


def test_coverage_is_none_until_intervals_arrive_then_first_start_to_last_end(
    store: UsageStore,
) -> None:
    assert store.coverage(ESI) is None
    store.link("A-0001", ESI)
    assert store.coverage(ESI) is None
    store.upsert(day_intervals(DAY, skip=frozenset({0, 95})), fetched_at=FETCHED)
    assert store.coverage(ESI) == (slot(1), slot(95))


def test_missing_finds_a_gap_and_it_disappears_once_filled(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY, skip=frozenset({40, 41, 42, 70})), fetched_at=FETCHED)
    assert store.missing(ESI, DAY_START, DAY_END) == [(slot(40), slot(43)), (slot(70), slot(71))]

    store.upsert(day_intervals(DAY)[40:43], fetched_at=FETCHED)
    assert store.missing(ESI, DAY_START, DAY_END) == [(slot(70), slot(71))]
    store.upsert(day_intervals(DAY)[70:71], fetched_at=FETCHED)
    assert store.missing(ESI, DAY_START, DAY_END) == []


def test_missing_includes_the_edges_of_the_range_and_knows_nothing_of_unknown_meters(
    store: UsageStore,
) -> None:
    store.upsert(day_intervals(DAY)[10:20], fetched_at=FETCHED)
    assert store.missing(ESI, DAY_START, DAY_END) == [(slot(0), slot(10)), (slot(20), slot(96))]
    assert store.missing(ESI, slot(12), slot(15)) == []
    assert store.missing(OTHER_ESI, DAY_START, DAY_END) == [(DAY_START, DAY_END)]


def test_missing_widens_the_range_to_the_15_minute_grid(store: UsageStore) -> None:
    inside = timedelta(minutes=7)
    assert store.missing(ESI, slot(3) + inside, slot(5) + inside) == [(slot(3), slot(6))]


def test_an_interval_longer_than_a_slot_covers_every_slot_it_spans(store: UsageStore) -> None:
    store.upsert([Interval(ESI, slot(0), slot(4), Decimal(1))], fetched_at=FETCHED)
    assert store.missing(ESI, slot(0), slot(6)) == [(slot(4), slot(6))]
    assert store.missing(ESI, slot(2), slot(4)) == []  # a row starting before the range


def test_a_gap_never_asked_for_is_due_at_once(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY, skip=frozenset({50})), fetched_at=FETCHED)
    assert store.gaps_due(ESI, DAY_START, DAY_END, FETCHED) == [(slot(50), slot(51))]
    assert store.gaps_due(OTHER_ESI, DAY_START, DAY_END, FETCHED) == [(DAY_START, DAY_END)]


def test_a_gap_backs_off_doubling_from_one_hour_up_to_seven_days(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY, skip=frozenset({50})), fetched_at=FETCHED)
    gap = [(slot(50), slot(51))]
    attempted = FETCHED
    waits = []
    for _ in range(12):
        store.record_gap_attempt(ESI, DAY_START, DAY_END, attempted)
        wait = GAP_RETRY_FIRST
        while store.gaps_due(ESI, DAY_START, DAY_END, attempted + wait) != gap:
            assert store.gaps_due(ESI, DAY_START, DAY_END, attempted + wait) == []
            wait += GAP_RETRY_FIRST
        # ... and not a moment earlier.
        assert (
            store.gaps_due(ESI, DAY_START, DAY_END, attempted + wait - timedelta(seconds=1)) == []
        )
        waits.append(wait)
        attempted += wait
    hour = timedelta(hours=1)
    assert waits == [
        1 * hour,
        2 * hour,
        4 * hour,
        8 * hour,
        16 * hour,
        32 * hour,
        64 * hour,
        128 * hour,
        GAP_RETRY_MAX,
        GAP_RETRY_MAX,
        GAP_RETRY_MAX,
        GAP_RETRY_MAX,
    ]
    [status] = store.status()
    assert status.gaps[0].attempts == 12


def test_only_the_slots_that_were_asked_for_back_off(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY, skip=frozenset(range(40, 48))), fetched_at=FETCHED)
    store.record_gap_attempt(ESI, slot(42), slot(44), FETCHED)
    assert store.gaps_due(ESI, DAY_START, DAY_END, FETCHED + timedelta(minutes=5)) == [
        (slot(40), slot(42)),
        (slot(44), slot(48)),
    ]


def test_a_gap_attempt_on_slots_that_arrived_records_nothing(store: UsageStore) -> None:
    store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    store.record_gap_attempt(ESI, DAY_START, DAY_END, FETCHED)
    [status] = store.status()
    assert status.gaps == ()
    assert store.gaps_due(ESI, DAY_START, DAY_END, FETCHED) == []


def test_a_filled_gap_forgets_its_backoff(store: UsageStore, store_path: Path) -> None:
    store.upsert(day_intervals(DAY, skip=frozenset({50, 51})), fetched_at=FETCHED)
    store.record_gap_attempt(ESI, DAY_START, DAY_END, FETCHED)
    store.upsert(day_intervals(DAY)[50:51], fetched_at=FETCHED)
    with raw(store_path) as conn:  # the bookkeeping does not grow with every filled gap
        assert conn.execute("SELECT count(*) FROM gap_attempts").fetchone()[0] == 1
    [gap] = store.status()[0].gaps
    assert gap.attempts == 1


# --- Sync bookkeeping ---------------------------------------------------------------------------


def test_syncs_are_recorded_and_their_requests_add_up(store: UsageStore) -> None:
    assert store.last_sync(ESI) is None
    assert store.requests_used() == 0
    first = store.record_sync(
        ESI,
        started_at=FETCHED,
        finished_at=FETCHED + timedelta(seconds=40),
        requests=351,
        intervals=35040,
        revised=0,
    )
    sync_id = store.begin_sync(ESI, started_at=FETCHED + timedelta(hours=6))
    store.finish_sync(
        sync_id,
        finished_at=FETCHED + timedelta(hours=6, seconds=2),
        requests=3,
        intervals=288,
        revised=5,
        stopped_reason="max requests reached",
    )
    store.record_sync(
        OTHER_ESI, started_at=FETCHED, finished_at=FETCHED, requests=7, intervals=0, revised=0
    )
    last = store.last_sync(ESI)
    assert last is not None
    assert (last.id, last.requests, last.revised, last.stopped_reason) == (
        sync_id,
        3,
        5,
        "max requests reached",
    )
    assert last.finished
    assert last.id != first
    assert store.requests_used(ESI) == 354
    assert store.requests_used() == 361
    assert store.requests_used("unknown") == 0


def test_a_sync_that_never_finished_shows_as_unfinished(store: UsageStore) -> None:
    store.begin_sync(ESI, started_at=FETCHED)
    last = store.last_sync(ESI)
    assert last is not None
    assert last.finished_at is None
    assert not last.finished


def test_finishing_an_unknown_sync_or_with_a_negative_count_is_refused(store: UsageStore) -> None:
    with pytest.raises(ConfigurationError, match="no sync"):
        store.finish_sync(12345, finished_at=FETCHED, requests=1, intervals=1, revised=0)
    sync_id = store.begin_sync(ESI, started_at=FETCHED)
    with pytest.raises(ConfigurationError, match="requests"):
        store.finish_sync(sync_id, finished_at=FETCHED, requests=-1, intervals=1, revised=0)


# --- Status -------------------------------------------------------------------------------------


def test_status_per_account_and_esi_id_shows_gaps_in_texas_time(store: UsageStore) -> None:
    store.link("A-0001", ESI)
    store.upsert(day_intervals(DAY, skip=frozenset({4, 5})), fetched_at=FETCHED)
    store.upsert(day_intervals(DAY, esi_id=OTHER_ESI), fetched_at=FETCHED)
    store.record_gap_attempt(ESI, DAY_START, DAY_END, FETCHED)
    store.record_sync(
        ESI, started_at=FETCHED, finished_at=FETCHED, requests=2, intervals=94, revised=0
    )

    linked, unlinked = store.status()
    assert (linked.account_number, linked.esi_id, linked.intervals) == ("A-0001", ESI, 94)
    assert linked.covered == (
        datetime(2026, 7, 14, 0, 0, tzinfo=TEXAS),
        datetime(2026, 7, 15, 0, 0, tzinfo=TEXAS),
    )
    [gap] = linked.gaps
    assert (gap.start, gap.end) == (
        datetime(2026, 7, 14, 1, 0, tzinfo=TEXAS),
        datetime(2026, 7, 14, 1, 30, tzinfo=TEXAS),
    )
    assert gap.start.tzinfo is TEXAS
    assert gap.attempts == 1
    assert gap.next_attempt_at == (FETCHED + GAP_RETRY_FIRST).astimezone(TEXAS)
    assert linked.requests_used == 2
    assert linked.last_sync is not None
    assert linked.last_sync.requests == 2

    assert (unlinked.account_number, unlinked.esi_id, unlinked.gaps) == (None, OTHER_ESI, ())
    assert unlinked.last_sync is None


def test_status_of_an_empty_store_is_empty(store: UsageStore) -> None:
    assert store.status() == []


# --- Two processes at once ----------------------------------------------------------------------

WRITER = """
    import sys, time
    from datetime import date, datetime, timezone
    from decimal import Decimal
    from pathlib import Path
    from oeus_kraken.usage import INTERVAL, Interval, UsageStore, local_range_bounds

    path, go, direction = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    start, end = local_range_bounds(date(2026, 1, 1), date(2026, 12, 31))
    intervals = [
        Interval("10443720000000001", start + i * INTERVAL, start + (i + 1) * INTERVAL,
                 Decimal("0.25"))
        for i in range((end - start) // INTERVAL)
    ]
    pages = [intervals[i:i + 100] for i in range(0, len(intervals), 100)]
    if direction == "backward":
        pages.reverse()
    print("ready", flush=True)
    while not go.exists():
        pass
    inserted = revised = unchanged = 0
    began = time.time()
    with UsageStore(path) as store:
        for page in pages:  # a sync writes one page at a time
            result = store.upsert(page, fetched_at=datetime.now(timezone.utc))
            inserted += result.inserted
            revised += result.revised
            unchanged += result.unchanged
        ended = time.time()
    print(inserted, revised, unchanged, began, ended, flush=True)
"""


@pytest.mark.slow
def test_two_processes_writing_the_same_intervals_at_once_neither_corrupts_nor_double_counts(
    store_path: Path, tmp_path: Path
) -> None:
    go = tmp_path / "go"
    # One from January on, one from December back: whoever comes second finds the pages the
    # first wrote unchanged, but must never count them as its own or write them twice.
    writers = [child(WRITER, store_path, go, direction) for direction in ("forward", "backward")]
    # Both start together, on a store file that neither has created yet.
    totals = []
    spans = []
    for out in run_together(writers, go, timeout=120):
        *counts, began, ended = out.split()
        totals.append([int(n) for n in counts])
        spans.append((float(began), float(ended)))

    # They did write at once: each began before the other had ended. (SQLite's busy handler
    # is not fair, so one may well wait for nearly all of the other's pages.)
    assert max(began for began, _ in spans) < min(ended for _, ended in spans), spans
    year = 365 * 96
    # Every interval was inserted by exactly one of them, and found unchanged by the other.
    assert sum(inserted for inserted, _, _ in totals) == year
    assert sum(revised for _, revised, _ in totals) == 0
    assert sum(unchanged for _, _, unchanged in totals) == year
    with raw(store_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM intervals").fetchone()[0] == year
        assert conn.execute("SELECT count(*) FROM meters").fetchone()[0] == 1


LOCK_HOLDER = """
    import sys
    from oeus_kraken.usage import UsageStore

    with UsageStore(sys.argv[1]) as store, store.sync_lock():
        print("locked", flush=True)
        sys.stdin.readline()  # hold it until the test says so
    print("released", flush=True)
"""


def hold_lock(store_path: Path) -> subprocess.Popen[str]:
    holder = child(LOCK_HOLDER, store_path)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked", holder.communicate()[1]
    return holder


def test_a_second_sync_is_refused_with_the_holding_process_named(
    store: UsageStore, store_path: Path
) -> None:
    holder = hold_lock(store_path)
    try:
        with pytest.raises(UsageStoreLockedError) as caught, store.sync_lock():
            pytest.fail("two syncs held the lock at once")
        error = caught.value
        assert error.holder_pid == holder.pid
        assert error.path == store_path
        assert f"process {holder.pid}" in str(error)
        assert str(store_path) in str(error)
        assert isinstance(error, KrakenError)
    finally:
        out, _ = holder.communicate("\n", timeout=30)
    assert out.strip() == "released"
    with store.sync_lock():  # free again
        pass


@pytest.mark.slow
def test_a_sync_that_waits_gets_the_lock_when_the_holder_finishes(
    store: UsageStore, store_path: Path
) -> None:
    holder = hold_lock(store_path)
    assert holder.stdin is not None
    holder.stdin.write("\n")  # release soon; this process is already waiting
    holder.stdin.flush()
    with store.sync_lock(timeout=60):
        out, err = holder.communicate(timeout=30)
        assert out.strip() == "released", err


def test_the_lock_of_a_killed_sync_is_released(store: UsageStore, store_path: Path) -> None:
    holder = hold_lock(store_path)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=30)
    with store.sync_lock():
        pass


def test_the_sync_lock_is_refused_within_one_process_too(store_path: Path) -> None:
    with UsageStore(store_path) as one, UsageStore(store_path) as two, one.sync_lock():
        with pytest.raises(UsageStoreLockedError, match=f"process {os.getpid()}"), two.sync_lock():
            pass
        with pytest.raises(UsageStoreLockedError), one.sync_lock():
            pass


WRITE_LOCK_HOLDER = """
    import sqlite3, sys

    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")  # a sync in the middle of writing a page, forever
    print("writing", flush=True)
    sys.stdin.readline()
"""


def test_while_another_process_writes_the_store_opens_and_reads_and_a_write_waits_then_says_so(
    store_path: Path,
) -> None:
    with UsageStore(store_path) as store:
        store.upsert(day_intervals(DAY), fetched_at=FETCHED)
    holder = child(WRITE_LOCK_HOLDER, store_path)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "writing", holder.communicate()[1]
        with UsageStore(store_path, busy_timeout=0.2) as store:
            assert store.status()[0].intervals == 96  # readers never wait in WAL mode
            with pytest.raises(UsageStoreError, match="stayed busy"):
                store.upsert(day_intervals(DAY + timedelta(days=1)), fetched_at=FETCHED)
            assert store.status()[0].intervals == 96
    finally:
        holder.communicate("\n", timeout=30)


# --- A kill mid-write ---------------------------------------------------------------------------

SELF_KILLING_WRITER = """
    import os, signal, sys
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal
    from oeus_kraken.usage import Interval, UsageStore

    BATCH = 50_000  # more than one chunk: the first is written before the kill
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    step = timedelta(minutes=15)

    def batch(number, kill_at=None):
        first = start + number * BATCH * step
        for i in range(BATCH):
            if i == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)  # inside the transaction, half written
            yield Interval("10443720000000001", first + i * step, first + (i + 1) * step,
                           Decimal(i % 97) / 100)

    with UsageStore(sys.argv[1]) as store:
        store.upsert(batch(0), fetched_at=datetime.now(timezone.utc))
        store.upsert(batch(1), fetched_at=datetime.now(timezone.utc))
        store.upsert(batch(2, kill_at=30_000), fetched_at=datetime.now(timezone.utc))
    print("not killed")
"""


@pytest.mark.slow
def test_a_process_killed_inside_an_upsert_leaves_only_whole_upserts_behind(
    store_path: Path,
) -> None:
    writer = child(SELF_KILLING_WRITER, store_path)
    out, err = writer.communicate(timeout=120)
    assert writer.returncode == -signal.SIGKILL, (out, err)

    with raw(store_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with UsageStore(store_path) as store:
        [status] = store.status()
        assert status.intervals == 2 * 50_000  # the third upsert left nothing
        assert status.gaps == ()
        end = datetime(2020, 1, 1, tzinfo=UTC) + 100_000 * INTERVAL
        assert store.coverage(ESI) == (datetime(2020, 1, 1, tzinfo=UTC), end)
        more = [Interval(ESI, end, end + INTERVAL, Decimal("1"))]
        assert store.upsert(more, fetched_at=FETCHED) == UpsertResult(1, 0, 0)


KILLED_WRITER = """
    import sys
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal
    from oeus_kraken.usage import Interval, UsageStore

    BATCH = 5000
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    step = timedelta(minutes=15)
    with UsageStore(sys.argv[1]) as store:
        batch = 0
        while True:
            first = start + batch * BATCH * step
            store.upsert(
                (Interval("10443720000000001", first + i * step, first + (i + 1) * step,
                          Decimal(i % 97) / 100) for i in range(BATCH)),
                fetched_at=datetime.now(timezone.utc),
            )
            batch += 1
            print(batch, flush=True)
"""


@pytest.mark.slow
def test_a_process_killed_from_outside_while_writing_leaves_a_consistent_store(
    store_path: Path,
) -> None:
    UsageStore(store_path).close()
    writer = child(KILLED_WRITER, store_path)
    assert writer.stdout is not None
    for _ in range(3):  # a few batches committed, the next one under way
        assert writer.stdout.readline(), writer.communicate()[1]
    writer.send_signal(signal.SIGKILL)
    out, _ = writer.communicate(timeout=30)
    committed = 3 + len(out.split())

    with raw(store_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with UsageStore(store_path) as store:
        [status] = store.status()
        # Whole batches or nothing: the one being written when the kill came is not half there.
        assert status.intervals % 5000 == 0
        assert committed * 5000 <= status.intervals <= (committed + 1) * 5000
        assert status.gaps == ()
        first, last = store.coverage(ESI) or (None, None)
        assert first == datetime(2020, 1, 1, tzinfo=UTC)
        assert last is not None
        more = [Interval(ESI, last, last + INTERVAL, Decimal("1"))]
        assert store.upsert(more, fetched_at=FETCHED) == UpsertResult(1, 0, 0)


def test_the_folders_a_new_store_creates_are_owner_only_even_under_umask_000(
    tmp_path: Path,
) -> None:
    # Path.mkdir(parents=True) gave the folders above the store's the umask's mode (0777 under
    # umask 000): anyone could then swap the store's folder for one of theirs.
    db = tmp_path / "a" / "b" / "usage.sqlite3"
    old = os.umask(0)
    try:
        UsageStore(db).close()
    finally:
        os.umask(old)
    for folder in (tmp_path / "a", tmp_path / "a" / "b"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_a_store_another_process_creates_while_this_one_looks_at_the_file_opens(
    store_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes opening a new store: one may finish creating it between the other's two
    looks at the file (whose is it? is it empty?). That second one opens the store the first
    made; it took it for another program's database ("give another path") when the looks were
    two snapshots, the creator's commit falling between them."""
    with contextlib.closing(sqlite3.connect(store_path)) as conn:  # an empty file in WAL mode,
        conn.execute("PRAGMA journal_mode = WAL")  # as the first process leaves it, creating
    real_connect = sqlite3.connect

    class Interleaved(sqlite3.Connection):
        other_done = False

        def execute(self, sql: str, *args: object) -> sqlite3.Cursor:  # type: ignore[override]
            cursor = super().execute(sql, *args)
            if "application_id" in sql and not Interleaved.other_done:
                Interleaved.other_done = True
                monkeypatch.setattr(sqlite3, "connect", real_connect)
                UsageStore(store_path).close()  # the other process creates the store now
            return cursor

    def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
        return real_connect(*args, factory=Interleaved, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(sqlite3, "connect", connect)
    with UsageStore(store_path) as store:
        assert Interleaved.other_done
        assert store.schema_version >= 1
