"""An account's payments and bills, derived from its seeded ledger so that they agree with it.

* Payments (`AccountType.payments`, AccountPaymentType): one per Payment transaction, CLEARED,
  taken for the reason BILL_ISSUED by the account's payment method, `amount` in cents.
* Bills (`AccountType.bills`, StatementType): one statement per monthly charge, issued on the
  charge's date for the month before it. A statement holds the ledger's transactions since the
  previous one (that bill's payment, any credits, and its own charge); its opening and closing
  balances are the ledger's running balance (cents, positive in credit), and its totals are the
  charges' and credits' net, tax and gross amounts. Payment is due 21 days after issue.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from ._data import Account, Ledger, Transaction

__all__ = ["account_bills", "account_payments"]

PAYMENT_DUE_DAYS = 21


def _ledgers(account: Account, ledger_id: str | None) -> list[Ledger]:
    if ledger_id is None:
        return list(account.ledgers[:1])  # the main ledger
    return [ledger for ledger in account.ledgers if ledger.id == str(ledger_id)]


def account_payments(
    account: Account,
    *,
    ledger_id: str | None = None,
    status: str | None = None,
    reason: str | None = None,
) -> list[dict[str, Any]]:
    """The account's payments, newest first, filtered by `status` and `reason` when given."""
    payments = [
        {
            "id": entry.id,
            "amount": entry.amounts.gross,
            "paymentDate": entry.posted_date,
            "reference": f"PMT-{account.number[2:]}-{entry.id}",
            "transactionType": account.payment_method,
            "status": "CLEARED",
            "reason": "BILL_ISSUED",
            "surchargeAmount": 0,
        }
        for ledger in _ledgers(account, ledger_id)
        for entry in ledger.entries
        if entry.typename == "Payment"
    ]
    return [
        payment
        for payment in payments
        if (status is None or payment["status"] == status)
        and (reason is None or payment["reason"] == reason)
    ]


def _totals(entries: list[Transaction]) -> dict[str, int]:
    return {
        "netTotal": sum(e.amounts.net for e in entries),
        "taxTotal": sum(e.amounts.tax for e in entries),
        "grossTotal": sum(e.amounts.gross for e in entries),
    }


def _month_before(day: date) -> tuple[date, date]:
    last = day.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def _statements(account: Account, ledger: Ledger) -> list[dict[str, Any]]:
    chronological = list(reversed(ledger.entries))
    statements: list[dict[str, Any]] = []
    balance, pending = 0, []
    for entry in chronological:
        pending.append(entry)
        if entry.typename != "Charge":
            continue
        opening = balance
        balance += sum(e.signed_amount for e in pending)
        period_start, period_end = _month_before(entry.posted_date)
        statement_id = str(int(entry.id) + 1_000_000)
        statements.append(
            {
                "__typename": "StatementType",
                "id": statement_id,
                "billType": "STATEMENT",
                "fromDate": period_start,
                "toDate": period_end,
                "issuedDate": entry.posted_date,
                "temporaryUrl": (
                    f"https://sandbox.example.com/bills/{account.number}/{statement_id}.pdf"
                ),
                "paymentDueDate": entry.posted_date + timedelta(days=PAYMENT_DUE_DAYS),
                "consumptionStartDate": period_start,
                "consumptionEndDate": period_end,
                "openingBalance": opening,
                "closingBalance": balance,
                "isExternalBill": False,
                "status": "CLOSED",
                "heldStatus": {"isHeld": False, "reason": None},
                "reversalsAfterClose": "NONE",
                "toAddress": account.billing_email,
                "totalCharges": _totals([e for e in pending if e.typename == "Charge"]),
                "totalCredits": _totals([e for e in pending if e.typename == "Credit"]),
                "transactions": list(reversed(pending)),  # newest first, like the ledger
            }
        )
        pending = []
    return statements


def account_bills(
    account: Account,
    *,
    from_date: date | None = None,
    to_date: date | None = None,
    issued_from_date: date | None = None,
    issued_to_date: date | None = None,
) -> list[dict[str, Any]]:
    """The account's statements, newest first. `from_date` (inclusive) and `to_date` (exclusive)
    bound the billing period's start, the `issued_...` pair the issue date."""
    bills = [bill for ledger in _ledgers(account, None) for bill in _statements(account, ledger)]
    bills.reverse()
    return [
        bill
        for bill in bills
        if (from_date is None or bill["fromDate"] >= from_date)
        and (to_date is None or bill["fromDate"] < to_date)
        and (issued_from_date is None or bill["issuedDate"] >= issued_from_date)
        and (issued_to_date is None or bill["issuedDate"] < issued_to_date)
    ]
