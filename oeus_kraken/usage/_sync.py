"""Bringing a usage store up to date: `sync_usage` (async) and `sync_usage_blocking` (sync).

    from oeus_kraken import SyncKrakenClient
    from oeus_kraken.usage import UsageStore, sync_usage_blocking

    with SyncKrakenClient.from_env() as kraken, UsageStore() as store:
        report = sync_usage_blocking(kraken, store)        # every account the credential sees
        print(report.message)

What a sync asks for, per ESI ID, and nothing else:
- the recent window, `REVISION_WINDOW` (3 days), every run: the newest intervals arrive in
  batches hours after they end, and Kraken may still revise estimated readings for a couple of
  days (a revised value replaces the stored one and is counted);
- older intervals the store does not have, from `since` (default: `DEFAULT_HISTORY` back): on a
  first sync that is everything, later only gaps, each retried with a backoff per 15-minute slot
  (1 hour, doubling to a week) so that an interval the API never delivers does not cost a request
  on every run. Complete older days cost no request.
Gap runs closer than a page apart are fetched as one span (a request costs the same for 1
interval or 100). Each span is walked like `iter_usage_pages` (full pages of 100, windows of 20
pages, pages halved if refused as too complex), property by property.

It stops early, leaving the store consistent and the next run resuming where this one stopped:
- when `rateLimitInfo` says fewer than `budget_reserve` (10 %) of the hour's points are left
  (read at the start, then again when half of what is left above the reserve may have been
  spent at the points per request seen, at most `BUDGET_CHECK_MAX_GAP` requests apart): the rest
  of the hour stays yours;
- at `max_requests` requests;
- at the first KT-CT-1199 (rate limited): it never asks again into a rate limit; the message says
  when to run again (the API's Retry-After).
Each page is written in its own transaction as it arrives, so a sync killed at any point loses at
most the page in flight. Two syncs on one store: the second is refused (`UsageStoreLockedError`).
ESI IDs are synced `concurrency` at a time (default 4: the API is one endpoint, with one token and
one budget for all; more than a few in flight only queue at its rate limiter).

One plan per ESI ID, written once without I/O (`_MeterSync`); the two functions only carry out
its API calls and store writes, blocking (threads) or awaiting (tasks, store writes in a worker
thread).
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any

from .._call import NO_RATE_LIMIT_RETRY
from .._errors import ConfigurationError, KrakenError, QueryTooLargeError, RateLimitError
from ._fetch import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_WINDOW_PAGES,
    MeterPoint,
    UsagePage,
    _Call,
    _meters,
    _walk_window,
    usage_windows,
)
from ._store import UsageStore
from ._time import INTERVAL, local_day_bounds, to_local

__all__ = [
    "BUDGET_CHECK_MAX_GAP",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_HISTORY",
    "REVISION_WINDOW",
    "SyncProgress",
    "SyncReport",
    "sync_usage",
    "sync_usage_blocking",
]

REVISION_WINDOW = timedelta(days=3)
DEFAULT_HISTORY = timedelta(days=366)
DEFAULT_CONCURRENCY = 4
BUDGET_CHECK_MAX_GAP = 200
DEFAULT_BUDGET_RESERVE = 0.10  # of the hour's points


@dataclass(frozen=True)
class SyncProgress:
    """Where a sync is, after each page."""

    esi_id: str
    requests: int  # so far, all ESI IDs
    intervals: int  # received so far, all ESI IDs
    done_windows: int
    total_windows: int  # an estimate: gaps found later may add some


@dataclass(frozen=True)
class SyncReport:
    """What one sync did."""

    accounts: int
    esi_ids: int
    requests: int
    intervals: int  # received
    inserted: int
    revised: int
    stopped_reason: str | None  # None: complete; "budget", "max-requests", "rate-limited"
    message: str  # one line for the user
    retry_after: float | None = None  # with "rate-limited": when the API allows more


# -- shared state of one sync ----------------------------------------------------------------------


@dataclass
class _Run:
    """What every ESI ID's plan of one sync shares: counts, the budget, the stop."""

    now: datetime
    max_requests: int | None
    budget_reserve: float
    progress: Callable[[SyncProgress], None] | None
    requests: int = 0
    intervals: int = 0
    inserted: int = 0
    revised: int = 0
    done_windows: int = 0
    total_windows: int = 0
    next_check: int = 1  # the request count at which the budget is read next
    points_seen: tuple[int, int] | None = None  # (requests, remaining points) at the last read
    stopped_reason: str | None = None
    stop_message: str = ""
    retry_after: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self, reason: str, message: str, retry_after: float | None = None) -> None:
        with self.lock:
            if self.stopped_reason is None:
                self.stopped_reason, self.stop_message = reason, message
                self.retry_after = retry_after

    def may_request(self) -> bool:
        with self.lock:
            limit = self.max_requests
            if self.stopped_reason is None and limit is not None and self.requests >= limit:
                self.stopped_reason = "max-requests"
                self.stop_message = f"stopped at --max-requests {limit}"
            if self.stopped_reason is not None:
                return False
            self.requests += 1
            return True

    def budget_check_due(self) -> bool:
        with self.lock:
            if self.requests < self.next_check:
                return False
            self.next_check = self.requests + 1  # until the read says more
            return True

    def budget_read(self, remaining: int, reserve: int) -> None:
        """Schedule the next read: when half of what is left above the reserve may be spent, at
        the points per request seen so far (the sandbox's 78 a page; the first read assumes
        100), and at most BUDGET_CHECK_MAX_GAP requests on."""
        with self.lock:
            cost = 100.0
            if self.points_seen is not None:
                requests, points = self.points_seen
                if self.requests > requests and points > remaining:
                    cost = (points - remaining) / (self.requests - requests)
            self.points_seen = (self.requests, remaining)
            room = max(0.0, remaining - reserve) / 2 / max(cost, 1.0)
            self.next_check = self.requests + min(BUDGET_CHECK_MAX_GAP, max(1, int(room)))

    def page_done(self, esi_id: str, page: UsagePage, result: Any) -> None:
        with self.lock:
            self.intervals += len(page.intervals)
            self.inserted += result.inserted
            self.revised += result.revised
            self.done_windows += page.last_of_window
            snapshot = SyncProgress(
                esi_id, self.requests, self.intervals, self.done_windows, self.total_windows
            )
        if self.progress is not None:
            self.progress(snapshot)


