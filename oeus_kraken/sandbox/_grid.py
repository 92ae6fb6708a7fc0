"""The made-up Texas grid behind the sandbox: wholesale prices and the share of wind power.

Both are deterministic functions of time (and load zone), so every request, test and process
sees the same grid:

* `wholesale_price(load_zone, start)`: the ERCOT real-time energy price of a 15-minute interval,
  in cents per kWh. A few cents at night, dearer in the evening ramp, and summer afternoons dearest,
  with an occasional scarcity spike. Wholesale (variable-rate) agreements pay it plus an adder.
* `wind_share(when)`: the share of wind generation on the grid in that hour (0..1). Texas wind
  blows hardest at night; each day is windier or calmer than the last.
* `fan_club_discount(when)`: the Fan Club discount that follows it, as the docs describe: 0.0 under
  30 % wind, 0.2 from 30 % to 45 %, 0.5 from 45 %.

`unit_random` is the sandbox's one source of noise: a splitmix64 hash of integers mapped to
[0, 1), cheap enough to call for every interval of a year.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "CENTRAL",
    "fan_club_discount",
    "unit_random",
    "wholesale_price",
    "wind_share",
]

CENTRAL = ZoneInfo("America/Chicago")  # Texas (ERCOT) local time

_MASK = (1 << 64) - 1
_PRICE_PLACES = Decimal("0.0001")
# How much dearer each load zone's energy is than LZ_NORTH, cents per kWh (congestion).
_ZONE_PREMIUM = {"LZ_NORTH": 0.0, "LZ_HOUSTON": 0.25, "LZ_SOUTH": 0.4, "LZ_WEST": -0.3}
_ZONE_SALT = {"LZ_NORTH": 11, "LZ_HOUSTON": 12, "LZ_SOUTH": 13, "LZ_WEST": 14}

FAN_CLUB_TIERS = ((0.45, Decimal("0.5")), (0.30, Decimal("0.2")))  # (wind share from, discount)
NO_DISCOUNT = Decimal("0.0")


def unit_random(*values: int) -> float:
    """A deterministic pseudo-random number in [0, 1) for the integers given (splitmix64)."""
    state = 0x9E3779B97F4A7C15
    for value in values:
        state = (state ^ (value & _MASK)) & _MASK
        state = (state + 0x9E3779B97F4A7C15) & _MASK
        state = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        state = ((state ^ (state >> 27)) * 0x94D049BB133111EB) & _MASK
        state ^= state >> 31
    return (state >> 11) / float(1 << 53)


def _local(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).astimezone(CENTRAL)


def wholesale_price(load_zone: str, start: int) -> Decimal:
    """ERCOT real-time price of the interval starting at Unix time `start`, cents per kWh."""
    local = _local(start)
    hour = local.hour + local.minute / 60
    summer = max(0.0, math.cos(2 * math.pi * (local.month - 7.5) / 12))
    # Cheap nights, an evening ramp every day, and hot summer afternoons on top.
    price = 2.6 + 1.4 * max(0.0, math.cos(2 * math.pi * (hour - 19) / 24))
    price += 9.0 * summer * max(0.0, math.cos(2 * math.pi * (hour - 17) / 12)) ** 3
    day = local.toordinal()
    price *= 0.8 + 0.4 * unit_random(day, 7)  # some days are dearer than others
    price += _ZONE_PREMIUM.get(load_zone, 0.0)
    noise = unit_random(start // 900, _ZONE_SALT.get(load_zone, 10))
    price *= 0.9 + 0.2 * noise
    if noise > 0.997:  # a scarcity spike
        price *= 8
    return Decimal(repr(max(price, 0.5))).quantize(_PRICE_PLACES)


def wind_share(when: datetime) -> float:
    """The share of wind generation on the Texas grid in the hour of `when` (aware), 0..1."""
    local = when.astimezone(CENTRAL)
    day = local.toordinal()
    share = 0.33 + 0.15 * math.cos(2 * math.pi * (local.hour - 2) / 24)
    share += 0.24 * (unit_random(day, 21) - 0.5)  # windier or calmer days
    share += 0.08 * (unit_random(day, local.hour, 22) - 0.5)  # gusts
    return min(0.8, max(0.02, share))


def fan_club_discount(when: datetime) -> Decimal:
    """The Fan Club discount for the hour of `when`: 0.0, 0.2 or 0.5 by the wind share."""
    share = wind_share(when)
    for threshold, discount in FAN_CLUB_TIERS:
        if share >= threshold:
            return discount
    return NO_DISCOUNT
