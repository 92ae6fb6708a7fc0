"""Resolvers of the US surface: usage, addresses, quotes, money, metadata, smart devices, the Fan
Club discount and the points budget. Root fields pass `_resolvers.gate` first (authentication,
rate limits); the permission rules here are the US docs':

* `addressLookup` needs CAN_USE_ADDRESSES_API, which only organisations hold: an account user's
  token gets KT-CT-1111.
* `createQuote` needs CAN_CREATE_ELECTRICITY_QUOTE (organisations); `customerCreateQuote` takes an
  account user for their own account too.
* Account-scoped fields (`property`, `intervalReadings`, `dailyReadings`, `customerCreateQuote`,
  `createSmartDeviceToken`, `acquireOauthTokens`, `updateMetadata`) take an account user for their
  own accounts and an organisation for any: another user's account is KT-CT-4177 (KT-CT-1111
  for a property or metadata target, which are not accounts).
"""

# GraphQL argument names are camelCase, and resolvers take them as keyword arguments.
# ruff: noqa: N803

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ariadne import MutationType, ObjectType, QueryType, SchemaBindable
from graphql import GraphQLResolveInfo

from ._addresses import lookup
from ._auth import Principal
from ._billing import account_bills, account_payments
from ._data import Account, ElectricityMeterPoint, Property
from ._errors import KrakenAPIError
from ._fake import default_resolver
from ._grid import fan_club_discount
from ._pagination import connection
from ._quotes import quote_input
from ._resolvers import context_of, visible_account
from ._supply import meter_point_agreements
from ._usage import (
    Meter,
    check_page_size,
    daily_readings,
    expected_annual_kwh,
    interval_readings,
    measurements_connection,
)

__all__ = ["us_bindables"]

query = QueryType()
mutation = MutationType()
property_type = ObjectType("PropertyType")
account_type = ObjectType("AccountType")
statement_type = ObjectType("StatementType")
meter_point_type = ObjectType("ElectricityMeterPointType")


def _organization(info: GraphQLResolveInfo) -> Principal:
    principal = context_of(info).require_principal()
    if principal.kind != "organization":
        raise KrakenAPIError(
            "KT-CT-1111",
            description="This field needs an organisation's token (an affiliate permission).",
        )
    return principal


def _meter(info: GraphQLResolveInfo, account: Account, esi_id: str) -> Meter:
    on_account = {e for prop in account.properties for e in prop.esi_ids}
    meter = context_of(info).state.meters.get(esi_id)
    if esi_id not in on_account or meter is None:
        raise KrakenAPIError(
            None,
            f"ESI ID {esi_id!r} is not a meter point of account {account.number}.",
            error_type="NOT_FOUND",
        )
    return meter


# -- usage -----------------------------------------------------------------------------------------


@query.field("property")
def resolve_property(_: object, info: GraphQLResolveInfo, id: str) -> Property:
    context = context_of(info)
    principal = context.require_principal()
    found = context.state.data.find_property(str(id))
    if found is None or not principal.may_see(found[0]):
        raise KrakenAPIError("KT-CT-1111", description="You are not allowed to see this property.")
    return found[1]


@property_type.field("measurements")
def resolve_measurements(
    parent: object,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    startAt: datetime | None = None,
    endAt: datetime | None = None,
    startOn: date | None = None,
    endOn: date | None = None,
    utilityFilters: list[Mapping[str, Any] | None] | None = None,
    **arguments: Any,
) -> Any:
    if not isinstance(parent, Property):
        return default_resolver(parent, info)
    context = context_of(info)
    page_size = check_page_size(first, last, before)
    context.charge_connection(info)
    meter = next((context.state.meters.get(e) for e in parent.esi_ids), None)
    return measurements_connection(
        meter,
        now=context.now(),
        feed=context.feed(),
        first=page_size,
        after=after,
        start_at=startAt,
        end_at=endAt,
        start_on=startOn,
        end_on=endOn,
        timezone_name=str(arguments.get("timezone") or "America/Chicago"),
        utility_filters=utilityFilters,
    )