@dataclass(frozen=True)
class _Store:
    """A store operation: called directly when sync, in a worker thread when async."""

    operation: Callable[[UsageStore], Any]

    def sync(self, _client: Any, store: UsageStore) -> Any:
        return self.operation(store)

    async def async_(self, _client: Any, store: UsageStore) -> Any:
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.operation, store)


# Every call of a sync asks the client not to retry a rate limit: the sync stops and resumes.
_NO_RATE_LIMIT_RETRY = {"options": NO_RATE_LIMIT_RETRY}


@dataclass(frozen=True)
class _Api:
    """An API call whose KrakenError is the outcome (the plan decides what it means); a rate
    limit is never retried into."""

    call: _Call

    def sync(self, client: Any, _store: UsageStore) -> Any:
        try:
            return self.call.sync(client, **_NO_RATE_LIMIT_RETRY)
        except KrakenError as error:
            return error

    async def async_(self, client: Any, _store: UsageStore) -> Any:
        try:
            return await self.call.async_(client, **_NO_RATE_LIMIT_RETRY)
        except KrakenError as error:
            return error


_Command = _Store | _Api


def _run_sync(plan: Generator[_Command, Any, Any], client: Any, store: UsageStore) -> Any:
    try:
        command = next(plan)
        while True:
            command = plan.send(command.sync(client, store))
    except StopIteration as done:
        return done.value


async def _run_async(plan: Generator[_Command, Any, Any], client: Any, store: UsageStore) -> Any:
    try:
        command = next(plan)
        while True:
            command = plan.send(await command.async_(client, store))
    except StopIteration as done:
        return done.value


# -- the plans -----------------------------------------------------------------------------------


