"""How a command's answer is printed: a table for people, CSV or JSON for programs.

One description serves all three. A command gives its rows as raw values (cents, kWh, UTC
datetimes) and, per column, a heading for the table with how to show a value there (dollars and
cents, Texas time), and a key for CSV and JSON that names the unit (`balance_cents`). So the
table reads well, and CSV and JSON keep the API's numbers. JSON of a whole API answer (`--json`
on most commands) is the answer as the API's field names give it, with a top-level "units" object
naming the unit of every amount in it.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import MAX_EMAX, MAX_PREC, MIN_EMIN, ROUND_HALF_UP, Context, Decimal
from typing import Any, Literal, TextIO

from .._text import printable as printable  # (re-exported: the commands spell text with it)

Format = Literal["table", "json", "csv"]

# What the API's amounts are in, by field name: the "units" object of --json documents.
BALANCE_UNITS = {"balance": "cents (an integer; positive when the account is in credit)"}
RATE_UNITS = {
    "kwhUsage": "kWh a month (the usage the total rates are worked out for)",
    "totalApplicableRate": "cents per kWh",
    "totalApplicableRateWithMonthlySubscriptionFees": "cents per kWh",
    "totalApplicableDayRate": "cents per kWh",
    "totalApplicableNightRate": "cents per kWh",
    "totalApplicableDayRateWithMonthlySubscriptionFees": "cents per kWh",
    "totalApplicableNightRateWithMonthlySubscriptionFees": "cents per kWh",
    "serviceProviderConsumptionRate": "cents per kWh",
    "serviceProviderStandingRate": "cents per month",
    "loadZoneConsumptionRate": "cents per kWh",
    "loadZoneDayTimeConsumptionRate": "cents per kWh",
    "loadZoneNightTimeConsumptionRate": "cents per kWh",
    "term": "months",
}


def decimal_text(value: Decimal) -> str:
    """Fixed-point text without trailing zeros: 1.250 -> "1.25" (the store's export writes the
    same)."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


_UNLIMITED = Context(prec=MAX_PREC, Emax=MAX_EMAX, Emin=MIN_EMIN)


def dollars(cents: int | Decimal | None, places: int = 2) -> str:
    """Cents as dollars: 8100 -> "$81.00", -1234 -> "-$12.34"; half of the last place away
    from zero, as a bill rounds (1234.5 -> "$12.35")."""
    if cents is None:
        return ""
    # A shift of the point, exact at any length: `/ 100` rounded to the context's 28 digits,
    # showing 32 nines of cents as $1,000,...,000.00. Rounded here, not by format(), whose
    # half to even showed 1234.5 cents as $12.34.
    amount = Decimal(cents).scaleb(-2, _UNLIMITED)
    shown = amount.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP, _UNLIMITED)
    sign = "-" if shown < 0 else ""
    return f"{sign}${shown.copy_abs():,f}"  # (abs() rounds to 28 digits too)


def kwh(value: Decimal | None) -> str:
    return "" if value is None else f"{value:,.3f}"


def local_time(instant: datetime | None) -> str:
    """Texas local time with its zone abbreviation, so that the repeated hour of the fall-back
    day reads as two hours (01:00 CDT, 01:00 CST)."""
    if instant is None:
        return ""
    from ..usage import TEXAS  # the usage package only when a time is shown

    return instant.astimezone(TEXAS).strftime("%Y-%m-%d %H:%M %Z")


def plain(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum
        return value.value
    return str(value)


def machine(value: object) -> Any:
    """A raw value as CSV and JSON carry it: exact decimals as text, times ISO 8601."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        if value.utcoffset() == timezone.utc.utcoffset(None):
            # isoformat, not strftime: %Y is not padded to four digits (the year 1 as "1-").
            plain_utc = value.replace(tzinfo=None, microsecond=0)
            return f"{plain_utc.isoformat()}Z"
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):  # an enum
        return value.value
    return value


@dataclass(frozen=True)
class Column:
    title: str
    """The table's heading."""
    key: str
    """CSV's heading and JSON's key: names the unit where there is one."""
    show: Callable[[Any], str] = plain
    """How the table shows a value."""
    in_table: bool = True
    """False: in CSV and JSON only."""


def jsonable(value: Any) -> Any:
    """A result model as the API's JSON (its field names, decimals as text)."""
    dump = getattr(value, "model_dump", None)  # a pydantic model, without importing pydantic
    if callable(dump):
        return dump(mode="json", by_alias=True)
    return value


def finite(value: Any) -> Any:
    """`value` with each float JSON cannot carry (inf, nan: a number beyond a double, 1e400, is
    read as inf) as None: json.dumps would write Infinity, which only Python's parser reads."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def print_json(document: Any, out: TextIO, units: Mapping[str, str] | None = None) -> None:
    document = jsonable(document)
    if units:
        document = {**document, "units": dict(units)}
    print(json.dumps(document, indent=2, ensure_ascii=False), file=out)


def print_line(text: str, out: TextIO) -> None:
    """One line of output holding the API's text (a name above a table): printable, as a
    table's cells are, so that the text cannot start a line of its own nor act on the terminal."""
    print(printable(text), file=out)


def display_width(text: str) -> int:
    """The columns a terminal gives `text`: two for a wide or fullwidth character (CJK, such as
    a product named in Japanese), none for a combining mark, else one. `len` would pad such a
    name's row short, and every column after it would stand out of line."""
    return sum(
        0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1
        for c in text
    )


def print_table(rows: Sequence[Sequence[object]], header: Sequence[str], out: TextIO) -> None:
    cells = [
        [str(h) for h in header],
        *[["" if c is None else printable(str(c)) for c in r] for r in rows],
    ]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        padded = (c + " " * (w - display_width(c)) for c, w in zip(row, widths, strict=True))
        print("  ".join(padded).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)
    if not rows:
        print("(none)", file=out)


def write_rows(
    columns: Sequence[Column],
    rows: Iterable[Sequence[object]],
    fmt: Format,
    out: TextIO,
) -> int:
    """Print `rows` (raw values, one per column) as a table, CSV or a JSON list of objects;
    CSV and JSON are written as the rows come. Returns the number of rows."""
    if fmt == "table":
        shown = [i for i, c in enumerate(columns) if c.in_table]
        materialised = [[columns[i].show(row[i]) for i in shown] for row in rows]
        print_table(materialised, [columns[i].title for i in shown], out)
        return len(materialised)
    keys = [c.key for c in columns]
    count = 0
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(keys)
        for row in rows:
            writer.writerow([_csv_value(v) for v in row])
            count += 1
        return count
    out.write("[")
    for row in rows:
        record = dict(zip(keys, (machine(v) for v in row), strict=True))
        out.write(",\n  " if count else "\n  ")
        out.write(json.dumps(record, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # The API's text, spelt as in a table: a newline in a product's name made two lines
        # of one row (README: one line per row), and an escape code drove the terminal.
        return printable(value)
    return machine(value)


def rows_of(items: Iterable[Any], *getters: Callable[[Any], object]) -> Iterator[list[object]]:
    """One row per item, one value per getter."""
    for item in items:
        yield [get(item) for get in getters]


def discard_stdout() -> None:
    """Point file descriptor 1 at /dev/null: what is still buffered for the gone reader is
    dropped there when the interpreter flushes at exit, instead of failing again. (The CLI's,
    and tools/schema_tool.py's.)"""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)
