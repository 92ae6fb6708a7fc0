"""When each seeded ESI ID's supply began: the start of its electricity agreement.

A usage client should never ask for usage from before a meter was supplied; the API tells it
when that was through the meter point's agreements (`agreements { validFrom }`), and the
earliest start is where a meter's history can begin. Each ESI ID's agreements are its account's
(`_agreements`, the one source): from its ledger's first charge, or the start of the sandbox's
usage history (`USAGE_START`) if that is earlier. The months between a supply start and the
usage history are a span the API answers empty, as Kraken does for a meter whose readings were
never loaded.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from ._agreements import account_agreements_start
from ._data import SandboxData
from ._grid import CENTRAL

__all__ = ["meter_point_agreements", "supply_start"]


def supply_start(data: SandboxData, esi_id: str) -> datetime | None:
    """The local midnight the ESI ID's supply began (its account's agreements start then: see
    _agreements, the one source of both), or None for an ESI ID not seeded."""
    for account in data.accounts:
        if any(esi_id in prop.esi_ids for prop in account.properties):
            agreements = account_agreements_start(account)
            return None if agreements is None else datetime.combine(agreements, time(0), CENTRAL)
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
