"""`usage sync|export|status|chart`: the local usage store (`oeus_kraken.usage.UsageStore`).

`sync` is the only one that calls the API; `export`, `status` and `chart` read the store file
(opened read-only, so a store on read-only media serves them) and make no request (and need no
credentials). They never create a store: a path with none is said so. The store lives at
`--db PATH`, default `default_usage_store_path()` (the user's data directory); `~` in --db and
--out is your home.

Exit statuses of a sync (EXIT_CODES): 0 complete; 6 stopped early by the hour's budget or
--max-requests (resumable); 5 rate limited; 7 some accounts failed and the others synced (1
when every account failed); 130 Ctrl-C, after one line saying what was kept. An export of no
rows, and a chart of nothing, exit 8.

They are reached as `oeus-kraken usage VERB ...`: `main` turns the two words into one command
name ("usage sync"), so that `usage ACCOUNT ...` (the API) and these share the word `usage`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, TextIO

from .._errors import ConfigurationError
from . import _output as output
from ._common import (
    API_EXITS,
    EXIT_CODES,
    STORE_ERROR,
    STORE_EXITS,
    Invocation,
    account_number,
    account_or_esi_id,
    add_command,
    check_date_range,
    check_not_future,
    esi_id,
    exit_codes_text,
    local_date,
    logging_options,
    non_empty_path,
    output_format,
    positive_int,
    today_in_texas,
)
from ._output import Column
from ._usage import add_range_options

DB_HELP = "the usage store (default: usage.sqlite3 in your data directory)"

# How each way a sync can end exits (None: it completed). Failed accounts come first (see
# sync_exit_code): they need the user, a stop only time.
SYNC_EXIT_CODES = {
    None: EXIT_CODES["ok"],
    "max-requests": EXIT_CODES["stopped"],  # the cap asked for: resumable, not complete
    "budget": EXIT_CODES["stopped"],  # the hour's points are low: run again later
    "rate-limited": EXIT_CODES["rate_limited"],
    "interrupted": EXIT_CODES["interrupted"],
}


def register(commands: Any, api: Any) -> None:
    local = logging_options()

    sync = add_command(
        commands,
        "usage sync",
        summary=None,
        prog="oeus-kraken usage sync",
        description="Bring the local usage store up to date for these accounts (default: "
        "every account the credentials see). Asks only for what the store lacks and the last "
        "days Kraken may still revise; complete older days cost no request. Stops early, "
        "resumable, when the hour's rate-limit budget runs low or at --max-requests. A "
        "progress bar on a terminal.",
        run=run_sync,
        parents=[api],
        auth="account user or organisation",
        exits=exit_codes_text(
            [*API_EXITS, "stopped", "partial"],
            error="API error, the store cannot be used, or every account failed",
        ),
    )
    sync.add_argument(
        "accounts", metavar="ACCOUNT", nargs="*", type=account_number, help="account numbers"
    )
    sync.add_argument(
        "--since",
        metavar="DATE",
        type=local_date,
        help="the oldest Texas local date to keep, not in the future (default: the local "
        "midnight 366 days back); nothing before an ESI ID's supply began is asked for",
    )
    sync.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)
    sync.add_argument(
        "--max-requests",
        metavar="N",
        type=positive_int,
        help="stop after N API requests (resumable: the next run goes on)",
    )
    sync.add_argument(
        "--concurrency",
        metavar="N",
        type=_concurrency,
        help="ESI IDs synced at once, up to 64 (default: the library's, 4)",
    )
    sync.add_argument("--json", action="store_true", help="print the report as JSON")

    export = add_command(
        commands,
        "usage export",
        summary=None,
        prog="oeus-kraken usage export",
        description="Write stored usage of an account (or one ESI ID) for Texas local dates, "
        "both ends included (--to past today: today), as CSV (a header line, then one line per "
        "interval), JSON, or a Parquet dataset partitioned by date (--parquet --out DIR). The "
        "format follows --out's extension (.csv, .json, .parquet) unless a flag names it; a "
        "flag that contradicts the extension is refused. --interval hour or day: a row for "
        "every hour or day, with its interval count and whether it is complete. Files are "
        "owner-only and written whole; a Parquet --out holding an earlier export is replaced "
        "whole, one holding anything else refused. No rows: exit 8. No API request.",
        run=run_export,
        parents=[local],
        auth=None,
        exits=exit_codes_text([*STORE_EXITS, "no_rows"], error=STORE_ERROR),
    )
    add_range_options(
        export,
        target=account_or_esi_id,
        target_help="account number (A-1234ABCD) or ESI ID",
    )
    formats = export.add_mutually_exclusive_group()
    formats.add_argument("--csv", action="store_true", help="CSV (the default)")
    formats.add_argument("--json", action="store_true", help="a JSON list of objects")
    formats.add_argument(
        "--parquet", action="store_true", help="a Parquet dataset (needs --out DIR)"
    )
    export.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)
    export.add_argument(
        "--out", metavar="PATH", type=non_empty_path, help="write here instead of to stdout"
    )

    status = add_command(
        commands,
        "usage status",
        summary=None,
        prog="oeus-kraken usage status",
        description="What the local usage store holds, per account and ESI ID: the covered "
        "range (Texas time), the gaps in it, the last sync and the API requests used. No API "
        "request.",
        run=run_status,
        parents=[local],
        auth=None,
        exits=exit_codes_text(STORE_EXITS, error=STORE_ERROR),
    )
    status.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)
    status_formats = status.add_mutually_exclusive_group()
    status_formats.add_argument("--json", action="store_true", help="print JSON (with each gap)")
    status_formats.add_argument("--csv", action="store_true", help="print CSV")

    chart = add_command(
        commands,
        "usage chart",
        summary=None,
        prog="oeus-kraken usage chart",
        description="Draw stored usage as a PNG or SVG: kWh per Texas local day, and the "
        "average day's 15-minute shape. No API request; no usage in range: exit 8. Needs the "
        "'chart' extra: "
        "pip install 'oeus-kraken[chart]'.",
        run=run_chart,
        parents=[local],
        auth=None,
        exits=exit_codes_text([*STORE_EXITS, "no_rows"], error=STORE_ERROR),
    )
    add_range_options(
        chart, target=account_or_esi_id, target_help="account number or ESI ID", interval=False
    )
    chart.add_argument(
        "--out",
        metavar="FILE.png|FILE.svg",
        type=non_empty_path,
        required=True,
        help="a PNG, or an SVG when the name ends in .svg (owner-only)",
    )
    chart.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)

    forget = add_command(
        commands,
        "usage forget",
        summary=None,
        prog="oeus-kraken usage forget",
        description="Delete the stored readings of one ESI ID for Texas local dates, both ends "
        "included, so that the next `usage sync` fetches them again as the API now gives them "
        "(give it --since for dates more than a year back): the repair of readings that "
        "overlap (an hour's reading and 15-minute ones inside it), which export, chart and "
        "sync refuse, naming this command. No API request.",
        run=run_forget,
        parents=[local],
        auth=None,
        exits=exit_codes_text(STORE_EXITS, error=STORE_ERROR),
    )
    add_range_options(forget, target=esi_id, target_help="ESI ID", interval=False, name="ESI_ID")
    forget.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)


def _concurrency(text: str) -> int:
    """Refused here, not by the sync: that is after the store is made."""
    from ..usage import MAX_CONCURRENCY

    value = positive_int(text)
    if value > MAX_CONCURRENCY:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number from 1 to {MAX_CONCURRENCY}"
        )
    return value


def _store_path(args: argparse.Namespace) -> Path:
    if args.db is not None:
        return Path(args.db)
    from ..usage import default_usage_store_path

    return default_usage_store_path()


def _may_exist(path: Path) -> bool:
    """False only when there is no file at `path`. A path the OS will not look at (a name too
    long, a folder on the way that may not be searched) is left to UsageStore, which says why
    as a UsageStoreError; Path.exists raised the OSError, which read as "cannot write" it."""
    try:
        return path.exists()
    except OSError:
        return True


def _existing_store(args: argparse.Namespace) -> Any:
    """The store at --db, which must exist already, opened read-only: reading never creates
    or changes one, and works on read-only media."""
    from ..usage import UsageStore, UsageStoreError

    path = _store_path(args)
    if not _may_exist(path):
        raise UsageStoreError(
            f"no usage store at {path}: `oeus-kraken usage sync` makes one (or give --db PATH)",
            path=path,
        )
    return UsageStore(path, read_only=True)


# -- export ----------------------------------------------------------------------------------------


def run_export(call: Invocation) -> int:
    args = call.args
    check_date_range(args.first, args.last)
    flag = "parquet" if args.parquet else "json" if args.json else "csv" if args.csv else None
    to_stdout = args.out is None or str(args.out) == "-"  # `--out -`: stdout, as for cat
    if flag == "parquet" and to_stdout:
        raise ConfigurationError("--parquet writes a dataset (a directory): give --out DIR")
    with _existing_store(args) as store:
        options: dict[str, Any] = {"interval": args.interval, "format": flag}
        if not to_stdout:
            rows = store.export(args.target, args.first, args.last, out=args.out, **options)
            # printable: a path is the user's, but a newline or an escape code in it must not
            # add a line to the one this is, nor act on the terminal (as in a failure's line).
            print(f"wrote {rows} rows to {output.printable(str(args.out))}", file=call.out)
        else:
            options["format"] = flag or "csv"
            rows = _export_to(call.out, store, args, options)
    if rows:
        return EXIT_CODES["ok"]
    from ..usage._time import no_usage_yet

    advice = no_usage_yet(args.first, "the dates are") or "`oeus-kraken usage sync` fetches it"
    print(
        f"oeus-kraken usage export: no rows: the store has no usage of {args.target} from "
        f"{args.first} to {args.last} (an empty export was written); {advice}",
        file=sys.stderr,
    )
    return EXIT_CODES["no_rows"]


def _export_to(
    out: TextIO | None, store: Any, args: argparse.Namespace, options: dict[str, Any]
) -> int:
    """To our stdout's bytes as they come; to any other text stream (tests) as text; nowhere
    when the process has no stdout (`>&-`), as print() does then."""
    if out is None:
        with open(os.devnull, "wb") as nowhere:
            return int(store.export(args.target, args.first, args.last, out=nowhere, **options))
    binary = getattr(out, "buffer", None)
    if binary is None:
        return int(store.export(args.target, args.first, args.last, out=out, **options))
    out.flush()
    rows = int(store.export(args.target, args.first, args.last, out=binary, **options))
    binary.flush()
    return rows


# -- status ----------------------------------------------------------------------------------------

STATUS_COLUMNS = (
    Column("account", "account_number"),
    Column("ESI ID", "esi_id"),
    Column("intervals", "intervals"),
    Column("from", "covered_from", output.local_time),
    Column("to", "covered_to", output.local_time),
    Column("gaps", "gaps"),
    Column("missing", "missing_intervals"),
    Column("last sync", "last_sync", lambda v: v or "never"),
    Column("requests", "requests_used"),
    Column("revisions", "revisions", in_table=False),
)


def _last_sync(status: Any) -> str | None:
    record = status.last_sync
    if record is None:
        return None
    if record.finished_at is None:
        return f"{output.local_time(record.started_at)} (unfinished)"
    shown = output.local_time(record.finished_at)
    return f"{shown} (stopped: {record.stopped_reason})" if record.stopped_reason else shown


def _missing(status: Any) -> int:
    from ..usage import INTERVAL

    return sum((gap.end - gap.start) // INTERVAL for gap in status.gaps)


def run_status(call: Invocation) -> None:
    from ..usage import UsageStore

    args, fmt, out = call.args, output_format(call.args), call.out
    path = _store_path(args)
    if not _may_exist(path):
        if fmt == "table":
            where = output.printable(str(path))
            print(f"no usage store at {where} yet: `oeus-kraken usage sync` makes one", file=out)
        else:
            output.write_rows(STATUS_COLUMNS, [], fmt, out)
        return
    with UsageStore(path, read_only=True) as store:
        statuses = store.status()
        total = store.requests_used()
    if fmt == "json":
        print(json.dumps([_status_document(s) for s in statuses], indent=2), file=out)
        return
    if fmt == "table":
        print(f"usage store {output.printable(str(path))}", file=out)
    rows = [
        [
            s.account_number,
            s.esi_id,
            s.intervals,
            s.covered[0] if s.covered else None,
            s.covered[1] if s.covered else None,
            len(s.gaps),
            _missing(s),
            _last_sync(s),
            s.requests_used,
            s.revisions,
        ]
        for s in statuses
    ]
    output.write_rows(STATUS_COLUMNS, rows, fmt, out)
    if fmt == "table" and total:
        print(
            f"API requests by all syncs: {total:,} (account lookups and budget checks included)",
            file=out,
        )


def _status_document(status: Any) -> dict[str, Any]:
    def jsonable(value: Any) -> Any:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [jsonable(v) for v in value]
        return output.machine(value)

    document: dict[str, Any] = jsonable(status)
    document["missing_intervals"] = _missing(status)
    return document


# -- forget ----------------------------------------------------------------------------------------


def run_forget(call: Invocation) -> None:
    """`usage forget`: the repair OverlappingReadingsError names, one a command line user can
    run (UsageStore.forget takes UTC datetimes, from Python only)."""
    from ..usage import UsageStore, UsageStoreError
    from ..usage._time import local_range_bounds

    args = call.args
    check_date_range(args.first, args.last)
    # A --to past today is today (as --help says): no reading is stored later, and the last day
    # a date names (9999-12-31, "everything") has no end to give the store.
    last = min(args.last, today_in_texas())
    path = _store_path(args)
    if not _may_exist(path):  # nothing to forget: making a store here would be a surprise
        raise UsageStoreError(f"no usage store at {path}: there is nothing to forget", path=path)
    count = 0
    if args.first <= last:
        start, end = local_range_bounds(args.first, last)
        with UsageStore(path) as store:
            count = store.forget(args.target, start, end)
    print(
        f"forgot {count} stored readings of ESI ID {args.target} from {args.first} to "
        f"{last}; the next `oeus-kraken usage sync` fetches them again",
        file=call.out,
    )


# -- chart -----------------------------------------------------------------------------------------


def run_chart(call: Invocation) -> None:
    from ..usage import chart

    args = call.args
    check_date_range(args.first, args.last)
    with _existing_store(args) as store:
        path = chart(store, args.target, args.first, args.last, args.out)
    print(f"wrote {output.printable(str(path))}", file=call.out)


# -- sync ------------------------------------------------------------------------------------------


class Progress:
    """A progress bar on stderr while a sync runs, when stderr is a terminal (tqdm): windows
    done of the estimate, with intervals received and requests made. Nothing otherwise.

    Called from the sync's worker threads, after each page."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()
        self._bar: Any = None
        self._shown = _is_terminal(self._stream)

    def __call__(self, progress: Any) -> None:
        if not self._shown:
            return
        with self._lock:
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(
                    total=max(progress.total_windows, 1),
                    file=self._stream,
                    desc="usage sync",
                    unit="window",
                    # tqdm writes the postfix as ", <text>".
                    bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} "
                    "windows{postfix} [{elapsed}<{remaining}]",
                    dynamic_ncols=True,
                    leave=False,
                )
            bar = self._bar
            if progress.total_windows > bar.total:  # gaps found on the way add windows
                bar.total = progress.total_windows
            bar.n = min(progress.done_windows, bar.total)
            bar.set_postfix_str(
                f"{progress.intervals:,} intervals, {progress.requests:,} requests", refresh=False
            )
            bar.refresh()

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def run_sync(call: Invocation) -> int:
    try:
        store, client = _ready_to_sync(call)
    except KeyboardInterrupt:  # Ctrl-C while modules, the token cache or the store load
        print(
            "oeus-kraken usage sync: interrupted before the sync began: nothing was asked for "
            "or stored; run it again to sync",
            file=sys.stderr,
        )
        return EXIT_CODES["interrupted"]
    with store:
        report = _synced(call, store, client)
    if report is None:
        return EXIT_CODES["interrupted"]
    interrupted = report.stopped_reason == "interrupted"
    code = sync_exit_code(report)
    # The line quotes the API's words on a failed account: escaped, as all API text printed.
    line = output.printable(report.message)
    if interrupted or code in _SYNC_FAILURES:
        # Like every command's failure or Ctrl-C: one line on stderr, named; the report goes to
        # stdout as well (the summary, or --json's), for whoever reads the outcome there.
        print(f"oeus-kraken usage sync: {line}", file=sys.stderr)
    if call.args.json:
        print(json.dumps(dataclasses.asdict(report), indent=2), file=call.out)
    elif not interrupted:
        print(line, file=call.out)
    return code


