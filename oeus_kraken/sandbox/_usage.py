"""Interval usage for every seeded ESI ID: 15-minute readings made up on demand, delivered late,
revised and missing the way integrators report of real Kraken meters.

Nothing is stored. An interval's true value is a function of its ESI ID and start time (a daily and
seasonal shape of a Texas home, scaled per ESI ID, with deterministic noise), and what the API shows
of it is a function of that value, the sandbox clock and the usage knobs. So a year (35,040
intervals per ESI ID) costs nothing until asked for, and the same question gets the same answer.

History starts at `USAGE_START` (2025-12-01, Texas time) and runs up to the sandbox's present:

* Delivery. Readings arrive in batches every 4 hours (00:00, 04:00, ... UTC), carrying every
  interval that ended at least 2 hours before. `readAt` is when an interval was delivered (or
  revised).
* Late intervals. A share of intervals (`SEEDED_LATE_SHARE`, 1 %) arrive `LATE_DELAY` (2 days)
  after their batch: until sandbox time passes that point they are simply absent.
* The gap. `GAP_INTERVALS` intervals from `GAP_START` (2026-07-14 13:00 CDT, a summer afternoon) are
  never delivered, for every ESI ID, until `UsageFeed.fill_gap` (SandboxServer.fill_usage_gap, or
  POST /sandbox/usage {"fill_gap": true}) delivers them at that moment.
* Churn. `UsageFeed.set_churn(late_share, revised_share)` (SandboxServer.set_usage_churn) changes,
  from that moment on, the share of intervals that arrive late and the share that are revised: a
  revised interval first arrives as an ESTIMATE with a value up to 20 % off, and `REVISION_DELAY`
  (2 days) after its delivery the ACTUAL value replaces it (with a new `readAt`). Nothing already
  delivered changes or disappears when the knob moves: each interval is judged by the settings in
  force when it was due (late) or delivered (revised). The seeded settings revise nothing.

Texas local days are America/Chicago days, so one has 92, 96 or 100 intervals; `measurements`
takes `timezone` for its day boundaries (`startOn`/`endOn`, DAY_INTERVAL totals) and answers times
in that zone. Values are kWh with three decimals. Wholesale meters (the account on the wholesale
product) carry a CONSUMPTION_COST statistic per interval, in cents, at the ERCOT price plus an
adder plus the TDSP's delivery rate; others carry none, as Kraken gives costs only for wholesale
agreements.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import functools
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ._data import MONTHLY_KWH, SandboxData, tdsp_for_esi_id
from ._errors import KrakenAPIError
from ._grid import CENTRAL, unit_random, wholesale_price

__all__ = [
    "GAP_INTERVALS",
    "GAP_START",
    "INTERVAL_SECONDS",
    "LATE_DELAY",
    "MAX_MEASUREMENTS_PAGE",
    "REVISION_DELAY",
    "SEEDED_LATE_SHARE",
    "USAGE_START",
    "Delivered",
    "FeedSettings",
    "Meter",
    "UsageFeed",
    "daily_readings",
    "expected_annual_kwh",
    "interval_readings",
    "measurements_connection",
    "meters",
    "publication_time",
]

INTERVAL_SECONDS = 900
USAGE_START = int(datetime(2025, 12, 1, tzinfo=CENTRAL).timestamp())
PUBLISH_EVERY = 4 * 3600
PUBLISH_LAG = 2 * 3600
LATE_DELAY = 2 * 86400
REVISION_DELAY = 2 * 86400
GAP_START = int(datetime(2026, 7, 14, 13, 0, tzinfo=CENTRAL).timestamp())
GAP_INTERVALS = 8
SEEDED_LATE_SHARE = 0.01
MAX_MEASUREMENTS_PAGE = 100
MAX_INTERVAL_READINGS_WINDOW = 25 * 3600  # the docs say 24 h; 25 lets a whole local day fit
MAX_DAILY_READINGS_WINDOW = 400 * 86400

UNIT = "kwh"
SOURCE = "ERCOT_AMS"  # interval data from the TDSP's advanced meter, via ERCOT
WHOLESALE_ADDER = Decimal("1.5000")  # cents per kWh on top of the ERCOT price
GROSS_RECEIPTS = Decimal("1.01997")  # the tax factor the sandbox's bills use too
_KWH = Decimal("0.001")
_CENTS = Decimal("0.0001")
_SALT_NOISE, _SALT_LATE, _SALT_REVISED, _SALT_ESTIMATE, _SALT_DAY = 1, 2, 3, 4, 5
_CURSOR_PREFIX = "measurement:"
_FREQUENCIES = {
    "RAW_INTERVAL": INTERVAL_SECONDS,
    "FIFTEEN_MIN_INTERVAL": INTERVAL_SECONDS,
    "THIRTY_MIN_INTERVAL": 1800,
    "HOUR_INTERVAL": 3600,
    "DAY_INTERVAL": 0,  # local days of `timezone`
}


def publication_time(end: int) -> int:
    """When an interval ending at `end` is delivered: the first 4-hourly batch 2 hours on."""
    due = end + PUBLISH_LAG
    return -(-due // PUBLISH_EVERY) * PUBLISH_EVERY


def _in_gap(start: int) -> bool:
    return GAP_START <= start < GAP_START + GAP_INTERVALS * INTERVAL_SECONDS


# -- the knobs -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedEpoch:
    """Delivery settings in force from `since` (sandbox time) until the next epoch."""

    since: float
    late_share: float
    revised_share: float


@dataclass(frozen=True)
class FeedSettings:
    """The usage knobs' history, as one request sees it."""

    epochs: tuple[FeedEpoch, ...] = (FeedEpoch(-math.inf, SEEDED_LATE_SHARE, 0.0),)
    gap_filled_at: float | None = None

    def at(self, when: float) -> FeedEpoch:
        """The settings for something due at `when`: those set strictly before it."""
        current = self.epochs[0]
        for epoch in self.epochs:
            if epoch.since >= when:
                break
            current = epoch
        return current

    def to_json(self) -> dict[str, Any]:
        latest = self.epochs[-1]
        return {
            "late_share": latest.late_share,
            "revised_share": latest.revised_share,
            "since": None if math.isinf(latest.since) else latest.since,
            "gap_start": datetime.fromtimestamp(GAP_START, tz=timezone.utc).isoformat(),
            "gap_intervals": GAP_INTERVALS,
            "gap_filled_at": self.gap_filled_at,
        }