@meter_point_type.field("agreements")
def resolve_meter_point_agreements(parent: object, info: GraphQLResolveInfo, **_: Any) -> Any:
    """When the meter's supply began, for a usage client not to ask for usage before it."""
    if not isinstance(parent, ElectricityMeterPoint):
        return default_resolver(parent, info)
    return meter_point_agreements(context_of(info).state.data, parent.esi_id)


def _reading_window(info: GraphQLResolveInfo, fields: Mapping[str, Any]) -> tuple[Meter, float]:
    account = visible_account(info, str(fields["accountNumber"]))
    return _meter(info, account, str(fields["esiId"])), context_of(info).now()


@query.field("intervalReadings")
def resolve_interval_readings(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> list[dict[str, Any]]:
    meter, now = _reading_window(info, input)
    return interval_readings(
        meter,
        now=now,
        feed=context_of(info).feed(),
        from_datetime=input["fromDatetime"],
        to_datetime=input["toDatetime"],
    )


@query.field("dailyReadings")
def resolve_daily_readings(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> list[dict[str, Any]]:
    meter, now = _reading_window(info, input)
    return daily_readings(
        meter, now=now, from_datetime=input["fromDatetime"], to_datetime=input["toDatetime"]
    )


# -- addresses -------------------------------------------------------------------------------------


@query.field("addressLookup")
def resolve_address_lookup(
    _: object,
    info: GraphQLResolveInfo,
    esiId: str | None = None,
    address: str | None = None,
    address2: str | None = None,
    city: str | None = None,
    postCode: str | None = None,
    state: str | None = None,
) -> list[dict[str, Any]]:
    _organization(info)
    return lookup(
        context_of(info).state.data.accounts,
        esi_id=esiId,
        address=address,
        address2=address2,
        city=city,
        post_code=postCode,
        state=state,
    )


# -- quotes ----------------------------------------------------------------------------------------


@mutation.field("createQuote")
def resolve_create_quote(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    _organization(info)
    context = context_of(info)
    postcode, esi_id, annual_kwh = quote_input(input)
    meter = context.state.meters.get(esi_id) if esi_id else None
    quote = context.state.quotes.create(
        now=context.now_datetime(),
        postcode=postcode,
        esi_id=esi_id,
        annual_kwh=annual_kwh,
        expected_annual_kwh=expected_annual_kwh(meter) if meter else None,
    )
    return {"errors": [], "quote": quote}


@mutation.field("customerCreateQuote")
def resolve_customer_create_quote(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    context = context_of(info)
    account = visible_account(info, str(input["accountNumber"]))
    home = account.properties[0]
    esi_id = home.esi_ids[0] if home.esi_ids else None
    meter = context.state.meters.get(esi_id) if esi_id else None
    quote = context.state.quotes.create(
        now=context.now_datetime(),
        postcode=home.postal_code,
        esi_id=esi_id,
        annual_kwh=None,
        expected_annual_kwh=expected_annual_kwh(meter) if meter else None,
    )
    return {"quote": quote}


# -- money -----------------------------------------------------------------------------------------


@account_type.field("payments")
def resolve_payments(
    parent: object,
    info: GraphQLResolveInfo,
    ledgerId: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
    **arguments: Any,
) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    context_of(info).charge_connection(info)
    payments = account_payments(parent, ledger_id=ledgerId, status=status, reason=reason)
    return connection(payments, first=first, after=after, before=before, last=last)


@account_type.field("bills")
def resolve_bills(
    parent: object,
    info: GraphQLResolveInfo,
    fromDate: date | None = None,
    toDate: date | None = None,
    issuedFromDate: date | None = None,
    issuedToDate: date | None = None,
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
    **arguments: Any,
) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    context_of(info).charge_connection(info)
    bills = account_bills(
        parent,
        from_date=fromDate,
        to_date=toDate,
        issued_from_date=issuedFromDate,
        issued_to_date=issuedToDate,
    )
    return connection(bills, first=first, after=after, before=before, last=last)


@statement_type.field("transactions")
def resolve_statement_transactions(
    parent: object,
    info: GraphQLResolveInfo,
    first: int | None = None,
    after: str | None = None,
    before: str | None = None,
    last: int | None = None,
) -> Any:
    if not isinstance(parent, Mapping) or not isinstance(parent.get("transactions"), list):
        return default_resolver(parent, info)
    context_of(info).charge_connection(info)
    return connection(parent["transactions"], first=first, after=after, before=before, last=last)


# -- metadata --------------------------------------------------------------------------------------


def _check_metadata_target(info: GraphQLResolveInfo, linked_type: str, identifier: str) -> None:
    context = context_of(info)
    principal = context.require_principal()
    data = context.state.data
    if linked_type == "ACCOUNT":
        account = data.account(identifier)
        allowed = account is not None and principal.may_see(account)
    else:  # ACCOUNT_USER: an account user may write their own; an organisation any user's
        user = data.user(identifier)
        allowed = user is not None and (principal.kind == "organization" or user.id == principal.id)
    if not allowed:
        raise KrakenAPIError(
            "KT-CT-1111", description=f"You may not change the metadata of {identifier!r}."
        )


@mutation.field("updateMetadata")
def resolve_update_metadata(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    linked_type, identifier = str(input["linkedObjectType"]), str(input["identifier"])
    key, value = str(input["key"]), input["value"]
    _check_metadata_target(info, linked_type, identifier)
    if not isinstance(value, str):
        value = json.dumps(value)
    try:
        json.loads(value)
    except ValueError:
        raise KrakenAPIError(
            "KT-CT-8413", description="`value` must be a valid JSON string."
        ) from None
    context_of(info).state.metadata.set(linked_type, identifier, key, value)
    return {"possibleErrors": [], "metadata": {"key": key, "value": value}}


@account_type.field("metadata")
def resolve_account_metadata(parent: object, info: GraphQLResolveInfo) -> Any:
    if not isinstance(parent, Account):
        return default_resolver(parent, info)
    stored = context_of(info).state.metadata.get("ACCOUNT", parent.number)
    return [{"key": key, "value": value} for key, value in stored.items()]


# -- smart devices ---------------------------------------------------------------------------------


@mutation.field("createSmartDeviceToken")
def resolve_create_smart_device_token(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    context = context_of(info)
    account = visible_account(info, str(input["accountNumber"]))
    state = context.state.devices.create(
        account.number, str(input["deviceType"]), str(input["deviceVendor"]), context.now()
    )
    return {"state": state}


@mutation.field("acquireOauthTokens")
def resolve_acquire_oauth_tokens(
    _: object, info: GraphQLResolveInfo, input: dict[str, Any]
) -> dict[str, Any]:
    context = context_of(info)
    account = visible_account(info, str(input["accountNumber"]))
    if not str(input["authCode"]).strip():
        raise KrakenAPIError(None, "`authCode` must not be empty.", error_type="VALIDATION")
    if not context.state.devices.acquire(account.number, str(input["state"]), context.now()):
        raise KrakenAPIError(
            None,
            "This OAuth state was not issued by createSmartDeviceToken for this account, or it "
            "has expired (after 10 minutes) or been used already.",
            error_type="VALIDATION",
        )
    return {"tokensAcquired": True}


# -- Fan Club, budget ------------------------------------------------------------------------------


@query.field("getFanClubDiscount")
def resolve_fan_club_discount(_: object, info: GraphQLResolveInfo) -> dict[str, Any]:
    return {"discountAmount": fan_club_discount(context_of(info).now_datetime())}


@query.field("rateLimitInfo")
def resolve_rate_limit_info(_: object, info: GraphQLResolveInfo) -> dict[str, Any]:
    context = context_of(info)
    context.require_principal()
    return {"pointsAllowanceRateLimit": context.allowance().to_graphql()}


def us_bindables() -> list[SchemaBindable]:
    return [query, mutation, property_type, account_type, statement_type, meter_point_type]
