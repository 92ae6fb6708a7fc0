"""Export from the usage store to CSV, JSON or a Parquet dataset, with no API call.

Dates are Texas local dates, both ends included. Rows are read from SQLite as a stream and written
as they come (hour and day buckets are summed on the way), so a year of one ESI ID is never held
in memory as Python objects.

Columns (CSV header, JSON keys, Parquet fields), ordered by ESI ID then start:

    15m         esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, source,
                read_at_utc, revisions
    hour, day   esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, intervals,
                expected_intervals, complete

- `*_local` are ISO 8601 with the Texas UTC offset (so the repeated 01:00 of the fall-back day
  is two distinct hours), `*_utc` ISO 8601 with "Z".
- Hours and days are local: a local hour is a UTC hour (Chicago's offsets are whole hours), and
  a day is a local day, so the DST days have 23 and 25 hours and 92 and 100 intervals.
- `kwh` and `cost_cents` are exact decimals (JSON: strings; Parquet: a decimal as wide as the
  exported values need, so no digit the API gave is rounded or refused). In a bucket,
  `cost_cents` is the sum only when every interval in it has a cost, else empty.
- Every hour or day in range has a row: `intervals` is how many intervals it holds,
  `expected_intervals` how many it should (4 an hour; 92, 96 or 100 a day), `complete` whether
  it holds them all; `kwh` is empty for a bucket with none. "In range" is the dates asked for,
  from each ESI ID's first stored interval on (the store knows nothing before it) up to today
  (usage of the future does not exist yet).
- Parquet: `OUT/date=<YYYY-MM-DD>/<esi_id>.parquet`, one file per ESI ID and local date, each
  holding `esi_id` as a text column (a Hive `esi_id=` folder would be typed as a number by
  DuckDB and pyarrow, and a 22-digit ESI ID does not fit one); `date` is a Hive partition.
  DuckDB (`read_parquet('OUT/**/*.parquet', hive_partitioning=true)`), pyarrow and pandas read
  it as one dataset. It is written to a temporary folder beside OUT and renamed into place, so
  a failed export leaves nothing; a folder OUT holding an earlier export (of any interval or
  account) is replaced whole, and one holding anything else is refused. An empty range writes
  a dataset of no rows that readers open.
- Files are owner-only (0600, folders 0700): usage shows when someone is home.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TextIO, cast

from .._errors import ConfigurationError
from .._text import printable
from ._damage import overlap_error, stored_kwh
from ._errors import UsageStoreError
from ._files import replaced_file
from ._models import SLOT_SECONDS, Interval, decimal_text
from ._parquet import DecimalShape, pyarrow_module, write_dataset
from ._time import TEXAS, local_date, local_day_bounds, local_range_bounds

if TYPE_CHECKING:
    from ._store import UsageStore

__all__ = ["AGGREGATE_COLUMNS", "INTERVAL_COLUMNS", "UsageTotal", "aggregate", "export"]

INTERVAL_COLUMNS = (
    "esi_id",
    "start_local",
    "end_local",
    "start_utc",
    "end_utc",
    "kwh",
    "cost_cents",
    "source",
    "read_at_utc",
    "revisions",
)
AGGREGATE_COLUMNS = (
    "esi_id",
    "start_local",
    "end_local",
    "start_utc",
    "end_utc",
    "kwh",
    "cost_cents",
    "intervals",
    "expected_intervals",
    "complete",
)

_INTERVALS = ("15m", "hour", "day")
_FORMATS = ("csv", "json", "parquet")

# One output row: the values of INTERVAL_COLUMNS or AGGREGATE_COLUMNS, with the start and end
# as epoch seconds (formatted by each writer).
_Record = tuple[Any, ...]


_EXTENSIONS = {".csv": "csv", ".json": "json", ".parquet": "parquet"}


def export_format(format: str | None, out: str | os.PathLike[str] | BinaryIO | TextIO) -> str:
    """The format asked for, or the one `out`'s extension names (CSV when it names none); a
    format that contradicts the extension is refused, not written under the wrong name."""
    named = None
    if isinstance(out, (str, os.PathLike)):
        named = _EXTENSIONS.get(Path(out).suffix.lower())
    if format is None:
        return named or "csv"
    if format not in _FORMATS:
        raise ConfigurationError(f"format must be one of {', '.join(_FORMATS)}, not {format!r}")
    if named is not None and named != format:
        raise ConfigurationError(
            f"{Path(cast(str, out)).name} names {named.upper()}, but the format asked for is "
            f"{format.upper()}: give a matching extension, or leave the format to the extension"
        )
    return format


def export_range(from_date: date, to_date: date, today: date) -> tuple[int, int]:
    """[low, high) in UTC epoch seconds for Texas dates `from_date` to `to_date`, ending with
    today at the latest (usage of the future does not exist yet); empty when all lies ahead."""
    if not all(isinstance(d, date) and not isinstance(d, datetime) for d in (from_date, to_date)):
        raise ConfigurationError(
            "from_date and to_date must be Texas local dates (datetime.date), not datetimes or "
            "text: "
            f"got {from_date!r} and {to_date!r}"
        )
    if to_date < from_date:
        raise ConfigurationError(f"the date range ends ({to_date}) before it starts ({from_date})")
    if from_date > today:
        low = int(local_day_bounds(today)[1].timestamp())
        return low, low
    low, high = (int(t.timestamp()) for t in local_range_bounds(from_date, min(to_date, today)))
    return low, high


def export(
    store: UsageStore,
    target: str,
    from_date: date,
    to_date: date,
    *,
    interval: Literal["15m", "hour", "day"] = "15m",
    format: Literal["csv", "json", "parquet"] | None = None,
    out: str | os.PathLike[str] | BinaryIO | TextIO,
) -> int:
    """See `UsageStore.export`; returns the number of rows written."""
    if interval not in _INTERVALS:
        raise ConfigurationError(
            f"interval must be one of {', '.join(_INTERVALS)}, not {interval!r}"
        )
    if not isinstance(out, (str, os.PathLike)) and not callable(getattr(out, "write", None)):
        # Anything else was taken for a binary stream, and failed at its first write.
        raise ConfigurationError(
            f"out must be a file path (str or Path) or a stream with write(), not {out!r}"
        )
    # Said here, not by the first write: io.UnsupportedOperation, or ValueError when closed.
    if getattr(out, "closed", False) is True:
        raise ConfigurationError(f"out is a stream that is closed ({out!r}): give an open one")
    writable = getattr(out, "writable", None)
    if callable(writable) and not writable():  # sys.stdin, open(path) with its default "r"
        raise ConfigurationError(
            f"out is a stream not open for writing ({out!r}): open it with 'w' or 'wb', or "
            "give its path"
        )
    chosen = export_format(format, out)
    if isinstance(out, (str, os.PathLike)):
        store.check_out(out)
    today = local_date(datetime.now(timezone.utc))
    low, high = export_range(from_date, to_date, today)
    pyarrow = pyarrow_module() if chosen == "parquet" else None  # fail before reading anything
    if chosen == "parquet" and not isinstance(out, (str, os.PathLike)):
        raise ConfigurationError(
            "a Parquet export is a directory (a dataset): give out= a path, not a stream"
        )
    with store.read_transaction() as conn:
        meters = store.target_meters(conn, target).meters
        records = _records(conn, meters, interval, (low, high), store.path)
        if chosen == "parquet":
            return write_dataset(
                pyarrow,
                records,
                Path(cast(str, out)).expanduser(),
                aggregate=interval != "15m",
                shapes=_decimal_shapes(conn, meters, (low, high), interval != "15m"),
                local=_local_text(),
                empty=(tuple(e for _, e in meters), min(from_date, today)),
            )
        columns = INTERVAL_COLUMNS if interval == "15m" else AGGREGATE_COLUMNS
        with _text_output(out) as text:
            if chosen == "csv":
                return _write_csv(records, columns, text)
            return _write_json(records, columns, text)


def _records(
    conn: sqlite3.Connection,
    meters: tuple[tuple[int, str], ...],
    interval: str,
    span: tuple[int, int],
    path: Path,
) -> Iterator[_Record]:
    """The export's rows, ESI ID by ESI ID: intervals as stored, or every hour or day of the
    span from the ESI ID's first stored interval on, with the intervals it holds."""
    low, high = span
    for meter, esi_id in meters:
        rows = conn.execute(
            "SELECT start_at, end_at, value, unit, cost, source, read_at, revisions "
            "FROM intervals WHERE meter = ? AND start_at >= ? AND start_at < ? "
            "ORDER BY start_at",
            (meter, low, high),
        )
        checked = _checked_units(rows, esi_id, path)
        if interval == "15m":
            for start, end, value, _unit, cost, source, read_at, revisions in checked:
                yield (esi_id, start, end, value, cost, source, read_at, revisions)
            continue
        (first,) = conn.execute(
            "SELECT MIN(start_at) FROM intervals WHERE meter = ?", (meter,)
        ).fetchone()
        if first is not None:
            bounds = _bucket_bounds(interval, max(low, first), high)
            yield from _filled(_buckets(checked, esi_id, interval), bounds, esi_id)


