"""Usage sync: a local store kept complete and current, at the lowest request cost.

Against the sandbox, whose seeded year of usage has both DST days, late intervals, a gap that a
knob fills, revisions that a knob makes, and an hourly points budget. Time is the sandbox's clock,
moved by the tests; the sync's `now` follows it.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SandboxClock
from usage_helpers import rewritten_sandbox

from oeus_kraken import APIKey, KrakenClient, OrganizationSecretKey, SyncKrakenClient
from oeus_kraken.sandbox import (
    DEMO_ACCOUNT_NUMBERS,
    DEMO_API_KEY,
    DEMO_ORGANIZATION_SECRET_KEY,
    GAP_INTERVALS,
    GAP_START,
    SandboxServer,
)
from oeus_kraken.usage import (
    REVISION_WINDOW,
    SyncReport,
    UsageStore,
    UsageStoreLockedError,
    local_day_bounds,
    sync_usage,
    sync_usage_blocking,
)

ACCOUNT = DEMO_ACCOUNT_NUMBERS[0]
# Two weeks back: some 14 pages, well past the 3-page revision window a second sync asks for.
SINCE = (datetime.now(timezone.utc) - timedelta(days=14)).date()
GAP = datetime.fromtimestamp(GAP_START, tz=timezone.utc)


def sandbox_now(clock: SandboxClock) -> datetime:
    return datetime.fromtimestamp(clock(), tz=timezone.utc)


def sync(
    kind: str, sandbox: SandboxServer, clock: SandboxClock, store: UsageStore, **options: Any
) -> SyncReport:
    """One sync of ACCOUNT with the client of `kind`, at the sandbox's now."""
    options = {"since": SINCE, "now": sandbox_now(clock), **options}
    credentials = APIKey(DEMO_API_KEY)
    if kind == "async":

        async def run() -> SyncReport:
            async with KrakenClient(sandbox.url, credentials=credentials, clock=clock) as kraken:
                return await sync_usage(kraken, store, [ACCOUNT], **options)

        return asyncio.run(run())
    with SyncKrakenClient(sandbox.url, credentials=credentials, clock=clock) as sync_kraken:
        return sync_usage_blocking(sync_kraken, store, [ACCOUNT], **options)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with UsageStore(tmp_path / "usage.sqlite3") as opened:
        yield opened


def measurement_requests(sandbox: SandboxServer) -> int:
    return sandbox.stats.operations.get("getPropertyMeasurements", 0)


