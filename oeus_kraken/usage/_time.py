"""Texas local days, and the UTC instants they start and end at.

The store keeps every interval in UTC; people ask for days. A Texas day is a day in
America/Chicago, so it is 23, 24 or 25 hours long and holds 92, 96 or 100 fifteen-minute
intervals (the spring-forward and fall-back days). Every conversion between the two goes through
here, so that export, status and chart agree on where a day begins.

Chicago's UTC offsets are whole hours (-6 and -5), so a local hour starts on a UTC hour and a
15-minute slot is the same slot in either clock: only days need the time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from .._errors import ConfigurationError
from ._errors import UsageStoreError

__all__ = [
    "INTERVAL",
    "TEXAS",
    "instant",
    "intervals_in_day",
    "local_date",
    "local_day_bounds",
    "local_days",
    "local_minute",
    "local_range_bounds",
    "no_usage_yet",
    "to_local",
]

TEXAS = ZoneInfo("America/Chicago")
"""The time zone of Texas local dates (ERCOT), as the API and its users mean them."""

INTERVAL = timedelta(minutes=15)
"""The length of one interval reading in ERCOT."""


def _local_date(day: object) -> date:
    """`day` if it is a date; text, or a datetime (a date too, to Python: its own date was taken,
    not the Texas one: 21:00 in Texas is the next day in UTC), said as what to give."""
    if not isinstance(day, date) or isinstance(day, datetime):
        raise ConfigurationError(
            f"a Texas local date is a datetime.date, not {day!r}: give date(2026, 3, 8), or "
            "local_date(instant) for the Texas date of an aware datetime"
        )
    return day


def _check_range(first: object, last: object) -> None:
    """Two Texas local dates, `last` not before `first`."""
    if _local_date(last) < _local_date(first):
        raise ConfigurationError(f"the date range ends ({last}) before it starts ({first})")


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants a Texas local day starts and ends at: [start, end).

    Midnight exists exactly once on every Chicago day (DST changes at 02:00), so this is never
    ambiguous. The last day a date can name (9999-12-31) has no next midnight: refused.
    """
    if _local_date(day) >= date.max:
        raise ConfigurationError(
            f"{day} is the last day a date can name, and its end cannot be: give an earlier date"
        )
    start = datetime.combine(day, time(), TEXAS).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(), TEXAS).astimezone(timezone.utc)
    return start, end


def local_days(first: date, last: date) -> list[date]:
    """Every local date from `first` to `last`, both included."""
    _check_range(first, last)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def local_range_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) covering local dates `first` to `last`, both included."""
    _check_range(first, last)
    return local_day_bounds(first)[0], local_day_bounds(last)[1]


def intervals_in_day(day: date) -> int:
    """How many 15-minute intervals a Texas local day holds: 92, 96 or 100."""
    start, end = local_day_bounds(day)
    return (end - start) // INTERVAL


def instant(seconds: int) -> datetime:
    """A Unix time (as the store keeps instants) as an aware UTC datetime. One that is no date
    (the year 33658: a hand-edited store) is a UsageStoreError; before, `usage status` and
    `compare` ended in a ValueError traceback."""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc)
    except (ValueError, OverflowError, OSError, TypeError) as error:  # TypeError: 'abc'
        raise UsageStoreError(
            f"the usage store holds a time that is no date (Unix time {seconds}: {error}), so "
            "it is damaged; move it aside and sync again, or give another path"
        ) from None


def local_minute(seconds: int) -> str:
    """A Unix time as Texas local time to the minute, its zone named ("2026-11-01 01:00 CST"),
    as an error names a reading: the zone tells the fall-back day's two 01:00s apart."""
    return f"{instant(seconds).astimezone(TEXAS):%Y-%m-%d %H:%M %Z}"


def to_local(instant: datetime) -> datetime:
    """An aware instant as Texas local time (for display)."""
    if not isinstance(instant, datetime):
        raise ConfigurationError(
            f"an instant is an aware datetime, not {instant!r}: give one such as "
            "datetime.now(timezone.utc)"
        )
    if instant.utcoffset() is None:
        raise ConfigurationError(f"{instant.isoformat()} has no time zone; give an aware datetime")
    return instant.astimezone(TEXAS)


def local_date(instant: datetime) -> date:
    """The Texas local date an aware instant falls on."""
    return to_local(instant).date()


def no_usage_yet(first: date, subject: str) -> str | None:
    """Why a store holds no usage from `first` on, when it is that no usage exists yet: all of
    it lies after today in Texas, and a sync asks for nothing after now (so advising one would
    not help). `subject` names the days ("the dates are"). None when `first` is today or before.
    """
    today = local_date(datetime.now(timezone.utc))
    if first <= today:
        return None
    return f"{subject} after today ({today} in Texas): there is no usage yet"
