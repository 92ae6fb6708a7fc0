"""Download a month of an account's 15-minute usage to a CSV file.

    KRAKEN_URL=... KRAKEN_API_KEY=... python examples/usage_month_to_csv.py A-1234ABCD 2026-10

writes usage-A-1234ABCD-2026-10.csv (or the path given third): one line per interval of every
ESI ID of the account, its start and end in Texas time (America/Chicago, with the UTC offset) and
its usage in kWh, with its cost in cents where the agreement prices each interval (wholesale).

`iter_usage` walks the month page by page (100 intervals a request, one property at a time) and
takes Texas local dates: the 1st to the last day of the month, both included, whatever their
number of hours (the DST months have a 23- or a 25-hour day). The command line does the same
with `oeus-kraken usage ACCOUNT --from 2026-10-01 --to 2026-10-31 --csv`.
"""

from __future__ import annotations

import calendar
import csv
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from oeus_kraken import KrakenError, SyncKrakenClient
from oeus_kraken.usage import iter_usage, to_local

HEADER = ("esi_id", "start_texas", "end_texas", "kwh", "cost_cents")


def month_bounds(month: str) -> tuple[date, date]:
    """'2026-10' -> (2026-10-01, 2026-10-31)."""
    year, number = (int(part) for part in month.split("-"))
    return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])


def download(account_number: str, first: date, last: date, path: Path) -> tuple[int, Decimal]:
    """Write the account's intervals from `first` to `last` to `path`; returns how many, and
    their total kWh."""
    count, total = 0, Decimal(0)
    # Owner-only (0600), like every file of usage oeus-kraken writes: usage shows when someone
    # is home.
    create = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    with (
        SyncKrakenClient.from_env() as kraken,
        open(os.open(path, create, 0o600), "w", newline="", encoding="utf-8") as f,
    ):
        path.chmod(0o600)  # a file that was already there keeps its mode through os.open
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for interval in iter_usage(kraken, account_number, first, last):
            writer.writerow(
                (
                    interval.esi_id,
                    to_local(interval.start).isoformat(),
                    to_local(interval.end).isoformat(),
                    interval.value,
                    "" if interval.cost is None else interval.cost,
                )
            )
            count += 1
            total += interval.value
    return count, total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (2, 3):
        print("usage: usage_month_to_csv.py ACCOUNT_NUMBER YYYY-MM [OUT.csv]", file=sys.stderr)
        return 2
    account_number, month = args[0], args[1]
    try:
        first, last = month_bounds(month)
    except ValueError:
        print(f"usage_month_to_csv: {month!r} is not a month like 2026-10", file=sys.stderr)
        return 2
    path = Path(args[2]) if len(args) == 3 else Path(f"usage-{account_number}-{month}.csv")
    try:
        count, total = download(account_number, first, last, path)
    except KrakenError as error:
        print(f"usage_month_to_csv: {error}", file=sys.stderr)
        return 1
    print(f"wrote {count} intervals ({total:,.3f} kWh) of {account_number}, {first} to {last}")
    print(f"to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
