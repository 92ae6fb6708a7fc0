"""The values the usage store takes and gives back: plain frozen dataclasses, no I/O.

Times are aware datetimes. `Interval` and everything the store computes from it are in UTC;
`UsageStatus` and `Gap`, which are for people to read, are in Texas local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from .._errors import ConfigurationError

__all__ = [
    "DECIMAL_TEXTS",
    "SLOT_SECONDS",
    "STORED_DIGITS",
    "Gap",
    "Interval",
    "SyncRecord",
    "UpsertResult",
    "UsageStatus",
    "decimal_text",
    "decimal_width",
]

SLOT_SECONDS = 900
"""The grid `missing()` and the gap bookkeeping work on: 15-minute slots, aligned in UTC."""


@dataclass(frozen=True, slots=True)
class Interval:
    """One interval reading of one meter (ESI ID), as the API gives it.

    `value` and `cost` are Decimals so the API's digits survive: a float would turn 0.1 kWh into
    0.1000000000000000055. `cost` is in cents and only present on agreements that price each
    interval (wholesale); `source` and `read_at` are the API's, when it gives them.
    """

    esi_id: str
    start: datetime
    end: datetime
    value: Decimal
    unit: str = "kWh"
    cost: Decimal | None = None
    source: str | None = None
    read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UpsertResult:
    """What one `UsageStore.upsert` did with the intervals it was given."""

    inserted: int
    """Intervals the store did not have."""
    revised: int
    """Intervals the store had with another value, unit, cost or end: replaced, and counted."""
    unchanged: int
    """Intervals the store already had exactly (no write)."""

    @property
    def received(self) -> int:
        return self.inserted + self.revised + self.unchanged


@dataclass(frozen=True, slots=True)
class SyncRecord:
    """One sync run of one ESI ID, as the sync engine recorded it.

    `finished_at` is None while the sync runs, and forever if it was killed: the data it wrote
    is kept (each write is its own transaction), only this record stays open.
    """

    id: int
    esi_id: str
    started_at: datetime
    finished_at: datetime | None
    requests: int
    intervals: int
    revised: int
    stopped_reason: str | None

    @property
    def finished(self) -> bool:
        return self.finished_at is not None


@dataclass(frozen=True, slots=True)
class Gap:
    """A run of missing 15-minute slots inside the covered range, in Texas local time.

    `attempts` is how many syncs asked for it without getting it (the most of any slot in the
    run); `next_attempt_at` is when the gap backoff lets a sync ask again (None: never asked,
    so the next sync will).
    """

    start: datetime
    end: datetime
    attempts: int
    next_attempt_at: datetime | None


@dataclass(frozen=True, slots=True)
class UsageStatus:
    """What the store holds for one ESI ID of one account (`account_number` None: not linked)."""

    account_number: str | None
    esi_id: str
    intervals: int
    """Rows stored."""
    revisions: int
    """Revisions received over all rows (a row revised twice counts twice)."""
    covered: tuple[datetime, datetime] | None
    """First interval start and last interval end, Texas local time; None when empty."""
    gaps: tuple[Gap, ...]
    last_sync: SyncRecord | None
    requests_used: int
    """API requests recorded by every sync of this ESI ID."""


# How the store writes a value: one text for one number.

DECIMAL_TEXTS: dict[Decimal, str] = {}


STORED_DIGITS = 76
"""The most digits a value or cost may have written out, in the store (the widest decimal a
Parquet export holds)."""


def decimal_width(value: Decimal) -> int:
    """How many digits a finite Decimal has as the store writes it (fixed point, no trailing
    zeros after the point), counted without writing it out."""
    _, digits, exponent = value.as_tuple()
    exponent, kept = int(exponent), len(digits)
    while exponent < 0 and kept > 1 and digits[kept - 1] == 0:
        kept, exponent = kept - 1, exponent + 1
    return max(kept + exponent, 1) + max(-exponent, 0)


def decimal_text(value: object, what: str) -> str:
    """A Decimal as fixed-point text without trailing zeros: equal numbers give equal text."""
    if type(value) is not Decimal:
        raise ConfigurationError(
            f"interval {what} must be a Decimal, not {type(value).__name__} (a float would "
            "lose the API's digits)"
        )
    try:
        return DECIMAL_TEXTS[value]
    except KeyError:
        pass
    if not value.is_finite():
        raise ConfigurationError(f"interval {what} must be a finite number, not {value}")
    width = decimal_width(value)
    if width > STORED_DIGITS:
        # Written out first, Decimal("1E+999999999") was a billion digits: a MemoryError.
        raise ConfigurationError(
            f"interval {what} {value:.3E} has {width} digits written out, more "
            f"than the store keeps ({STORED_DIGITS}, the widest Parquet decimal)"
        )
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    if len(DECIMAL_TEXTS) > 100_000:  # usage values repeat a lot; keep the cache bounded
        DECIMAL_TEXTS.clear()
    DECIMAL_TEXTS[value] = text
    return text
