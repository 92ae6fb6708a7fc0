"""A usage export as a Parquet dataset: `OUT/date=<YYYY-MM-DD>/<esi_id>.parquet`.

Why this layout: readers infer the type of a Hive partition from its values, and an ESI ID is
all digits, so an `esi_id=` folder came back as a BIGINT in DuckDB (a 22-digit ESI ID does not
fit one) and as a number or a category elsewhere. Here `esi_id` is a text column inside each
file, and only the date is a partition: DuckDB, pyarrow and pandas all read the ESI ID back as
text, and a date filter still reads only that date's folder.

Why the decimal is decimal(38, 9) unless a value needs more: exports are read together (a
month's beside the last, one machine's shard beside another's), and readers take a column's
type from the first file: DuckDB failed on a later file whose decimal was wider than the
first's ("failed to cast column kwh from DECIMAL(8,5) to DECIMAL(2,1)"), and pyarrow refused to
merge the two. So every export whose values fit 29 integer digits and 9 decimals (any meter's)
has the same type. But the API's values have as many digits as it likes, and a fixed
decimal(38, 9) alone refused (and failed the whole export on) a value with a tenth decimal:
the widest value and the most decimals of the range are read from the store first, and a
value past decimal(38, 9) widens it (decimal128 up to 38 digits, decimal256 beyond).

Whole or nothing: the dataset is written into a temporary folder and swapped in at the end
(`_files.replaced_folder`). An existing OUT is replaced only when it holds an earlier export
and nothing else; anything else there is refused, never mixed with. An earlier export is told
by its files' columns, not by their names: other tools write `date=` partitions too (Spark's
part-00000.parquet, DuckDB's data_0.parquet, Polars' 00000000.parquet), and a user's dataset
taken for an export would be deleted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._errors import ConfigurationError
from ._errors import MissingExtraError, UsageStoreError
from ._files import OWNER_DIRECTORY, owner_only, replaced_folder
from ._time import TEXAS, instant, local_day_bounds

__all__ = ["DecimalShape", "check_replaceable", "pyarrow_module", "write_dataset"]

# What an earlier export left, this layout or the one before it (esi_id=<id>/date=<day>/...).
_EXPORT_FOLDER = re.compile(r"date=\d{4}-\d{2}-\d{2}")
_OLD_EXPORT_FOLDER = re.compile(r"esi_id=[^/]+")
# The columns every export's files hold, in this layout and the one before it.
_EXPORT_COLUMNS = frozenset(
    ("start_local", "end_local", "start_utc", "end_utc", "kwh", "cost_cents")
)
# The decimal of every export whose values fit it (see above).
_USUAL_PRECISION, _USUAL_SCALE = 38, 9


def pyarrow_module() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:
        raise MissingExtraError("Parquet export", "parquet", "pyarrow") from exc
    return pyarrow


def check_replaceable(out: Path) -> None:
    """Refuse an `out` that is a file, or a folder holding anything but an earlier export."""
    if out.is_symlink():
        # The swap renames `out` itself: the link would go, not the folder it names.
        raise ConfigurationError(
            f"{out} is a symlink (to {os.readlink(out)}), and a Parquet export replaces its "
            "folder whole: give the folder itself, or a path that does not exist yet"
        )
    if out.exists() and not out.is_dir():
        raise ConfigurationError(
            f"{out} is a file, and a Parquet export is a folder (a dataset): give a folder "
            "path that does not exist yet, or an earlier export's"
        )
    if not out.is_dir():
        return
    here = Path.cwd()
    if here == out.resolve() or out.resolve() in here.parents:
        # The swap renames `out`: "." could not be ("Device or resource busy", no word of what
        # to give), and a folder holding the working one would be deleted from under it.
        raise ConfigurationError(
            f"{out} is the current folder or holds it, and a Parquet export replaces its folder "
            "whole: give a new folder's name, such as usage.parquet"
        )
    foreign = next(_foreign_files(out), None)
    if foreign is not None:
        raise ConfigurationError(
            f"{out} holds files that are not an earlier usage export (e.g. "
            f"{foreign.relative_to(out)}); an export replaces its folder whole, so give an "
            "empty or new folder"
        )


def _foreign_files(out: Path) -> Iterator[Path]:
    for entry in sorted(out.iterdir()):
        if entry.is_dir() and not entry.is_symlink() and _EXPORT_FOLDER.fullmatch(entry.name):
            yield from _not_parquet(entry)
        elif entry.is_dir() and not entry.is_symlink() and _OLD_EXPORT_FOLDER.match(entry.name):
            for day in sorted(entry.iterdir()):
                if not (day.is_dir() and _EXPORT_FOLDER.fullmatch(day.name)):
                    yield day
                else:
                    yield from _not_parquet(day)
        else:
            yield entry


def _not_parquet(folder: Path) -> Iterator[Path]:
    for item in sorted(folder.iterdir()):
        if not (item.is_file() and not item.is_symlink() and _an_exports_file(item)):
            yield item


def _an_exports_file(path: Path) -> bool:
    """Whether `path` is a Parquet file with an export's columns (its footer alone is read)."""
    if path.suffix != ".parquet":
        return False
    pa = pyarrow_module()
    try:
        names = pa.parquet.read_schema(path).names
    except (OSError, pa.ArrowException):  # not Parquet, or unreadable: not ours to delete
        return False
    return set(names) >= _EXPORT_COLUMNS


