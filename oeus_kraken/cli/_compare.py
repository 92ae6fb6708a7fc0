"""`compare ESI_ID|ACCOUNT`: what the stored usage would have cost on every product on offer,
cheapest first, checked against the API's EFL figures and the account's bills
(`oeus_kraken.compare.compare_products`).

Usage comes from the local store (`--db`, as `usage export` reads it): no request for it unless
`--sync` brings the store up to date first (as `usage sync ACCOUNT` does, from `--from` when
given). The comparison itself makes at most four requests: the rates in parts, the EFL figures,
the account's agreements and its bills. The table shows dollars and cents per kWh; `--json` and
`--csv` keep exact cents (`comparison_document`, `write_csv`); `--html FILE` writes the page.
What goes to stdout is only the table, JSON or CSV: the sync's report and the page's path go to
stderr when stdout carries JSON or CSV.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from .._errors import ConfigurationError
from . import _output as output
from ._common import (
    EXIT_CODES,
    Invocation,
    RawDescriptionHelpFormatter,
    account_or_esi_id,
    add_command,
    local_date,
    non_empty_path,
    output_format,
)
from ._output import Column

# The store's path and opening are the `usage` store commands' own (--db, and a missing store
# said so, never created by reading); shared here rather than written twice.
from ._usage_store import DB_HELP, SYNC_EXIT_CODES, Progress, _existing_store, _store_path

DESCRIPTION = """\
What the stored usage of an ESI ID (or of an account's one ESI ID) would have cost on every
product on offer there, cheapest first, per Texas local calendar month: the kWh of each
time-of-use band at its energy rate, the TDSP's delivery charges per kWh and per month, and the
product's monthly fees, before tax. The current product (the account's agreement) is marked and
every other product shows its saving or extra cost against it. A month with missing intervals is
flagged with their count. Each product's EFL averages (500, 1,000, 2,000 kWh) are worked out
again from its rate parts and checked against the API's within 0.01 cents/kWh, and the current
product is priced over each of the account's bills.

