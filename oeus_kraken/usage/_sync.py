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

Nothing is asked for before an ESI ID's supply began (its agreements' earliest start, read with
the account), nor after now; an old span starts with one page over all of it, so years with no
data cost one request, and the store keeps what the API answered empty as one range.

It stops early, leaving the store consistent and the next run resuming where this one stopped:
- when `rateLimitInfo` says fewer than `budget_reserve` (10 %) of the hour's points are left
  (read at the start, then again when half of what is left above the reserve may have been
  spent at the points per request seen, at most `BUDGET_CHECK_MAX_GAP` requests apart): the rest
  of the hour stays yours;
- at `max_requests` requests;
- at the first KT-CT-1199 (rate limited): it never asks again into a rate limit; the message says
  when to run again (the API's Retry-After);
- on Ctrl-C (KeyboardInterrupt; `UsageSyncInterrupted` carries the report) or, for `sync_usage`,
  on cancellation: no request is sent after it, a request in flight is given `INTERRUPT_GRACE`
  (1 s) to finish and store its page, then abandoned, and every open sync record is closed
  as interrupted.
An account whose own requests fail (not found, not visible, an API error on its data) is named
in `SyncReport.failures` with why, and the other accounts sync on. A failure no account can
escape (credentials rejected, the API unreachable) stops the sync and is raised, after what was
received is kept. Every request is counted in the store before it is sent (`count_request`).
Each page is written in its own transaction as it arrives, so a sync killed at any point loses at
most the page in flight. Two syncs on one store: the second is refused (`UsageStoreLockedError`).
ESI IDs are synced `concurrency` at a time (default 4: the API is one endpoint, with one token and
one budget for all; more than a few in flight only queue at its rate limiter).

One plan per ESI ID, written once without I/O (`_MeterSync`); the one stepper (`_steps`)
carries out its API calls (`_Api`, reached only through `_request`) and store operations
(`_Store`), blocking (daemon threads, so an abandoned request never holds the process) or
awaiting (tasks, store writes in a worker thread).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import queue
import signal
import threading
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import partial
from typing import Any

from typing_extensions import TypedDict, Unpack

from .._call import NO_RATE_LIMIT_RETRY
from .._errors import (
    APIStatusError,
    ConfigurationError,
    GraphQLError,
    InvalidResponseError,
    KrakenError,
    QueryTooLargeError,
    RateLimitError,
)
from .._steps import Blocking, perform_async, run_async, run_sync
from ._errors import OverlappingReadingsError, UsageStoreError
from ._fetch import (
    DEFAULT_PAGE_SIZE,
    DEFAULT_WINDOW_PAGES,
    STOP,
    MeterPoint,
    UsageClient,
    UsagePage,
    _Call,
    _meters,
    call_async,
    call_sync,
    check_client,
    grid_ceil,
    grid_floor,
    meter_span,
    walk_span,
)
from ._store import UsageStore
from ._time import INTERVAL, local_date, local_day_bounds, to_local

__all__ = [
    "BUDGET_CHECK_MAX_GAP",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_HISTORY",
    "INTERRUPT_GRACE",
    "MAX_CONCURRENCY",
    "REVISION_WINDOW",
    "SyncOptions",
    "SyncProgress",
    "SyncReport",
    "UsageSyncInterrupted",
    "sync_usage",
    "sync_usage_blocking",
]

REVISION_WINDOW = timedelta(days=3)
DEFAULT_HISTORY = timedelta(days=366)
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 64
BUDGET_CHECK_MAX_GAP = 200
BUDGET_PAGE_POINTS = 100.0  # a request's points assumed until more are seen (a page's: 78 here)
DEFAULT_BUDGET_RESERVE = 0.10  # of the hour's points
INTERRUPT_GRACE = 1.0  # seconds a request in flight at Ctrl-C may take to finish and be stored

_log = logging.getLogger("oeus_kraken.usage")


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
    requests: int  # every request it made: account lookups and budget checks included
    intervals: int  # received
    inserted: int
    revised: int
    # None: complete; "budget", "max-requests", "rate-limited", "interrupted"
    stopped_reason: str | None
    message: str  # one line for the user
    retry_after: float | None = None  # with "rate-limited": when the API allows more
    failures: dict[str, str] = field(default_factory=dict)  # account number -> why it failed


class UsageSyncInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped `sync_usage_blocking`; `report` says what was kept (its message is the
    line to show). A KeyboardInterrupt, so code that stops on Ctrl-C still does."""

    def __init__(self, report: SyncReport) -> None:
        super().__init__(report.message)
        self.report = report


# -- shared state of one sync ----------------------------------------------------------------------


def _is_account_failure(error: BaseException) -> bool:
    """An error in the API's answer about one account's data: that account fails, the others
    go on (a page the store refuses as overlapping its readings is one: the store is fine).
    Anything else (credentials, network, the store, a bug) stops the whole sync."""
    return isinstance(
        error, (GraphQLError, InvalidResponseError, APIStatusError, OverlappingReadingsError)
    )


def _reason(error: BaseException) -> str:
    if getattr(error, "error_code", None) == "KT-CT-4177":
        return "not found, or not visible to these credentials (KT-CT-4177)"
    text = " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, OverlappingReadingsError):
        return text  # ours, not the API's words: cut short, it lost the repair at its end
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass
class _Run:
    """What every ESI ID's plan of one sync shares: counts, the budget, the stop, failures."""

    now: datetime
    max_requests: int | None
    budget_reserve: float
    progress: Callable[[SyncProgress], None] | None
    run_id: int | None = None  # the store's record of this sync (UsageStore.begin_run)
    accounts: int = 0
    esi_ids: int = 0
    requests: int = 0
    intervals: int = 0
    inserted: int = 0
    revised: int = 0
    done_windows: int = 0
    total_windows: int = 0
    next_check: int = 1  # the request count at which the budget is read next
    # (requests, remaining points) at the hour's first read: what a request costs is measured
    # from there (see budget_read).
    points_seen: tuple[int, int] | None = None
    stopped_reason: str | None = None
    stop_message: str = ""
    retry_after: float | None = None
    failures: dict[str, str] = field(default_factory=dict)
    fatal: BaseException | None = None  # stopped every account: raised once the store is closed
    abandoned: bool = False  # plans still running stop at their next step, touching nothing
    lock: threading.Lock = field(default_factory=threading.Lock)

    def stop(self, reason: str, message: str, retry_after: float | None = None) -> None:
        with self.lock:
            if self.stopped_reason is None:
                self.stopped_reason, self.stop_message = reason, message
                self.retry_after = retry_after

    def interrupt(self) -> None:
        with self.lock:
            self.stopped_reason, self.stop_message = "interrupted", "interrupted"

    def fail(self, account: str, error: BaseException) -> None:
        """Record why `account` failed; an error no account escapes stops the whole sync."""
        with self.lock:
            if _is_account_failure(error):
                self.failures.setdefault(account, _reason(error))
                return
            if self.fatal is None:
                self.fatal = error
            if self.stopped_reason is None:
                self.stopped_reason, self.stop_message = "failed", _reason(error)

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
        the points per request seen since the hour's first read (the sandbox's 78 a page), never
        taken below BUDGET_PAGE_POINTS, and at most BUDGET_CHECK_MAX_GAP requests on.

        Not from the last read: ESI IDs syncing at once read the budget back to back, a request
        or two apart, and what those reads show spent (a budget check's point) made a page look
        nearly free, so the next read came 200 requests on, past the reserve and into the rate
        limit. An estimate too high only reads the budget sooner."""
        with self.lock:
            cost = BUDGET_PAGE_POINTS
            if self.points_seen is None or remaining > self.points_seen[1]:
                self.points_seen = (self.requests, remaining)  # the first read, or a new hour
            requests, points = self.points_seen
            if self.requests > requests:
                cost = max(cost, (points - remaining) / (self.requests - requests))
            room = max(0.0, remaining - reserve) / 2 / cost
            self.next_check = self.requests + min(BUDGET_CHECK_MAX_GAP, max(1, int(room)))

    def page_done(self, esi_id: str, page: UsagePage, result: Any, windows: int) -> None:
        with self.lock:
            self.intervals += len(page.intervals)
            self.inserted += result.inserted
            self.revised += result.revised
            self.done_windows += windows
            snapshot = SyncProgress(
                esi_id, self.requests, self.intervals, self.done_windows, self.total_windows
            )
        if self.progress is not None:
            self.progress(snapshot)


# -- carrying out a plan: its API calls and store operations ---------------------------------------


@dataclass(frozen=True)
class _Store:
    """A store operation: called directly when sync, in a worker thread when async."""

    operation: Callable[[UsageStore], Any]


@dataclass(frozen=True)
class _Api:
    """An API call whose KrakenError is the outcome (the plan decides what it means). Every
    call of a sync asks the client never to wait out a rate limit (`NO_RATE_LIMIT_RETRY`): the
    sync stops and resumes instead. Plans make one only through `_request`."""

    call: _Call


_Command = _Store | _Api
_Plan = Generator[_Command, Any, Any]


class _Abandoned(BaseException):
    """The run was abandoned (Ctrl-C): its plans stop where they are, raising nothing."""


def _perform_sync(client: UsageClient, store: UsageStore, run: _Run, command: _Command) -> Any:
    if run.abandoned:
        raise _Abandoned
    if isinstance(command, _Store):
        return command.operation(store)
    try:
        return call_sync(client, command.call, NO_RATE_LIMIT_RETRY)
    except KrakenError as error:
        return error


async def _perform_async(
    client: UsageClient, store: UsageStore, run: _Run, command: _Command
) -> Any:
    if run.abandoned:
        raise _Abandoned
    if isinstance(command, _Store):
        return await perform_async(Blocking(partial(command.operation, store)))
    try:
        return await call_async(client, command.call, NO_RATE_LIMIT_RETRY)
    except KrakenError as error:
        return error


def _run_sync(plan: _Plan, client: UsageClient, store: UsageStore, run: _Run) -> Any:
    """Carry out `plan` in this thread (the one stepper); an abandoned run stops it."""
    with contextlib.suppress(_Abandoned):
        return run_sync(plan, partial(_perform_sync, client, store, run))
    return None


async def _run_async(plan: _Plan, client: UsageClient, store: UsageStore, run: _Run) -> Any:
    with contextlib.suppress(_Abandoned):
        return await run_async(plan, partial(_perform_async, client, store, run))
    return None


class _NotSent:
    """What `_request` gives back when the run said no more requests."""


_NOT_SENT = _NotSent()


def _request(run: _Run, call: _Call, sync_id: int | None = None) -> _Plan:
    """The one way a plan asks the API: only while the run may go on, and counted in the store
    (for the run, and for the ESI ID's sync `sync_id`) before it is sent. Returns the answer,
    its KrakenError, or _NOT_SENT."""
    if not run.may_request():
        return _NOT_SENT
    assert run.run_id is not None
    yield _Store(partial(UsageStore.count_request, run=run.run_id, sync_id=sync_id))
    return (yield _Api(call))


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


def _window_count(span: tuple[datetime, datetime], page_size: int) -> int:
    length = INTERVAL * page_size * DEFAULT_WINDOW_PAGES
    return max(1, math.ceil((span[1] - span[0]) / length))


class _Budget:
    """Reading `rateLimitInfo` and deciding whether the hour's points allow going on."""

    @staticmethod
    def check(run: _Run, sync_id: int | None) -> Generator[_Command, Any, bool]:
        """Go on (True), or stop (False, with the reason recorded in `run`)."""
        answer = yield from _request(run, _Call("get_rate_limit_info", {}), sync_id)
        if answer is _NOT_SENT:
            return False
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
            renews = _renewal(points.ttl, run.now)
            left = f"{points.remaining_points:,} of {points.limit:,} points left"
            why = (
                f"stopped with {left} this hour (below the {reserve:,} kept in reserve)"
                if points.remaining_points < reserve
                else f"stopped: the API says these credentials are blocked for this hour ({left})"
            )
            run.stop(
                "budget",
                why
                + (f"; it renews at {renews}; run again then" if renews else "; run again later")
                + " to resume",
            )
            return False
        return True


def _renewal(ttl: int | None, now: datetime) -> str | None:
    """When the hour's points renew ("14:00 Texas time"), if `ttl` says a time in the coming
    day; None for anything else an API may send (a time past, 10**15: no date holds it)."""
    try:
        at = datetime.fromtimestamp(ttl, tz=timezone.utc) if ttl else None
    except (ValueError, OverflowError, OSError):
        return None
    if at is None or not now < at <= now + timedelta(days=1):
        return None
    return f"{to_local(at):%H:%M} Texas time"


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
        self.since = since  # no earlier than the meter's supply start
        self.page_size = page_size
        self.result = _MeterResult(meter.esi_id)
        self.sync_id: int | None = None
        self.reached: datetime | None = None  # how far the walk under way has stored
        self.steps: _Plan | None = None
        self._closed = False
        self._close_lock = threading.Lock()

    def spans(
        self, store: UsageStore
    ) -> tuple[list[tuple[datetime, datetime]], tuple[datetime, datetime] | None]:
        """(older spans due, the revision window): read from the store."""
        now = self.run.now
        end = grid_ceil(now)
        recent = max(self.since, grid_floor(now - REVISION_WINDOW))
        older = (
            store.gaps_due(self.meter.esi_id, self.since, recent, now)
            if recent > self.since
            else []
        )
        return _merge(older, INTERVAL * self.page_size), (recent, end) if recent < end else None

    def plan(
        self, older: list[tuple[datetime, datetime]], recent: tuple[datetime, datetime] | None
    ) -> Generator[_Command, Any, _MeterResult]:
        esi_id = self.meter.esi_id
        self.sync_id = yield _Store(
            partial(
                UsageStore.begin_sync, esi_id=esi_id, started_at=self.run.now, run=self.run.run_id
            )
        )
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
                if recent is not None:
                    yield from self.walk(recent)
        except KrakenError as error:
            failure = error
            self.run.fail(self.meter.account_number, error)
        if self.claim_close():
            yield _Store(self.close_record(type(failure).__name__ if failure else None))
        return self.result

    @property
    def closed(self) -> bool:
        return self._closed

    def claim_close(self) -> bool:
        """True once: whoever gets it closes the sync record (the plan, or the sync's end for
        a plan that was abandoned)."""
        with self._close_lock:
            closed, self._closed = self._closed, True
            return not closed

    def close_record(self, failure: str | None) -> Callable[[UsageStore], None]:
        result, run = self.result, self.run
        assert self.sync_id is not None
        return partial(
            UsageStore.finish_sync,
            sync_id=self.sync_id,
            finished_at=max(datetime.now(timezone.utc), run.now),
            requests=result.requests,
            intervals=result.intervals,
            revised=result.revised,
            stopped_reason=run.stopped_reason or failure,
        )

    def walk(self, span: tuple[datetime, datetime]) -> Generator[_Command, Any, datetime]:
        """Walk `span` into the store (`walk_span`: a probe page, then windows, each call asked
        and each page taken this sync's way); returns how far it got."""
        self.reached = span[0]
        yield from walk_span(
            self.meter, span, self.page_size, DEFAULT_WINDOW_PAGES, self.ask, self.store_page
        )
        return self.reached

    def ask(self, call: _Call) -> Generator[_Command, Any, Any]:
        """One call of the walk: within the budget, counted, never into a rate limit. Its
        answer (a too-large query's error included), or STOP to end the walk there."""
        if self.run.budget_check_due() and not (yield from _Budget.check(self.run, self.sync_id)):
            return STOP
        self.result.requests += 1
        outcome = yield from _request(self.run, call, self.sync_id)
        if outcome is _NOT_SENT:
            self.result.requests -= 1
            return STOP
        if isinstance(outcome, RateLimitError):
            _rate_limited(self.run, outcome)
            return STOP
        if isinstance(outcome, KrakenError) and not isinstance(outcome, QueryTooLargeError):
            raise outcome
        return outcome

    def store_page(self, page: UsagePage) -> Generator[_Command, Any, None]:
        result = yield _Store(
            partial(UsageStore.upsert, intervals=page.intervals, fetched_at=self.run.now)
        )
        self.result.intervals += len(page.intervals)
        self.result.revised += result.revised
        windows = _window_count(page.window, self.page_size) if page.last_of_window else 0
        self.run.page_done(self.meter.esi_id, page, result, windows)
        if page.last_of_window:
            self.reached = page.window[1]


def _account_plan(account: str, run: _Run) -> Generator[_Command, Any, list[MeterPoint]]:
    """The account's ESI IDs (linked in the store); [] when it failed, which `run` records."""
    answer = yield from _request(run, _Call("get_account", {"account_number": account}))
    if answer is _NOT_SENT:
        return []
    if isinstance(answer, RateLimitError):
        _rate_limited(run, answer)
        return []
    try:
        if isinstance(answer, KrakenError):
            raise answer
        meters = _meters(account, answer, None)
    except KrakenError as error:
        run.fail(account, error)
        if run.fatal is not None:
            raise
        return []
    for meter in meters:
        yield _Store(
            partial(UsageStore.link, account_number=meter.account_number, esi_id=meter.esi_id)
        )
    return meters


def _accounts_plan(run: _Run) -> Generator[_Command, Any, list[str]]:
    answer = yield from _request(run, _Call("get_viewer", {}))
    if answer is _NOT_SENT:
        return []
    if isinstance(answer, RateLimitError):
        _rate_limited(run, answer)
        return []
    if isinstance(answer, KrakenError):
        raise answer
    viewer = answer.viewer
    return (
        [a.number for a in (viewer.accounts or []) if a is not None and a.number] if viewer else []
    )


def _lookup_plan(
    run: _Run, accounts: Sequence[str] | None
) -> Generator[_Command, Any, list[MeterPoint]]:
    """Open the run's record, then find the ESI IDs of the accounts (default: the viewer's)."""
    run.run_id = yield _Store(partial(UsageStore.begin_run, started_at=run.now))
    # None is every account the credential sees; an empty list is none (a caller's filter that
    # matched nothing must not become a sync of every account).
    numbers = list(accounts) if accounts is not None else (yield from _accounts_plan(run))
    run.accounts = len(numbers)
    meters: list[MeterPoint] = []
    for number in numbers:
        meters += yield from _account_plan(number, run)
    run.esi_ids = len(meters)
    return meters


# -- putting it together -------------------------------------------------------------------------


def _check(
    accounts: Sequence[str] | None, since: date | None, max_requests: int | None, concurrency: int
) -> None:
    if isinstance(accounts, str):
        raise ConfigurationError("accounts must be a list of account numbers, not one string")
    for account in accounts or ():
        if not isinstance(account, str) or not account.strip():
            raise ConfigurationError(
                f"accounts must be account numbers (non-empty strings), got {account!r}"
            )
    if max_requests is not None and (
        isinstance(max_requests, bool) or not isinstance(max_requests, int) or max_requests < 1
    ):
        raise ConfigurationError(
            f"max_requests must be a whole number of 1 or more, got {max_requests!r}"
        )
    if (
        isinstance(concurrency, bool)
        or not isinstance(concurrency, int)
        or not 1 <= concurrency <= MAX_CONCURRENCY
    ):
        raise ConfigurationError(
            f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, got {concurrency!r}"
        )
    if since is not None and (not isinstance(since, date) or isinstance(since, datetime)):
        raise ConfigurationError("since must be a date (Texas local)")


def _since(since: date | None, now: datetime) -> datetime:
    """The local midnight the sync keeps usage from (default: DEFAULT_HISTORY back)."""
    today = local_date(now)
    if since is None:
        since = local_date(now - DEFAULT_HISTORY)
    elif since > today:
        raise ConfigurationError(
            f"since {since} is in the future (it is {today} in Texas): there is no usage to "
            "sync yet; give today or an earlier date"
        )
    return grid_floor(local_day_bounds(since)[0])


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _report(run: _Run) -> SyncReport:
    counts = (
        f"{run.intervals:,} intervals received ({run.inserted:,} new, {run.revised:,} revised) "
        f"in {_plural(run.requests, 'request')}"
    )
    if run.stopped_reason is None:
        synced = _plural(run.esi_ids, "ESI ID")
        message = f"synced {synced} of {_plural(run.accounts, 'account')}: {counts}"
    elif run.stopped_reason == "interrupted":
        message = (
            f"interrupted: kept {counts}; the store is consistent and the next sync resumes "
            "where this one stopped"
        )
    else:
        message = f"{run.stop_message} ({counts})"
    if run.failures:
        failed = "; ".join(f"{account}: {why}" for account, why in run.failures.items())
        message += f"; {_plural(len(run.failures), 'account')} failed: {failed}"
    return SyncReport(
        run.accounts,
        run.esi_ids,
        run.requests,
        run.intervals,
        run.inserted,
        run.revised,
        run.stopped_reason,
        message,
        run.retry_after,
        dict(run.failures),
    )


class SyncOptions(TypedDict, total=False):
    """The options of sync_usage and sync_usage_blocking, typed, so that mypy refuses a misspelt
    one (`max_request=`) or a value of the wrong type, as the sync does at run time."""

    since: date | None  # a Texas local date, not in the future
    max_requests: int | None
    concurrency: int
    budget_reserve: float  # the fraction of the hour's points left unspent
    progress: Callable[[SyncProgress], None] | None  # called after each page
    now: datetime | None  # an aware datetime, for tests and simulations


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


def _options(store: object, accounts: Sequence[str] | None, options: dict[str, Any]) -> _Options:
    if not isinstance(store, UsageStore):  # a path, say: "'str' object has no attribute ..."
        raise ConfigurationError(
            f"store must be a UsageStore (UsageStore(path) opens one), not {store!r}"
        )
    since = options.pop("since", None)
    max_requests = options.pop("max_requests", None)
    concurrency = options.pop("concurrency", DEFAULT_CONCURRENCY)
    reserve = options.pop("budget_reserve", DEFAULT_BUDGET_RESERVE)
    progress = options.pop("progress", None)
    now = options.pop("now", None) or datetime.now(timezone.utc)
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ConfigurationError(f"now must be an aware datetime, got {now!r}")
    if progress is not None and not callable(progress):
        raise ConfigurationError(f"progress must be a function of a SyncProgress, got {progress!r}")
    if options:
        raise ConfigurationError(f"unknown sync option(s): {', '.join(sorted(options))}")
    _check(accounts, since, max_requests, concurrency)
    if not isinstance(reserve, (int, float)) or not 0 <= reserve < 1:
        raise ConfigurationError(f"budget_reserve must be a fraction from 0 to 1, got {reserve!r}")
    _since(since, now)  # a date in the future is refused before anything is asked
    if accounts is not None:  # each account once, in the order given
        accounts = list(dict.fromkeys(accounts))
    return _Options(accounts, since, max_requests, concurrency, float(reserve), progress, now)


def _prepare(
    run: _Run, o: _Options, store: UsageStore, meters: list[MeterPoint]
) -> list[_MeterSync]:
    """One plan per ESI ID, over what it lacks from `since` (or its supply start) to now."""
    since = _since(o.since, o.now)
    syncs = []
    for meter in meters:
        span = meter_span(meter, (since, grid_ceil(o.now)), o.now)
        if span is None:
            continue  # supplied from a date still to come: nothing to sync yet
        sync = _MeterSync(meter, run, span[0], o.page_size)
        older, recent = sync.spans(store)
        run.total_windows += sum(
            _window_count(s, o.page_size) for s in [*older, *([recent] if recent else [])]
        )
        sync.steps = sync.plan(older, recent)
        syncs.append(sync)
    return syncs


def _finish(run: _Run, syncs: list[_MeterSync], store: UsageStore) -> None:
    """Close what the plans did not: the records of abandoned ESI IDs, and the run's own."""
    closing = [
        _Store(sync.close_record(None))
        for sync in syncs
        if sync.sync_id is not None and sync.claim_close()
    ]
    if run.run_id is not None:
        finished_at = max(datetime.now(timezone.utc), run.now)
        closing.append(
            _Store(
                partial(
                    UsageStore.finish_run,
                    run=run.run_id,
                    finished_at=finished_at,
                    stopped_reason=run.stopped_reason,
                )
            )
        )
    with contextlib.suppress(UsageStoreError):  # a store that failed: its error is raised
        for command in closing:
            command.operation(store)


class _Threads:
    """ESI ID plans carried out `concurrency` at a time on daemon threads: at Ctrl-C the main
    thread stops waiting for them, and a request still in flight never holds the process."""

    def __init__(self, syncs: list[_MeterSync], concurrency: int) -> None:
        self._pending: queue.SimpleQueue[_MeterSync] = queue.SimpleQueue()
        for sync in syncs:
            self._pending.put(sync)
        self._threads = [
            threading.Thread(target=self._work, name=f"usage-sync-{n}", daemon=True)
            for n in range(min(concurrency, len(syncs)))
        ]

    def run(self, client: UsageClient, store: UsageStore, run: _Run) -> None:
        self._client, self._store, self._run = client, store, run
        for thread in self._threads:
            thread.start()
        while not self.join(0.02):  # short waits: a Ctrl-C another thread got is seen at once
            pass

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for every plan; True when all have ended."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)

    def _work(self) -> None:
        if hasattr(signal, "pthread_sigmask"):
            # Ctrl-C is then delivered to the main thread, whose wait it ends at once.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        while not self._run.abandoned:
            try:
                sync = self._pending.get_nowait()
            except queue.Empty:
                return
            assert sync.steps is not None
            try:
                _run_sync(sync.steps, self._client, self._store, self._run)
            except BaseException as error:  # a thread must not raise: the run reports it
                self._run.fail(sync.meter.account_number, error)


def _outcome(run: _Run, syncs: list[_MeterSync], store: UsageStore) -> SyncReport:
    _finish(run, syncs, store)
    if run.fatal is not None:
        raise run.fatal
    return _report(run)


def sync_usage_blocking(
    client: UsageClient,
    store: UsageStore,
    accounts: Sequence[str] | None = None,
    **options: Unpack[SyncOptions],
) -> SyncReport:
    """Bring `store` up to date for `accounts` (None, the default: every account the credential
    sees; each account named is synced once; an empty list syncs none), with a
    `SyncKrakenClient`. Options: `since` (a Texas local date, not in the future),
    `max_requests`, `concurrency`, `budget_reserve`, `progress` (called with a SyncProgress
    after each page), `now` (an aware datetime, for tests and simulations).

    Ctrl-C raises `UsageSyncInterrupted` (a KeyboardInterrupt) with the report, within about
    INTERRUPT_GRACE seconds; a second Ctrl-C while it winds down stops at once."""
    check_client(client, blocking=True)
    o = _options(store, accounts, {**options})
    run = _new_run(o)
    syncs: list[_MeterSync] = []
    with store.sync_lock():
        try:
            meters = _run_sync(_lookup_plan(run, o.accounts), client, store, run)
            syncs = _prepare(run, o, store, meters)
            _Threads(syncs, o.concurrency).run(client, store, run)
        except KeyboardInterrupt:
            run.interrupt()
            _wait_for(syncs, INTERRUPT_GRACE)
            run.abandoned = True
            report = _outcome(run, syncs, store)
            raise UsageSyncInterrupted(report) from None
        except BaseException as error:
            run.fail("", error)
            _finish(run, syncs, store)
            raise
        return _outcome(run, syncs, store)


def _wait_for(syncs: list[_MeterSync], grace: float) -> None:
    """Give plans in flight `grace` seconds to see the stop and close their own records."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(not s.closed for s in syncs):
        time.sleep(0.02)


async def sync_usage(
    client: UsageClient,
    store: UsageStore,
    accounts: Sequence[str] | None = None,
    **options: Unpack[SyncOptions],
) -> SyncReport:
    """`sync_usage_blocking` with a `KrakenClient` (async): ESI IDs run as tasks, `concurrency`
    at a time; store writes run in a worker thread. Cancelled, it sends no further request,
    closes the open records as interrupted, logs the report's line and re-raises."""
    check_client(client, blocking=False)
    o = _options(store, accounts, {**options})
    run = _new_run(o)
    syncs: list[_MeterSync] = []
    tasks: list[asyncio.Task[None]] = []
    with store.sync_lock():
        try:
            meters = await _run_async(_lookup_plan(run, o.accounts), client, store, run)
            syncs = _prepare(run, o, store, meters)
            slots = asyncio.Semaphore(o.concurrency)

            async def one(sync: _MeterSync) -> None:
                assert sync.steps is not None
                async with slots:
                    try:
                        await _run_async(sync.steps, client, store, run)
                    except Exception as error:  # a task's failure is the run's to report
                        run.fail(sync.meter.account_number, error)

            tasks = [asyncio.ensure_future(one(sync)) for sync in syncs]
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            run.interrupt()
            run.abandoned = True
            for task in tasks:
                task.cancel()
            report = _outcome(run, syncs, store)
            _log.info("usage sync %s", report.message)
            raise
        except BaseException as error:
            run.fail("", error)
            _finish(run, syncs, store)
            raise
        return _outcome(run, syncs, store)


def _new_run(o: _Options) -> _Run:
    return _Run(o.now, o.max_requests, o.budget_reserve, o.progress)
