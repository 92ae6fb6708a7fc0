"""Keep your usage locally: every interval reading, in one SQLite file, complete and current.

    from oeus_kraken.usage import UsageStore

    with UsageStore() as store:                  # ~/.local/share/oeus-kraken/usage.sqlite3
        for status in store.status():
            print(status.esi_id, status.covered, len(status.gaps))
        store.export("A-1234ABCD", date(2026, 3, 1), date(2026, 3, 31), interval="day",
                     format="csv", out="march.csv")

The store needs no API client: a sync fills it (`upsert`, with the gap and sync bookkeeping),
and export, status and chart read it with no request. Times in and out are aware datetimes,
UTC in the store; dates are Texas local (America/Chicago) dates.
"""

from __future__ import annotations

from ._chart import chart
from ._errors import (
    MissingExtraError,
    NoUsageError,
    OverlappingReadingsError,
    UsageStoreError,
    UsageStoreLockedError,
)
from ._export import AGGREGATE_COLUMNS, INTERVAL_COLUMNS, UsageTotal, aggregate
from ._fetch import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_WINDOW_PAGES,
    MeterPoint,
    UsageOptions,
    UsagePage,
    aiter_usage,
    aiter_usage_pages,
    iter_usage,
    iter_usage_pages,
)
from ._models import Gap, Interval, SyncRecord, UpsertResult, UsageStatus
from ._store import GAP_RETRY_FIRST, GAP_RETRY_MAX, UsageStore, default_usage_store_path
from ._sync import (
    DEFAULT_CONCURRENCY,
    DEFAULT_HISTORY,
    INTERRUPT_GRACE,
    MAX_CONCURRENCY,
    REVISION_WINDOW,
    SyncOptions,
    SyncProgress,
    SyncReport,
    UsageSyncInterrupted,
    sync_usage,
    sync_usage_blocking,
)
from ._time import (
    INTERVAL,
    TEXAS,
    intervals_in_day,
    local_date,
    local_day_bounds,
    local_days,
    local_range_bounds,
    to_local,
)

__all__ = [
    "AGGREGATE_COLUMNS",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_HISTORY",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_WINDOW_PAGES",
    "GAP_RETRY_FIRST",
    "GAP_RETRY_MAX",
    "INTERRUPT_GRACE",
    "INTERVAL",
    "INTERVAL_COLUMNS",
    "MAX_CONCURRENCY",
    "REVISION_WINDOW",
    "TEXAS",
    "Gap",
    "Interval",
    "MeterPoint",
    "MissingExtraError",
    "NoUsageError",
    "OverlappingReadingsError",
    "SyncOptions",
    "SyncProgress",
    "SyncRecord",
    "SyncReport",
    "UpsertResult",
    "UsageOptions",
    "UsagePage",
    "UsageStatus",
    "UsageStore",
    "UsageStoreError",
    "UsageStoreLockedError",
    "UsageSyncInterrupted",
    "UsageTotal",
    "aggregate",
    "aiter_usage",
    "aiter_usage_pages",
    "chart",
    "default_usage_store_path",
    "intervals_in_day",
    "iter_usage",
    "iter_usage_pages",
    "local_date",
    "local_day_bounds",
    "local_days",
    "local_range_bounds",
    "sync_usage",
    "sync_usage_blocking",
    "to_local",
]
