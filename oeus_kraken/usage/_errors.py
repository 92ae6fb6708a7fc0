"""The errors the usage store raises, beside the client's own tree.

    KrakenError (oeus_kraken)
    ├── ConfigurationError            bad arguments (a naive datetime, an unknown format...)
    ├── UsageStoreError               the store file cannot be used as asked
    │   ├── UsageStoreLockedError     another sync holds the store's sync lock
    │   ├── OverlappingReadingsError  readings that overlap: refused by upsert, export, chart
    │   └── NoUsageError              nothing stored in the range asked for (a chart of it)
    └── MissingExtraError             an optional extra (parquet, chart) is not installed
                                      (also an ImportError)

Messages name the store's path and say what to do; they never carry usage values.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .._errors import KrakenError
from ._models import STORED_DIGITS, decimal_width
from ._time import instant, local_date, local_minute

__all__ = [
    "MissingExtraError",
    "NoUsageError",
    "OverlappingReadingsError",
    "UsageStoreError",
    "UsageStoreLockedError",
]


class UsageStoreError(KrakenError):
    """The usage store cannot be opened, read or written as asked."""

    def __init__(self, message: str, *, path: Path | None = None) -> None:
        super().__init__(message)
        self.path = path


class UsageStoreLockedError(UsageStoreError):
    """Another sync holds the store's sync lock (`UsageStore.sync_lock`).

    `holder_pid` and `holder_host` name the process holding it, when it wrote them down.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path,
        holder_pid: int | None = None,
        holder_host: str | None = None,
    ) -> None:
        super().__init__(message, path=path)
        self.holder_pid = holder_pid
        self.holder_host = holder_host


class OverlappingReadingsError(UsageStoreError):
    """Two readings of one ESI ID cover the same time (an hour's reading and 15-minute ones
    inside it): `upsert` refuses the page that would keep both, the store unchanged; export and
    chart refuse a store that already holds both (an older oeus-kraken kept them), rather than
    count that time twice.

    `esi_id`, and `earlier` and `later`: the (start, end) of the first two that overlap, UTC.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | None,
        esi_id: str,
        earlier: tuple[datetime, datetime],
        later: tuple[datetime, datetime],
    ) -> None:
        super().__init__(message, path=path)
        self.esi_id = esi_id
        self.earlier = earlier
        self.later = later


class NoUsageError(UsageStoreError):
    """The store has no usage of the target in the range asked for: there is nothing to draw."""


class MissingExtraError(KrakenError, ImportError):
    """A feature needs an optional extra that is not installed (`pip install 'oeus-kraken[X]'`)."""

    def __init__(self, feature: str, extra: str, module: str) -> None:
        super().__init__(
            f"{feature} needs {module}, which comes with an optional extra: "
            f"pip install 'oeus-kraken[{extra}]'"
        )
        self.extra = extra
        self.module = module


def overlap_error(
    path: Path, esi_id: str, earlier: tuple[int, int, bool], later: tuple[int, int, bool]
) -> OverlappingReadingsError:
    """The error for two readings of `esi_id` that overlap: (start, end, new?) each, in epoch
    seconds, `new` False for one the store holds. What happened comes first (a sync's summary
    shows 200 characters of it), then what to do: forget the stored readings and sync again."""

    def said(reading: tuple[int, int, bool]) -> str:
        start, end, new = reading
        whose = "a new" if new else "a stored"
        return f"{whose} reading from {local_minute(start)} ({(end - start) // 60} min)"

    # The repair, spelt as a command a command line user can run (the days both readings
    # start on: forget deletes the readings starting in them), and as Python.
    first, last = sorted(local_date(instant(r[0])).isoformat() for r in (earlier, later))
    repair = _repair(esi_id, first, last, "those days")
    if earlier[2] or later[2]:
        message = (
            f"ESI ID {esi_id}: {said(earlier)} overlaps {said(later)}: refused, the usage "
            f"store {path} kept as it was (kept together, that time would count twice). To "
            f"take the new readings, {repair}"
        )
    else:
        message = (
            f"the usage store {path} holds readings of ESI ID {esi_id} that overlap (kept by "
            f"an older oeus-kraken): {said(earlier)} and {said(later)}; summed, that time "
            f"would count twice. To repair it, {repair}; or use a period without it"
        )
    return OverlappingReadingsError(
        message,
        path=path,
        esi_id=esi_id,
        earlier=(instant(earlier[0]), instant(earlier[1])),
        later=(instant(later[0]), instant(later[1])),
    )


# Stored values already checked, as stored_kwh returns them (readings() looks here first).
STORED_KWH: dict[str, Decimal] = {}


def stored_kwh(value: str, path: Path, esi_id: str, start: int) -> Decimal:
    """A stored reading's kWh, `value` as the store holds it (text), or the error of a damaged
    store: one the store would never have written ('abc', '', NaN, Infinity, 1E+999999:
    hand-edited, or another tool's). Before, `export` said "a number in the API's answer is
    too large ... try again later" (exit 1) or refused it as a bad argument (exit 2), and
    `chart` drew it."""
    kwh = STORED_KWH.get(value)
    if kwh is not None:  # values repeat a lot: checked once (a year of readings in 2x the time)
        return kwh
    try:
        kwh = Decimal(value)
    except (InvalidOperation, TypeError):
        kwh = Decimal("NaN")
    if kwh.is_finite() and decimal_width(kwh) <= STORED_DIGITS:
        if len(STORED_KWH) > 100_000:  # bounded, as DECIMAL_TEXTS is
            STORED_KWH.clear()
        STORED_KWH[value] = kwh
        return kwh
    day = local_date(instant(start)).isoformat()
    raise UsageStoreError(
        f"the usage store {path} is damaged: the reading of ESI ID {esi_id} from "
        f"{local_minute(start)} holds {value!r}, not a number of kWh. To repair it, "
        f"{_repair(esi_id, day, day, 'that day')}",
        path=path,
    )


def _repair(esi_id: str, first: str, last: str, days: str) -> str:
    """What to do about stored readings that cannot be used, as a command and as Python."""
    return (
        f"forget the stored readings of {days} (`oeus-kraken usage forget {esi_id} --from "
        f"{first} --to {last}`, or UsageStore.forget in Python) and sync again"
    )
