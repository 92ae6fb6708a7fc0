"""When each seeded ESI ID's supply began: the start of its electricity agreement.

A usage client should never ask for usage from before a meter was supplied; the API tells it
when that was through the meter point's agreements (`agreements { validFrom }`), and the
earliest start is where a meter's history can begin. The sandbox gives each account one
agreement from the month its ledger's first bill covers, so every seeded meter was supplied
before the sandbox's usage history starts (`USAGE_START`): the months between are a span the
API answers empty, as Kraken does for a meter whose readings were never loaded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ._data import DEMO_ACCOUNT_NUMBERS, OTHER_ACCOUNT_NUMBER, SandboxData
from ._grid import CENTRAL

__all__ = ["meter_point_agreements", "supply_start"]

# The first month each account's ledger bills (see _data._build_accounts).
_SUPPLY_STARTS = {
    DEMO_ACCOUNT_NUMBERS[0]: date(2023, 12, 1),
    DEMO_ACCOUNT_NUMBERS[1]: date(2025, 6, 1),
    OTHER_ACCOUNT_NUMBER: date(2025, 8, 1),
}


def supply_start(data: SandboxData, esi_id: str) -> datetime | None:
    """The local midnight the ESI ID's supply began, or None for an ESI ID not seeded."""
    for account in data.accounts:
        if any(esi_id in prop.esi_ids for prop in account.properties):
            day = _SUPPLY_STARTS.get(account.number)
            return None if day is None else datetime.combine(day, datetime.min.time(), CENTRAL)
    return None


def meter_point_agreements(data: SandboxData, esi_id: str) -> list[dict[str, Any]]:
    """`ElectricityMeterPointType.agreements`: the one open-ended agreement of the ESI ID."""
    start = supply_start(data, esi_id)
    if start is None:
        return []
    return [
        {
            "id": int(esi_id[-6:]),
            "validFrom": start,
            "validTo": None,
            "agreedFrom": start,
            "agreedTo": None,
            "isRevoked": False,
        }
    ]