Period: --from and --to (Texas local dates, both included), else the last 12 whole months the
store holds. Usage: the local store only (see `oeus-kraken usage sync`), unless --sync."""


def night_hours(text: str) -> Any:
    from ..compare import NightHours

    try:
        return NightHours.parse(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(commands: Any, api: Any) -> None:
    compare = add_command(
        commands,
        "compare",
        summary="what your stored usage would have cost on every product, cheapest first",
        description=DESCRIPTION,
        run=run_compare,
        parents=[api],
        auth="account user or organisation",
    )
    compare.formatter_class = RawDescriptionHelpFormatter
    compare.add_argument(
        "target",
        metavar="ESI_ID|ACCOUNT",
        type=account_or_esi_id,
        help="an ESI ID, or an account number whose one ESI ID to compare",
    )
    compare.add_argument(
        "--from", dest="first", metavar="DATE", type=local_date, help="first Texas local date"
    )
    compare.add_argument(
        "--to", dest="last", metavar="DATE", type=local_date, help="last Texas local date, included"
    )
    compare.add_argument("--db", metavar="PATH", type=non_empty_path, help=DB_HELP)
    compare.add_argument(
        "--sync",
        action="store_true",
        help="bring the store up to date first (usage sync of the account; from --from if "
        "given; an ESI ID the store links to no account yet: of every account you can see)",
    )
    compare.add_argument(
        "--night",
        metavar="HH:MM-HH:MM",
        type=night_hours,
        help="the local hours of a time-of-use product's NIGHT band (default 21:00-06:00): the "
        "API does not state them, so the output says it is an assumption",
    )
    formats = compare.add_mutually_exclusive_group()
    formats.add_argument(
        "--json",
        action="store_true",
        help="print JSON: exact cents as decimal text, each key naming its unit",
    )
    formats.add_argument(
        "--csv",
        action="store_true",
        help="print CSV: one row per product, cheapest first, a cents column per month",
    )
    compare.add_argument(
        "--html",
        metavar="FILE",
        type=non_empty_path,
        help="also write the comparison as one self-contained HTML page (owner-only)",
    )


# -- which ESI ID, which account -------------------------------------------------------------------


def _account_esi_id(store: Any, account: str) -> str:
    from ..compare import ComparisonError

    esi_ids = store.esi_ids(account)
    if not esi_ids:
        # The store lacks the usage, as for an ESI ID it has none of: exit 1, not bad arguments.
        raise ComparisonError(
            f"the usage store {store.path} has no ESI ID of account {account}: sync it first "
            "(add --sync, or `oeus-kraken usage sync ACCOUNT`)"
        )
    if len(esi_ids) > 1:
        raise ConfigurationError(
            f"account {account} has {len(esi_ids)} ESI IDs ({', '.join(esi_ids)}): products "
            "and rates are per ESI ID, so compare one of them: oeus-kraken compare ESI_ID"
        )
    return str(esi_ids[0])


def _sync(call: Invocation, store: Any, account: str | None, say: TextIO) -> int | None:
    """Run the sync; an exit code if it stopped for a rate limit (comparing would hit it too)."""
    from ..compare import ComparisonError
    from ..usage import UsageSyncInterrupted, sync_usage_blocking

    since = {"since": call.args.first} if call.args.first is not None else {}
    progress = Progress()
    try:
        report = sync_usage_blocking(
            call.client(), store, [account] if account else None, progress=progress, **since
        )
    except UsageSyncInterrupted as stopped:  # Ctrl-C: what was kept, as `usage sync` says
        progress.close()
        print(f"oeus-kraken compare: {output.printable(stopped.report.message)}", file=sys.stderr)
        return EXIT_CODES["interrupted"]
    finally:
        progress.close()
    if account in report.failures:
        # Why the account failed is the answer: comparing would fail on it again, or price what
        # the store held before, after a line saying the sync failed and one to "add --sync".
        raise ComparisonError(f"--sync: {account}: {report.failures[account]}")
    line = output.printable(report.message)  # (it may quote the API's words)
    if report.stopped_reason == "rate-limited":
        # Nothing is compared: a failure, one line on stderr like every other; before, the
        # bare line went to stdout (`say`) in the table's place, and stderr was silent.
        print(f"oeus-kraken compare: --sync: {line}", file=sys.stderr)
        return SYNC_EXIT_CODES["rate-limited"]
    print(line, file=say)
    return None


def _open_store(call: Invocation) -> Any:
    if call.args.sync:
        from ..usage import UsageStore

        call.client()  # URL and credentials checked before the store is touched
        return UsageStore(_store_path(call.args))
    return _existing_store(call.args)


def _esi_and_account(call: Invocation, store: Any, say: TextIO) -> tuple[str, str | None] | int:
    """(ESI ID, its account) after the sync if asked for; an exit code if the sync says stop."""
    from ..compare._compare import account_of  # one answer to "whose ESI ID is it?"

    target = call.args.target
    is_account = target.startswith("A-")
    account = target if is_account else account_of(store, target)
    call.account = account
    if call.args.sync:
        stopped = _sync(call, store, account, say)
        if stopped is not None:
            return stopped
        if account is None:
            account = account_of(store, target)
    esi_id = _account_esi_id(store, target) if is_account else target
    return esi_id, account


# -- output ----------------------------------------------------------------------------------------

RANKING_COLUMNS = (
    Column("rank", "rank", lambda v: "" if v is None else str(v)),
    Column("product", "product"),
    Column("total", "total_cents", lambda v: output.dollars(v) if v is not None else "not priced"),
    Column("¢/kWh", "average_cents_per_kwh", lambda v: "" if v is None else f"{v:.2f}"),
    Column("against the current product", "versus_current_cents"),
)


def _against(comparison: Any, cost: Any) -> str:
    if cost.current:
        return "current product"
    if cost.rates.unpriced:
        return f"not priced: {cost.rates.unpriced}"
    versus = comparison.versus_current_whole_cents(cost)  # the difference of the totals shown
    if versus is None:
        return ""
    if versus < 0:
        return f"saves {output.dollars(-versus)}"
    return f"costs {output.dollars(versus)} more" if versus > 0 else "the same"


def _heading(comparison: Any, out: TextIO) -> None:
    usage = comparison.usage
    area = ", ".join(
        f"{what} {value}"
        for what, value in (
            ("TDSP", comparison.service_provider),
            ("load zone", comparison.load_zone),
        )
        if value
    )
    account = f" (account {comparison.account_number})" if comparison.account_number else ""
    # The TDSP, load zone and a retired product's code are the API's text: printable, as names.
    area = output.printable(area)
    print(f"ESI ID {comparison.esi_id}{account}: {area or 'TDSP not stated'}", file=out)
    night = sum((m.night_kwh for m in usage.months), start=usage.kwh * 0)
    share = f", {night / usage.kwh:.0%} at night ({usage.night})" if usage.kwh else ""
    months = f"{len(usage.months)} month{'' if len(usage.months) == 1 else 's'}"
    print(
        f"{comparison.first} to {comparison.last} (Texas local dates, {months}): "
        f"{usage.kwh:,.0f} kWh{share}",
        file=out,
    )
    current = comparison.current
    if current is not None:
        code = f" ({current.rates.code})" if current.rates.code else ""
        print(f"current product: {output.printable(current.rates.name + code)}", file=out)
    else:
        code = comparison.current_product_code
        said = f"{code}, not on offer at this ESI ID" if code else "not known (no agreement)"
        print(f"current product: {output.printable(said)}", file=out)


def _ranking(comparison: Any, out: TextIO) -> None:
    print(file=out)
    rows = [
        [
            cost.rank,
            f"{cost.rates.name}{' *' if cost.current else ''}",
            _whole(cost.total_cents),  # as bills and the page round: half a cent up
            cost.average_cents_per_kwh,
            _against(comparison, cost),
        ]
        for cost in comparison.products
    ]
    output.write_rows(RANKING_COLUMNS, rows, "table", out)


def _gaps(comparison: Any, out: TextIO) -> None:
    flagged = [m for m in comparison.usage.months if m.missing_intervals]
    if not flagged:
        return
    print("\nmonths with missing intervals (priced from those stored, so understated):", file=out)
    for month in flagged:
        print(
            f"  {month.month:%Y-%m}: {month.missing_intervals:,} of "
            f"{month.expected_intervals:,} intervals missing",
            file=out,
        )


def _efl(comparison: Any, out: TextIO) -> None:
    from ..compare import EFL_TOLERANCE

    checked = sum(c.checked for c in comparison.efl)
    skipped = sum(1 for c in comparison.efl for f in c.figures if f.holds is None)
    failures = [(c, f) for c in comparison.efl for f in c.failures]
    also = f"; {skipped} skipped, see --json" if skipped else ""
    if not checked:  # not "all 0 figures are within": nothing was checked, nothing held
        print(f"\nEFL check: no figure could be checked ({skipped} skipped, see --json)", file=out)
        return
    if not failures:
        print(
            f"\nEFL check: all {checked} figures of {len(comparison.efl)} products are within "
            f"{EFL_TOLERANCE} cents/kWh of their rate parts{also}",
            file=out,
        )
        return
    print(
        f"\nEFL check FAILED: {len(failures)} of {checked} figures differ from their rate parts "
        f"by more than {EFL_TOLERANCE} cents/kWh{also}:",
        file=out,
    )
    for check, figure in failures:
        print(
            f"  {output.printable(check.product_name)}: {figure.name} at "
            f"{figure.kwh_usage:,} kWh: API "
            f"{figure.api_cents_per_kwh}, parts {figure.computed_cents_per_kwh:.5f}, off by "
            f"{figure.difference:+.5f} cents/kWh",
            file=out,
        )


def _whole(cents: Decimal | None) -> Decimal | None:
    """Cents rounded to a whole cent, as a bill shows them (so -0.2 cents is $0.00)."""
    from ..compare._models import whole_cents

    return None if cents is None else whole_cents(cents)


def _bills(comparison: Any, out: TextIO) -> None:
    check = comparison.bills
    if check.skipped:
        print(f"\nbill check: none ({check.skipped})", file=out)
        return
    current = comparison.current
    name = output.printable(current.rates.name) if current else "?"
    print(f"\nbill check ({name}, before tax):", file=out)
    rows = [
        [
            f"{b.from_date} to {b.to_date}",
            output.dollars(b.billed_cents),
            output.dollars(_whole(b.modelled_cents)),
            output.dollars(_whole(b.difference_cents)),
            {True: "yes", False: "NO", None: ""}[b.matches],
            b.note or "",
        ]
        for b in check.bills
    ]
    headers = ("billing period", "billed", "modelled", "difference", "matches", "note")
    output.print_table(rows, headers, out)
    if check.note:
        print(f"{check.note}.", file=out)


def _print_table(comparison: Any, out: TextIO) -> None:
    _heading(comparison, out)
    _ranking(comparison, out)
    _gaps(comparison, out)
    _efl(comparison, out)
    _bills(comparison, out)
    print("\nassumptions:", file=out)
    for assumption in comparison.assumptions:
        print(f"  - {assumption}", file=out)


def _check_page_path(page: Path) -> None:
    """Refuse a page path that cannot be written before any request is spent on it."""
    if str(page) == "-":
        raise ConfigurationError(
            "--html -: the page is written beside the table, JSON or CSV, which standard output "
            "carries; give the page a file name"
        )
    folder = page.parent if str(page.parent) else Path(".")
    if page.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK):
        raise ConfigurationError(
            f"--html {page}: cannot write a file there (a folder that exists and that you may "
            "write to, and a file name)"
        )


def run_compare(call: Invocation) -> int:
    from ..compare import (
        DEFAULT_NIGHT,
        compare_products,
        comparison_document,
        write_csv,
        write_html,
    )

    args, fmt, out = call.args, output_format(call.args), call.out
    if (args.first is None) != (args.last is None):
        raise ConfigurationError("give both --from and --to, or neither (the last 12 months)")
    if args.html is not None:
        _check_page_path(Path(args.html))
    say = out if fmt == "table" else sys.stderr  # what is not the table, JSON or CSV
    with _open_store(call) as store:
        if args.html is not None:
            store.check_out(args.html)
        found = _esi_and_account(call, store, say)
        if isinstance(found, int):
            return found
        esi_id, account = found
        comparison = compare_products(
            call.client(),
            store,
            esi_id,
            args.first,
            args.last,
            account_number=account,
            night=args.night or DEFAULT_NIGHT,
        )
    # The page before the output: a reader of the table that goes away early (`| head -3`)
    # ends the output, not the page asked for, which it once left unwritten.
    page = None if args.html is None else write_html(comparison, Path(args.html))
    if fmt == "json":
        print(json.dumps(comparison_document(comparison), indent=2, ensure_ascii=False), file=out)
    elif fmt == "csv":
        write_csv(comparison, out)
    else:
        _print_table(comparison, out)
    if page is not None:
        if fmt == "table":
            print(file=out)
        print(f"HTML page: {output.printable(str(page))}", file=say)
    return EXIT_CODES["ok"]
