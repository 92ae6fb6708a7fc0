"""The usage store's figures from issue 12: write rate, export time, peak memory.

    .venv/bin/python bench/usage_store.py [--repeats N] [--json PATH]

One ESI ID-year (35,040 fifteen-minute intervals, with source and read_at as the API gives them)
into a fresh store in a scratch folder:

- write rate: intervals per second of `upsert`, for the whole year in one call, and page by page
  (100 a transaction, as a sync that writes every page as it comes would), then the same year
  again (unchanged: compared, not written) and revised (every value changed);
- export: seconds to write the year as CSV (15-minute rows and days), JSON and Parquet;
- memory: tracemalloc's peak while upserting the year from a generator and while exporting it
  as CSV (the intervals' own construction is outside the measure), and the process's max RSS.

Each time is the best of --repeats runs (a fresh store for each write). Exits 1 if a figure misses
its target: writes >= 200,000 intervals/s (the one-call first sync), CSV export < 1 s.
"""

from __future__ import annotations

import argparse
import io
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from _figures import Figure, best, finish, timed

from oeus_kraken.usage import INTERVAL, Interval, UsageStore, local_range_bounds

ESI = "10443720000000001"
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
FETCHED = datetime(2027, 1, 2, tzinfo=timezone.utc)
PAGE = 100

WRITE_TARGET = 200_000  # intervals per second
EXPORT_TARGET_S = 1.0


def year_of_intervals(shift: Decimal = Decimal(0)) -> Iterator[Interval]:
    start, end = local_range_bounds(*YEAR)
    for i in range((end - start) // INTERVAL):
        begins = start + i * INTERVAL
        yield Interval(
            ESI,
            begins,
            begins + INTERVAL,
            Decimal(i % 173) / 100 + shift,  # a few hundred distinct readings, like real ones
            source="SMART_METER",
            read_at=begins + 8 * INTERVAL,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    repeats: int = args.repeats

    year = list(year_of_intervals())
    revised = list(year_of_intervals(Decimal("0.01")))
    pages = [year[i : i + PAGE] for i in range(0, len(year), PAGE)]
    figures: list[Figure] = []

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        count = 0

        def fresh() -> UsageStore:
            nonlocal count
            count += 1
            return UsageStore(folder / f"write-{count}.sqlite3")

        def one_call() -> float:
            with fresh() as store:
                return timed(lambda: store.upsert(year, fetched_at=FETCHED))

        def page_by_page() -> float:
            with fresh() as store:
                return timed(lambda: [store.upsert(p, fetched_at=FETCHED) for p in pages])

        store = UsageStore(folder / "usage.sqlite3")
        store.link("A-BENCH", ESI)
        store.upsert(year, fetched_at=FETCHED)

        def unchanged() -> float:
            return timed(lambda: store.upsert(year, fetched_at=FETCHED))

        def revise() -> float:
            # Alternate between two versions so that every run revises every interval.
            with fresh() as other:
                other.upsert(year, fetched_at=FETCHED)
                return timed(lambda: other.upsert(revised, fetched_at=FETCHED))

        write_rate = len(year) / best(repeats, one_call)
        figures.append(
            Figure(
                "write, first sync, one call",
                write_rate,
                "intervals/s",
                f">= {WRITE_TARGET:,}",
                write_rate >= WRITE_TARGET,
            )
        )
        figures.append(
            Figure(
                f"write, first sync, {PAGE} a transaction",
                len(year) / best(repeats, page_by_page),
                "intervals/s",
            )
        )
        figures.append(
            Figure("write, unchanged year", len(year) / best(repeats, unchanged), "intervals/s")
        )
        figures.append(
            Figure("write, every value revised", len(year) / best(repeats, revise), "intervals/s")
        )

        def export(interval: str, fmt: str) -> float:
            def run() -> float:
                if fmt == "parquet":
                    out: Path | io.BytesIO = folder / f"dataset-{time.perf_counter_ns()}"
                else:
                    out = io.BytesIO()
                return timed(
                    lambda: store.export(
                        "A-BENCH",
                        *YEAR,
                        interval=interval,  # type: ignore[arg-type]
                        format=fmt,  # type: ignore[arg-type]
                        out=out,
                    )
                )

            return best(repeats, run)

        csv_seconds = export("15m", "csv")
        figures.append(
            Figure(
                "export a year, 15m CSV",
                csv_seconds,
                "s",
                f"< {EXPORT_TARGET_S:g}",
                csv_seconds < EXPORT_TARGET_S,
            )
        )
        figures.append(Figure("export a year, day CSV", export("day", "csv"), "s"))
        figures.append(Figure("export a year, 15m JSON", export("15m", "json"), "s"))
        figures.append(Figure("export a year, 15m Parquet", export("15m", "parquet"), "s"))

        # Memory: the intervals come from a generator, as a sync's pages would.
        with fresh() as memory_store:
            tracemalloc.start()
            memory_store.upsert(year_of_intervals(), fetched_at=FETCHED)
            upsert_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            baseline = tracemalloc.get_traced_memory()[0]
            memory_store.link("A-BENCH", ESI)
            memory_store.export("A-BENCH", *YEAR, out=io.BytesIO())
            export_peak = tracemalloc.get_traced_memory()[1] - baseline
            tracemalloc.stop()
        # The CSV itself lands in the BytesIO (about 4 MB); the rest is what export holds.
        figures.append(Figure("peak memory, upsert a year", upsert_peak / 2**20, "MiB"))
        figures.append(
            Figure("peak memory, export a year (with its CSV)", export_peak / 2**20, "MiB")
        )
        store.close()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    figures.append(Figure("max RSS of this benchmark", rss / 1024, "MiB"))

    print(f"usage store, one ESI ID-year ({len(year):,} intervals), best of {repeats}")
    width = max(len(f.name) for f in figures)
    for figure in figures:
        value = f"{figure.value:,.0f}" if figure.unit == "intervals/s" else f"{figure.value:.3f}"
        holds = {None: "", True: "yes", False: "NO"}[figure.holds]
        print(
            f"  {figure.name:<{width}}  {value:>12} {figure.unit:<12} {figure.target:>10}  {holds}"
        )
    return finish(figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
