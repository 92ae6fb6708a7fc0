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
from pathlib import Path

from .._errors import KrakenError

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
