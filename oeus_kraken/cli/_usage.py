"""`usage ACCOUNT --from DATE --to DATE`: an account's interval usage, straight from the API.

DATEs are Texas local (America/Chicago) dates, both ends included, so one date is one local day:
92, 96 or 100 fifteen-minute intervals. `--interval hour|day` sums them into local hours or days
(`oeus_kraken.usage.aggregate`, the same sums `usage export` makes from the local store). The
walk is `oeus_kraken.usage.iter_usage`: full pages, one property at a time; CSV and JSON are
written as the pages arrive.

CSV and JSON columns are those of `usage export` (without the store's `revisions`):
    15m         esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, source,
                read_at_utc
    hour, day   esi_id, start_local, end_local, start_utc, end_utc, kwh, cost_cents, intervals,
                expected_intervals, complete
(unlike an export, an hour or day the API gave no interval of has no row here).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from . import _output as output
from ._common import (
    Invocation,
    RawDescriptionHelpFormatter,
    account_number,
    add_command,
    add_formats,
    check_date_range,
    esi_id,
    local_date,
    output_format,
    today_in_texas,
)
from ._output import Column

# The first word after `usage` that makes it one of the store's commands (see _usage_store).
STORE_VERBS = ("sync", "export", "status", "chart", "forget")

DESCRIPTION = """\
An account's interval usage from the API, for Texas local dates (America/Chicago), both ends
included: --from 2026-03-08 --to 2026-03-08 is that one local day (92 intervals: clocks went
forward). --interval hour or day sums the 15-minute intervals into local hours or days. Usage
is in kWh; cost (wholesale agreements only) in dollars in the table, cents in CSV and JSON.

The local store of usage has its own commands, chosen by the word after `usage`:
  oeus-kraken usage sync [ACCOUNT ...]       bring the store up to date (few requests)
  oeus-kraken usage export ACCOUNT --from --to   read it as CSV, JSON or Parquet (no request)
  oeus-kraken usage status                   what it holds: coverage, gaps, requests used
  oeus-kraken usage chart ACCOUNT --from --to --out FILE.png
  oeus-kraken usage forget ESI_ID --from --to    delete stored readings: the next sync refetches
