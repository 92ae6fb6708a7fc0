"""List the signed-in account user's accounts and their balances.

    KRAKEN_URL=https://api.oeus-kraken.systems/v1/graphql/ KRAKEN_API_KEY=... \\
        python examples/list_accounts.py

Any one credential works: KRAKEN_ORGANIZATION_SECRET_KEY, KRAKEN_API_KEY, KRAKEN_EMAIL with
KRAKEN_PASSWORD, or KRAKEN_REFRESH_TOKEN.
"""

from __future__ import annotations

import asyncio
import sys
from decimal import Decimal

from oeus_kraken import KrakenClient, KrakenError


def dollars(cents: int) -> str:
    """Kraken balances are integer cents: 12345 -> "$123.45", -2050 -> "-$20.50"."""
    amount = Decimal(cents).scaleb(-2)
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


async def list_accounts() -> None:
    async with KrakenClient.from_env() as kraken:
        result = await kraken.get_viewer()

    viewer = result.viewer
    if viewer is None:
        print("These credentials do not belong to an account user.")
        return
    print(f"Accounts of {viewer.given_name} {viewer.family_name} <{viewer.email}>:")
    for account in viewer.accounts or []:
        if account is None:
            continue
        status = account.status.value if account.status else "UNKNOWN"
        print(f"  {account.number}  {status:<10} {dollars(account.balance):>12}")


def main() -> int:
    try:
        asyncio.run(list_accounts())
    except KrakenError as error:
        print(f"list_accounts: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
