"""`compare_products`: what a period of stored usage would have cost on every product on offer at
one ESI ID, checked against the API's own figures and the account's bills.

One logic, two drivers. Everything but the requests is plain code: reading the store (before any
request, so that a store without the usage costs nothing), pricing, the checks. The requests are
four independent calls, at most, each made once: the rates in parts and the EFL figures (public),
the account's agreements and its bills (its user or an organisation). The sync client makes them
one after the other; the async one all at once.

    with SyncKrakenClient.from_env() as kraken, UsageStore() as store:
        comparison = compare_products(kraken, store, "10443720004512388")
    comparison = await compare_products(async_kraken, store, "10443720004512388")
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, overload

from .._errors import ConfigurationError
from ..usage import TEXAS, UsageStore
from ..usage._time import no_usage_yet
from ._errors import ComparisonError
from ._models import DEFAULT_NIGHT, Comparison, NightHours, ProductRates, UsageProfile, exact
from ._pricing import bill_check, rank_products
from ._profile import default_period, usage_profile
from ._rates import efl_checks, esi_id_area, product_rates

if TYPE_CHECKING:
    from .._client import KrakenClient, SyncKrakenClient

__all__ = ["acompare_products", "compare_products"]

BILLS_PAGE = 100  # the API's cap on `first`: a year's bills fit in one page
# The store holds Unix times; a period is added up day by day, so it is kept to ten years.
EARLIEST, LATEST = date(1970, 1, 2), date(9998, 12, 30)
LONGEST_PERIOD_DAYS = 3_653


@dataclass(frozen=True)
class _Call:
    method: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True)
class _Plan:
    """What one comparison needs: the stored usage (read already) and the requests to make."""

    esi_id: str
    account_number: str | None
    usage: UsageProfile
    calls: dict[str, _Call] = field(default_factory=dict)


def account_of(store: UsageStore, esi_id: str) -> str | None:
    """The account the store links `esi_id` to; a ConfigurationError when it links several (a
    premise that changed hands): the first by number was taken, its agreement and bills
    checked, whichever was meant."""
    linked = [a for a in store.accounts() if esi_id in store.esi_ids(a)]
    if len(linked) > 1:
        raise ConfigurationError(
            f"the usage store links ESI ID {esi_id} to {len(linked)} accounts "
            f"({', '.join(linked)}): say which one's agreement and bills to check (compare "
            "the account number, or give account_number=)"
        )
    return linked[0] if linked else None


def _check_period(start: date, end: date) -> None:
    if end < start:
        raise ConfigurationError(f"the period ends ({end}) before it starts ({start})")
    if start < EARLIEST or end > LATEST:
        raise ConfigurationError(
            f"the period {start} to {end} is outside the dates a usage store can hold "
            f"({EARLIEST} to {LATEST})"
        )
    if (end - start).days >= LONGEST_PERIOD_DAYS:
        raise ConfigurationError(
            f"the period {start} to {end} is longer than {LONGEST_PERIOD_DAYS:,} days: compare "
            "at most ten years at a time"
        )


@exact  # the store's kWh added up exactly, whatever the caller's decimal context
def _plan(
    store: UsageStore,
    esi_id: str,
    start: date | None,
    end: date | None,
    account_number: str | None,
    night: NightHours,
) -> _Plan:
    if not isinstance(store, UsageStore):  # else an AttributeError ('str' has no 'readings')
        raise ConfigurationError(
            f"store must be an open UsageStore (e.g. UsageStore(path)), not {type(store).__name__}"
        )
    if account_number is not None and not isinstance(account_number, str):
        raise ConfigurationError(
            f"account_number must be an account number string (e.g. 'A-5F3C9D21') or None, not "
            f"{type(account_number).__name__}"
        )
    for bound in (start, end):
        if isinstance(bound, datetime) or not isinstance(bound, date | None):
            raise ConfigurationError(
                f"the period is Texas local dates (datetime.date), not {type(bound).__name__} "
                f"values such as {bound!r}: e.g. date(2026, 1, 31)"
            )
    if not isinstance(night, NightHours):  # else an AttributeError deep in the pricing
        raise ConfigurationError(
            f"night must be NightHours (e.g. NightHours.parse('21:00-06:00')), not {night!r}"
        )
    if (start is None) != (end is None):
        raise ConfigurationError("give both ends of the period (start and end), or neither")
    if start is None or end is None:
        start, end = default_period(store, esi_id)
    _check_period(start, end)
    usage = usage_profile(store, esi_id, start, end, night)
    if not any(day.intervals for day in usage.days):
        advice = no_usage_yet(start, "the period is") or (
            "sync it first (`oeus-kraken usage sync ACCOUNT`, or compare with --sync)"
        )
        raise ComparisonError(
            f"the usage store {store.path} has no usage for ESI ID {esi_id} from {start} to "
            f"{end}: {advice}"
        )
    account = account_number or account_of(store, esi_id)
    calls = {
        "rates": _Call("get_product_rates_for_esi_id", {"esi_id": esi_id}),
        "efl": _Call("get_efl_rates_for_esi_id", {"esi_id": esi_id}),
    }
    if account is not None:
        calls["agreements"] = _Call("get_account_agreements", {"account_number": account})
        calls["bills"] = _Call(
            "get_account_bills",
            {
                "account_number": account,
                "from_date": start,
                "to_date": end + timedelta(days=1),
                "first": BILLS_PAGE,
            },
        )
    return _Plan(esi_id, account, usage, calls)


def _starts(valid_from: datetime | None) -> datetime:
    """When an agreement starts, comparable with any other: one without an offset is Texas local
    time (the API's own zone); one without a start, before all others."""
    if valid_from is None:
        return datetime.min.replace(tzinfo=timezone.utc)
    return valid_from if valid_from.tzinfo is not None else valid_from.replace(tzinfo=TEXAS)


def _current_product(agreements: Any, esi_id: str, now: datetime) -> tuple[str | None, int]:
    """(product code the ESI ID's active agreement names, ESI IDs the agreements cover): the
    latest to have started by `now`. A renewal already signed starts later: the account is not
    on it yet, and every saving set against it was against a product it is not billed on. Only
    when no agreement has started, the first to start."""
    if agreements is None or agreements.account is None:
        return None, 0
    found = [a for a in agreements.account.electricity_agreements or [] if a is not None]
    meters = {a.meter_point.mpan for a in found}
    mine = [a for a in found if a.meter_point.mpan == esi_id and a.tariff is not None]
    mine.sort(key=lambda a: _starts(a.valid_from))
    started = [a for a in mine if _starts(a.valid_from) <= now]
    chosen = started[-1] if started else (mine[0] if mine else None)
    return (chosen.tariff.product_code if chosen else None), len(meters)


def _assumptions(usage: UsageProfile, products: list[ProductRates]) -> tuple[str, ...]:
    said = [
        "Today's rates applied to the period's usage; costs are before tax.",
    ]
    if any(p.time_of_use for p in products):
        said.append(
            f"Time-of-use NIGHT band assumed to be {usage.night} local time, every day (the API "
            "names the bands but not their hours); every other hour is DAY."
        )
    if any(p.wholesale for p in products):
        said.append(
            "Wholesale products are priced at the energy rate the API quotes for them (a typical "
            "month's average); a wholesale bill follows ERCOT's price every 15 minutes."
        )
    if any(m.partial for m in usage.months):
        said.append("A month the period cuts is charged its monthly charges prorated by its days.")
    gaps = [m for m in usage.months if m.missing_intervals]
    if gaps:
        said.append(
            f"{sum(m.missing_intervals for m in gaps):,} intervals are missing in {len(gaps)} "
            "month(s): those months are priced from the intervals stored, and flagged."
        )
    return tuple(said)


@exact
def _build(plan: _Plan, answers: Mapping[str, Any]) -> Comparison:
    provider, zone = esi_id_area(answers["efl"], answers["rates"])
    products = product_rates(answers["rates"], provider, zone)
    if not products:
        raise ComparisonError(
            f"the API offers no product with rates at ESI ID {plan.esi_id}: check the ESI ID "
            "(`oeus-kraken esi ESI_ID` shows its premise)"
        )
    made_at = datetime.now(timezone.utc)
    current_code, meters = _current_product(answers.get("agreements"), plan.esi_id, made_at)
    ranked = rank_products(products, plan.usage, current_code)
    current = next((p for p in ranked if p.current), None)
    skipped = None
    if plan.account_number is None:
        skipped = "no account is linked to this ESI ID in the store (give the account)"
    elif meters > 1:
        skipped = f"the account's bills cover its {meters} ESI IDs; this comparison is for one"
    return Comparison(
        esi_id=plan.esi_id,
        account_number=plan.account_number,
        service_provider=provider,
        load_zone=zone,
        usage=plan.usage,
        products=ranked,
        current_product_code=current_code,
        efl=efl_checks(answers["efl"], [p.rates for p in ranked], provider),
        bills=bill_check(answers.get("bills"), current, plan.usage, skipped),
        assumptions=_assumptions(plan.usage, products),
        requests=len(plan.calls),
        made_at=made_at,
    )


def _compare_blocking(client: Any, plan: _Plan) -> Comparison:
    answers = {name: getattr(client, c.method)(**c.arguments) for name, c in plan.calls.items()}
    return _build(plan, answers)


async def _compare_async(client: Any, read: Callable[[], _Plan]) -> Comparison:
    # Reading and adding up a year of the store takes a while: in a worker thread, as a usage
    # sync's store writes, so the event loop serves other tasks meanwhile.
    plan = await asyncio.to_thread(read)
    names = list(plan.calls)
    results = await asyncio.gather(
        *(getattr(client, plan.calls[n].method)(**plan.calls[n].arguments) for n in names)
    )
    return _build(plan, dict(zip(names, results, strict=True)))


def _is_async(client: object) -> bool:
    """Whether `client` is an async Kraken client (its methods are coroutine functions); a
    ConfigurationError when it is no Kraken client at all (None, a URL, the store)."""
    method = getattr(client, "get_product_rates_for_esi_id", None)
    if not callable(method):  # else an AttributeError after the store was read
        raise ConfigurationError(
            f"client must be a KrakenClient or SyncKrakenClient, not {type(client).__name__}"
        )
    return inspect.iscoroutinefunction(method)


@overload
def compare_products(
    client: SyncKrakenClient,
    store: UsageStore,
    esi_id: str,
    start: date | None = None,
    end: date | None = None,
    *,
    account_number: str | None = None,
    night: NightHours = DEFAULT_NIGHT,
) -> Comparison: ...
@overload
def compare_products(
    client: KrakenClient,
    store: UsageStore,
    esi_id: str,
    start: date | None = None,
    end: date | None = None,
    *,
    account_number: str | None = None,
    night: NightHours = DEFAULT_NIGHT,
) -> Coroutine[Any, Any, Comparison]: ...
def compare_products(
    client: SyncKrakenClient | KrakenClient,
    store: UsageStore,
    esi_id: str,
    start: date | None = None,
    end: date | None = None,
    *,
    account_number: str | None = None,
    night: NightHours = DEFAULT_NIGHT,
) -> Comparison | Coroutine[Any, Any, Comparison]:
    """What `esi_id`'s stored usage from local date `start` to `end` (both included; default:
    the last 12 whole months the store holds) would have cost on every product on offer there.

    With a `SyncKrakenClient` it returns the `Comparison`; with a `KrakenClient`, a coroutine
    to await (or use `acompare_products`), which reads the store in a worker thread and raises
    what it raises when awaited. `account_number` is the ESI ID's account (default:
    the one the store links it to; a ConfigurationError when it links several), whose agreement
    names the current product and whose bills are checked; `night` the hours of a time-of-use
    product's NIGHT band (an assumption: the API does not state them). Makes at most 4
    requests, one of each kind; reads usage only from the store (sync it first:
    `oeus_kraken.usage.sync_usage_blocking`).
    """
    read = functools.partial(_plan, store, esi_id, start, end, account_number, night)
    if _is_async(client):
        return _compare_async(client, read)
    return _compare_blocking(client, read())


async def acompare_products(
    client: KrakenClient,
    store: UsageStore,
    esi_id: str,
    start: date | None = None,
    end: date | None = None,
    *,
    account_number: str | None = None,
    night: NightHours = DEFAULT_NIGHT,
) -> Comparison:
    """`compare_products` for the async client, as a coroutine function."""
    if not _is_async(client):  # else its requests blocked the event loop, then a TypeError
        raise ConfigurationError(
            "acompare_products takes the async KrakenClient; with a SyncKrakenClient, call "
            "compare_products"
        )
    read = functools.partial(_plan, store, esi_id, start, end, account_number, night)
    return await _compare_async(client, read)