def _share(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")
    return float(value)


class UsageFeed:
    """The usage knobs of one sandbox server (thread-safe: the server thread reads them while a
    test thread turns them)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings = FeedSettings()

    @property
    def settings(self) -> FeedSettings:
        with self._lock:
            return self._settings

    def set_churn(
        self, now: float, *, late_share: object = 0.05, revised_share: object = 0.05
    ) -> FeedSettings:
        """From `now` on, `late_share` of intervals arrive LATE_DELAY late and `revised_share`
        are first delivered as estimates, then revised REVISION_DELAY later."""
        epoch = FeedEpoch(
            now, _share("late_share", late_share), _share("revised_share", revised_share)
        )
        with self._lock:
            kept = tuple(e for e in self._settings.epochs if e.since < now)
            self._settings = replace(self._settings, epochs=(*kept, epoch))
            return self._settings

    def fill_gap(self, now: float) -> FeedSettings:
        """Deliver the gap's intervals at `now` (a no-op once filled)."""
        with self._lock:
            if self._settings.gap_filled_at is None:
                self._settings = replace(self._settings, gap_filled_at=now)
            return self._settings

    def reset(self) -> None:
        with self._lock:
            self._settings = FeedSettings()


# -- meters and their true values ------------------------------------------------------------------


@dataclass(frozen=True)
class Meter:
    """One ESI ID's meter: what its usage looks like and how it is priced."""

    esi_id: str
    load_zone: str
    delivery_rate: Decimal  # the TDSP's cents per kWh
    wholesale: bool  # on a wholesale agreement: its measurements carry costs

    @functools.cached_property
    def seed(self) -> int:
        return int(self.esi_id) if self.esi_id.isdigit() else hash(self.esi_id)

    @functools.cached_property
    def scale(self) -> float:
        """This home against a typical North Texas one (0.7 .. 1.3)."""
        return 0.7 + 0.6 * unit_random(self.seed, 0)

    @property
    def device_id(self) -> str:
        return f"{self.esi_id[-9:]}LG"

    @functools.cached_property
    def register_start(self) -> Decimal:
        """The meter's register (kWh) at USAGE_START."""
        return Decimal(10_000 + int(40_000 * unit_random(self.seed, 6)))


def meters(data: SandboxData) -> dict[str, Meter]:
    """The meter of every seeded ESI ID. Accounts on a wholesale product have wholesale meters."""
    found = {}
    for account in data.accounts:
        product = data.product(account.product_id)
        for prop in account.properties:
            for esi_id in prop.esi_ids:
                tdsp = tdsp_for_esi_id(esi_id)
                if tdsp is None:
                    continue
                found[esi_id] = Meter(
                    esi_id,
                    tdsp.load_zone,
                    tdsp.consumption_rate,
                    wholesale=product is not None and product.is_wholesale,
                )
    return found


def _shape(hour: float, month: int) -> float:
    """Relative demand at a local hour of day: each shape averages 1 over a day."""
    summer = max(0.0, math.cos(2 * math.pi * (month - 7.5) / 12))
    winter = max(0.0, math.cos(2 * math.pi * (month - 1) / 12))
    mild = max(0.0, 1 - summer - winter)
    total = summer + winter + mild
    air_conditioning = 1 + 0.55 * math.cos(2 * math.pi * (hour - 17) / 24)
    heating = 1 + 0.3 * math.cos(2 * math.pi * (hour - 7) / 12)
    evenings = 1 + 0.25 * math.cos(2 * math.pi * (hour - 19) / 24)
    return (summer * air_conditioning + winter * heating + mild * evenings) / total


@functools.lru_cache(maxsize=8192)
def _day_kwh(meter: Meter, ordinal: int) -> float:
    """The usage a local day of this meter aims at: the month's, weather and weekends aside."""
    day = date.fromordinal(ordinal)
    monthly = MONTHLY_KWH[day.month - 1] / calendar.monthrange(day.year, day.month)[1]
    weather = 0.85 + 0.3 * unit_random(ordinal, _SALT_DAY)  # the same weather for everyone
    own = 0.95 + 0.1 * unit_random(meter.seed, ordinal, _SALT_DAY)
    weekend = 1.06 if day.weekday() >= 5 else 1.0
    return monthly * meter.scale * weather * own * weekend


def true_value(meter: Meter, start: int) -> Decimal:
    """The interval's actual usage in kWh."""
    local = datetime.fromtimestamp(start, tz=CENTRAL)
    hour = local.hour + (local.minute + 7.5) / 60
    noise = 0.8 + 0.4 * unit_random(meter.seed, start // INTERVAL_SECONDS, _SALT_NOISE)
    kwh = _day_kwh(meter, local.toordinal()) / 96 * _shape(hour, local.month) * noise
    return Decimal(repr(kwh)).quantize(_KWH)


def _estimate(meter: Meter, start: int, actual: Decimal) -> Decimal:
    """What a revised interval showed before its revision: up to 20 % off."""
    factor = 0.8 + 0.4 * unit_random(meter.seed, start // INTERVAL_SECONDS, _SALT_ESTIMATE)
    return (actual * Decimal(repr(factor))).quantize(_KWH)


def expected_annual_kwh(meter: Meter) -> Decimal:
    """About what this meter uses in a year, kWh (what a quote assumes when not told)."""
    return Decimal(round(sum(MONTHLY_KWH) * meter.scale))


def price(meter: Meter, start: int) -> Decimal:
    """What a wholesale agreement pays for this interval's energy, cents per kWh."""
    return wholesale_price(meter.load_zone, start) + WHOLESALE_ADDER + meter.delivery_rate


# -- what has been delivered -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    start: int
    value: Decimal
    read_at: int
    estimated: bool


def reading(meter: Meter, start: int, now: float, feed: FeedSettings) -> Reading | None:
    """The interval as the API shows it at `now`, or None while it is not delivered."""
    if start < USAGE_START:
        return None
    index = start // INTERVAL_SECONDS
    normal = publication_time(start + INTERVAL_SECONDS)
    if _in_gap(start):
        if feed.gap_filled_at is None or feed.gap_filled_at > now:
            return None
        delivered = max(normal, int(feed.gap_filled_at))
    elif unit_random(meter.seed, index, _SALT_LATE) < feed.at(normal).late_share:
        delivered = normal + LATE_DELAY
    else:
        delivered = normal
    if delivered > now:
        return None
    value = true_value(meter, start)
    revised_at = delivered + REVISION_DELAY
    if unit_random(meter.seed, index, _SALT_REVISED) < feed.at(delivered).revised_share:
        if revised_at > now:
            return Reading(start, _estimate(meter, start, value), delivered, estimated=True)
        return Reading(start, value, revised_at, estimated=False)
    return Reading(start, value, delivered, estimated=False)


@dataclass(frozen=True)
class Delivered:
    """Which intervals one meter has delivered at one instant.

    Every interval from USAGE_START up to `horizon` (exclusive) is delivered except those in
    `missing`, and is ACTUAL except those in `estimated`. Both sets are small: they can only hold
    the gap and intervals of the last few days.
    """

    meter: Meter
    now: float
    feed: FeedSettings
    horizon: int
    missing: frozenset[int]
    estimated: frozenset[int]

    @classmethod
    def at(cls, meter: Meter, now: float, feed: FeedSettings) -> Delivered:
        # Intervals that are normally delivered by now: they ended 2 hours before the last batch.
        horizon = int(now) // PUBLISH_EVERY * PUBLISH_EVERY - PUBLISH_LAG
        horizon = max(horizon, USAGE_START)
        # Before this, nothing can still be late or awaiting its revision.
        settled = horizon - LATE_DELAY - REVISION_DELAY - PUBLISH_EVERY - INTERVAL_SECONDS
        settled = max(USAGE_START, settled // INTERVAL_SECONDS * INTERVAL_SECONDS)
        candidates = [
            *range(settled, horizon, INTERVAL_SECONDS),
            *range(GAP_START, GAP_START + GAP_INTERVALS * INTERVAL_SECONDS, INTERVAL_SECONDS),
        ]
        missing, estimated = set(), set()
        for start in candidates:
            if not USAGE_START <= start < horizon:
                continue
            shown = reading(meter, start, now, feed)
            if shown is None:
                missing.add(start)
            elif shown.estimated:
                estimated.add(start)
        return cls(meter, now, feed, horizon, frozenset(missing), frozenset(estimated))

    def reading(self, start: int) -> Reading | None:
        if not USAGE_START <= start < self.horizon or start in self.missing:
            return None
        return reading(self.meter, start, self.now, self.feed)


# -- groupings: 15-minute intervals, half hours, hours, local days --------------------------------


class Grouping(Protocol):
    frequency: str

    def floor(self, when: int) -> int: ...
    def after(self, start: int) -> int: ...  # the end of the group starting at `start`
    def ceil(self, when: int) -> int: ...


@dataclass(frozen=True)
class FixedGrouping:
    frequency: str
    seconds: int

    def floor(self, when: int) -> int:
        return when // self.seconds * self.seconds

    def after(self, start: int) -> int:
        return start + self.seconds

    def ceil(self, when: int) -> int:
        return -(-when // self.seconds) * self.seconds

    def count(self, low: int, high: int) -> int:
        return max(0, (self.floor(high) - self.ceil(low)) // self.seconds)


@dataclass(frozen=True)
class LocalDays:
    zone: ZoneInfo
    frequency: str = "DAY_INTERVAL"

    def _midnight(self, day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=self.zone).timestamp())

    def floor(self, when: int) -> int:
        return self._midnight(datetime.fromtimestamp(when, tz=self.zone).date())

    def after(self, start: int) -> int:
        day = datetime.fromtimestamp(start, tz=self.zone).date()
        return self._midnight(day + timedelta(days=1))

    def ceil(self, when: int) -> int:
        start = self.floor(when)
        return start if start == when else self.after(start)

    def count(self, low: int, high: int) -> int:
        start, n = self.ceil(low), 0
        while self.after(start) <= high:
            start, n = self.after(start), n + 1
        return n


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise KrakenAPIError(
            None,
            f"Unknown timezone {name!r}: use an IANA name such as 'America/Chicago'.",
            error_type="VALIDATION",
        ) from None


def _grouping(frequency: str, zone: ZoneInfo) -> FixedGrouping | LocalDays:
    if frequency == "FIVE_MIN_INTERVAL":
        raise KrakenAPIError(
            None, "FIVE_MIN_INTERVAL readings are not supported in ERCOT.", error_type="VALIDATION"
        )
    seconds = _FREQUENCIES.get(frequency)
    if seconds is None:
        raise KrakenAPIError(
            None,
            f"readingFrequencyType {frequency} is not available; the sandbox answers "
            f"{', '.join(_FREQUENCIES)}.",
            error_type="VALIDATION",
        )
    return LocalDays(zone) if seconds == 0 else FixedGrouping(frequency, seconds)


# -- measurements: a Relay connection -------------------------------------------------------------


def _cursor(start: int) -> str:
    return base64.b64encode(f"{_CURSOR_PREFIX}{start}".encode()).decode("ascii")


def _cursor_start(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
        if not text.startswith(_CURSOR_PREFIX):
            raise ValueError(text)
        return int(text[len(_CURSOR_PREFIX) :])
    except (ValueError, UnicodeError, binascii.Error):
        raise KrakenAPIError(
            None, f"Invalid cursor for `after`: {cursor!r}.", error_type="VALIDATION"
        ) from None


def check_page_size(first: int | None, last: int | None, before: str | None) -> int:
    """`first` as measurements require it: given, and 1 to 100 (KT-CT-1201 otherwise)."""
    if last is not None or before is not None:
        raise KrakenAPIError(
            "KT-CT-1201",
            "The sandbox pages measurements forwards only: use `first` and `after`.",
        )
    if first is None:
        raise KrakenAPIError(
            "KT-CT-1201", "`first` is required on measurements, at most 100 per page."
        )
    if not 1 <= first <= MAX_MEASUREMENTS_PAGE:
        raise KrakenAPIError(
            "KT-CT-1201",
            f"Invalid pagination parameters: `first` must be 1 to {MAX_MEASUREMENTS_PAGE}, "
            f"got {first}.",
        )
    return first


@dataclass(frozen=True)
class ElectricityFilter:
    """What one `utilityFilters` entry asks of an electricity meter."""

    frequency: str = "RAW_INTERVAL"
    esi_id: str | None = None
    device_id: str | None = None
    register_id: str | None = None
    direction: str = "CONSUMPTION"
    quality: str = "COMBINED"

    def matches(self, meter: Meter) -> bool:
        return (
            (self.esi_id is None or self.esi_id == meter.esi_id)
            and (self.device_id is None or self.device_id == meter.device_id)
            and self.register_id is None
            and self.direction == "CONSUMPTION"  # no seeded home generates
        )


def electricity_filter(
    utility_filters: Sequence[Mapping[str, Any] | None] | None, meter: Meter
) -> ElectricityFilter | None:
    """The filter that applies to `meter`, or None if the filters exclude it."""
    if not utility_filters:
        return ElectricityFilter()
    for entry in utility_filters:
        fields = (entry or {}).get("electricityFilters")
        if fields is None:
            continue  # a gas filter: Texas homes in the sandbox have no gas meters
        candidate = ElectricityFilter(
            frequency=fields.get("readingFrequencyType") or "RAW_INTERVAL",
            esi_id=fields.get("marketSupplyPointId"),
            device_id=fields.get("deviceId"),
            register_id=fields.get("registerId"),
            direction=fields.get("readingDirection") or "CONSUMPTION",
            quality=fields.get("readingQuality") or "COMBINED",
        )
        if candidate.quality == "ESTIMATE":
            raise KrakenAPIError(
                None,
                "The sandbox filters readingQuality ACTUAL or COMBINED only.",
                error_type="VALIDATION",
            )
        if candidate.matches(meter):
            return candidate
    return None


def _local_midnight(day: date, zone: ZoneInfo) -> int:
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp())


def _instant(value: datetime | str) -> float:
    """A DateTime argument as Unix time. The schema's own defaults (the far past and future)
    arrive as strings: SDL defaults are read before the sandbox's scalars are bound."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        return value.timestamp()
    except (OverflowError, ValueError):  # year 1 or 9999 with an offset
        return -(2.0**62) if value.year < 1970 else 2.0**62


def _bounds(
    start_at: datetime | str | None,
    end_at: datetime | str | None,
    start_on: date | None,
    end_on: date | None,
    zone: ZoneInfo,
) -> tuple[int, int]:
    low, high = -(2**62), 2**62
    if start_at is not None:
        low = max(low, math.ceil(_instant(start_at)))
    if end_at is not None:
        high = min(high, math.floor(_instant(end_at)))
    if start_on is not None:
        low = max(low, _local_midnight(start_on, zone))
    if end_on is not None:
        high = min(high, _local_midnight(end_on + timedelta(days=1), zone))
    return low, high


def _empty_connection() -> dict[str, Any]:
    return {
        "edges": [],
        "pageInfo": {
            "hasNextPage": False,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
        "totalCount": 0,
        "edgeCount": 0,
    }


def _statistic(value: Decimal, cost: Decimal) -> dict[str, Any]:
    unit_price = (cost / value).quantize(_CENTS) if value else Decimal("0.0000")

    def money(amount: Decimal, per_unit: Decimal) -> dict[str, Any]:
        return {
            "estimatedAmount": amount.quantize(_CENTS),
            "costCurrency": "USD",
            "pricePerUnit": {"amount": per_unit.quantize(_CENTS), "unit": "KILOWATT_HOURS"},
        }

    return {
        "type": "CONSUMPTION_COST",
        "label": "Consumption cost",
        "description": "Energy at the ERCOT price plus the product adder and TDSP delivery, cents.",
        "value": value,
        "costExclTax": money(cost, unit_price),
        "costInclTax": money(cost * GROSS_RECEIPTS, unit_price * GROSS_RECEIPTS),
    }


def _node(
    delivered: Delivered, grouping: FixedGrouping | LocalDays, start: int, zone: ZoneInfo
) -> dict[str, Any] | None:
    """The measurement for the group starting at `start`, or None if not all of it is delivered."""
    end = grouping.after(start)
    meter = delivered.meter
    total, cost, read_at, estimated = Decimal(0), Decimal(0), 0, False
    for interval in range(start, end, INTERVAL_SECONDS):
        shown = delivered.reading(interval)
        if shown is None:
            return None
        total += shown.value
        read_at = max(read_at, shown.read_at)
        estimated = estimated or shown.estimated
        if meter.wholesale:
            cost += shown.value * price(meter, interval)
    return {
        "__typename": "IntervalMeasurementType",
        "startAt": datetime.fromtimestamp(start, tz=zone),
        "endAt": datetime.fromtimestamp(end, tz=zone),
        "durationInSeconds": end - start,
        "value": total,
        "unit": UNIT,
        "source": SOURCE,
        "readAt": datetime.fromtimestamp(read_at, tz=zone),
        "accumulation": None,
        "metaData": {
            "utilityFilters": {
                "__typename": "ElectricityFiltersOutput",
                "readingDirection": "CONSUMPTION",
                "registerId": None,
                "readingQuality": "ESTIMATE" if estimated else "ACTUAL",
                "readingFrequencyType": grouping.frequency,
                "marketSupplyPointId": meter.esi_id,
                "deviceId": meter.device_id,
            },
            "typedSource": None,
            "statistics": [_statistic(total, cost)] if meter.wholesale else [],
        },
    }


def measurements_connection(
    meter: Meter | None,
    *,
    now: float,
    feed: FeedSettings,
    first: int,
    after: str | None,
    start_at: datetime | str | None,
    end_at: datetime | str | None,
    start_on: date | None,
    end_on: date | None,
    timezone_name: str,
    utility_filters: Sequence[Mapping[str, Any] | None] | None,
) -> dict[str, Any]:
    """One page of a property's `measurements`, oldest first (a MeasurementConnection value)."""
    zone = _zone(timezone_name)
    chosen = electricity_filter(utility_filters, meter) if meter is not None else None
    if meter is None or chosen is None:
        return _empty_connection()
    grouping = _grouping(chosen.frequency, zone)
    delivered = Delivered.at(meter, now, feed)
    excluded = delivered.missing | (delivered.estimated if chosen.quality == "ACTUAL" else set())
    if excluded != delivered.missing:
        delivered = replace(delivered, missing=frozenset(excluded))
    low, high = _bounds(start_at, end_at, start_on, end_on, zone)
    low, high = max(low, USAGE_START), min(high, delivered.horizon)

    first_group = grouping.ceil(low)
    start = first_group if after is None else max(first_group, grouping.after(_cursor_start(after)))
    nodes: list[tuple[int, dict[str, Any]]] = []
    while len(nodes) <= first and grouping.after(start) <= high:
        node = _node(delivered, grouping, start, zone)
        if node is not None:
            nodes.append((start, node))
        start = grouping.after(start)
    has_next = len(nodes) > first
    edges = [{"cursor": _cursor(s), "node": node} for s, node in nodes[:first]]

    incomplete = {grouping.floor(s) for s in excluded}
    incomplete = {g for g in incomplete if g >= first_group and grouping.after(g) <= high}
    total = grouping.count(low, high) - len(incomplete) if high > low else 0
    return {
        "edges": edges,
        "pageInfo": {
            "hasNextPage": has_next,
            "hasPreviousPage": after is not None,
            "startCursor": edges[0]["cursor"] if edges else None,
            "endCursor": edges[-1]["cursor"] if edges else None,
        },
        "totalCount": max(0, total),
        "edgeCount": len(edges),
    }


# -- intervalReadings and dailyReadings ------------------------------------------------------------


def _window(
    from_datetime: datetime, to_datetime: datetime, limit: int, what: str
) -> tuple[int, int]:
    low, high = math.ceil(from_datetime.timestamp()), math.floor(to_datetime.timestamp())
    if high <= low:
        raise KrakenAPIError(
            None, f"{what}: toDatetime must be after fromDatetime.", error_type="VALIDATION"
        )
    if high - low > limit:
        raise KrakenAPIError(
            None,
            f"{what} covers at most {limit // 3600} hours; use dailyReadings or measurements "
            "for longer spans.",
            error_type="VALIDATION",
        )
    return low, high


def interval_readings(
    meter: Meter, *, now: float, feed: FeedSettings, from_datetime: datetime, to_datetime: datetime
) -> list[dict[str, Any]]:
    """`intervalReadings`: the delivered 15-minute intervals inside the window, with the
    wholesale price (cents per kWh) for wholesale meters and null for the others."""
    low, high = _window(
        from_datetime, to_datetime, MAX_INTERVAL_READINGS_WINDOW, "intervalReadings"
    )
    delivered = Delivered.at(meter, now, feed)
    rows = []
    for start in range(-(-low // INTERVAL_SECONDS) * INTERVAL_SECONDS, high, INTERVAL_SECONDS):
        if start + INTERVAL_SECONDS > high:
            break
        shown = delivered.reading(start)
        if shown is None:
            continue
        rows.append(
            {
                "meterPointId": meter.esi_id,
                "fromDatetime": datetime.fromtimestamp(start, tz=CENTRAL),
                "toDatetime": datetime.fromtimestamp(start + INTERVAL_SECONDS, tz=CENTRAL),
                "consumption": shown.value,
                "price": wholesale_price(meter.load_zone, start) if meter.wholesale else None,
            }
        )
    return rows


_registers_lock = threading.Lock()
_registers: dict[str, list[Decimal]] = {}  # ESI ID -> register at the end of each day from start


def day_usage(meter: Meter, day: date) -> Decimal:
    """A local (Texas) day's actual usage, kWh: what the meter's register advanced by."""
    start = _local_midnight(day, CENTRAL)
    end = _local_midnight(day + timedelta(days=1), CENTRAL)
    return sum(
        (true_value(meter, s) for s in range(start, end, INTERVAL_SECONDS)), start=Decimal(0)
    )


def _register(meter: Meter, day: date) -> Decimal:
    first_day = datetime.fromtimestamp(USAGE_START, tz=CENTRAL).date()
    index = (day - first_day).days
    with _registers_lock:
        readings = _registers.setdefault(meter.esi_id, [])
        while len(readings) <= index:
            before = readings[-1] if readings else meter.register_start
            readings.append(before + day_usage(meter, first_day + timedelta(days=len(readings))))
        return readings[index]


def _days(low: int, high: int) -> Iterator[date]:
    day = datetime.fromtimestamp(low, tz=CENTRAL).date()
    while _local_midnight(day, CENTRAL) < high:
        yield day
        day += timedelta(days=1)


def daily_readings(
    meter: Meter, *, now: float, from_datetime: datetime, to_datetime: datetime
) -> list[dict[str, Any]]:
    """`dailyReadings`: one row per local day overlapping the window whose register read has been
    delivered: `dailyUsage` kWh and `meterReading`, the register (kWh) at the day's end."""
    low, high = _window(from_datetime, to_datetime, MAX_DAILY_READINGS_WINDOW, "dailyReadings")
    rows = []
    for day in _days(max(low, USAGE_START), high):
        end = _local_midnight(day + timedelta(days=1), CENTRAL)
        if publication_time(end) > now:
            break
        rows.append(
            {
                "meterPointId": meter.esi_id,
                "readAt": datetime.fromtimestamp(end, tz=CENTRAL),
                "meterReading": _register(meter, day),
                "dailyUsage": day_usage(meter, day),
                "source": SOURCE,
            }
        )
    return rows