def _decimal_shapes(
    conn: sqlite3.Connection,
    meters: tuple[tuple[int, str], ...],
    span: tuple[int, int],
    aggregate: bool,
) -> tuple[DecimalShape, DecimalShape]:
    """How wide the kWh and cost decimals must be for the span's values (and their sums: a day
    adds up to 100 intervals, two more integer digits)."""
    shapes = []
    for column in ("value", "cost"):
        digits, decimals = 1, 0
        for meter, _ in meters:
            row = conn.execute(
                f"SELECT MAX(CASE WHEN instr({column}, '.') > 0 THEN instr({column}, '.') - 1 "  # noqa: S608 - a column name of ours
                f"ELSE length({column}) END), MAX(CASE WHEN instr({column}, '.') > 0 THEN "
                f"length({column}) - instr({column}, '.') ELSE 0 END) FROM intervals "
                "WHERE meter = ? AND start_at >= ? AND start_at < ?",
                (meter, *span),
            ).fetchone()
            digits, decimals = max(digits, row[0] or 1), max(decimals, row[1] or 0)
        shapes.append(DecimalShape(digits + (3 if aggregate else 0), decimals))
    return shapes[0], shapes[1]


def _checked_units(
    rows: Iterator[tuple[Any, ...]], esi_id: str, path: Path
) -> Iterator[tuple[Any, ...]]:
    """The rows (in time order) as they are, or an error for one that cannot be exported as
    it is: not in kWh, not a number (a damaged store), or overlapping the one before (a store
    an older oeus-kraken wrote, holding an hour's reading and 15-minute ones inside it: summed,
    counted twice)."""
    previous: tuple[Any, ...] | None = None
    for row in rows:
        if previous is not None and row[0] < previous[1]:
            raise overlap_error(path, esi_id, (*previous[:2], False), (*row[:2], False))
        previous = row
        unit = row[3]
        if unit != "kWh" and unit.lower() != "kwh":
            raise UsageStoreError(
                f"the interval of ESI ID {esi_id} at {_utc(row[0])} is in {unit!r}, not kWh; "
                "export reports kWh only",
                path=path,
            )
        stored_kwh(row[2], path, esi_id, row[0])  # a damaged store's value: said, not summed
        yield row


