"""The values the usage store takes and gives back: plain frozen dataclasses, no I/O.

Times are aware datetimes. `Interval` and everything the store computes from it are in UTC;
`UsageStatus` and `Gap`, which are for people to read, are in Texas local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

__all__ = ["Gap", "Interval", "SyncRecord", "UpsertResult", "UsageStatus"]


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
