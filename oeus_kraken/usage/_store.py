"""`UsageStore`: every interval reading we have received, kept locally in one SQLite file.

Why a local store: usage changes every few hours, but other Kraken clients ask for all of it
every few minutes and get locked out. With a store, a sync asks only for what is missing or may
still be revised, and everything else (export, status, chart) reads the file with no request.

The store knows nothing of the API. The sync engine is a loop over it:

    with store.sync_lock():
        sync_id = store.begin_sync(esi_id, started_at=now)
        recent = now - revision_window                  # e.g. 3 days: Kraken may still revise
        for start, end in store.gaps_due(esi_id, since, recent, now):  # older gaps, backed off
            for page in fetch(start, end):              # the API: not this module's business
                store.upsert(page, fetched_at=now)      # one transaction per page
            store.record_gap_attempt(esi_id, start, end, at=now)  # what is still missing
        for page in fetch(recent, now):                 # the window: every run, no backoff
            store.upsert(page, fetched_at=now)
        store.finish_sync(sync_id, finished_at=..., requests=..., intervals=..., revised=...)

Layout and guarantees:
- One row per (ESI ID, interval start), times as UTC epoch seconds, and no two rows of an ESI
  ID cover the same time: a page that would overlap stored readings of another length (an
  hour's reading beside 15-minute ones) is refused whole, the store unchanged, checked inside
  the page's write transaction, so two processes cannot both pass it. Values and costs are
  Decimals kept as canonical text ("0.25", never a float), so equal numbers compare equal and
  the API's digits survive.
- WAL mode; every write is one transaction (BEGIN IMMEDIATE ... COMMIT), so a process killed at
  any point leaves the file as it was after the last commit. synchronous=NORMAL: a power cut can
  lose the last commits, never consistency (the next sync fetches them again).
- The schema version is `PRAGMA user_version`, the file is marked as ours by
  `PRAGMA application_id`, and `_MIGRATIONS[n]` takes a file from version n to n + 1.
- `sync_lock()` is an OS file lock beside the database (filelock, as the token store's; released
  by the OS if its holder dies): two syncs at once would both spend requests on the same data.
- Gap backoff, per 15-minute slot: after the n-th attempt that did not deliver it, a slot is due
  again after min(1 h * 2**(n-1), 7 days): 1 h, 2 h, 4 h, ... 128 h, then weekly. It is kept as
  ranges of slots in the same state (`_gaps.py`), so an empty year is one row.
- Requests are counted as they are made (`count_request`, before each one is sent), per sync run
  and per ESI ID, so a killed sync's requests are in `status` too.
- A store that cannot be written (read-only media, no permission) opens with `read_only=True`
  for status, export and chart; a sync on it is refused in one line.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import sqlite3
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO, Literal, TextIO

import filelock

from .._errors import ConfigurationError
from .._folders import expand_home, make_private_folders, xdg_folder
from ._damage import STORED_KWH, overlap_error, stored_kwh
from ._errors import UsageStoreError, UsageStoreLockedError
from ._gaps import Attempted, attempt, merged, spans_of, subtract
from ._models import (
    DECIMAL_TEXTS,
    SLOT_SECONDS,
    Gap,
    Interval,
    SyncRecord,
    UpsertResult,
    UsageStatus,
    decimal_text,
)
from ._time import TEXAS, instant

__all__ = [
    "BESIDE_THE_STORE",
    "GAP_RETRY_FIRST",
    "GAP_RETRY_MAX",
    "SLOT_SECONDS",
    "UsageStore",
    "default_usage_store_path",
]


GAP_RETRY_FIRST = timedelta(hours=1)
"""A missing slot asked for once is asked for again after this long..."""
GAP_RETRY_MAX = timedelta(days=7)
"""... doubling after every attempt that does not deliver it, up to this."""

# "OEUK" in the file header: a SQLite file we did not create is refused, not migrated.
_APPLICATION_ID = 0x4F45554B
# How far before a range's start a row may begin and still reach into it: rows are 15 minutes
# in ERCOT, and nothing the API sends is longer than a day.
_LONGEST_INTERVAL = 86_400
# The first instant with a Texas local time: status and exports show every interval in it.
_EARLIEST_START = int(datetime.min.replace(tzinfo=TEXAS).timestamp())
# Rows converted and compared per step of one upsert: bounds memory on a huge iterable.
_CHUNK = 20_000


def default_usage_store_path() -> Path:
    """`usage.sqlite3` in the user's data directory (platformdirs: XDG on Linux,
    ~/Library/Application Support on macOS, %LOCALAPPDATA% on Windows).

    `ConfigurationError` when there is no home folder to put it in (HOME unset or relative, and
    a uid with no passwd entry): platformdirs then raises a RuntimeError, and older releases that
    pyproject allows gave a relative `~/.local/share`: a store under whatever folder one ran in.
    """
    folder: Path | None
    if sys.platform in ("win32", "darwin"):
        import platformdirs  # only when no path is given: most callers never pay for it

        try:
            folder = platformdirs.user_data_path("oeus-kraken", appauthor=False)
        except RuntimeError:
            folder = None
    else:  # XDG, by its rule: a relative XDG_DATA_HOME is ignored, as the token cache's is
        data = xdg_folder("XDG_DATA_HOME", ".local/share")
        folder = None if data is None else data / "oeus-kraken"
    if folder is None or not folder.is_absolute():
        raise ConfigurationError(
            "there is no home folder to keep the usage store in (HOME is unset or relative): "
            "give the store's path (UsageStore(path), or --db PATH), or set XDG_DATA_HOME to "
            "an absolute folder"
        )
    return folder / "usage.sqlite3"


# --- Schema -----------------------------------------------------------------------------------


def _run_statements(conn: sqlite3.Connection, script: str) -> None:
    """Each statement of `script` on its own, inside the caller's transaction: executescript()
    would commit that transaction first, letting a second process opening the same new file
    start the same migration between two statements."""
    for statement in script.split(";"):
        lines = [line.split("--")[0] for line in statement.splitlines()]
        if "".join(lines).strip():
            conn.execute("\n".join(lines))


def _schema_v1(conn: sqlite3.Connection) -> None:
    _run_statements(
        conn,
        """
        CREATE TABLE meters (
            id INTEGER PRIMARY KEY,
            esi_id TEXT NOT NULL UNIQUE
        );
        CREATE TABLE account_meters (
            account_number TEXT NOT NULL,
            meter INTEGER NOT NULL REFERENCES meters (id),
            PRIMARY KEY (account_number, meter)
        ) WITHOUT ROWID;
        CREATE TABLE intervals (
            meter INTEGER NOT NULL REFERENCES meters (id),
            start_at INTEGER NOT NULL,      -- UTC epoch seconds
            end_at INTEGER NOT NULL,
            value TEXT NOT NULL,            -- canonical Decimal text, kWh
            unit TEXT NOT NULL,
            cost TEXT,                      -- canonical Decimal text, cents
            source TEXT,
            read_at INTEGER,
            fetched_at INTEGER NOT NULL,    -- when the current value was received
            revisions INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (meter, start_at)
        ) WITHOUT ROWID;
        CREATE TABLE gap_attempts (
            meter INTEGER NOT NULL REFERENCES meters (id),
            slot INTEGER NOT NULL,          -- UTC epoch seconds of a missing 15-minute slot
            attempts INTEGER NOT NULL,
            last_attempt INTEGER NOT NULL,
            next_due INTEGER NOT NULL,
            PRIMARY KEY (meter, slot)
        ) WITHOUT ROWID;
        CREATE TABLE syncs (
            id INTEGER PRIMARY KEY,
            meter INTEGER NOT NULL REFERENCES meters (id),
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            requests INTEGER NOT NULL DEFAULT 0,
            intervals INTEGER NOT NULL DEFAULT 0,
            revised INTEGER NOT NULL DEFAULT 0,
            stopped_reason TEXT
        );
        CREATE INDEX syncs_by_meter ON syncs (meter, started_at);
        """,
    )


def _schema_v2(conn: sqlite3.Connection) -> None:
    """Gap retry state as ranges of slots (one row per slot made an empty decade a million
    rows), and sync runs: what one sync command cost, account lookups included."""
    _run_statements(
        conn,
        """
        CREATE TABLE gap_ranges (
            meter INTEGER NOT NULL REFERENCES meters (id),
            start_at INTEGER NOT NULL,      -- UTC epoch seconds, on the 15-minute grid
            end_at INTEGER NOT NULL,        -- exclusive
            attempts INTEGER NOT NULL,
            last_attempt INTEGER NOT NULL,
            next_due INTEGER NOT NULL,
            PRIMARY KEY (meter, start_at)
        ) WITHOUT ROWID;
        CREATE TABLE sync_runs (
            id INTEGER PRIMARY KEY,
            started_at INTEGER NOT NULL,
            finished_at INTEGER,
            requests INTEGER NOT NULL DEFAULT 0,  -- every request, counted before it is sent
            stopped_reason TEXT
        );
        ALTER TABLE syncs ADD COLUMN run INTEGER REFERENCES sync_runs (id);
        """,
    )
    rows = conn.execute(
        "SELECT meter, slot, attempts, last_attempt, next_due FROM gap_attempts "
        "ORDER BY meter, slot"
    )
    ranges: list[tuple[int, Attempted]] = []
    for meter, slot, attempts, last, due in rows:
        item = Attempted(slot, slot + SLOT_SECONDS, attempts, last, due)
        if ranges and ranges[-1][0] == meter and ranges[-1][1].end == slot:
            previous = ranges[-1][1]
            if previous.same_state(item):
                ranges[-1] = (meter, Attempted(previous.start, item.end, attempts, last, due))
                continue
        ranges.append((meter, item))
    conn.executemany(
        "INSERT INTO gap_ranges VALUES (?, ?, ?, ?, ?, ?)",
        [(m, r.start, r.end, r.attempts, r.last_attempt, r.next_due) for m, r in ranges],
    )
    conn.execute("DROP TABLE gap_attempts")
    conn.execute("ALTER TABLE gap_ranges RENAME TO gap_attempts")


# _MIGRATIONS[n] takes a file at schema version n to n + 1, inside the opening transaction; a
# new schema change is a new function appended here (never an edit of an old one). The current
# version is len(_MIGRATIONS).
_MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_schema_v1, _schema_v2)


# --- Conversions ------------------------------------------------------------------------------


def _epoch(instant: datetime, what: str) -> int:
    if not isinstance(instant, datetime):
        raise ConfigurationError(
            f"{what} {instant} is a {type(instant).__name__}, not an instant: give an aware "
            "datetime (e.g. datetime.now(timezone.utc))"
        )
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ConfigurationError(
            f"{what} {instant.isoformat()} has no time zone; the usage store needs aware "
            "datetimes (e.g. datetime.now(timezone.utc))"
        )
    return int(instant.timestamp())  # aware: exact, whatever the time zone


BESIDE_THE_STORE = ("-wal", "-shm", "-journal", ".lock")  # SQLite's files, and the sync lock's


def _make_owner_only(path: Path) -> None:
    """A store others could read (made by another tool, restored from a backup) is made 0600
    before usage is written to it, with its -wal and -shm files, which SQLite makes with the
    store's mode. Not a device or a file of someone else's, and never an error: SQLite says
    why a store it cannot use is one."""
    if os.name == "nt":  # no POSIX modes
        return
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        with contextlib.suppress(OSError):
            info = file.stat()
            if stat.S_ISREG(info.st_mode) and info.st_mode & 0o077 and info.st_uid == os.getuid():
                os.chmod(file, 0o600)


def _slot_floor(seconds: int) -> int:
    return seconds - seconds % SLOT_SECONDS


def _slot_ceil(seconds: int) -> int:
    return -(-seconds // SLOT_SECONDS) * SLOT_SECONDS


# An intervals row as inserted: meter, start, end, value, unit, cost, source, read_at, fetched.
# Absent cost, source and read_at travel as "" and -1 and become NULL in SQL (NULLIF): binding
# None costs the sqlite3 module an adapter lookup per value, which halved the write rate.
_Row = tuple[int, int, int, str, str, str, str, int, int]
_NO_TEXT = ""  # the SQL below spells these out: NULLIF(?, ''), NULLIF(?, -1)
_NO_TIME = -1


@dataclass(frozen=True)
class StoreTarget:
    """What an export or chart reads: the meters of one ESI ID or of one account."""

    label: str
    meters: tuple[tuple[int, str], ...]  # (meter id, ESI ID), sorted by ESI ID


# --- The store ----------------------------------------------------------------------------------


class UsageStore:
    """Interval usage of any number of ESI IDs in one SQLite file (see the module docstring).

    `path` None means `default_usage_store_path()`. `busy_timeout` is how long a write waits for
    another process's write transaction (each is short: one page of intervals) before
    `UsageStoreError`. `read_only=True` opens an existing store without writing to it (status,
    export, chart), also on read-only media. One instance may be used from several threads.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        busy_timeout: float = 30.0,
        read_only: bool = False,
    ) -> None:
        # Checked here, as Path() and sqlite3 would raise a bare TypeError or take -1 as "wait".
        if path is not None and not isinstance(path, str | os.PathLike):
            raise ConfigurationError(f"path must be a file path (str or Path), not {path!r}")
        if (
            isinstance(busy_timeout, bool)
            or not isinstance(busy_timeout, int | float)
            or not 0 <= busy_timeout < float("inf")
        ):
            raise ConfigurationError(
                f"busy_timeout must be a number of seconds, 0 or more, not {busy_timeout!r}"
            )
        self.path = expand_home(path) if path is not None else default_usage_store_path()
        beside = _kept_beside(self.path)
        if beside is not None:
            # Made a store, the file would be truncated by the next sync of that store (its
            # lock) or taken by SQLite for that store's journal: what was synced into it lost.
            raise ConfigurationError(
                f"{self.path} is a file kept beside the usage store {beside}, not a store: "
                f"give {beside} itself, or a name of its own for a new store"
            )
        try:
            is_folder = self.path.is_dir()
        except OSError as exc:  # a name too long, a folder on the way that may not be searched
            raise UsageStoreError(
                f"cannot use {self.path} as a usage store: {exc.strerror or exc}", path=self.path
            ) from exc
        if is_folder:  # SQLite's words for it: "unable to open database file"
            raise UsageStoreError(
                f"{self.path} is a folder, not a usage store: give a file path, such as "
                f"{self.path / 'usage.sqlite3'}",
                path=self.path,
            )
        if self.path.exists() and not self.path.is_file():
            # A device or a named pipe: SQLite said "disk I/O error", and left a journal file
            # (0666) beside a device it had opened to write.
            raise UsageStoreError(
                f"{self.path} is a device or a named pipe, not a usage store: give a file "
                "path (--db PATH)",
                path=self.path,
            )
        self.read_only = read_only
        self._lock = threading.RLock()
        self._meters: dict[str, int] = {}  # committed ESI ID -> meter id (ids never change)
        self._pending_meters: dict[str, int] = {}  # created in the open transaction
        self._closed = False
        self._conn = self._open_read_only(busy_timeout) if read_only else self._open(busy_timeout)

    def __repr__(self) -> str:
        return f"UsageStore({str(self.path)!r})"

    def __enter__(self) -> UsageStore:
        self._connection()  # a closed store says so here, as every other use of it does
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    # --- Opening and migrating ---------------------------------------------------------------

    def _open(self, busy_timeout: float) -> sqlite3.Connection:
        try:
            if not self.path.exists():
                # Usage shows when someone is home: owner-only, like the token cache.
                make_private_folders(self.path.parent)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        except OSError as exc:
            # A file where a folder of the path should be: the OS's words ("File exists") hide it.
            blocker = next((p for p in self.path.parents if p.exists() and not p.is_dir()), None)
            reason = exc.strerror if blocker is None else f"{blocker} is a file, not a folder"
            raise UsageStoreError(
                f"cannot create the usage store {self.path}: {reason}; give a writable "
                "path (--db PATH)",
                path=self.path,
            ) from exc
        self._refuse_other_names()
        if not _mode_lets_write(self.path):
            # Root writes past the mode (access(2) says yes): a sync wrote into a store its
            # user had made read-only, and made it 0600, writable again; forget deleted from it.
            raise self._read_only_error()
        try:
            conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise UsageStoreError(
                f"cannot open the usage store {self.path}: {exc}", path=self.path
            ) from exc
        try:
            # Another program's database is refused before anything of it changes: its mode,
            # or its journal (WAL is recorded in the file, and changes how that program, or a
            # read-only reader of it, opens it).
            self._refuse_someone_elses(conn)
            _make_owner_only(self.path)
            mode = self._enter_wal_mode(conn, busy_timeout)
            if mode != "wal":
                raise UsageStoreError(
                    f"the usage store {self.path} cannot use WAL mode (got {mode!r}); put it "
                    "on a local file system",
                    path=self.path,
                )
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(conn)
        except sqlite3.OperationalError as exc:
            conn.close()
            if _is_busy(exc):
                raise self._busy_error() from exc
            if not _writable(self.path):
                raise self._read_only_error() from exc
            if _is_full(exc):
                raise self._full_error() from exc
            raise UsageStoreError(
                f"cannot open the usage store {self.path}: {exc}", path=self.path
            ) from exc
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise self._not_ours_error(exc) from exc
        except BaseException:
            conn.close()
            raise
        return conn

    def _refuse_other_names(self) -> None:
        """A store file with another name (a hard link) is not written. The sync lock and
        SQLite's write-ahead log are files beside the name: two syncs through two names ran at
        once, each with its own log, and damaged the store ("UNIQUE constraint failed")."""
        with contextlib.suppress(OSError):
            links = self.path.stat().st_nlink
            if links > 1:
                raise UsageStoreError(
                    f"the usage store {self.path} has {links - 1} other name(s) (hard links): "
                    "writes through two names are not kept apart and damage it; remove the "
                    "other links (or copy the file) and run again",
                    path=self.path,
                )

    def _read_only_error(self) -> UsageStoreError:
        return UsageStoreError(
            f"the usage store {self.path} is read-only (a read-only file system, or no write "
            "permission): a sync writes to it; status, export and chart can read it as it is. "
            "Give a writable --db, or copy the file somewhere writable",
            path=self.path,
        )

    def _full_error(self) -> UsageStoreError:
        # SQLite's own words ("database or disk is full") say what happened, not what to do.
        return UsageStoreError(
            f"the disk holding the usage store {self.path} is full: what was stored before is "
            "kept (the write that did not fit was undone); free some space and run again",
            path=self.path,
        )

    def _not_ours_error(self, exc: sqlite3.DatabaseError) -> UsageStoreError:
        return UsageStoreError(
            f"{self.path} is not an oeus-kraken usage store, or it is damaged ({exc}); "
            "move it aside and sync again, or give another path",
            path=self.path,
        )

    def _open_read_only(self, busy_timeout: float) -> sqlite3.Connection:
        """The store as it is, never written: `mode=ro`; on read-only media, where SQLite cannot
        make the WAL index, `immutable=1` (nothing can write there either). A store of an older
        schema is copied into memory and migrated there."""
        if not self.path.is_file():
            raise UsageStoreError(f"no usage store at {self.path}", path=self.path)
        uri = self.path.resolve().as_uri()
        conn: sqlite3.Connection | None = None
        try:
            for options in ("?mode=ro", "?mode=ro&immutable=1"):
                try:
                    conn = sqlite3.connect(
                        uri + options,
                        uri=True,
                        timeout=busy_timeout,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                    break
                except sqlite3.OperationalError as exc:
                    if conn is not None:
                        conn.close()
                    conn = None
                    if _is_busy(exc):  # a writer holds it: not read-only media, never read past
                        raise self._busy_error() from exc
                    if options.endswith("immutable=1"):
                        raise
            assert conn is not None
            if options.endswith("immutable=1") and _holds_writes(_wal_of(self.path)):
                # `immutable` reads the main file only: what a writer left in the WAL (a copy
                # taken while a sync ran) would be missing without a word.
                conn.close()
                conn = self._with_its_wal()
            return self._current_schema(conn)
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            raise self._not_ours_error(exc) from exc

    def _with_its_wal(self) -> sqlite3.Connection:
        """The store with its WAL applied, in memory: both copied to a private temporary
        folder, where SQLite can make the -shm that read-only media would not let it make."""
        try:
            with tempfile.TemporaryDirectory(prefix="oeus-kraken-usage-") as folder:  # 0700
                copy = Path(folder) / "usage.sqlite3"
                shutil.copyfile(self.path, copy)
                shutil.copyfile(_wal_of(self.path), _wal_of(copy))
                disk = sqlite3.connect(copy, isolation_level=None)
                memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
                try:
                    disk.backup(memory)
                except BaseException:
                    memory.close()
                    raise
                finally:
                    disk.close()
        except OSError as exc:
            raise UsageStoreError(
                f"cannot read the usage store {self.path} on read-only media with the writes "
                f"in its WAL: a temporary copy failed ({exc.strerror or exc}); copy the store "
                "and its -wal file somewhere writable",
                path=self.path,
            ) from exc
        return memory

    def _current_schema(self, conn: sqlite3.Connection) -> sqlite3.Connection:
        """`conn` if it is a store of this version; else a migrated copy in memory (or the
        error a writer would give: another program's file, a newer version)."""
        application_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if application_id == _APPLICATION_ID and version == len(_MIGRATIONS):
            return conn
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            conn.backup(memory)
            conn.close()
            self._migrate(memory)
        except BaseException:
            memory.close()
            raise
        return memory

    @staticmethod
    def _enter_wal_mode(conn: sqlite3.Connection, busy_timeout: float) -> str:
        # Switching a new file to WAL needs it to itself, and SQLite answers "locked" at once,
        # without its busy handler, while another process does the same: retry until the
        # busy timeout. (Once switched, WAL is recorded in the file and this returns at once.)
        deadline = time.monotonic() + busy_timeout
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() >= deadline:
                    raise
            time.sleep(0.01)

    def _busy_error(self) -> UsageStoreError:
        return UsageStoreError(
            f"the usage store {self.path} stayed busy: another process kept a write open "
            "longer than the busy timeout; try again, or raise busy_timeout",
            path=self.path,
        )

    def _refuse_someone_elses(self, conn: sqlite3.Connection) -> None:
        """A database not marked as ours that holds anything, or marked as another program's.
        Both read in one statement, one snapshot: another process creating the store may commit
        between two, and its new store, read as unmarked but not empty, was refused."""
        application_id, entries = conn.execute(
            "SELECT (SELECT application_id FROM pragma_application_id),"
            " (SELECT count(*) FROM sqlite_master)"
        ).fetchone()
        if application_id != _APPLICATION_ID and (application_id or entries):
            raise self._someone_elses_error()

    def _someone_elses_error(self) -> UsageStoreError:
        return UsageStoreError(
            f"{self.path} is a SQLite database of something else, not an oeus-kraken usage "
            "store; give another path",
            path=self.path,
        )

    def _migrate(self, conn: sqlite3.Connection) -> None:
        target = len(_MIGRATIONS)
        # A store already ours and current needs no write lock: opening it (for `status`, say)
        # must not queue behind a long sync's writes.
        if (
            conn.execute("PRAGMA application_id").fetchone()[0] == _APPLICATION_ID
            and conn.execute("PRAGMA user_version").fetchone()[0] == target
        ):
            return
        conn.execute("BEGIN IMMEDIATE")  # two processes opening a new file: one migrates
        try:
            application_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if application_id == 0 and version == 0:
                self._refuse_someone_elses(conn)  # again: another process may have written it
                conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
            elif application_id != _APPLICATION_ID:
                raise self._someone_elses_error()
            if version > target:
                raise UsageStoreError(
                    f"the usage store {self.path} has schema version {version}, newer than "
                    f"this oeus-kraken knows ({target}); upgrade oeus-kraken",
                    path=self.path,
                )
            for step in range(version, target):
                # Each step runs inside this one transaction (see _run_statements): a second
                # process opening the file meanwhile waits, then finds the new version.
                _MIGRATIONS[step](conn)
                conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @property
    def schema_version(self) -> int:
        with self.read_transaction() as conn:
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    # --- Transactions ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _sqlite_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise self._busy_error() from exc
            if "readonly" in str(exc):
                raise self._read_only_error() from exc
            if _is_full(exc):
                raise self._full_error() from exc
            raise UsageStoreError(f"usage store {self.path}: {exc}", path=self.path) from exc
        except sqlite3.DatabaseError as exc:
            raise UsageStoreError(
                f"usage store {self.path} is damaged ({exc}); move it aside and sync again",
                path=self.path,
            ) from exc

    @contextlib.contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is committed, or none of it."""
        if self.read_only:
            raise UsageStoreError(
                f"the usage store {self.path} was opened read-only (read_only=True): open it "
                "without read_only to write",
                path=self.path,
            )
        with self._lock, self._sqlite_errors():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                self._pending_meters.clear()
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._meters.update(self._pending_meters)
            self._pending_meters.clear()

    @contextlib.contextmanager
    def read_transaction(self) -> Iterator[sqlite3.Connection]:
        """One read transaction: every statement in it sees the same snapshot (for the store's
        readers: export, chart)."""
        with self._lock, self._sqlite_errors():
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise UsageStoreError(f"the usage store {self.path} is closed", path=self.path)
        return self._conn

    def _meter(self, conn: sqlite3.Connection, esi_id: str, *, create: bool) -> int | None:
        meter = self._meters.get(esi_id) or self._pending_meters.get(esi_id)
        if meter is not None:
            return meter
        if not isinstance(esi_id, str) or not esi_id.strip():
            raise ConfigurationError(f"an ESI ID must be a non-empty string, not {esi_id!r}")
        row = conn.execute("SELECT id FROM meters WHERE esi_id = ?", (esi_id,)).fetchone()
        if row is not None:
            self._meters[esi_id] = row[0]
            return int(row[0])
        if not create:
            return None
        cursor = conn.execute("INSERT INTO meters (esi_id) VALUES (?)", (esi_id,))
        assert cursor.lastrowid is not None
        self._pending_meters[esi_id] = cursor.lastrowid
        return cursor.lastrowid

    # --- Intervals ----------------------------------------------------------------------------

    def upsert(self, intervals: Iterable[Interval], *, fetched_at: datetime) -> UpsertResult:
        """Store `intervals` in one transaction: new ones inserted, changed ones replaced.

        An interval whose value, unit, cost or end differs from the stored one is a revision:
        it replaces the row, and the row's revision count goes up. One that is identical is
        left alone (its source and read_at too). When one call holds the same (ESI ID, start)
        twice, the last one wins.

        Readings that would overlap, stored ones or the call's own (an hour's reading and
        15-minute readings inside it, whichever came first): `OverlappingReadingsError`, and
        none of the call is stored. Kept, every total would count that time twice.
        """
        fetched = _epoch(fetched_at, "fetched_at")
        counts = [0, 0, 0]
        iterator = iter(intervals)
        with self._writing() as conn:
            while chunk := list(itertools.islice(iterator, _CHUNK)):
                self._upsert_chunk(conn, chunk, fetched, counts)
        return UpsertResult(inserted=counts[0], revised=counts[1], unchanged=counts[2])

    def _upsert_chunk(
        self, conn: sqlite3.Connection, chunk: list[Interval], fetched: int, counts: list[int]
    ) -> None:
        # The hot loop of a sync (a year is 35,040 intervals per ESI ID): plain locals, and one
        # tuple per row that serves the INSERT, the comparison and the UPDATE alike.
        by_meter: dict[int, dict[int, _Row]] = {}
        chunk_meters: dict[str, int] = {}
        canonical = DECIMAL_TEXTS  # decimal_text's cache, looked up here without a call
        for interval in chunk:
            if not isinstance(interval, Interval):  # before: "'tuple' has no attribute 'esi_id'"
                raise ConfigurationError(
                    f"upsert takes Interval objects (oeus_kraken.usage.Interval), not {interval!r}"
                )
            esi_id = interval.esi_id
            meter = chunk_meters.get(esi_id)
            if meter is None:
                meter = self._meter(conn, esi_id, create=True)
                assert meter is not None
                chunk_meters[esi_id] = meter
            begins, ends = interval.start, interval.end
            if not (
                isinstance(begins, datetime)
                and isinstance(ends, datetime)
                and begins.tzinfo is not None
                and ends.tzinfo is not None
            ):
                _epoch(begins, "interval start")  # raises for a date, text or a naive time...
                _epoch(ends, "interval end")  # ... here, if the start was right
            start = int(begins.timestamp())  # aware: exact, whatever the time zone
            end = int(ends.timestamp())
            if not 0 < end - start <= _LONGEST_INTERVAL or begins.microsecond or ends.microsecond:
                raise ConfigurationError(
                    f"interval {begins.isoformat()} - {ends.isoformat()} of ESI ID {esi_id} "
                    "must end after it starts, within a day, on whole seconds"
                )
            if start < _EARLIEST_START:
                raise ConfigurationError(
                    f"interval {begins.isoformat()} of ESI ID {esi_id} starts before the first "
                    "Texas local day (0001-01-01), which the store cannot show"
                )
            value = interval.value
            value_text = (type(value) is Decimal and canonical.get(value)) or decimal_text(
                value, "value"
            )
            cost = interval.cost
            unit, source = interval.unit, interval.source
            # Checked here: a NULL unit failed the table's NOT NULL, which said the store was
            # damaged (to be moved aside), and a source of another type was stored as given.
            if type(unit) is not str or not unit:
                raise ConfigurationError(
                    f"interval unit must be the name of a unit such as 'kWh', not {unit!r}"
                )
            if source is not None and type(source) is not str:
                raise ConfigurationError(f"interval source must be text or None, not {source!r}")
            read_at = interval.read_at
            if read_at is None:
                read_at_s = _NO_TIME
            elif not isinstance(read_at, datetime) or read_at.tzinfo is None:
                read_at_s = _epoch(read_at, "interval read_at")  # raises
            else:
                read_at_s = int(read_at.timestamp())
            rows = by_meter.get(meter)
            if rows is None:
                rows = by_meter[meter] = {}
            rows[start] = (
                meter,
                start,
                end,
                value_text,
                unit,
                _NO_TEXT if cost is None else decimal_text(cost, "cost"),
                source or _NO_TEXT,
                read_at_s,
                fetched,
            )

        esi_ids = {meter: esi_id for esi_id, meter in chunk_meters.items()}
        for meter, rows in by_meter.items():
            low, high = min(rows), max(rows)
            reach = self._reach(esi_ids[meter], rows)  # refuses new readings that overlap
            existing = {
                found[0]: found[1:]  # start -> (end, value, unit, cost), like row[2:6]
                for found in conn.execute(
                    # The stored readings starting in the new ones' span [low, reach), and the
                    # last one before it if it reaches in: stored readings never overlap, so no
                    # earlier one can (an index seek, not a day of rows scanned per page).
                    "SELECT start_at, end_at, value, unit, COALESCE(cost, '') FROM intervals "
                    "WHERE meter = ? AND start_at >= ? AND start_at < ? UNION ALL "
                    "SELECT * FROM (SELECT start_at, end_at, value, unit, COALESCE(cost, '') "
                    "FROM intervals WHERE meter = ? AND start_at < ? "
                    "ORDER BY start_at DESC LIMIT 1) WHERE end_at > ?",
                    (meter, low, reach, meter, low, low),
                )
            }
            if existing:
                inserts = []
                updates = []
                reshaped = False  # a stored reading given another end
                for start, row in rows.items():
                    old = existing.get(start)
                    if old is None:
                        inserts.append(row)
                    elif old != row[2:6]:
                        updates.append(row)
                        reshaped = reshaped or old[0] != row[2]
                if inserts or reshaped:  # else every stored reading keeps its span
                    spans = {start: old[0] for start, old in existing.items()}
                    spans.update((start, row[2]) for start, row in rows.items())
                    self._refuse_overlaps(esi_ids[meter], spans, rows)
            else:  # a first sync: nothing to compare with
                inserts, updates = list(rows.values()), []
            counts[0] += len(inserts)
            counts[1] += len(updates)
            counts[2] += len(rows) - len(inserts) - len(updates)
            if inserts:
                conn.executemany(
                    "INSERT INTO intervals (meter, start_at, end_at, value, unit, cost, source, "
                    "read_at, fetched_at) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''), NULLIF(?, ''), "
                    "NULLIF(?, -1), ?)",
                    inserts,
                )
                self._forget_filled_gaps(conn, meter, low, high, inserts)
            if updates:
                # The INSERT's row with its key (meter, start) moved to the end, for plain `?`:
                # numbered ones (`?3`) bound from a tuple warn from 3.12, and fail from 3.14.
                conn.executemany(
                    "UPDATE intervals SET end_at = ?, value = ?, unit = ?, cost = NULLIF(?, ''), "
                    "source = NULLIF(?, ''), read_at = NULLIF(?, -1), fetched_at = ?, "
                    "revisions = revisions + 1 WHERE meter = ? AND start_at = ?",
                    [row[2:] + row[:2] for row in updates],
                )

    def _reach(self, esi_id: str, rows: dict[int, _Row]) -> int:
        """The latest end of `rows` (one ESI ID's new readings); `OverlappingReadingsError` if
        two of them overlap. One pass when they come in time order, as a page does."""
        end = _EARLIEST_START
        for row in rows.values():
            if row[1] < end:  # out of order, or an overlap: sorted, the check tells which
                self._refuse_overlaps(esi_id, {r[1]: r[2] for r in rows.values()}, rows)
                return max(row[2] for row in rows.values())
            end = row[2]
        return end

    def _refuse_overlaps(self, esi_id: str, spans: dict[int, int], rows: dict[int, _Row]) -> None:
        """`OverlappingReadingsError` for the first two of `spans` (start -> end: the stored
        readings near the new ones, with the new ones in place) that overlap; `rows` are the
        new ones."""
        starts = sorted(spans)
        for start, following in itertools.pairwise(starts):
            if spans[start] > following:
                raise overlap_error(
                    self.path,
                    esi_id,
                    (start, spans[start], start in rows),
                    (following, spans[following], following in rows),
                )

    @staticmethod
    def _forget_filled_gaps(
        conn: sqlite3.Connection, meter: int, low: int, high: int, inserts: list[_Row]
    ) -> None:
        """Drop the retry bookkeeping of slots that just arrived (one query when there is none)."""
        earlier = UsageStore._attempted(conn, meter, low, high + _LONGEST_INTERVAL)
        if not earlier:
            return
        filled = spans_of((_slot_floor(row[1]), _slot_ceil(row[2])) for row in inserts)
        left = [
            Attempted(start, end, r.attempts, r.last_attempt, r.next_due)
            for r in earlier
            for start, end in subtract([(r.start, r.end)], filled)
        ]
        UsageStore._replace_attempted(conn, meter, earlier, left)

    @staticmethod
    def _attempted(conn: sqlite3.Connection, meter: int, low: int, high: int) -> list[Attempted]:
        """The gap retry ranges of `meter` that overlap [low, high), in order."""
        return [
            Attempted(*row)
            for row in conn.execute(
                "SELECT start_at, end_at, attempts, last_attempt, next_due FROM gap_attempts "
                "WHERE meter = ? AND start_at < ? AND end_at > ? ORDER BY start_at",
                (meter, high, low),
            )
        ]

    @staticmethod
    def _replace_attempted(
        conn: sqlite3.Connection, meter: int, old: list[Attempted], new: list[Attempted]
    ) -> None:
        conn.executemany(
            "DELETE FROM gap_attempts WHERE meter = ? AND start_at = ?",
            [(meter, r.start) for r in old],
        )
        conn.executemany(
            "INSERT INTO gap_attempts (meter, start_at, end_at, attempts, last_attempt, "
            "next_due) VALUES (?, ?, ?, ?, ?, ?)",
            [(meter, r.start, r.end, r.attempts, r.last_attempt, r.next_due) for r in new],
        )

    def intervals(self, esi_id: str, start: datetime, end: datetime) -> list[Interval]:
        """The stored intervals of `esi_id` starting in [start, end), in order."""
        low, high = _epoch(start, "start"), _epoch(end, "end")
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            if meter is None:
                return []
            return [
                Interval(
                    esi_id=esi_id,
                    start=instant(s),
                    end=instant(e),
                    value=stored_kwh(value, self.path, esi_id, s),
                    unit=unit,
                    cost=None if cost is None else Decimal(cost),
                    source=source,
                    read_at=None if read_at is None else instant(read_at),
                )
                for s, e, value, unit, cost, source, read_at in conn.execute(
                    "SELECT start_at, end_at, value, unit, cost, source, read_at FROM intervals "
                    "WHERE meter = ? AND start_at >= ? AND start_at < ? ORDER BY start_at",
                    (meter, low, high),
                )
            ]

    def readings(
        self, esi_id: str, start: datetime, end: datetime
    ) -> list[tuple[int, int, Decimal, str]]:
        """The stored intervals of `esi_id` starting in [start, end), in order, as bare
        `(start, end, value, unit)` tuples: UTC Unix seconds, the exact value and its unit.
        What `intervals` gives without building two datetimes per row, for a reader that adds
        up a year of them (35,000 rows in ~0.1 s, against ~0.5 s)."""
        low, high = _epoch(start, "start"), _epoch(end, "end")
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            if meter is None:
                return []
            # A value seen before, from the checked ones (a call per row cost as much as the
            # rest of the read); a new one checked (a damaged store's is said, not returned).
            checked = STORED_KWH.get
            return [
                (s, e, checked(value) or stored_kwh(value, self.path, esi_id, s), unit)
                for s, e, value, unit in conn.execute(
                    "SELECT start_at, end_at, value, unit FROM intervals "
                    "WHERE meter = ? AND start_at >= ? AND start_at < ? ORDER BY start_at",
                    (meter, low, high),
                )
            ]

    def forget(self, esi_id: str, start: datetime, end: datetime) -> int:
        """Delete the stored intervals of `esi_id` starting in [start, end); returns how many.

        The repair of readings that overlap (`OverlappingReadingsError`): the span's slots are
        then missing, never yet asked for, so the next sync fetches them again as the API now
        gives them. It takes the sync lock (`UsageStoreLockedError` while a sync runs): a sync
        running meanwhile recorded the slots it had fetched, now forgotten, as gaps the API had
        not filled, and the next syncs backed off from asking for them for an hour and more.
        """
        low, high = _epoch(start, "start"), _epoch(end, "end")
        with self.sync_lock(), self._writing() as conn:
            meter = self._meter(conn, esi_id, create=False)
            if meter is None:
                return 0
            return conn.execute(
                "DELETE FROM intervals WHERE meter = ? AND start_at >= ? AND start_at < ?",
                (meter, low, high),
            ).rowcount

    # --- Accounts ---------------------------------------------------------------------------

    def link(self, account_number: str, esi_id: str) -> None:
        """Record that `esi_id` is a meter of `account_number` (idempotent)."""
        if not isinstance(account_number, str) or not account_number.strip():
            raise ConfigurationError(
                f"an account number must be a non-empty string, not {account_number!r}"
            )
        with self._writing() as conn:
            meter = self._meter(conn, esi_id, create=True)
            conn.execute(
                "INSERT OR IGNORE INTO account_meters (account_number, meter) VALUES (?, ?)",
                (account_number, meter),
            )

    def esi_ids(self, account_number: str | None = None) -> list[str]:
        """The ESI IDs linked to `account_number`, or every ESI ID in the store when None."""
        with self.read_transaction() as conn:
            if account_number is None:
                query = conn.execute("SELECT esi_id FROM meters ORDER BY esi_id")
            else:
                query = conn.execute(
                    "SELECT m.esi_id FROM account_meters a JOIN meters m ON m.id = a.meter "
                    "WHERE a.account_number = ? ORDER BY m.esi_id",
                    (account_number,),
                )
            return [esi_id for (esi_id,) in query]

    def accounts(self) -> list[str]:
        """Every account number with a linked ESI ID."""
        with self.read_transaction() as conn:
            return [
                account
                for (account,) in conn.execute(
                    "SELECT DISTINCT account_number FROM account_meters ORDER BY account_number"
                )
            ]

    # --- Coverage and gaps -------------------------------------------------------------------

    def coverage(self, esi_id: str) -> tuple[datetime, datetime] | None:
        """(first interval start, last interval end) in UTC, or None when nothing is stored."""
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            if meter is None:
                return None
            first, last = conn.execute(
                "SELECT MIN(start_at), MAX(end_at) FROM intervals WHERE meter = ?", (meter,)
            ).fetchone()
        return None if first is None else (instant(first), instant(last))

    def missing(
        self, esi_id: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The runs of 15-minute slots in [start, end) that no stored interval covers (UTC).

        `start` and `end` are widened to the 15-minute grid.
        """
        low, high = self._slot_range(start, end)
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            runs = [(low, high)] if meter is None else self._missing(conn, meter, low, high)
        return [(instant(a), instant(b)) for a, b in runs]

    @staticmethod
    def _slot_range(start: datetime, end: datetime) -> tuple[int, int]:
        low, high = _slot_floor(_epoch(start, "start")), _slot_ceil(_epoch(end, "end"))
        if high < low:
            raise ConfigurationError(
                f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})"
            )
        return low, high

    @staticmethod
    def _missing(
        conn: sqlite3.Connection, meter: int, low: int, high: int
    ) -> list[tuple[int, int]]:
        runs: list[tuple[int, int]] = []
        cursor = low  # everything before it is covered (or outside the range)
        for start, end in conn.execute(
            "SELECT start_at, end_at FROM intervals WHERE meter = ? AND start_at >= ? "
            "AND start_at < ? ORDER BY start_at",
            (meter, low - _LONGEST_INTERVAL, high),
        ):
            if start > cursor:
                gap_start, gap_end = _slot_floor(cursor), _slot_ceil(start)
                if runs and runs[-1][1] >= gap_start:  # partial slots: merge what touches
                    runs[-1] = (runs[-1][0], gap_end)
                else:
                    runs.append((gap_start, gap_end))
            cursor = max(cursor, end)
        if cursor < high:
            gap_start = _slot_floor(cursor)
            if runs and runs[-1][1] >= gap_start:
                runs[-1] = (runs[-1][0], high)
            else:
                runs.append((gap_start, high))
        return runs

    def record_gap_attempt(self, esi_id: str, start: datetime, end: datetime, at: datetime) -> None:
        """Note that a sync asked for [start, end) at `at`; the slots still missing back off.

        Call it after storing what the request returned. Slots that arrived later are
        forgotten by `upsert`.
        """
        low, high = self._slot_range(start, end)
        attempted = _epoch(at, "at")
        first, most = int(GAP_RETRY_FIRST.total_seconds()), int(GAP_RETRY_MAX.total_seconds())
        with self._writing() as conn:
            meter = self._meter(conn, esi_id, create=True)
            assert meter is not None
            earlier = self._attempted(conn, meter, low, high)
            outside = [
                Attempted(a, b, r.attempts, r.last_attempt, r.next_due)
                for r in earlier
                for a, b in ((r.start, min(r.end, low)), (max(r.start, high), r.end))
                if a < b
            ]
            missing = self._missing(conn, meter, low, high)
            now_tried = attempt(missing, earlier, attempted, first, most)
            self._replace_attempted(conn, meter, earlier, merged([*outside, *now_tried]))

    def gaps_due(
        self, esi_id: str, start: datetime, end: datetime, now: datetime
    ) -> list[tuple[datetime, datetime]]:
        """The missing runs in [start, end) a sync should ask for at `now` (UTC).

        A slot is due if it was never asked for, or its backoff has run out.
        """
        low, high = self._slot_range(start, end)
        current = _epoch(now, "now")
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            if meter is None:
                return [(instant(low), instant(high))] if high > low else []
            runs = self._missing(conn, meter, low, high)
            waiting = spans_of(
                (r.start, r.end)
                for r in self._attempted(conn, meter, low, high)
                if r.next_due > current
            )
        return [(instant(a), instant(b)) for a, b in subtract(runs, waiting)]

    # --- Sync bookkeeping ----------------------------------------------------------------------

    def begin_sync(self, esi_id: str, *, started_at: datetime, run: int | None = None) -> int:
        """Open a sync record of `esi_id` (part of sync run `run`, if given: see `begin_run`);
        returns its id for `count_request` and `finish_sync`."""
        started = _epoch(started_at, "started_at")
        with self._writing() as conn:
            meter = self._meter(conn, esi_id, create=True)
            cursor = conn.execute(
                "INSERT INTO syncs (meter, started_at, run) VALUES (?, ?, ?)",
                (meter, started, run),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def begin_run(self, *, started_at: datetime) -> int:
        """Open the record of one sync command: every request it makes is counted there
        (`count_request`), account lookups and budget checks included."""
        started = _epoch(started_at, "started_at")
        with self._writing() as conn:
            cursor = conn.execute("INSERT INTO sync_runs (started_at) VALUES (?)", (started,))
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    def count_request(self, run: int, sync_id: int | None = None) -> None:
        """Count one request of sync run `run` (and of ESI ID sync `sync_id`, when it is one
        ESI ID's), before it is sent: a sync killed at any point has counted what it sent."""
        with self._writing() as conn:
            conn.execute("UPDATE sync_runs SET requests = requests + 1 WHERE id = ?", (run,))
            if sync_id is not None:
                conn.execute("UPDATE syncs SET requests = requests + 1 WHERE id = ?", (sync_id,))

    def finish_run(
        self, run: int, *, finished_at: datetime, stopped_reason: str | None = None
    ) -> None:
        """Close a sync run's record; `stopped_reason` None: it ran to the end."""
        finished = _epoch(finished_at, "finished_at")
        with self._writing() as conn:
            conn.execute(
                "UPDATE sync_runs SET finished_at = ?, stopped_reason = ? WHERE id = ?",
                (finished, stopped_reason, run),
            )

    def finish_sync(
        self,
        sync_id: int,
        *,
        finished_at: datetime,
        requests: int,
        intervals: int,
        revised: int,
        stopped_reason: str | None = None,
    ) -> None:
        """Close a sync record with what it cost and received (`requests` never lowers what
        `count_request` counted).

        `stopped_reason` None means it ran to the end; otherwise say why it stopped early (e.g.
        "rate limit budget low", "max requests reached"): `status` shows it.
        """
        finished = _epoch(finished_at, "finished_at")
        for name, count in (("requests", requests), ("intervals", intervals), ("revised", revised)):
            if not isinstance(count, int) or count < 0:
                raise ConfigurationError(f"{name} must be a count (int >= 0), not {count!r}")
        with self._writing() as conn:
            cursor = conn.execute(
                # MAX: requests counted one by one as they were made (count_request) stay.
                "UPDATE syncs SET finished_at = ?, requests = MAX(requests, ?), intervals = ?, "
                "revised = ?, stopped_reason = ? WHERE id = ?",
                (finished, requests, intervals, revised, stopped_reason, sync_id),
            )
            if cursor.rowcount != 1:
                raise ConfigurationError(f"no sync {sync_id!r} in {self.path} to finish")

    def record_sync(
        self,
        esi_id: str,
        *,
        started_at: datetime,
        finished_at: datetime,
        requests: int,
        intervals: int,
        revised: int,
        stopped_reason: str | None = None,
    ) -> int:
        """`begin_sync` and `finish_sync` at once, for a sync recorded after the fact."""
        sync_id = self.begin_sync(esi_id, started_at=started_at)
        self.finish_sync(
            sync_id,
            finished_at=finished_at,
            requests=requests,
            intervals=intervals,
            revised=revised,
            stopped_reason=stopped_reason,
        )
        return sync_id

    def last_sync(self, esi_id: str) -> SyncRecord | None:
        """The most recently started sync of `esi_id` (finished or not), or None."""
        with self.read_transaction() as conn:
            meter = self._meter(conn, esi_id, create=False)
            return None if meter is None else self._last_sync(conn, meter, esi_id)

    @staticmethod
    def _last_sync(conn: sqlite3.Connection, meter: int, esi_id: str) -> SyncRecord | None:
        row = conn.execute(
            "SELECT id, started_at, finished_at, requests, intervals, revised, stopped_reason "
            "FROM syncs WHERE meter = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            (meter,),
        ).fetchone()
        if row is None:
            return None
        sync_id, started, finished, requests, intervals, revised, reason = row
        return SyncRecord(
            id=sync_id,
            esi_id=esi_id,
            started_at=instant(started),
            finished_at=None if finished is None else instant(finished),
            requests=requests,
            intervals=intervals,
            revised=revised,
            stopped_reason=reason,
        )

    def requests_used(self, esi_id: str | None = None) -> int:
        """API requests recorded by the syncs of `esi_id`; when None, by every sync: each
        sync run's requests (account lookups included) and those of syncs outside a run."""
        with self.read_transaction() as conn:
            if esi_id is None:
                row = conn.execute(
                    "SELECT (SELECT COALESCE(SUM(requests), 0) FROM sync_runs) + "
                    "(SELECT COALESCE(SUM(requests), 0) FROM syncs WHERE run IS NULL)"
                ).fetchone()
            else:
                meter = self._meter(conn, esi_id, create=False)
                if meter is None:
                    return 0
                row = conn.execute(
                    "SELECT COALESCE(SUM(requests), 0) FROM syncs WHERE meter = ?", (meter,)
                ).fetchone()
            return int(row[0])

    @contextlib.contextmanager
    def sync_lock(self, *, timeout: float = 0.0) -> Iterator[None]:
        """Hold the store's sync lock: a second sync (any process) waits up to `timeout`
        seconds, then gets `UsageStoreLockedError` naming the holder.

        An OS lock on `<path>.lock` (filelock), so it is released when its holder exits or is
        killed. Not re-entrant: a second `sync_lock()` in the same process is refused like any
        other. A read-only store has no sync lock: a sync on it is refused.
        """
        self._connection()  # closed: said before a lock is taken that nothing could use
        if self.read_only or not _writable(self.path):
            raise self._read_only_error()
        # Beside the file itself: a symlink to the store is the same store, and a lock beside
        # the link would let a sync through it run beside one through the store's own path.
        lock_path = Path(os.path.realpath(self.path) + ".lock")
        lock = filelock.FileLock(lock_path, mode=0o600)
        try:
            lock.acquire(timeout=timeout, poll_interval=0.05)
        except filelock.Timeout:
            raise _locked_error(self.path, lock_path, timeout) from None
        except OSError as exc:
            raise UsageStoreError(
                f"cannot create the sync lock {lock_path}: {exc.strerror}", path=self.path
            ) from exc
        try:
            # Who holds it, for the error the next one gets (the lock is not in the file).
            _write_note(lock_path, f"{os.getpid()} {socket.gethostname()}\n")
            yield
        finally:
            _write_note(lock_path, "")
            lock.release()

    # --- Status -------------------------------------------------------------------------------

    def status(self) -> list[UsageStatus]:
        """Per account and ESI ID (unlinked ESI IDs last): what is stored, the gaps inside the
        covered range with their retry state, the last sync and the requests used."""
        statuses = []
        with self.read_transaction() as conn:
            pairs = conn.execute(
                "SELECT a.account_number, m.id, m.esi_id FROM meters m "
                "LEFT JOIN account_meters a ON a.meter = m.id "
                "ORDER BY a.account_number IS NULL, a.account_number, m.esi_id"
            ).fetchall()
            for account, meter, esi_id in pairs:
                count, revisions, first, last = conn.execute(
                    "SELECT count(*), COALESCE(SUM(revisions), 0), MIN(start_at), MAX(end_at) "
                    "FROM intervals WHERE meter = ?",
                    (meter,),
                ).fetchone()
                gaps: list[Gap] = []
                if first is not None:
                    for start, end in self._missing(conn, meter, first, last):
                        attempts, next_due = conn.execute(
                            "SELECT COALESCE(MAX(attempts), 0), MIN(next_due) FROM gap_attempts "
                            "WHERE meter = ? AND start_at < ? AND end_at > ?",
                            (meter, end, start),
                        ).fetchone()
                        gaps.append(
                            Gap(
                                start=instant(start).astimezone(TEXAS),
                                end=instant(end).astimezone(TEXAS),
                                attempts=attempts,
                                next_attempt_at=None
                                if next_due is None
                                else instant(next_due).astimezone(TEXAS),
                            )
                        )
                (requests,) = conn.execute(
                    "SELECT COALESCE(SUM(requests), 0) FROM syncs WHERE meter = ?", (meter,)
                ).fetchone()
                statuses.append(
                    UsageStatus(
                        account_number=account,
                        esi_id=esi_id,
                        intervals=count,
                        revisions=revisions,
                        covered=None
                        if first is None
                        else (instant(first).astimezone(TEXAS), instant(last).astimezone(TEXAS)),
                        gaps=tuple(gaps),
                        last_sync=self._last_sync(conn, meter, esi_id),
                        requests_used=requests,
                    )
                )
        return statuses

    # --- Export -------------------------------------------------------------------------------

    def export(
        self,
        target: str,
        from_date: date,
        to_date: date,
        *,
        interval: Literal["15m", "hour", "day"] = "15m",
        format: Literal["csv", "json", "parquet"] | None = None,
        out: str | os.PathLike[str] | BinaryIO | TextIO,
    ) -> int:
        """Write the usage of `target` (an account number or an ESI ID) for Texas local dates
        `from_date` to `to_date` (both included, up to today); returns the number of rows
        written (0: an empty but readable CSV, JSON or dataset).

        See `oeus_kraken.usage._export` for the columns and guarantees. `format` None follows
        `out`'s extension (.csv, .json, .parquet; CSV otherwise), and one that contradicts it
        is refused. CSV and JSON go to a path, a binary stream or a text stream; Parquet to a
        directory (a dataset partitioned by date, one file per ESI ID and date), swapped in
        whole.
        """
        from ._export import export

        return export(self, target, from_date, to_date, interval=interval, format=format, out=out)

    def check_out(self, path: str | os.PathLike[str]) -> None:
        """Refuse (ConfigurationError) a file to write an export, chart or page to that is this
        store, or a file SQLite or the sync lock keeps beside it: written there, it would be
        renamed over the store (a slip such as `--db usage.png --out usage.png`), or be read
        as its journal."""
        out = expand_home(path)
        for own in (self.path, *(Path(f"{self.path}{end}") for end in BESIDE_THE_STORE)):
            try:
                same = os.path.samefile(out, own)
            except OSError:  # one of them does not exist
                same = os.path.realpath(out) == os.path.realpath(own)
            if same:
                raise ConfigurationError(
                    f"{path} is the usage store {self.path}, or a file of it: writing there "
                    "would replace the store; give the output another name"
                )

    def target_meters(self, conn: sqlite3.Connection, target: str) -> StoreTarget:
        """The meters of an account number, or the one meter of an ESI ID."""
        if not isinstance(target, str) or not target.strip():
            raise ConfigurationError(f"give an account number or an ESI ID, not {target!r}")
        meters = conn.execute(
            "SELECT m.id, m.esi_id FROM account_meters a JOIN meters m ON m.id = a.meter "
            "WHERE a.account_number = ? ORDER BY m.esi_id",
            (target,),
        ).fetchall()
        if not meters:
            meters = conn.execute(
                "SELECT id, esi_id FROM meters WHERE esi_id = ?", (target,)
            ).fetchall()
        if not meters:
            raise UsageStoreError(
                f"the usage store {self.path} has no account or ESI ID {target!r}; run "
                "`oeus-kraken usage sync` for it first",
                path=self.path,
            )
        return StoreTarget(target, tuple((int(m), str(e)) for m, e in meters))


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (sqlite_errorname is Python 3.11+; the text is everywhere)."""
    name = getattr(exc, "sqlite_errorname", "")
    return name in ("SQLITE_BUSY", "SQLITE_LOCKED") or "locked" in str(exc) or "busy" in str(exc)


def _kept_beside(path: Path) -> Path | None:
    """The SQLite file `path` is kept beside (as its -wal, -journal, sync lock...), if any."""
    for end in BESIDE_THE_STORE:
        if path.name.endswith(end) and path.name != end:
            store = path.with_name(path.name[: -len(end)])
            try:
                with open(store, "rb") as file:
                    if file.read(16) == b"SQLite format 3\x00":
                        return store
            except OSError:  # none there (or unreadable: then not ours to protect)
                pass
    return None


def _wal_of(path: Path) -> Path:
    return path.with_name(path.name + "-wal")


def _holds_writes(wal: Path) -> bool:
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def _is_full(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_FULL: the disk (or the file system's quota) has no room for the write."""
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "disk is full" in str(exc)


# --- The note beside sync_lock's lock ----------------------------------------------------------


def _mode_lets_write(path: Path) -> bool:
    """Whether the file's mode has a write bit (on Windows, it is not read-only)."""
    with contextlib.suppress(OSError):
        return bool(path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    return True  # not there: SQLite says what it finds


def _writable(path: Path) -> bool:
    """Whether the store file and its folder can be written (access(2): also False on a
    read-only file system, for root too)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _write_note(lock_path: Path, note: str) -> None:
    with contextlib.suppress(OSError):  # the note is a courtesy; the lock is what counts
        fd = os.open(lock_path, os.O_WRONLY | os.O_TRUNC)
        try:
            os.write(fd, note.encode())
        finally:
            os.close(fd)


def _locked_error(path: Path, lock_path: Path, timeout: float) -> UsageStoreLockedError:
    pid: int | None = None
    host: str | None = None
    with contextlib.suppress(OSError, ValueError):
        note = lock_path.read_text("utf-8", "replace").split()
        if len(note) >= 2:
            pid, host = int(note[0]), note[1]
    holder = f"process {pid} on {host}" if pid is not None else "another process"
    waited = f" (waited {timeout:g} s)" if timeout > 0 else ""
    return UsageStoreLockedError(
        f"another sync is running on the usage store {path}: {holder} holds its lock{waited}; "
        "wait for it to finish, or use another --db",
        path=path,
        holder_pid=pid,
        holder_host=host,
    )