def _buckets(rows: Iterator[tuple[Any, ...]], esi_id: str, interval: str) -> Iterator[_Record]:
    """Sum consecutive rows into local hours or local days."""
    bucket_start = bucket_end = -1
    kwh = Decimal(0)
    cost: Decimal | None = Decimal(0)
    count = 0
    for start, _end, value, _unit, row_cost, *_ in rows:
        if not bucket_start <= start < bucket_end:
            if count:
                yield _bucket(esi_id, bucket_start, bucket_end, kwh, cost, count)
            if interval == "hour":
                bucket_start = start - start % 3600
                bucket_end = bucket_start + 3600
            else:
                day = datetime.fromtimestamp(start, TEXAS).date()
                first, last = local_day_bounds(day)
                bucket_start, bucket_end = int(first.timestamp()), int(last.timestamp())
            kwh, cost, count = Decimal(0), Decimal(0), 0
        kwh += Decimal(value)
        cost = None if cost is None or row_cost is None else cost + Decimal(row_cost)
        count += 1
    if count:
        yield _bucket(esi_id, bucket_start, bucket_end, kwh, cost, count)


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """The usage of one ESI ID over one Texas local hour or day (what `aggregate` gives)."""

    esi_id: str
    start: datetime
    """UTC, like `Interval.start`: the local hour or day starts here..."""
    end: datetime
    """... and ends here (a local day is 23, 24 or 25 hours)."""
    kwh: Decimal
    cost: Decimal | None
    """In cents: the sum when every interval in the bucket has a cost, else None."""
    intervals: int
    """How many intervals were summed..."""
    expected_intervals: int
    """... and how many the bucket should hold (4 an hour; 92, 96 or 100 a day)."""


