"""The errors for what a usage store holds that it should not: readings that overlap, a value
that is no number of kWh. Each names the reading, in Texas local time, and the repair: forget
those days' readings and sync again (a command line user's command, and Python's)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path

from ._errors import OverlappingReadingsError, UsageStoreError
from ._models import STORED_DIGITS, decimal_width
from ._time import instant, local_date, local_minute


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
