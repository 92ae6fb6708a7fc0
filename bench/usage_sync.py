"""What a usage sync costs in requests and memory: a first sync of one ESI ID-year, and a re-run.

Against the local sandbox (its seeded year of 15-minute usage) in a process of its own, so that
the timing and the memory are the client's alone, with the sync's real code path:

- requests for a first sync of one ESI ID-year, beside the floor, intervals / page size;
- requests for a re-run right after, beside the revision window's pages;
- peak memory (tracemalloc) of the year's sync: bounded by a page, not by the year.

    .venv/bin/python bench/usage_sync.py [--json PATH]

Prints a table and exits 1 if a figure misses its target. `make bench` runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from oeus_kraken import APIKey, SyncKrakenClient
from oeus_kraken.sandbox import DEMO_ACCOUNT_NUMBERS, DEMO_API_KEY
from oeus_kraken.usage import REVISION_WINDOW, UsageStore, sync_usage_blocking

PAGE = 100
FEW = 5  # the account lookup, the budget checks, a partial last page
MEMORY_TARGET_MB = 50.0


@contextlib.contextmanager
def sandbox_process() -> Iterator[str]:
    """The sandbox in a child process; yields its URL."""
    code = "from oeus_kraken.sandbox import serve; serve(port=0, log_level='warning')"
    with subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as child:
        assert child.stdout is not None
        try:
            for line in child.stdout:
                found = re.search(r"http://127\.0\.0\.1:\d+/v1/graphql/", line)
                if found:
                    yield found.group(0)
                    return
            raise SystemExit("the sandbox did not start")
        finally:
            child.terminate()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    account = DEMO_ACCOUNT_NUMBERS[0]
    with sandbox_process() as url, tempfile.TemporaryDirectory() as scratch:
        now = datetime.now(timezone.utc)
        since = (now - timedelta(days=365)).date()
        with (
            SyncKrakenClient(url, credentials=APIKey(DEMO_API_KEY)) as kraken,
            UsageStore(Path(scratch) / "usage.sqlite3") as store,
        ):
            tracemalloc.start()
            started = time.perf_counter()
            first = sync_usage_blocking(kraken, store, [account], since=since, now=now)
            first_seconds = time.perf_counter() - started
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            second = sync_usage_blocking(kraken, store, [account], since=since, now=now)

    floor = math.ceil(first.intervals / PAGE)
    window_pages = math.ceil(REVISION_WINDOW / timedelta(minutes=15) / PAGE)
    rows = [
        (
            "first sync, one ESI ID-year: requests",
            first.requests,
            f"<= {floor} + {FEW}",
            first.requests <= floor + FEW,
        ),
        ("  intervals received", first.intervals, "", True),
        ("  seconds (sandbox in its own process)", round(first_seconds, 1), "", True),
        (
            "re-run right after: requests",
            second.requests,
            f"<= {window_pages} + {FEW}",
            second.requests <= window_pages + FEW,
        ),
        (
            "peak memory of the year's sync (MB)",
            round(peak / 2**20, 1),
            f"< {MEMORY_TARGET_MB:.0f}",
            peak / 2**20 < MEMORY_TARGET_MB,
        ),
    ]
    for name, value, target, holds in rows:
        mark = "" if not target else ("yes" if holds else "NO")
        print(f"| {name:<42} | {value:>10} | {target:>12} | {mark:>3} |")
    figures = {
        "first_sync_requests": first.requests,
        "first_sync_floor": floor,
        "first_sync_intervals": first.intervals,
        "rerun_requests": second.requests,
        "revision_window_pages": window_pages,
        "peak_memory_mb": peak / 2**20,
        "few": FEW,  # the targets, so that `make bench` checks the same ones
        "memory_target_mb": MEMORY_TARGET_MB,
        "since": since.isoformat(),
        "date": date.today().isoformat(),
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if all(holds for *_, holds in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