def _merge(
    runs: list[tuple[datetime, datetime]], closer_than: timedelta
) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] < closer_than:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _grid_ceil(moment: datetime) -> datetime:
    step = INTERVAL.total_seconds()
    return datetime.fromtimestamp(math.ceil(moment.timestamp() / step) * step, tz=timezone.utc)


def _grid_floor(moment: datetime) -> datetime:
    step = INTERVAL.total_seconds()
    return datetime.fromtimestamp(math.floor(moment.timestamp() / step) * step, tz=timezone.utc)


class _Budget:
    """Reading `rateLimitInfo` and deciding whether the hour's points allow going on."""

    @staticmethod
    def check(run: _Run) -> Generator[_Command, Any, bool]:
        """Go on (True), or stop (False, with the reason recorded in `run`)."""
        if not run.may_request():
            return False
        answer = yield _Api(_Call("get_rate_limit_info", {}))
        if isinstance(answer, RateLimitError):
            _rate_limited(run, answer)
            return False
        if isinstance(answer, KrakenError):
            return True  # no budget to read (not in the schema, not allowed): go on without it
        info = answer.rate_limit_info
        points = info.points_allowance_rate_limit if info is not None else None
        if points is None or points.remaining_points is None or not points.limit:
            return True
        reserve = math.ceil(points.limit * run.budget_reserve)
        run.budget_read(points.remaining_points, reserve)
        if points.remaining_points < reserve or points.is_blocked:
            renews = ""
            if points.ttl:
                at = to_local(datetime.fromtimestamp(points.ttl, tz=timezone.utc))
                renews = f"; it renews at {at:%H:%M} Texas time"
            run.stop(
                "budget",
                f"stopped with {points.remaining_points:,} of {points.limit:,} points left this "
                f"hour (below the {reserve:,} kept in reserve){renews}; run again then to resume",
            )
            return False
        return True


def _rate_limited(run: _Run, error: RateLimitError) -> None:
    wait = error.retry_after
    when = f" in {math.ceil(wait)} s" if wait else " later"
    run.stop(
        "rate-limited",
        "stopped: the Kraken API is rate limiting these credentials "
        f"({error.error_code or 'HTTP 429'}); nothing more was asked; run again{when} to resume",
        wait,
    )


@dataclass
class _MeterResult:
    esi_id: str
    requests: int = 0
    intervals: int = 0
    revised: int = 0