# The ends of a sync that are failures (README: "Failures are one line on stderr"): every
# account failed, some did, or the API's rate limit stopped it. A stop at the budget or at
# --max-requests is the sync working as asked, and resumable.
_SYNC_FAILURES = frozenset((EXIT_CODES["error"], EXIT_CODES["partial"], EXIT_CODES["rate_limited"]))


def _ready_to_sync(call: Invocation) -> tuple[Any, Any]:
    """The store, opened for writing, and the client: the URL and credentials are checked
    before the store is touched."""
    from ..usage import UsageStore

    args = call.args
    if args.since is not None:
        check_not_future(args.since, "--since")
    if len(args.accounts) == 1:
        call.account = args.accounts[0]
    client = call.client()
    return UsageStore(_store_path(args)), client


def _synced(call: Invocation, store: Any, client: Any) -> Any:
    """The sync's report (that of an interrupted one too), or None after a second Ctrl-C."""
    from ..usage import UsageSyncInterrupted, sync_usage_blocking

    args = call.args
    options: dict[str, Any] = {
        name: value
        for name, value in (
            ("since", args.since),
            ("max_requests", args.max_requests),
            ("concurrency", args.concurrency),
        )
        if value is not None
    }
    progress = Progress()
    try:
        return sync_usage_blocking(
            client, store, args.accounts or None, progress=progress, **options
        )
    except UsageSyncInterrupted as stopped:
        return stopped.report
    except KeyboardInterrupt:  # a second Ctrl-C while the first one's stop was winding down
        progress.close()
        print(
            "oeus-kraken usage sync: interrupted again: stopped at once; what was stored is "
            "kept and the next sync resumes",
            file=sys.stderr,
        )
        return None
    finally:
        progress.close()


def sync_exit_code(report: Any) -> int:
    """Interrupted, then failed accounts (7, or 1 when none synced), then how it stopped."""
    if report.stopped_reason == "interrupted":
        return EXIT_CODES["interrupted"]
    if report.failures:
        if len(report.failures) >= report.accounts:
            return EXIT_CODES["error"]
        return EXIT_CODES["partial"]
    return SYNC_EXIT_CODES.get(report.stopped_reason, EXIT_CODES["error"])