Each has its own --help."""


def register(commands: Any, api: Any) -> None:
    usage = add_command(
        commands,
        "usage",
        summary="interval usage from the API; usage sync|export|status|chart|forget: the store",
        description=DESCRIPTION,
        run=run_usage,
        parents=[api],
        auth="account user or organisation",
    )
    usage.formatter_class = RawDescriptionHelpFormatter
    add_formats(usage, csv=True)
    add_range_options(usage, target=account_number, target_help="account number, e.g. A-1234ABCD")
    usage.add_argument(
        "--esi-id", metavar="ID", type=esi_id, help="only this ESI ID of the account"
    )


def add_range_options(
    parser: Any, *, target: Any, target_help: str, interval: bool = True, name: str = "ACCOUNT"
) -> None:
    """ACCOUNT --from DATE --to DATE [--interval 15m|hour|day]: shared with `usage export` and
    (without --interval) `usage chart`, and (ESI_ID, without --interval) `usage forget`."""
    parser.add_argument("target", metavar=name, type=target, help=target_help)
    parser.add_argument(
        "--from",
        dest="first",
        metavar="DATE",
        type=local_date,
        required=True,
        help="first Texas local date, e.g. 2026-03-01",
    )
    parser.add_argument(
        "--to",
        dest="last",
        metavar="DATE",
        type=local_date,
        required=True,
        help="last Texas local date, included (a date past today: today)",
    )
    if not interval:
        return
    parser.add_argument(
        "--interval",
        choices=("15m", "hour", "day"),
        default="15m",
        help="15-minute intervals (default), or their sums per local hour or day",
    )


def interval_columns() -> tuple[Column, ...]:
    return (
        Column("ESI ID", "esi_id", in_table=False),
        Column("start (Texas time)", "start_local", output.local_time),
        Column("end", "end_local", in_table=False),
        Column("start UTC", "start_utc", in_table=False),
        Column("end UTC", "end_utc", in_table=False),
        Column("kWh", "kwh", output.kwh),
        Column("cost", "cost_cents", lambda cents: output.dollars(cents, places=4)),
        Column("source", "source"),
        Column("read at", "read_at_utc", in_table=False),
    )


def total_columns(interval: str) -> tuple[Column, ...]:
    def start(instant: Any) -> str:
        shown = output.local_time(instant)
        return shown[:10] if interval == "day" else shown

    return (
        Column("ESI ID", "esi_id", in_table=False),
        Column("start (Texas time)" if interval == "hour" else "day", "start_local", start),
        Column("end", "end_local", in_table=False),
        Column("start UTC", "start_utc", in_table=False),
        Column("end UTC", "end_utc", in_table=False),
        Column("kWh", "kwh", output.kwh),
        Column("cost", "cost_cents", output.dollars),
        Column("intervals", "intervals"),
        Column("expected", "expected_intervals"),
        Column("complete", "complete", in_table=False),
    )


def interval_rows(intervals: Iterable[Any]) -> Iterator[list[object]]:
    from ..usage import to_local

    for i in intervals:
        start, end = to_local(i.start), to_local(i.end)
        yield [i.esi_id, start, end, i.start, i.end, i.value, i.cost, i.source, i.read_at]


def total_rows(totals: Iterable[Any]) -> Iterator[list[object]]:
    from ..usage import to_local

    for t in totals:
        start, end = to_local(t.start), to_local(t.end)
        row = [t.esi_id, start, end, t.start, t.end, t.kwh, t.cost]
        yield [*row, t.intervals, t.expected_intervals, t.intervals >= t.expected_intervals]


def usage_rows(intervals: Iterable[Any], interval: str) -> Iterator[list[object]]:
    from ..usage import aggregate

    if interval == "15m":
        return interval_rows(intervals)
    return total_rows(aggregate(intervals, interval))  # type: ignore[arg-type]


def run_usage(call: Invocation) -> None:
    from ..usage import iter_usage

    args = call.args
    check_date_range(args.first, args.last)
    call.account = args.target
    intervals = iter_usage(call.client(), args.target, args.first, args.last, esi_id=args.esi_id)
    rows = usage_rows(intervals, args.interval)
    columns = interval_columns() if args.interval == "15m" else total_columns(args.interval)
    fmt = output_format(args)
    if fmt != "table":
        output.write_rows(columns, rows, fmt, call.out)
        return
    # Past today is today: the API is asked for nothing later (iter_usage), nor counted here.
    last = max(args.first, min(args.last, today_in_texas()))
    print_usage_tables(call, columns, rows, args.target, args.first, last, args.interval)


def print_usage_tables(
    call: Invocation,
    columns: tuple[Column, ...],
    rows: Iterable[list[object]],
    target: str,
    first: date,
    last: date,
    interval: str,
) -> None:
    """One table per ESI ID, each under a heading and over its total."""
    from ..usage import intervals_in_day, local_days

    out = call.out
    per = {"15m": "15-minute intervals", "hour": "per hour", "day": "per day"}[interval]
    expected = 0
    any_rows = False
    for esi, group in itertools.groupby(rows, key=lambda row: row[0]):
        group_rows = list(group)
        if any_rows:
            print(file=out)
        else:  # counted once there are rows: days after today have none (9999-12-31 no end)
            expected = sum(intervals_in_day(day) for day in local_days(first, last))
        any_rows = True
        print(f"ESI ID {esi} ({target}), {first} to {last}, Texas time, {per}:", file=out)
        shown = [c for c in columns if c.key != "cost_cents" or _any_cost(group_rows)]
        keep = [columns.index(c) for c in shown]
        output.write_rows(shown, ([row[i] for i in keep] for row in group_rows), "table", out)
        print(_total_line(group_rows, interval, expected), file=out)
    if not any_rows:
        print(f"(no intervals for {target} from {first} to {last})", file=out)


def _any_cost(rows: list[list[object]]) -> bool:
    return any(row[6] is not None for row in rows)


def _total_line(rows: list[list[object]], interval: str, expected: int) -> str:
    total = sum((Decimal(str(row[5])) for row in rows), Decimal(0))
    count = len(rows) if interval == "15m" else sum(int(str(row[7])) for row in rows)
    costs = [row[6] for row in rows]
    cost = ""
    if costs and all(c is not None for c in costs):
        cost = f", cost {output.dollars(sum((Decimal(str(c)) for c in costs), Decimal(0)))}"
    return f"total {output.kwh(total)} kWh in {count} of {expected} intervals{cost}"