class _MeterSync:
    """The plan of one ESI ID's sync: which spans to walk, page by page into the store."""

    def __init__(self, meter: MeterPoint, run: _Run, since: datetime, page_size: int) -> None:
        self.meter = meter
        self.run = run
        self.since = since
        self.page_size = page_size
        self.result = _MeterResult(meter.esi_id)

    def spans(
        self, store: UsageStore
    ) -> tuple[list[tuple[datetime, datetime]], tuple[datetime, datetime]]:
        """(older spans due, the revision window): read from the store."""
        now = self.run.now
        end = _grid_ceil(now)
        recent = max(self.since, _grid_floor(now - REVISION_WINDOW))
        older = (
            store.gaps_due(self.meter.esi_id, self.since, recent, now)
            if recent > self.since
            else []
        )
        return _merge(older, INTERVAL * self.page_size), (recent, end)

    def windows(self, span: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
        return usage_windows(*span, page_size=self.page_size, window_pages=DEFAULT_WINDOW_PAGES)

    def plan(
        self, older: list[tuple[datetime, datetime]], recent: tuple[datetime, datetime]
    ) -> Generator[_Command, Any, _MeterResult]:
        esi_id = self.meter.esi_id
        sync_id = yield _Store(lambda s: s.begin_sync(esi_id, started_at=self.run.now))
        failure: KrakenError | None = None
        try:
            for span in older:
                reached = yield from self.walk(span)
                if reached > span[0]:
                    yield _Store(
                        partial(
                            UsageStore.record_gap_attempt,
                            esi_id=esi_id,
                            start=span[0],
                            end=reached,
                            at=self.run.now,
                        )
                    )
                if self.run.stopped_reason:
                    break
            else:
                yield from self.walk(recent)
        except KrakenError as error:
            failure = error
        result = self.result
        reason = self.run.stopped_reason or (type(failure).__name__ if failure else None)
        yield _Store(
            lambda s: s.finish_sync(
                sync_id,
                finished_at=max(datetime.now(timezone.utc), self.run.now),
                requests=result.requests,
                intervals=result.intervals,
                revised=result.revised,
                stopped_reason=reason,
            )
        )
        if failure is not None:
            raise failure
        return result

    def walk(self, span: tuple[datetime, datetime]) -> Generator[_Command, Any, datetime]:
        """Walk `span` window by window into the store; returns how far it got."""
        reached = span[0]
        for window in self.windows(span):
            walk = _walk_window(self.meter, window, self.page_size, DEFAULT_WINDOW_PAGES)
            outcome: Any = None
            while True:
                try:
                    step = walk.send(outcome)
                except StopIteration:
                    break
                if isinstance(step, UsagePage):
                    intervals = step.intervals
                    result = yield _Store(
                        partial(UsageStore.upsert, intervals=intervals, fetched_at=self.run.now)
                    )
                    self.result.intervals += len(intervals)
                    self.result.revised += result.revised
                    self.run.page_done(self.meter.esi_id, step, result)
                    outcome = None
                    continue
                if self.run.budget_check_due() and not (yield from _Budget.check(self.run)):
                    return reached
                if not self.run.may_request():
                    return reached
                self.result.requests += 1
                outcome = yield _Api(step)
                if isinstance(outcome, RateLimitError):
                    _rate_limited(self.run, outcome)
                    return reached
                if isinstance(outcome, KrakenError) and not isinstance(outcome, QueryTooLargeError):
                    raise outcome
            reached = window[1]
        return reached


def _account_plan(account: str, run: _Run) -> Generator[_Command, Any, list[MeterPoint]]:
    if not run.may_request():
        return []
    answer = yield _Api(_Call("get_account", {"account_number": account}))
    if isinstance(answer, RateLimitError):
        _rate_limited(run, answer)
        return []
    if isinstance(answer, KrakenError):
        raise answer
    meters = _meters(account, answer, None)
    for meter in meters:
        yield _Store(
            partial(UsageStore.link, account_number=meter.account_number, esi_id=meter.esi_id)
        )
    return meters


def _accounts_plan(run: _Run) -> Generator[_Command, Any, list[str]]:
    if not run.may_request():
        return []
    answer = yield _Api(_Call("get_viewer", {}))
    if isinstance(answer, KrakenError):
        raise answer
    viewer = answer.viewer
    return (
        [a.number for a in (viewer.accounts or []) if a is not None and a.number] if viewer else []
    )


# -- putting it together -------------------------------------------------------------------------


def _check(
    accounts: Sequence[str] | None, since: date | None, max_requests: int | None, concurrency: int
) -> None:
    if isinstance(accounts, str):
        raise ConfigurationError("accounts must be a list of account numbers, not one string")
    if max_requests is not None and (
        isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1
    ):
        raise ConfigurationError(
            f"max_requests must be a whole number of 1 or more, got {max_requests!r}"
        )
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= 64
    ):
        raise ConfigurationError(
            f"concurrency must be a whole number from 1 to 64, got {concurrency!r}"
        )
    if since is not None and not isinstance(since, date):
        raise ConfigurationError("since must be a date (Texas local)")


def _since(since: date | None, now: datetime) -> datetime:
    if since is None:
        return _grid_floor(now - DEFAULT_HISTORY)
    return local_day_bounds(since)[0]


def _report(run: _Run, accounts: int, esi_ids: int) -> SyncReport:
    if run.stopped_reason is None:
        message = (
            f"synced {esi_ids} ESI ID{'s' if esi_ids != 1 else ''} of {accounts} account"
            f"{'s' if accounts != 1 else ''}: {run.intervals:,} intervals received "
            f"({run.inserted:,} new, {run.revised:,} revised) in {run.requests:,} requests"
        )
    else:
        message = (
            f"{run.stop_message} ({run.intervals:,} intervals received, {run.inserted:,} new, "
            f"{run.revised:,} revised, in {run.requests:,} requests)"
        )
    return SyncReport(
        accounts,
        esi_ids,
        run.requests,
        run.intervals,
        run.inserted,
        run.revised,
        run.stopped_reason,
        message,
        run.retry_after,
    )