@pytest.mark.slow
def test_a_first_sync_costs_the_floor_and_a_second_only_the_revision_window(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore, kind: str
) -> None:
    sandbox_clock.freeze()
    first = sync(kind, sandbox, sandbox_clock, store)
    assert first.stopped_reason is None
    pages_first = measurement_requests(sandbox)
    assert pages_first <= -(-first.intervals // 100) + 3  # the floor, plus a few

    second = sync(kind, sandbox, sandbox_clock, store)
    pages_second = measurement_requests(sandbox) - pages_first
    window_intervals = REVISION_WINDOW // timedelta(minutes=15)
    assert pages_second <= -(-window_intervals // 100) + 1  # only the revision window
    assert second.inserted == 0
    assert "synced 1 ESI ID" in second.message


@pytest.mark.slow
def test_a_revised_value_replaces_the_old_one_and_is_counted(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore, kind: str
) -> None:
    sandbox_clock.freeze()
    sandbox.set_usage_churn(late_share=0.0, revised_share=0.5)  # half the new ones: estimates
    sandbox_clock.advance(12 * 3600)  # half a day of intervals arrive, many estimated
    sync(kind, sandbox, sandbox_clock, store)
    esi_id = store.esi_ids(ACCOUNT)[0]
    recent = sandbox_now(sandbox_clock) - timedelta(hours=10)
    before = {
        i.start: i.value for i in store.intervals(esi_id, recent, recent + timedelta(hours=4))
    }

    sandbox_clock.advance(2 * 86400 + 3600)  # the estimates are replaced by actual readings
    report = sync(kind, sandbox, sandbox_clock, store)

    after = {i.start: i.value for i in store.intervals(esi_id, recent, recent + timedelta(hours=4))}
    changed = {start for start in before if after.get(start) != before[start]}
    assert report.revised >= len(changed) > 0
    [status] = [s for s in store.status() if s.esi_id == esi_id]
    assert status.revisions >= len(changed)


@pytest.mark.slow
def test_a_gap_is_reported_then_filled_once_the_sandbox_delivers_it(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore, kind: str
) -> None:
    since = date(2026, 7, 13)
    sandbox_clock.freeze()
    # A sync's "now" a few days after the gap: the revision window is past it, and the sync
    # fetches days, not months.
    now = GAP + timedelta(days=5)
    sync(kind, sandbox, sandbox_clock, store, since=since, now=now)
    esi_id = store.esi_ids(ACCOUNT)[0]
    [status] = [s for s in store.status() if s.esi_id == esi_id]
    gap = [g for g in status.gaps if g.start <= GAP < g.end or g.start == GAP]
    assert gap, status.gaps
    assert store.missing(esi_id, GAP, GAP + timedelta(minutes=15 * GAP_INTERVALS))

    # Right after, the gap is not asked for again (its backoff: an hour first)...
    pages = measurement_requests(sandbox)
    sync(kind, sandbox, sandbox_clock, store, since=since, now=now)
    window_pages = -(-(REVISION_WINDOW // timedelta(minutes=15)) // 100)
    assert measurement_requests(sandbox) - pages <= window_pages

    # ... and once delivered and due, it is filled.
    sandbox.fill_usage_gap()
    sync(kind, sandbox, sandbox_clock, store, since=since, now=now + timedelta(seconds=3600 + 60))
    assert store.missing(esi_id, GAP, GAP + timedelta(minutes=15 * GAP_INTERVALS)) == []


@pytest.mark.parametrize(("day", "count"), [(date(2026, 3, 8), 92), (date(2026, 11, 1), 100)])
def test_dst_days_have_92_and_100_intervals_and_correct_day_totals(
    sandbox: SandboxServer,
    sandbox_clock: SandboxClock,
    store: UsageStore,
    tmp_path: Path,
    day: date,
    count: int,
) -> None:
    # `now` a few days on: the days around the change are all this needs to fetch.
    now = datetime.combine(day + timedelta(days=3), time(12), tzinfo=timezone.utc)
    sync("sync", sandbox, sandbox_clock, store, since=day - timedelta(days=1), now=now)
    esi_id = store.esi_ids(ACCOUNT)[0]
    start, end = local_day_bounds(day)
    stored = store.intervals(esi_id, start, end)
    assert len(stored) == count

    out = tmp_path / "day.csv"
    store.export(ACCOUNT, day, day, interval="day", format="csv", out=out)
    [row] = list(csv.DictReader(io.StringIO(out.read_text())))
    assert Decimal(row["kwh"]) == sum(i.value for i in stored)
    hours = tmp_path / "hours.csv"
    store.export(ACCOUNT, day, day, interval="hour", format="csv", out=hours)
    assert len(hours.read_text().splitlines()) == 1 + count // 4  # 23 or 25 hours


def test_two_syncs_at_once_on_one_store_one_is_refused_with_a_clear_line(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore
) -> None:
    with store.sync_lock(), pytest.raises(UsageStoreLockedError) as refused:
        sync("sync", sandbox, sandbox_clock, store)
    assert str(store.path) in str(refused.value)
    assert measurement_requests(sandbox) == 0  # refused before any request


@pytest.mark.slow
def test_the_budget_stop_leaves_a_resumable_store_and_the_next_run_resumes(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore, kind: str
) -> None:
    sandbox_clock.freeze()
    sandbox.set_faults(points_allowance=600)  # about 7 pages at the sandbox's 78 points each
    stopped = sync(kind, sandbox, sandbox_clock, store)
    assert stopped.stopped_reason == "budget"
    assert "points left this hour" in stopped.message
    assert "run again" in stopped.message
    esi_id = store.esi_ids(ACCOUNT)[0]
    start = local_day_bounds(SINCE)[0]
    partial = len(store.intervals(esi_id, start, sandbox_now(sandbox_clock)))
    assert partial > 0

    sandbox_clock.advance(3600)  # the allowance renews
    sandbox.set_faults(points_allowance=0)
    resumed = sync(kind, sandbox, sandbox_clock, store)
    assert resumed.stopped_reason is None
    assert resumed.inserted > 0
    assert resumed.inserted + partial >= resumed.intervals - 300  # only what was missing, again


@pytest.mark.slow
def test_syncing_esi_ids_at_once_keeps_the_budget_reserve_and_is_never_rate_limited(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore
) -> None:
    # Four ESI IDs at once read the budget back to back, a request apart: the points those
    # reads show spent between them (a budget check's 1) are no measure of a page's cost.
    sandbox_clock.freeze()
    sandbox.set_faults(points_allowance=10_000)
    credentials = OrganizationSecretKey(DEMO_ORGANIZATION_SECRET_KEY)  # every account
    with SyncKrakenClient(sandbox.url, credentials=credentials, clock=sandbox_clock) as kraken:
        report = sync_usage_blocking(kraken, store, concurrency=4, now=sandbox_now(sandbox_clock))
    assert report.stopped_reason == "budget", report.message
    with SyncKrakenClient(sandbox.url, credentials=credentials, clock=sandbox_clock) as kraken:
        info = kraken.get_rate_limit_info().rate_limit_info
    assert info is not None
    assert info.points_allowance_rate_limit is not None
    left = info.points_allowance_rate_limit.remaining_points or 0
    # The 1,000 kept in reserve, less what the four pages in flight at the stop may cost.
    assert left >= 1_000 - 4 * 78 - 1, report.message


class BudgetRewritten(httpx.BaseTransport):
    """The sandbox, with each rateLimitInfo answer's points (a dict) changed by `change`: an
    API that tells the budget in ways Kraken's does not."""

    def __init__(self, change: Callable[[dict[str, Any]], None]) -> None:
        self.inner = httpx.HTTPTransport()
        self.change = change

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        operation = json.loads(request.read()).get("operationName")
        answer = self.inner.handle_request(request)
        body = json.loads(answer.read())
        if operation == "getRateLimitInfo":
            self.change(body["data"]["rateLimitInfo"]["pointsAllowanceRateLimit"])
        return httpx.Response(answer.status_code, json=body)

    def close(self) -> None:
        self.inner.close()


def budget_sync(sandbox: SandboxServer, store: UsageStore, transport: httpx.BaseTransport) -> Any:
    with (
        httpx.Client(transport=transport) as http,
        SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY), http_client=http) as kraken,
    ):
        return sync_usage_blocking(kraken, store, [ACCOUNT], since=SINCE)


@pytest.mark.parametrize("ttl", [10**15, -10, 0.5e9], ids=["year-31690708", "1969", "2001"])
def test_a_budget_stop_leaves_out_a_renewal_time_that_is_not_in_the_coming_day(
    sandbox: SandboxServer, store: UsageStore, ttl: float
) -> None:
    # 10**15 raised ValueError (year 31690708 is out of range) out of the sync, a traceback in
    # the CLI; a ttl in the past said "it renews at 17:59 Texas time", of 1969.
    transport = BudgetRewritten(lambda points: points.update(remainingPoints=1, ttl=ttl))
    report = budget_sync(sandbox, store, transport)
    assert report.stopped_reason == "budget", report.message
    assert "renews" not in report.message
    assert "run again later to resume" in report.message


def test_a_budget_the_api_says_is_blocked_stops_the_sync_saying_so(
    sandbox: SandboxServer, store: UsageStore
) -> None:
    # It said "stopped with 49,999 of 50,000 points left this hour (below the 5,000 kept in
    # reserve)": not what stopped it.
    report = budget_sync(sandbox, store, BudgetRewritten(lambda p: p.update(isBlocked=True)))
    assert report.stopped_reason == "budget", report.message
    assert report.message.startswith("stopped: the API says these credentials are blocked for "
                                      "this hour (")  # fmt: skip
    assert "below the" not in report.message


def test_max_requests_caps_one_run(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore
) -> None:
    report = sync("sync", sandbox, sandbox_clock, store, max_requests=5)
    assert report.stopped_reason == "max-requests"
    assert report.requests == 5
    assert sandbox.stats.requests - sandbox.stats.token_requests == 5


def test_a_rate_limit_stops_the_sync_at_once_without_retrying_into_it(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, store: UsageStore
) -> None:
    sandbox.set_faults(data_rate_limit=1_000)
    # Default retries: the sync asks the client not to spend them on a rate limit.
    with SyncKrakenClient(sandbox.url, credentials=APIKey(DEMO_API_KEY)) as kraken:
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=SINCE)
    assert report.stopped_reason == "rate-limited"
    assert "run again" in report.message
    assert sandbox.stats.requests - sandbox.stats.token_requests == 1


KILLED_SYNC = textwrap.dedent(
    """
    import sys
    from datetime import date
    from oeus_kraken import APIKey, SyncKrakenClient
    from oeus_kraken.usage import UsageStore, sync_usage_blocking

    url, db, key, account, since = sys.argv[1:6]

    def progress(p):
        print("page", p.requests, flush=True)

    with SyncKrakenClient(url, credentials=APIKey(key)) as kraken, UsageStore(db) as store:
        sync_usage_blocking(kraken, store, [account], since=date.fromisoformat(since),
                            progress=progress, concurrency=1)
    print("done", flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_sync_killed_between_pages_leaves_a_consistent_store_that_the_next_run_completes(
    sandbox: SandboxServer, sandbox_clock: SandboxClock, tmp_path: Path
) -> None:
    db = tmp_path / "killed.sqlite3"
    with subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILLED_SYNC,
            sandbox.url,
            str(db),
            DEMO_API_KEY,
            ACCOUNT,
            SINCE.isoformat(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        pages = 0
        for line in child.stdout:
            if line.startswith("page"):
                pages += 1
            if pages == 8:
                os.kill(child.pid, signal.SIGKILL)
                break
        child.wait(30)
    assert child.returncode == -signal.SIGKILL

    with UsageStore(db) as store:  # opens: consistent
        esi_id = store.esi_ids(ACCOUNT)[0]
        kept = len(store.intervals(esi_id, local_day_bounds(SINCE)[0], sandbox_now(sandbox_clock)))
        assert kept > 0
        report = sync("sync", sandbox, sandbox_clock, store)
        assert report.stopped_reason is None
        total = len(store.intervals(esi_id, local_day_bounds(SINCE)[0], sandbox_now(sandbox_clock)))
    assert report.inserted == total - kept
    # What the killed run had stored was not asked for again: the floor of the rest, plus a few.
    assert report.requests <= -(-(total - kept) // 100) + 6


def test_a_sync_stores_only_the_span_it_asked_for_and_an_unusable_answer_fails_its_account(
    sandbox: SandboxServer, store: UsageStore
) -> None:
    # Before: an interval the API sent from outside the span was stored (status then showed
    # years covered and a gap over all of them), and an interval with a time but no zone
    # stopped the whole sync with a ConfigurationError, blaming the caller.
    def outside(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        node = {"startAt": "2020-01-01T00:00:00-06:00", "endAt": "2020-01-01T00:15:00-06:00"}
        return [{**edges[0], "node": {**edges[0]["node"], **node}}, *edges]

    def naive(edges: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**edges[0], "node": {**edges[0]["node"], "endAt": "2026-03-02T00:15:00"}}]

    day = date(2026, 3, 2)
    now = local_day_bounds(day)[1] + timedelta(hours=1)
    with rewritten_sandbox(sandbox.url, outside) as kraken:
        sync_usage_blocking(kraken, store, [ACCOUNT], since=day, now=now)
    (status,) = [s for s in store.status() if s.intervals]
    assert status.covered is not None
    assert status.covered[0] == local_day_bounds(day)[0]
    kept = store.intervals(status.esi_id, *local_day_bounds(day))

    with rewritten_sandbox(sandbox.url, naive) as kraken:
        report = sync_usage_blocking(kraken, store, [ACCOUNT], since=day, now=now)
    assert "no time zone" in report.failures[ACCOUNT]
    assert store.intervals(status.esi_id, *local_day_bounds(day)) == kept
