"""Building blocks for the usage store tests: intervals of whole local days, a child process
running a snippet against a store (for the two-process and kill tests), and a disk that fills
up (`file_size_limit`)."""

from __future__ import annotations

import contextlib
import resource
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from oeus_kraken.usage import INTERVAL, Interval, local_day_bounds

ESI = "10443720000000001"
OTHER_ESI = "10443720000000002"
FETCHED = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def day_intervals(
    day: date,
    *,
    esi_id: str = ESI,
    value: Decimal = Decimal("0.25"),
    skip: frozenset[int] = frozenset(),
    **fields: object,
) -> list[Interval]:
    """Every 15-minute interval of a Texas local day (92, 96 or 100), but the indexes in `skip`."""
    start, end = local_day_bounds(day)
    count = (end - start) // INTERVAL
    return [
        Interval(esi_id, start + i * INTERVAL, start + (i + 1) * INTERVAL, value, **fields)
        for i in range(count)
        if i not in skip
    ]


def child(code: str, *args: str | Path) -> subprocess.Popen[str]:
    """Start `code` in a fresh interpreter with `args` as sys.argv[1:]; stdout is a pipe."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextlib.contextmanager
def file_size_limit(size: int) -> Iterator[None]:
    """Files this process writes may grow to `size` bytes only, as on a disk that fills up
    (a write past it fails with EFBIG: Python ignores SIGXFSZ)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