def aggregate(
    intervals: Iterable[Interval], interval: Literal["hour", "day"]
) -> Iterator[UsageTotal]:
    """Sum intervals into Texas local hours or days, as `export` sums the store's: a bucket
    with no interval is not given, and one with fewer than expected shows it in `intervals`.

    `intervals` is read as a stream, as `iter_usage` gives it: each ESI ID's intervals
    together and in time order, each once, in kWh. Anything else is a ConfigurationError (a
    total over unordered or repeated intervals would be silently wrong).
    """
    if interval not in ("hour", "day"):
        raise ConfigurationError(f"interval must be hour or day, not {interval!r}")
    finished: set[str] = set()
    for esi_id, group in itertools.groupby(intervals, key=lambda i: i.esi_id):
        if esi_id in finished:
            raise ConfigurationError(
                f"the intervals of ESI ID {esi_id} are not together: give each ESI ID's "
                "intervals in one run"
            )
        finished.add(esi_id)
        for record in _buckets(_ordered_rows(esi_id, group), esi_id, interval):
            _, start, end, kwh, cost, count, expected, _complete = record
            yield UsageTotal(
                esi_id=esi_id,
                start=datetime.fromtimestamp(start, timezone.utc),
                end=datetime.fromtimestamp(end, timezone.utc),
                kwh=Decimal(kwh),
                cost=None if cost is None else Decimal(cost),
                intervals=count,
                expected_intervals=expected,
            )


def _ordered_rows(esi_id: str, intervals: Iterable[Interval]) -> Iterator[tuple[Any, ...]]:
    """One ESI ID's intervals as the rows `_buckets` sums, checked for order and unit."""
    previous = None
    previous_end = -(2**63)
    for item in intervals:
        if item.unit != "kWh" and item.unit.lower() != "kwh":
            raise ConfigurationError(
                f"the interval of ESI ID {esi_id} at {item.start.isoformat()} is in "
                f"{item.unit!r}, not kWh; only kWh intervals are summed"
            )
        if item.start.utcoffset() is None or item.end.utcoffset() is None:
            raise ConfigurationError(
                f"the interval of ESI ID {esi_id} at {item.start.isoformat()} has no time "
                "zone; intervals need aware datetimes"
            )
        start = int(item.start.timestamp())
        if previous is not None and start <= previous:
            raise ConfigurationError(
                f"the intervals of ESI ID {esi_id} are not in time order, each once: "
                f"{item.start.isoformat()} came after {_utc(previous)}"
            )
        if start < previous_end:  # an hour's reading and quarters inside it: summed twice
            raise ConfigurationError(
                f"the intervals of ESI ID {esi_id} overlap: {item.start.isoformat()} starts "
                f"before the one before it ends ({_utc(previous_end)}); give readings of one "
                "length for any stretch of time, so that none is counted twice"
            )
        previous, previous_end = start, int(item.end.timestamp())
        yield (start, int(item.end.timestamp()), item.value, item.unit, item.cost)


def _bucket(
    esi_id: str, start: int, end: int, kwh: Decimal, cost: Decimal | None, count: int
) -> _Record:
    expected = (end - start) // SLOT_SECONDS
    return (
        esi_id,
        start,
        end,
        decimal_text(kwh, "kwh"),
        None if cost is None else decimal_text(cost, "cost"),
        count,
        expected,
        count >= expected,
    )


