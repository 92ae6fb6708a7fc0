"""Export from the usage store to CSV, JSON or a Parquet dataset, with no API call.

Dates are Texas local dates, both ends included. Rows are read from SQLite as a stream and written
as they come (hour and day buckets are summed on the way), so a year of one ESI ID is never held
in memory as Python objects.

Columns (CSV header, JSON keys, Parquet fields), ordered by ESI ID then start:

    15m         esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, source,
                read_at_utc, revisions
    hour, day   esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, intervals,
                expected_intervals

- `*_local` are ISO 8601 with the Texas UTC offset (so the repeated 01:00 of the fall-back day
  is two distinct hours), `*_utc` ISO 8601 with "Z".
- Hours and days are local: a local hour is a UTC hour (Chicago's offsets are whole hours), and
  a day is a local day, so the DST days have 23 and 25 hours and 92 and 100 intervals.
- `kwh` and `cost_cents` are exact decimals (JSON: strings, Parquet: decimal128(38, 9)). In a
  bucket, `cost_cents` is the sum only when every interval in it has a cost, else empty.
- `intervals` is how many intervals the bucket holds, `expected_intervals` how many it should
  (4 an hour; 92, 96 or 100 a day): a bucket with a gap shows it. Buckets with no data are not
  written.
- Parquet: `OUT/esi_id=<id>/date=<YYYY-MM-DD>/part-0.parquet` (Hive layout, partition values
  percent-encoded), which DuckDB (`read_parquet('OUT/**/*.parquet', hive_partitioning=true)`),
  Spark and pyarrow read as one dataset; the partition columns are in the paths, not the files.
  Exporting into an existing dataset replaces the files of the partitions written.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TextIO, cast
from urllib.parse import quote

from .._errors import ConfigurationError
from ._errors import MissingExtraError, UsageStoreError
from ._models import Interval
from ._store import SLOT_SECONDS, _decimal_text
from ._time import TEXAS, local_day_bounds, local_range_bounds

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
)

_INTERVALS = ("15m", "hour", "day")
_FORMATS = ("csv", "json", "parquet")

# One output row: the values of INTERVAL_COLUMNS or AGGREGATE_COLUMNS, with the start and end
# as epoch seconds (formatted by each writer).
_Record = tuple[Any, ...]


def export(
    store: UsageStore,
    target: str,
    from_date: date,
    to_date: date,
    *,
    interval: Literal["15m", "hour", "day"] = "15m",
    format: Literal["csv", "json", "parquet"] = "csv",
    out: str | os.PathLike[str] | BinaryIO,
) -> int:
    """See `UsageStore.export`; returns the number of rows written."""
    if interval not in _INTERVALS:
        raise ConfigurationError(
            f"interval must be one of {', '.join(_INTERVALS)}, not {interval!r}"
        )
    if format not in _FORMATS:
        raise ConfigurationError(f"format must be one of {', '.join(_FORMATS)}, not {format!r}")
    if not isinstance(from_date, date) or not isinstance(to_date, date):
        raise ConfigurationError("from_date and to_date must be dates (Texas local)")
    low, high = (int(t.timestamp()) for t in local_range_bounds(from_date, to_date))
    columns = INTERVAL_COLUMNS if interval == "15m" else AGGREGATE_COLUMNS
    pyarrow = _pyarrow() if format == "parquet" else None  # fail before reading anything

    with store._reading() as conn:
        resolved = store._target(conn, target)

        def records() -> Iterator[_Record]:
            for meter, esi_id in resolved.meters:
                rows = conn.execute(
                    "SELECT start_at, end_at, value, unit, cost, source, read_at, revisions "
                    "FROM intervals WHERE meter = ? AND start_at >= ? AND start_at < ? "
                    "ORDER BY start_at",
                    (meter, low, high),
                )
                checked = _checked_units(rows, esi_id, store.path)
                if interval == "15m":
                    for start, end, value, _unit, cost, source, read_at, revisions in checked:
                        yield (esi_id, start, end, value, cost, source, read_at, revisions)
                else:
                    yield from _buckets(checked, esi_id, interval)

        if format == "parquet":
            if not isinstance(out, (str, os.PathLike)):
                raise ConfigurationError(
                    "a Parquet export is a directory (a dataset): give out= a path, not a stream"
                )
            return _write_parquet(pyarrow, records(), columns, Path(out), store.path)
        with _text_output(out) as text:
            if format == "csv":
                return _write_csv(records(), columns, text)
            return _write_json(records(), columns, text)


def _checked_units(
    rows: Iterator[tuple[Any, ...]], esi_id: str, path: Path
) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        unit = row[3]
        if unit != "kWh" and unit.lower() != "kwh":
            raise UsageStoreError(
                f"the interval of ESI ID {esi_id} at {_utc(row[0])} is in {unit!r}, not kWh; "
                "export reports kWh only",
                path=path,
            )
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
            _, start, end, kwh, cost, count, expected = record
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
        previous = start
        yield (start, int(item.end.timestamp()), item.value, item.unit, item.cost)


def _bucket(
    esi_id: str, start: int, end: int, kwh: Decimal, cost: Decimal | None, count: int
) -> _Record:
    return (
        esi_id,
        start,
        end,
        _decimal_text(kwh, "kwh"),
        None if cost is None else _decimal_text(cost, "cost"),
        count,
        (end - start) // SLOT_SECONDS,
    )


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
def _text_output(out: str | os.PathLike[str] | BinaryIO) -> Iterator[TextIO]:
    """UTF-8 text to a binary stream (left open), or to a file replaced only once complete."""
    if not isinstance(out, (str, os.PathLike)):
        wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        try:
            yield wrapper
            wrapper.flush()
        finally:
            wrapper.detach()  # the caller's stream stays open
        return
    path = Path(out)
    try:
        # Not a `with`: the file is closed below, and renamed into place only once complete.
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115
            "w",
            encoding="utf-8",
            newline="",
            dir=path.parent,
            prefix=f".{path.name}.",
            delete=False,
        )
    except OSError as exc:
        raise UsageStoreError(f"cannot write {path}: {exc.strerror}", path=path) from exc
    try:
        with handle:
            yield cast(TextIO, handle)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _write_csv(records: Iterator[_Record], columns: tuple[str, ...], out: TextIO) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in _flat(records, aggregate=columns is AGGREGATE_COLUMNS):
        writer.writerow(row)  # None is written as an empty field
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


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError("Parquet export", "parquet", "pyarrow") from exc
    return pyarrow


_PARQUET_DECIMAL = (38, 9)


def _write_parquet(
    pa: Any, records: Iterator[_Record], columns: tuple[str, ...], out: Path, store_path: Path
) -> int:
    """One file per (ESI ID, local date); the rows of one day are all a writer holds."""
    aggregate = columns is AGGREGATE_COLUMNS
    stamp = pa.timestamp("s", tz="UTC")
    decimal = pa.decimal128(*_PARQUET_DECIMAL)
    fields = [
        pa.field("start_local", pa.string(), nullable=False),
        pa.field("end_local", pa.string(), nullable=False),
        pa.field("start_utc", stamp, nullable=False),
        pa.field("end_utc", stamp, nullable=False),
        pa.field("kwh", decimal, nullable=False),
        pa.field("cost_cents", decimal),
    ]
    if aggregate:
        fields += [
            pa.field("intervals", pa.int32(), nullable=False),
            pa.field("expected_intervals", pa.int32(), nullable=False),
        ]
    else:
        fields += [
            pa.field("source", pa.string()),
            pa.field("read_at_utc", stamp),
            pa.field("revisions", pa.int32(), nullable=False),
        ]
    schema = pa.schema(fields)
    times = _TimeText()
    count = 0
    key: tuple[str, date] | None = None
    day_end = -1
    batch: list[list[Any]] = [[] for _ in fields]

    def flush() -> None:
        assert key is not None
        esi_id, day = key
        directory = out / f"esi_id={quote(esi_id, safe='')}" / f"date={day.isoformat()}"
        try:
            table = pa.Table.from_pydict(dict(zip(schema.names, batch, strict=True)), schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise UsageStoreError(
                f"cannot write ESI ID {esi_id} on {day} as Parquet decimal"
                f"{_PARQUET_DECIMAL}: {exc}",
                path=store_path,
            ) from exc
        try:
            directory.mkdir(parents=True, exist_ok=True)
            pa.parquet.write_table(table, directory / "part-0.parquet")
        except OSError as exc:
            raise UsageStoreError(f"cannot write {directory}: {exc}", path=store_path) from exc
        for column in batch:
            column.clear()

    for record in records:
        esi_id, start, end, kwh, cost = record[:5]
        if key is None or key[0] != esi_id or start >= day_end:
            if batch[0]:
                flush()
            day = datetime.fromtimestamp(start, TEXAS).date()
            key = (esi_id, day)
            day_end = int(local_day_bounds(day)[1].timestamp())
        start_local, _ = times(start)
        end_local, _ = times(end)
        values: list[Any] = [
            start_local,
            end_local,
            datetime.fromtimestamp(start, timezone.utc),
            datetime.fromtimestamp(end, timezone.utc),
            Decimal(kwh),
            None if cost is None else Decimal(cost),
        ]
        if aggregate:
            values += record[5:]
        else:
            source, read_at, revisions = record[5:]
            values += [
                source,
                None if read_at is None else datetime.fromtimestamp(read_at, timezone.utc),
                revisions,
            ]
        for column, value in zip(batch, values, strict=True):
            column.append(value)
        count += 1
    if batch[0]:
        flush()
    return count
