"""Each seeded account's electricity agreements (`AccountType.electricityAgreements`): which
product each of its ESI IDs is on, as the platform schema says it, so that a client can tell an
account's current product.

One agreement per ESI ID of the account, on the account's product, valid from the first day its
ledger charges (the start of its supply) with no end: every seeded agreement is active. The
tariff is a `StandardTariff` (a `DayNightTariff` for a time-of-use product) whose `productCode`
is the product's `code` in `products`; its UK-style rate fields (`unitRate`, `standingCharge`,
pence as floats) are null: US rates come from `products { rates }`.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from ariadne import ObjectType, SchemaBindable
from graphql import GraphQLResolveInfo

from ._data import Account, ElectricityMeterPoint, Product
from ._fake import default_resolver
from ._grid import CENTRAL
from ._resolvers import context_of
from ._usage import USAGE_START

__all__ = ["account_agreements", "account_agreements_start", "agreement_bindables"]

_UK_RATE_FIELDS = (
    "standingCharge",
    "preVatStandingCharge",
    "unitRate",
    "preVatUnitRate",
    "dayRate",
    "nightRate",
    "preVatDayRate",
    "preVatNightRate",
)


def _tariff(product: Product, service_provider: str) -> dict[str, Any]:
    return {
        "__typename": "DayNightTariff" if product.based_on_time_of_use else "StandardTariff",
        "id": product.id,
        "displayName": product.display_name,
        "fullName": product.full_name,
        "description": product.description,
        "productCode": product.code,
        "tariffCode": f"{product.code}-{service_provider}",
        **dict.fromkeys(_UK_RATE_FIELDS),
    }


def account_agreements_start(account: Account) -> date | None:
    """Where the account's supply, and so its agreements, begin: the first day its ledger
    charges, or the first day of the sandbox's usage history if that is earlier (no meter has
    readings from before its supply began)."""
    if not account.ledgers:
        return None
    first_usage = datetime.fromtimestamp(USAGE_START, CENTRAL).date()
    return min(account.ledgers[0].schedule.starts, first_usage)


def account_agreements(account: Account, product: Product) -> list[dict[str, Any]]:
    """The account's agreements, one per ESI ID (all active), in the order of its properties."""
    start = account_agreements_start(account)
    valid_from = datetime.combine(start, time(0), CENTRAL) if start else None
    return [
        {
            "id": int(prop.id) * 100 + n,
            "validFrom": valid_from,
            "validTo": None,
            "agreedFrom": valid_from,
            "agreedTo": None,
            "isRevoked": False,
            "account": account,
            "meterPoint": ElectricityMeterPoint(esi_id),
            "tariff": _tariff(product, prop.service_provider),
        }
        for prop in account.properties
        for n, esi_id in enumerate(prop.esi_ids)
    ]


account_type = ObjectType("AccountType")


@account_type.field("electricityAgreements")
def resolve_electricity_agreements(
    parent: object, info: GraphQLResolveInfo, active: bool | None = None
) -> Any:
    """`active: true` (or not given): the active ones, which are all of them; `false`: the
    inactive ones, none."""
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    product = context_of(info).state.data.product(parent.product_id)
    if product is None or active is False:
        return []
    return account_agreements(parent, product)


def agreement_bindables() -> list[SchemaBindable]:
    return [account_type]