class DecimalShape:
    """The widest integer part and the most decimals of one column's values in an export."""

    def __init__(self, integer_digits: int, decimals: int) -> None:
        self.integer_digits = max(1, integer_digits)
        self.decimals = max(0, decimals)

    def arrow_type(self, pa: Any) -> Any:
        if self.integer_digits <= _USUAL_PRECISION - _USUAL_SCALE and self.decimals <= _USUAL_SCALE:
            return pa.decimal128(_USUAL_PRECISION, _USUAL_SCALE)  # one type for every export
        precision = self.integer_digits + self.decimals
        if precision <= 38:
            return pa.decimal128(precision, self.decimals)
        if precision <= 76:
            return pa.decimal256(precision, self.decimals)
        raise UsageStoreError(
            f"a value has {precision} digits, more than a Parquet decimal holds (76): export "
            "it as CSV or JSON, which keep every digit"
        )


def _schema(pa: Any, aggregate: bool, kwh: DecimalShape, cost: DecimalShape) -> Any:
    stamp = pa.timestamp("s", tz="UTC")
    fields = [
        pa.field("esi_id", pa.string(), nullable=False),
        pa.field("start_local", pa.string(), nullable=False),
        pa.field("end_local", pa.string(), nullable=False),
        pa.field("start_utc", stamp, nullable=False),
        pa.field("end_utc", stamp, nullable=False),
        pa.field("kwh", kwh.arrow_type(pa), nullable=aggregate),  # an empty bucket has none
        pa.field("cost_cents", cost.arrow_type(pa)),
    ]
    if aggregate:
        return pa.schema(
            [
                *fields,
                pa.field("intervals", pa.int32(), nullable=False),
                pa.field("expected_intervals", pa.int32(), nullable=False),
                pa.field("complete", pa.bool_(), nullable=False),
            ]
        )
    return pa.schema(
        [
            *fields,
            pa.field("source", pa.string()),
            pa.field("read_at_utc", stamp),
            pa.field("revisions", pa.int32(), nullable=False),
        ]
    )


def _instant(seconds: int | None) -> datetime | None:
    return None if seconds is None else instant(seconds)


def _values(record: tuple[Any, ...], aggregate: bool, local: Any) -> list[Any]:
    """One record (see _export) as the schema's values."""
    esi_id, start, end, kwh, cost = record[:5]
    row = [
        esi_id,
        local(start),
        local(end),
        _instant(start),
        _instant(end),
        None if kwh is None else Decimal(kwh),
        None if cost is None else Decimal(cost),
    ]
    if aggregate:
        return [*row, *record[5:]]
    source, read_at, revisions = record[5:]
    return [*row, source, _instant(read_at), revisions]


class _Writer:
    """One file per (ESI ID, local date) into `folder`; one day's rows are all it holds."""

    def __init__(self, pa: Any, schema: Any, folder: Path, out: Path) -> None:
        self.pa, self.schema, self.folder = pa, schema, folder
        self.out = out  # what errors name: `folder` is a temporary, gone once they are read
        self.key: tuple[str, date] | None = None
        self.day_end = -1
        self.batch: list[list[Any]] = [[] for _ in schema.names]

    def add(self, esi_id: str, start: int, values: list[Any]) -> None:
        if self.key is None or self.key[0] != esi_id or start >= self.day_end:
            self.flush()
            day = datetime.fromtimestamp(start, TEXAS).date()
            self.key = (esi_id, day)
            self.day_end = int(local_day_bounds(day)[1].timestamp())
        for column, value in zip(self.batch, values, strict=True):
            column.append(value)

    def flush(self, *, empty: bool = False) -> None:
        if self.key is None or not (self.batch[0] or empty):
            return
        esi_id, day = self.key
        if any(c in esi_id for c in "/\\\0"):  # a path, not a name: "../x", "/x"
            raise UsageStoreError(
                f"ESI ID {esi_id!r} cannot name a file of a Parquet dataset (it would be written "
                "outside it): export it as CSV or JSON"
            )
        directory = self.folder / f"date={day.isoformat()}"
        try:
            table = self.pa.Table.from_pydict(
                dict(zip(self.schema.names, self.batch, strict=True)), schema=self.schema
            )
        except (self.pa.ArrowInvalid, self.pa.ArrowTypeError) as exc:
            raise UsageStoreError(
                f"cannot write ESI ID {esi_id} on {day} as Parquet: {exc}"
            ) from exc
        try:
            directory.mkdir(mode=OWNER_DIRECTORY, exist_ok=True)
            path = directory / f"{esi_id}.parquet"
            self.pa.parquet.write_table(table, path)
            owner_only(path)
        except OSError as exc:
            # pyarrow's text ("[Errno 28] Error writing bytes to file. Detail: ...") buries
            # the OS's reason; its errno says it plainly.
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise UsageStoreError(f"cannot write {self.out}: {reason}", path=self.out) from exc
        for column in self.batch:
            column.clear()


def write_dataset(
    pa: Any,
    records: Iterator[tuple[Any, ...]],
    out: Path,
    *,
    aggregate: bool,
    shapes: tuple[DecimalShape, DecimalShape],
    local: Any,
    empty: tuple[tuple[str, ...], date],
) -> int:
    """Write `records` as the dataset `out` (whole, or nothing); returns the rows written. With
    no rows, `empty` (the ESI IDs, the first date) gives a dataset of no rows readers open."""
    check_replaceable(out)
    schema = _schema(pa, aggregate, *shapes)
    count = 0
    with replaced_folder(out) as folder:
        writer = _Writer(pa, schema, folder, out)
        for record in records:
            writer.add(record[0], record[1], _values(record, aggregate, local))
            count += 1
        writer.flush()
        if not count:
            esi_ids, day = empty
            for esi_id in esi_ids:
                writer.key = (esi_id, day)
                writer.flush(empty=True)
    return count