@dataclass
class _Options:
    accounts: Sequence[str] | None
    since: date | None
    max_requests: int | None
    concurrency: int
    budget_reserve: float
    progress: Callable[[SyncProgress], None] | None
    now: datetime
    page_size: int = DEFAULT_PAGE_SIZE


def _options(accounts: Sequence[str] | None, options: dict[str, Any]) -> _Options:
    since = options.pop("since", None)
    max_requests = options.pop("max_requests", None)
    concurrency = options.pop("concurrency", DEFAULT_CONCURRENCY)
    reserve = options.pop("budget_reserve", DEFAULT_BUDGET_RESERVE)
    progress = options.pop("progress", None)
    now = options.pop("now", None) or datetime.now(timezone.utc)
    if options:
        raise ConfigurationError(f"unknown sync option(s): {', '.join(sorted(options))}")
    _check(accounts, since, max_requests, concurrency)
    if not isinstance(reserve, (int, float)) or not 0 <= reserve < 1:
        raise ConfigurationError(f"budget_reserve must be a fraction from 0 to 1, got {reserve!r}")
    return _Options(accounts, since, max_requests, concurrency, float(reserve), progress, now)


def _new_run(o: _Options) -> _Run:
    return _Run(o.now, o.max_requests, o.budget_reserve, o.progress)


def _prepare(
    run: _Run, o: _Options, store: UsageStore, meters: list[MeterPoint]
) -> list[tuple[_MeterSync, Any]]:
    since = _since(o.since, o.now)
    syncs = []
    for meter in meters:
        sync = _MeterSync(meter, run, since, o.page_size)
        older, recent = sync.spans(store)
        run.total_windows += sum(len(sync.windows(s)) for s in [*older, recent])
        syncs.append((sync, sync.plan(older, recent)))
    return syncs


def sync_usage_blocking(
    client: Any, store: UsageStore, accounts: Sequence[str] | None = None, **options: Any
) -> SyncReport:
    """Bring `store` up to date for `accounts` (default: every account the credential sees),
    with a `SyncKrakenClient`. Options: `since` (a Texas local date), `max_requests`,
    `concurrency`, `budget_reserve`, `progress` (called with a SyncProgress after each page),
    `now` (an aware datetime, for tests and simulations)."""
    o = _options(accounts, dict(options))
    run = _new_run(o)
    with store.sync_lock():
        numbers = list(o.accounts) if o.accounts else _run_sync(_accounts_plan(run), client, store)
        meters = [m for n in numbers for m in _run_sync(_account_plan(n, run), client, store)]
        syncs = _prepare(run, o, store, meters)
        with ThreadPoolExecutor(max_workers=o.concurrency) as pool:
            for future in [pool.submit(_run_sync, plan, client, store) for _, plan in syncs]:
                future.result()
    return _report(run, len(numbers), len(meters))


async def sync_usage(
    client: Any, store: UsageStore, accounts: Sequence[str] | None = None, **options: Any
) -> SyncReport:
    """`sync_usage_blocking` with a `KrakenClient` (async): ESI IDs run as tasks, `concurrency`
    at a time; store writes run in a worker thread."""
    o = _options(accounts, dict(options))
    run = _new_run(o)
    with store.sync_lock():
        numbers = (
            list(o.accounts) if o.accounts else await _run_async(_accounts_plan(run), client, store)
        )
        meters = [
            m for n in numbers for m in await _run_async(_account_plan(n, run), client, store)
        ]
        syncs = _prepare(run, o, store, meters)
        slots = asyncio.Semaphore(o.concurrency)

        async def one(plan: Generator[_Command, Any, Any]) -> Any:
            async with slots:
                return await _run_async(plan, client, store)

        await asyncio.gather(*(one(plan) for _, plan in syncs))
    return _report(run, len(numbers), len(meters))
