"""Building blocks for the plan-comparison tests: a usage store holding what a sync from the
sandbox would hold, without the ~350 requests (~30 s here) a year of them costs.

`fill_as_synced` takes the intervals from the sandbox's own generator, exactly as its
`measurements` serve them at this moment (late ones and the seeded gap absent);
test_compare.py::test_a_store_filled_here_holds_what_a_sync_stores proves it against a real sync.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

from oeus_kraken.sandbox import INTERVAL_SECONDS, SandboxServer
from oeus_kraken.usage import Interval, UsageStore, local_range_bounds

ACCOUNT = "A-5F3C9D21"  # the demo user's first account: Dallas, ONCOR, on Octopus 12M Fixed
ESI_ID = "10443720004512388"
YEAR = (date(2025, 12, 1), date(2026, 11, 30))  # the sandbox's usage year, and its bills' months


def _instant(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def sandbox_intervals(
    sandbox: SandboxServer, esi_id: str, first: date, last: date
) -> list[Interval]:
    """What the sandbox's measurements deliver now for `esi_id` on local dates first..last."""
    from oeus_kraken.sandbox._usage import Delivered  # the generator the resolvers serve from

    state = sandbox.state
    delivered = Delivered.at(state.meters[esi_id], state.clock(), state.usage.settings)
    start, end = (int(instant.timestamp()) for instant in local_range_bounds(first, last))
    found = []
    for begins in range(start, end, INTERVAL_SECONDS):
        shown = delivered.reading(begins)
        if shown is not None:
            found.append(
                Interval(
                    esi_id,
                    _instant(begins),
                    _instant(begins + INTERVAL_SECONDS),
                    shown.value,
                    source="ERCOT_AMS",
                    read_at=_instant(shown.read_at),
                )
            )
    return found


def fill_as_synced(
    store: UsageStore,
    sandbox: SandboxServer,
    first: date = YEAR[0],
    last: date = YEAR[1],
    *,
    account: str = ACCOUNT,
    esi_id: str = ESI_ID,
) -> int:
    """Store what a sync of `account` would have stored of `esi_id` for first..last; returns
    the number of intervals."""
    intervals = sandbox_intervals(sandbox, esi_id, first, last)
    store.upsert(intervals, fetched_at=_instant(int(sandbox.state.clock())))
    store.link(account, esi_id)
    return len(intervals)


def store_at(path: Path, sandbox: SandboxServer, **fill: object) -> Path:
    """A store file at `path` filled by `fill_as_synced(**fill)`, closed again."""
    with UsageStore(path) as store:
        fill_as_synced(store, sandbox, **fill)  # type: ignore[arg-type]
    return path


def exact(text: str) -> Decimal:
    return Decimal(text)
