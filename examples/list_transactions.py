"""List every transaction of an account, page by page, with the pagination helper.

    KRAKEN_URL=... KRAKEN_API_KEY=... python examples/list_transactions.py A-1234ABCD

The ledgers query returns one page of a Relay connection at a time; `paginate` keeps asking for
the next page (`after` = the previous page's end cursor) until there is none.
"""

from __future__ import annotations

import sys
from decimal import Decimal

from oeus_kraken import (
    GetAccountLedgersAccountLedgersTransactions,
    KrakenError,
    SyncKrakenClient,
    paginate,
)

PAGE_SIZE = 20


def transactions_page(
    kraken: SyncKrakenClient, account_number: str, first: int, after: str | None
) -> GetAccountLedgersAccountLedgersTransactions | None:
    """One page of the first ledger's transactions, or None if the account has no ledger."""
    account = kraken.get_account_ledgers(account_number, first=first, after=after).account
    if account is None or not account.ledgers or account.ledgers[0] is None:
        return None
    return account.ledgers[0].transactions


def list_transactions(account_number: str) -> None:
    with SyncKrakenClient.from_env() as kraken:
        count = 0
        for tx in paginate(
            lambda first, after: transactions_page(kraken, account_number, first, after),
            page_size=PAGE_SIZE,
        ):
            count += 1
            gross = tx.amounts.gross if tx.amounts and tx.amounts.gross is not None else 0
            print(
                f"  {tx.posted_date}  {tx.typename__:<8} {Decimal(gross).scaleb(-2):>10,.2f}"
                f"  {tx.title or ''}"
            )
        print(f"{count} transactions on {account_number}")


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: list_transactions.py ACCOUNT_NUMBER", file=sys.stderr)
        return 2
    try:
        list_transactions(sys.argv[1])
    except KrakenError as error:
        print(f"list_transactions: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