def _bucket_bounds(interval: str, low: int, high: int) -> Iterator[tuple[int, int]]:
    """Every local hour or day that starts before `high`, from the one holding `low`."""
    if interval == "hour":
        start = low - low % 3600
        while start < high:
            yield start, start + 3600
            start += 3600
        return
    day = datetime.fromtimestamp(low, TEXAS).date()
    while True:
        first, last = (int(t.timestamp()) for t in local_day_bounds(day))
        if first >= high:
            return
        yield first, last
        day += timedelta(days=1)


def _filled(
    buckets: Iterator[_Record], bounds: Iterator[tuple[int, int]], esi_id: str
) -> Iterator[_Record]:
    """`buckets` with an empty one (no kWh, 0 intervals, not complete) for every hour or day
    of `bounds` that has none."""
    pending = next(buckets, None)
    for start, end in bounds:
        if pending is not None and pending[1] == start:
            yield pending
            pending = next(buckets, None)
        else:
            yield (esi_id, start, end, None, None, 0, (end - start) // SLOT_SECONDS, False)


class _TimeText:
    """ISO 8601 text of epoch seconds, local and UTC. Consecutive intervals share an instant
    (one's end is the next one's start), so the last few are remembered."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[str, str]] = {}

    def __call__(self, seconds: int) -> tuple[str, str]:
        text = self._cache.get(seconds)
        if text is None:
            if len(self._cache) > 64:
                self._cache.clear()
            instant = datetime.fromtimestamp(seconds, timezone.utc)
            text = self._cache[seconds] = (
                instant.astimezone(TEXAS).isoformat(),
                instant.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        return text


def _local_text() -> Any:
    times = _TimeText()
    return lambda seconds: times(seconds)[0]


def _utc(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _flat(records: Iterator[_Record], aggregate: bool) -> Iterator[list[Any]]:
    """Records as the values of the columns, times as text."""
    times = _TimeText()
    for record in records:
        esi_id, start, end, kwh, cost = record[:5]
        start_local, start_utc = times(start)
        end_local, end_utc = times(end)
        row = [esi_id, start_local, end_local, start_utc, end_utc, kwh, cost]
        if aggregate:
            row += record[5:]
        else:
            source, read_at, revisions = record[5:]
            row += [source, None if read_at is None else _utc(read_at), revisions]
        yield row


@contextlib.contextmanager
def _text_output(out: str | os.PathLike[str] | BinaryIO | TextIO) -> Iterator[TextIO]:
    """A text stream as it is (sys.stdout, a StringIO); UTF-8 text to a binary stream (left
    open); or to a file replaced only once complete."""
    if isinstance(out, io.TextIOBase):
        yield cast(TextIO, out)
        return
    if not isinstance(out, (str, os.PathLike)):
        binary = cast(BinaryIO, out)
        yield cast(TextIO, _Utf8Writer(binary))
        binary.flush()  # the rows are out when export returns; a full disk fails here
        return
    with (
        replaced_file(Path(out).expanduser()) as temporary,
        open(temporary, "w", encoding="utf-8", newline="") as handle,
    ):
        yield cast(TextIO, handle)


class _Utf8Writer:
    """Text written to a binary stream as UTF-8, as it comes, and nothing else: the stream stays
    the caller's. (An io.TextIOWrapper closes its stream when it is collected unless detached,
    and detaching flushes: on a full disk that flush fails, so the wrapper closed the caller's
    stream, the CLI's sys.stdout.buffer, whose next flush was a ValueError traceback.)"""

    def __init__(self, binary: BinaryIO) -> None:
        self._binary = binary

    def write(self, text: str) -> int:
        self._binary.write(text.encode("utf-8"))
        return len(text)


def _csv_cell(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return printable(value) if isinstance(value, str) else value


def _write_csv(records: Iterator[_Record], columns: tuple[str, ...], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in _flat(records, aggregate=columns is AGGREGATE_COLUMNS):
        # None is written as an empty field; `complete` as true or false, as in JSON; the
        # API's text (a reading's source) spelt out, as the command line shows it: a newline
        # in it made two lines of one row, an escape code reached the terminal of `--csv`.
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
    return count


def _write_json(records: Iterator[_Record], columns: tuple[str, ...], out: TextIO) -> int:
    count = 0
    out.write("[")
    for row in _flat(records, aggregate=columns is AGGREGATE_COLUMNS):
        out.write(",\n" if count else "\n")
        out.write(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count
