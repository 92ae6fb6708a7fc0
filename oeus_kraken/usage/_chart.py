"""A picture of stored usage: daily totals, and the average day's 15-minute shape.

People would rather look at usage than read it. matplotlib is an optional extra
(`pip install 'oeus-kraken[chart]'`), imported only here and only when a chart is drawn. The
figure is drawn with the Agg canvas directly, not pyplot: no display, and no change to the
caller's matplotlib backend or global state.
"""

from __future__ import annotations

import os
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._errors import ConfigurationError
from .._folders import expand_home
from ._damage import overlap_error, stored_kwh
from ._errors import MissingExtraError, NoUsageError, UsageStoreError
from ._export import export_range
from ._files import replaced_file
from ._time import TEXAS, local_date, no_usage_yet

if TYPE_CHECKING:
    from ._store import UsageStore

__all__ = ["chart"]

_SLOTS_PER_DAY = 96
_FORMATS = {".png": "png", ".svg": "svg"}


def chart(
    store: UsageStore,
    target: str,
    from_date: date,
    to_date: date,
    out_png: str | os.PathLike[str],
) -> Path:
    """Draw the usage of `target` (an account number or an ESI ID; an account's meters are
    added up) for Texas local dates `from_date` to `to_date`, both included (up to today), into
    `out_png`: a PNG, or an SVG when its name ends in .svg (written whole, owner-only).

    Top: kWh per local day. Bottom: the average day, kWh per 15-minute slot of local clock
    time (each slot averaged over the intervals that fell on it, so the repeated hour of the
    fall-back day counts twice and the skipped hour of spring-forward not at all).
    """
    if not isinstance(out_png, (str, os.PathLike)):  # Path() would raise a bare TypeError
        raise ConfigurationError(f"out_png must be a file path (str or Path), not {out_png!r}")
    path = expand_home(out_png)
    image_format = _FORMATS.get(path.suffix.lower())
    if image_format is None:
        raise ConfigurationError(
            "a chart is a PNG or an SVG: give --out a name ending in .png or .svg, not "
            f"{path.name!r}"
        )
    store.check_out(path)
    figure_class, canvas_class = _matplotlib()
    low, high = export_range(from_date, to_date, local_date(datetime.now(timezone.utc)))
    daily: dict[date, Decimal] = {}
    slot_totals = [Decimal(0)] * _SLOTS_PER_DAY
    slot_instants: list[set[int]] = [set() for _ in range(_SLOTS_PER_DAY)]
    with store.read_transaction() as conn:
        resolved = store.target_meters(conn, target)
        for meter, esi_id in resolved.meters:
            previous_start = previous_end = low
            for start, end, value in conn.execute(
                "SELECT start_at, end_at, value FROM intervals WHERE meter = ? AND start_at >= ? "
                "AND start_at < ? ORDER BY start_at",
                (meter, low, high),
            ):
                if start < previous_end:  # an older store's overlap: drawn, counted twice
                    raise overlap_error(
                        store.path,
                        esi_id,
                        (previous_start, previous_end, False),
                        (start, end, False),
                    )
                previous_start, previous_end = start, end
                local = datetime.fromtimestamp(start, timezone.utc).astimezone(TEXAS)
                kwh = stored_kwh(value, store.path, esi_id, start)
                day = local.date()
                daily[day] = daily.get(day, Decimal(0)) + kwh
                slot = local.hour * 4 + local.minute // 15
                slot_totals[slot] += kwh
                slot_instants[slot].add(start)
    if not daily:
        advice = no_usage_yet(from_date, "they are") or (
            "run `oeus-kraken usage sync` for those dates first"
        )
        raise NoUsageError(
            f"the usage store {store.path} has no usage of {target!r} from {from_date} to "
            f"{to_date}; {advice}",
            path=store.path,
        )

    figure = figure_class(figsize=(10, 7), layout="constrained")
    canvas_class(figure)
    days = sorted(daily)
    totals, shape = figure.subplots(2, 1)
    totals.bar(days, [float(daily[d]) for d in days], color="#1f77b4")
    totals.set_title(f"{target}: kWh per day, {from_date} to {to_date} (Texas time)")
    totals.set_ylabel("kWh")
    hours = [slot / 4 for slot in range(_SLOTS_PER_DAY)]
    averages = [
        float(slot_totals[slot] / len(slot_instants[slot])) if slot_instants[slot] else None
        for slot in range(_SLOTS_PER_DAY)
    ]
    shape.plot(hours, averages, drawstyle="steps-post", color="#ff7f0e")
    shape.set_title("The average day: kWh per 15 minutes")
    shape.set_xlabel("local time (hour)")
    shape.set_ylabel("kWh")
    shape.set_xlim(0, 24)
    shape.set_xticks(range(0, 25, 3))
    try:
        with replaced_file(path) as temporary:
            figure.savefig(temporary, format=image_format, dpi=100)
    except OSError as exc:
        raise UsageStoreError(f"cannot write the chart {path}: {exc.strerror}") from exc
    return path


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("A usage chart", "chart", "matplotlib") from exc
    return Figure, FigureCanvasAgg
