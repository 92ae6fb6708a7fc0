"""Walking an account's interval usage over a time span, page by page: `iter_usage` (sync) and
`aiter_usage` (async), or page by page with `iter_usage_pages` / `aiter_usage_pages`.

    from datetime import date
    from oeus_kraken.usage import iter_usage

    for interval in iter_usage(kraken, "A-1234ABCD", date(2026, 3, 1), date(2026, 3, 31)):
        print(interval.esi_id, interval.start, interval.value)      # kWh, UTC start

What it asks the API for, and why:
- The account's properties first (`getAccount`: one request), then each property's intervals on
  its own (`getPropertyMeasurements`). A request that reaches every property of an account costs
  each property's share of Kraken's complexity cap (KT-CT-1188) at once: three properties at 100
  intervals a page already break it. One property at a time costs the same on every account.
- Pages of `page_size` intervals, default 100: Kraken requires `first` on measurements and caps it
  at 100, and the biggest page is the fewest requests against the hourly budget.
- Windows of `window_pages` pages, default 20 (2,000 intervals, about 21 days): each window is its
  own `startAt`/`endAt` request series. A window is a whole number of pages, so every page but the
  last of the span is full (the request count stays at the floor, intervals / page size); and a
  window is small enough to be the unit a sync saves and resumes, and a failed page costs at most
  its window again.
- If Kraken still refuses a page as too complex or too large (KT-CT-1188, KT-CT-1189: its real
  formula is not published), the page is asked for again at half the size, down to 1 interval,
  and that smaller size is kept for the rest of the window.
- Nothing is asked for before the meter's supply began (its agreements' earliest `validFrom`,
  read with the account) nor after now. A span longer than a window starts with one page over
  the whole span, which finds where its data begins: years with no data cost one request, not
  one per window.

Dates are Texas local (America/Chicago) dates, both ends included, so a day asked for is that local
day (92, 96 or 100 intervals); aware datetimes are used as given. Intervals come back in UTC.

The walk is decided once, without I/O (`_walk`); the sync and async functions only carry out its
calls.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, replace
from datetime import MAXYEAR, date, datetime, timedelta, timezone
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypedDict

from typing_extensions import Unpack

from .._call import CallKeywords, CallOptions
from .._errors import ConfigurationError, InvalidResponseError, QueryTooLargeError
from .._steps import Emit, iterate_async, iterate_sync
from ._models import Interval, decimal_width
from ._time import INTERVAL, local_date, local_range_bounds

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_WINDOW_PAGES",
    "MeterPoint",
    "UsageOptions",
    "UsagePage",
    "aiter_usage",
    "aiter_usage_pages",
    "iter_usage",
    "iter_usage_pages",
    "usage_windows",
]

DEFAULT_PAGE_SIZE = 100
DEFAULT_WINDOW_PAGES = 20
MAX_PAGE_SIZE = 100  # Kraken's cap on `first` for measurements


@dataclass(frozen=True)
class MeterPoint:
    """One ESI ID of an account, on the property it belongs to, and when its supply began (the
    earliest start of its agreements, UTC; None when the API does not say)."""

    account_number: str
    property_id: str
    esi_id: str
    supply_start: datetime | None = None
    others: frozenset[str] = frozenset()
    """The account's other ESI IDs: a reading the API labels as one of them is that one's."""


@dataclass(frozen=True)
class UsagePage:
    """One answered request: the intervals of one page of one meter point's window."""

    meter: MeterPoint
    window: tuple[datetime, datetime]  # UTC, [start, end)
    intervals: list[Interval]
    last_of_window: bool  # no further page in this window
    page_size: int  # the `first` it was asked with


@dataclass(frozen=True)
class _Call:
    """Call the client's operation `method` with `arguments`: an effect of the walks."""

    method: str
    arguments: dict[str, Any]


class UsageClient(Protocol):
    """What the usage walks and syncs call: the generated operations of `SyncKrakenClient`, or
    of `KrakenClient`, whose methods give awaitables (or of any client with these methods)."""

    def get_account(self, account_number: str, **options: Unpack[CallKeywords]) -> Any: ...
    def get_property_measurements(
        self, property_id: str, first: int, **options: Unpack[CallKeywords]
    ) -> Any: ...
    def get_viewer(self, **options: Unpack[CallKeywords]) -> Any: ...
    def get_rate_limit_info(self, **options: Unpack[CallKeywords]) -> Any: ...


_CLIENT_METHODS = ("get_account", "get_property_measurements", "get_viewer", "get_rate_limit_info")


def check_client(client: object, blocking: bool) -> None:
    """A client with the operations the usage walks and syncs call, or a ConfigurationError
    saying which to give (before: "'NoneType' object has no attribute 'get_account'")."""
    if not all(callable(getattr(client, name, None)) for name in _CLIENT_METHODS):
        kind = "SyncKrakenClient" if blocking else "KrakenClient"
        raise ConfigurationError(
            f"the client must be a {kind} (or a client with its generated operations), not "
            f"{type(client).__name__}: {kind}.from_env() makes one"
        )


def call_sync(client: UsageClient, call: _Call, options: CallOptions | None = None) -> Any:
    """Perform a _Call, blocking (with `options` for the operation, if any)."""
    extra = {} if options is None else {"options": options}
    answer = getattr(client, call.method)(**call.arguments, **extra)
    if inspect.isawaitable(answer):
        # An async client given to a blocking function: its coroutine sent nothing. Said here,
        # not as "'coroutine' object has no attribute 'account'" further on.
        if inspect.iscoroutine(answer):
            answer.close()  # no "never awaited" warning
        raise ConfigurationError(
            f"{type(client).__name__}'s calls are async (awaitable): sync_usage_blocking and "
            "iter_usage need a blocking client (SyncKrakenClient); with an async one, "
            "use await sync_usage(...) or aiter_usage(...)"
        )
    return answer


async def call_async(client: UsageClient, call: _Call, options: CallOptions | None = None) -> Any:
    """Perform a _Call, awaiting."""
    extra = {} if options is None else {"options": options}
    answer = getattr(client, call.method)(**call.arguments, **extra)
    if not inspect.isawaitable(answer):  # a blocking client given to an async function
        raise ConfigurationError(
            f"{type(client).__name__}'s calls are blocking (not awaitable): sync_usage and "
            "aiter_usage need an async client (KrakenClient); with a blocking one, use "
            "sync_usage_blocking(...) or iter_usage(...)"
        )
    return await answer


# How a walk asks the API and hands on a page. The walks' own: yield the call as an effect (an
# error comes back thrown in; a too-large query is the answer, for the walk to ask for less), and
# emit the page. A sync asks and takes its own way (budget, counts, the store): `walk_span`.
Ask = Callable[[_Call], Generator[Any, Any, Any]]
Take = Callable[["UsagePage"], Generator[Any, Any, None]]
STOP = object()  # what an Ask gives to end the walk where it is


def _asked(call: _Call) -> Generator[_Call, Any, Any]:
    try:
        return (yield call)
    except QueryTooLargeError as too_large:
        return too_large


def _emitted(page: UsagePage) -> Generator[Emit, Any, None]:
    yield Emit(page)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ConfigurationError(
            f"a datetime for usage must be aware (with a time zone), got {moment.isoformat()}; "
            "or give Texas local dates"
        )
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ConfigurationError(
            f"{moment.isoformat()} is outside the range of datetimes once in UTC (before year 1 "
            "or after 9999): give a later start or an earlier end"
        ) from None


def _aware(moment: date | datetime) -> bool:
    return isinstance(moment, datetime) and moment.utcoffset() is not None


def _check_dates(start: object, end: object) -> None:
    """Two Texas local dates in order; text or numbers in their place (a TypeError when
    compared, before) say what to give."""
    if not (isinstance(start, date) and isinstance(end, date)):
        raise ConfigurationError(
            "a span is two Texas local dates (datetime.date) or two aware datetimes, "
            f"not {start!r} and {end!r}"
        )
    if end < start:
        raise ConfigurationError(f"the span ends ({end}) before it starts ({start})")


def span_bounds(start: date | datetime, end: date | datetime) -> tuple[datetime, datetime]:
    """[start, end) in UTC on the 15-minute grid: local dates count whole days, both included;
    datetimes are used as given (rounded out to whole intervals)."""
    if isinstance(start, datetime) or isinstance(end, datetime):
        if not (isinstance(start, datetime) and isinstance(end, datetime)):
            raise ConfigurationError("give both ends as dates, or both as aware datetimes")
        first, last = _utc(start), _utc(end)
    else:
        _check_dates(start, end)
        return local_range_bounds(start, end)
    grid = int(INTERVAL.total_seconds())
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    floor = (int((first - epoch).total_seconds()) // grid) * grid
    ceil = -((-int((last - epoch).total_seconds())) // grid) * grid
    if ceil <= floor:
        raise ConfigurationError(f"the span ends ({end}) before it starts ({start})")
    return epoch + timedelta(seconds=floor), epoch + timedelta(seconds=ceil)


def usage_windows(
    start: datetime, end: datetime, *, page_size: int, window_pages: int
) -> list[tuple[datetime, datetime]]:
    """[start, end) cut into windows of `window_pages` pages of `page_size` intervals."""
    length = INTERVAL * page_size * window_pages
    windows = []
    cursor = start
    while cursor < end:
        windows.append((cursor, min(cursor + length, end)))
        cursor += length
    return windows


def _check_sizes(page_size: object, window_pages: object) -> tuple[int, int]:
    for name, value, top in (
        ("page_size", page_size, MAX_PAGE_SIZE),
        ("window_pages", window_pages, 10_000),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise ConfigurationError(
                f"{name} must be a whole number from 1 to {top}, got {value!r}"
            )
    return int(page_size), int(window_pages)  # type: ignore[call-overload]


def _meters(account_number: str, answer: Any, esi_id: str | None) -> list[MeterPoint]:
    account = answer.account
    if account is None:
        raise InvalidResponseError(f"getAccount: no account {account_number} in the answer")
    meters = [
        MeterPoint(
            account_number, prop.id, _esi_id(account_number, point.mpan), _supply_start(point)
        )
        for prop in account.properties or []
        if prop is not None and prop.id is not None
        for point in prop.electricity_meter_points or []
        if point is not None
    ]
    every = frozenset(m.esi_id for m in meters)
    meters = [replace(m, others=every - {m.esi_id}) for m in meters]
    if esi_id is None:
        return meters
    chosen = [m for m in meters if m.esi_id == esi_id]
    if not chosen:
        known = ", ".join(m.esi_id for m in meters) or "none"
        raise ConfigurationError(
            f"ESI ID {esi_id} is not on account {account_number} (its ESI IDs: {known})"
        )
    return chosen


def _esi_id(account_number: str, mpan: Any) -> str:
    """An ESI ID as the API names it, which must be digits: it is stored, printed, a cell in a
    CSV export and a file name in a Parquet one ("../x" there named a file outside it)."""
    if not (isinstance(mpan, str) and mpan.isascii() and mpan.isdigit()):
        raise InvalidResponseError(
            f"getAccount: account {account_number} names an ESI ID that is not digits "
            f"({mpan!r}); nothing of it is asked for or stored"
        )
    return mpan


def _supply_start(point: Any) -> datetime | None:
    starts = [
        _calendar_clamped(agreement.valid_from)
        for agreement in getattr(point, "agreements", None) or []
        if agreement is not None and agreement.valid_from is not None
    ]
    return min(starts, default=None)


def _calendar_clamped(moment: datetime) -> datetime:
    """`moment` in UTC; at the calendar's end when UTC cannot hold it (9999-12-31 or 0001-01-01
    with an offset, a placeholder "open" date): a bare OverflowError ended the whole sync."""
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        if moment.year == MAXYEAR:  # its last 15 minutes: the grid (grid_floor) holds them
            return datetime(MAXYEAR, 12, 31, 23, 45, tzinfo=timezone.utc)
        return datetime.min.replace(tzinfo=timezone.utc)


def meter_span(
    meter: MeterPoint, span: tuple[datetime, datetime], now: datetime
) -> tuple[datetime, datetime] | None:
    """The part of `span` a meter can have usage in: from its supply start (on the grid) to
    now; None when nothing is left."""
    start, end = span
    if meter.supply_start is not None:
        start = max(start, grid_floor(meter.supply_start))
    end = min(end, grid_ceil(now))
    return (start, end) if start < end else None


def grid_floor(moment: datetime) -> datetime:
    """The start of the 15-minute interval `moment` is in (UTC)."""
    step = int(INTERVAL.total_seconds())
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, tz=timezone.utc)


def grid_ceil(moment: datetime) -> datetime:
    """`moment` if it starts a 15-minute interval, else the start of the next one (UTC)."""
    floor = grid_floor(moment)
    return floor if floor == moment else floor + INTERVAL


def interval_of(esi_id: str, node: Any, others: frozenset[str] = frozenset()) -> Interval | None:
    """A measurement node as an Interval (None for a node that is not an interval of the ESI
    ID's consumption: one of `others`', or generation)."""
    if getattr(node, "typename__", None) != "IntervalMeasurementType":
        return None
    meta = node.meta_data
    if not _of_consumption(esi_id, meta, others, node.start_at):
        return None
    cost: Decimal | None = None
    for statistic in (meta.statistics or []) if meta is not None else []:
        if statistic is None or getattr(statistic.type_, "value", None) != "CONSUMPTION_COST":
            continue
        amount = statistic.cost_incl_tax or statistic.cost_excl_tax
        if amount is not None:
            cost = amount.estimated_amount
    start, end, read_at = _answered_times(esi_id, node.start_at, node.end_at, node.read_at)
    return Interval(
        esi_id=esi_id,
        start=start,
        end=end,
        value=_in_kwh(esi_id, node.value, node.unit, start),
        unit="kWh",
        cost=None if cost is None else _of_kept_width(esi_id, "cost", cost, start),
        source=node.source or None,
        read_at=read_at,
    )


# A reading's unit (as the API spells it, any case) -> the power of ten that makes it kWh.
_TO_KWH = {"kwh": 0, "wh": -3, "mwh": 3}


def _of_consumption(esi_id: str, meta: Any, others: frozenset[str], start: datetime) -> bool:
    """Whether a reading is of `esi_id`'s consumption, as far as its metaData says. A property's
    readings are asked for whole, so a second meter's would come too (one of `others`, the
    account's other ESI IDs), and a solar home's generation: stored, they were this ESI ID's
    usage, exported and priced. A reading that does not say is taken as the ESI ID's
    consumption; one labelled as an ESI ID not on the account is an invalid answer (left out
    silently, an API spelling ESI IDs its own way would leave the store empty)."""
    labels: Any = getattr(meta, "utility_filters", None)
    if getattr(labels, "typename__", None) != "ElectricityFiltersOutput":
        return True
    label = labels.market_supply_point_id
    if isinstance(label, str) and label != esi_id and label not in others:
        # The same digits spelt another way (spaces, dashes) are the ESI ID asked for.
        label = esi_id if "".join(filter(str.isdigit, label)) == esi_id else label
    if label is not None and label != esi_id and label not in others:
        raise InvalidResponseError(
            f"getPropertyMeasurements: the reading at {start.isoformat()} asked for as ESI ID "
            f"{esi_id}'s is labelled as ESI ID {label!r}, not on the account; nothing of the "
            "answer is kept, try again later",
            operation_name="getPropertyMeasurements",
        )
    direction = getattr(labels.reading_direction, "value", labels.reading_direction)
    return label in (None, esi_id) and direction in (None, "CONSUMPTION")


def _in_kwh(esi_id: str, value: Decimal, unit: object, start: datetime) -> Decimal:
    """A reading in kWh, exactly (the exponent moved: no rounding), or the answer is invalid.
    Stored in another unit, every export and comparison of a range holding it was refused,
    with nothing a user could do; a unit that is not energy (m3, kW) cannot be usage at all."""
    places = _TO_KWH.get(unit.lower()) if isinstance(unit, str) else None
    if places is None:
        raise InvalidResponseError(
            f"getPropertyMeasurements: the interval of ESI ID {esi_id} at {start.isoformat()} "
            f"is in {unit!r}, not a unit of energy (kWh, Wh, MWh); nothing of the answer is "
            "kept; try again later",
            operation_name="getPropertyMeasurements",
        )
    if places and value.is_finite():
        sign, digits, exponent = value.as_tuple()
        value = Decimal((sign, digits, int(exponent) + places))
    return _of_kept_width(esi_id, "reading", value, start)


# The most digits a reading or cost may have written out (as the store keeps it): a meter reads
# a handful. "1E+999999999" is 12 characters in an answer and a billion digits in the store:
# passed on, a sync ended in a bare MemoryError (and "1E+5000000" grew the store by 5 MB).
MAX_DIGITS = 38


def _of_kept_width(esi_id: str, what: str, number: Decimal, start: datetime) -> Decimal:
    if number.is_finite():  # (not finite: the generated model refuses it)
        width = decimal_width(number)
        if width > MAX_DIGITS:
            raise InvalidResponseError(
                f"getPropertyMeasurements: the {what} of ESI ID {esi_id} at {start.isoformat()} "
                f"has {width} digits written out, more than a meter reads ({MAX_DIGITS} at "
                "most); nothing of the answer is kept; try again later",
                operation_name="getPropertyMeasurements",
            )
    return number


def _answered_times(
    esi_id: str, start: datetime, end: datetime, read_at: datetime | None
) -> tuple[datetime, datetime, datetime | None]:
    """An interval's times in UTC, or the answer is invalid: a time without a zone would be
    read as this machine's, and an interval must end after it starts, within a day."""
    fault = None
    utc = timezone.utc
    if any(t is not None and t.utcoffset() is None for t in (start, end, read_at)):
        fault = "has a time with no time zone"
    elif not timedelta(0) < end - start <= timedelta(days=1):  # (start + a day: 9999 overflows)
        fault = "ends before it starts" if end <= start else "lasts over a day"
    if fault is None:
        try:
            return start.astimezone(utc), end.astimezone(utc), read_at and read_at.astimezone(utc)
        except OverflowError:  # out of the sync whole, the other accounts' syncs with it
            fault = "has a time in UTC past the calendar's end (year 1 or 9999)"
    raise InvalidResponseError(
        f"getPropertyMeasurements: an interval of ESI ID {esi_id} ({start.isoformat()} to "
        f"{end.isoformat()}) {fault}; the API's answer is not usable, try again later",
        operation_name="getPropertyMeasurements",
    )


class UsageOptions(TypedDict, total=False):
    """What the usage walks take besides the span: `esi_id` (one ESI ID of the account; default
    all), `page_size` (intervals a request, 1 to 100), `window_pages` (pages a window)."""

    esi_id: str | None
    page_size: int
    window_pages: int


def _walk(
    account_number: str,
    start: date | datetime,
    end: date | datetime,
    *,
    esi_id: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    window_pages: int = DEFAULT_WINDOW_PAGES,
) -> Generator[Any, Any, None]:
    if not isinstance(account_number, str) or not account_number.strip():
        # Refused as the sync refuses it; sent, the API said "not found" of "" (KT-CT-4177)
        # and raised a GraphQLError about $accountNumber for None, a number or a list.
        raise ConfigurationError(
            f"account_number must be an account number (a non-empty string), not {account_number!r}"
        )
    page_size, window_pages = _check_sizes(page_size, window_pages)
    now = datetime.now(timezone.utc)
    span = _span_until_now(start, end, now)
    if span is None:
        return  # all of it is in the future: nothing to ask for
    answer = yield _Call("get_account", {"account_number": account_number})  # (errors: raised)
    for meter in _meters(account_number, answer, esi_id):
        walked = meter_span(meter, span, now)
        if walked is not None:
            yield from walk_span(meter, walked, page_size, window_pages)


def _span_until_now(
    start: date | datetime, end: date | datetime, now: datetime
) -> tuple[datetime, datetime] | None:
    """`span_bounds`, ending no later than now (None: it all lies ahead). Usage of the future
    does not exist yet, and a date such as 9999-12-31 has no day after it to end at."""
    if isinstance(start, datetime) or isinstance(end, datetime):
        if _aware(start) and _aware(end) and start <= end:
            # Clamped before converting and rounding out to the grid: datetime.max has no 15
            # minutes after it (aware datetimes compare without converting).
            if start >= now:
                return None
            end = min(end, now)
        first, last = span_bounds(start, end)
    else:
        _check_dates(start, end)
        today = local_date(now)
        if start > today:
            return None
        first, last = local_range_bounds(start, min(end, today))
    last = min(last, grid_ceil(now))
    return (first, last) if first < last else None


def walk_span(
    meter: MeterPoint,
    span: tuple[datetime, datetime],
    page_size: int,
    window_pages: int,
    ask: Ask = _asked,
    take: Take = _emitted,
) -> Generator[Any, Any, None]:
    """`span` window by window; a span longer than one window starts with one page over all of
    it, which finds where its data begins (an empty lead then costs that one request)."""
    start: datetime | None = span[0]
    if span[1] - span[0] > INTERVAL * page_size * window_pages:
        start = yield from _walk_window(meter, span, page_size, window_pages, ask, take, True)
    if start is None:
        return
    for window in usage_windows(start, span[1], page_size=page_size, window_pages=window_pages):
        if (yield from _walk_window(meter, window, page_size, window_pages, ask, take)) is None:
            return


def _walk_window(
    meter: MeterPoint,
    window: tuple[datetime, datetime],
    page_size: int,
    window_pages: int,
    ask: Ask,
    take: Take,
    probe: bool = False,
) -> Generator[Any, Any, datetime | None]:
    """The pages of `window`; returns its end (None: `ask` stopped the walk). A `probe` asks
    one page only: returns where the walk goes on (after that page's last interval, or the
    window's end when it was the last)."""
    size, after = page_size, None
    seen = _Passed()  # the intervals this window has passed on
    cursors: set[str] = set()  # cursors asked after: one given again means a loop
    # A page holds at least one interval, so more pages than the window holds intervals (and
    # a few halvings of the page size) means the API keeps promising a next page.
    pages_left = (window[1] - window[0]) // INTERVAL + 10
    while pages_left:
        pages_left -= 1
        answer = yield from ask(
            _Call(
                "get_property_measurements",
                {
                    "property_id": meter.property_id,
                    "first": size,
                    "after": after,
                    "start_at": window[0],
                    "end_at": window[1],
                },
            )
        )
        if answer is STOP:
            return None
        if isinstance(answer, QueryTooLargeError):
            if size == 1:
                raise answer
            size = max(1, size // 2)  # the same page again, smaller
            continue
        page = answer.property_.measurements if answer.property_ is not None else None
        if page is None:
            yield from take(UsagePage(meter, window, [], True, size))
            return window[1]
        others = seen.others
        intervals = _in_window(meter, page.edges, window, seen)
        done = not page.page_info.has_next_page
        if not done and not intervals and seen.others == others:
            # Nothing new (no edge, or only intervals already passed on) and more promised:
            # paged on with a new cursor each time, this spent the hour's points budget.
            raise InvalidResponseError(
                "getPropertyMeasurements: the API says there is a next page after one that "
                "held no interval it had not sent; stopping rather than paging on",
                operation_name="getPropertyMeasurements",
            )
        if probe and not done and intervals:
            reached = min(window[1], grid_ceil(max(i.end for i in intervals)))
            yield from take(UsagePage(meter, (window[0], reached), intervals, True, size))
            return reached
        yield from take(UsagePage(meter, window, intervals, done, size))
        if done:
            return window[1]
        after = page.page_info.end_cursor
        if not after or after in cursors:
            raise InvalidResponseError(
                "getPropertyMeasurements: the API says there is a next page but gives no new "
                "cursor to ask for it; stopping rather than asking for the same page again",
                operation_name="getPropertyMeasurements",
            )
        cursors.add(after)
    raise InvalidResponseError(
        "getPropertyMeasurements: the API kept answering with more pages than the window "
        "holds intervals; stopping",
        operation_name="getPropertyMeasurements",
    )


class _Passed:
    """The intervals a window has passed on, by start and in time order: what a later page is
    checked against."""

    def __init__(self) -> None:
        self.by_start: dict[datetime, Interval] = {}
        self.starts: list[datetime] = []  # sorted
        # Nodes that are not intervals (other measurement types): a page of them may be
        # followed by one of intervals. (Intervals outside the window asked for are no progress.)
        self.others = 0


def _in_window(
    meter: MeterPoint, edges: list[Any], window: tuple[datetime, datetime], passed: _Passed
) -> list[Interval]:
    """A page's intervals in `window` that the window has not passed on yet, oldest first: an
    API that repeats intervals across pages, or answers outside the span, costs nothing. An
    answer that contradicts itself is invalid: two readings of one interval, or intervals that
    overlap (one off the 15-minute grid, one longer than the next one's start allows). Passed
    on, the store kept both, and every total counted the overlapped minutes twice."""
    esi_id = meter.esi_id
    fresh: dict[datetime, Interval] = {}
    for edge in edges:
        interval = interval_of(esi_id, edge.node, meter.others) if edge is not None else None
        if interval is None or not window[0] <= interval.start < window[1]:
            passed.others += interval is None
            continue
        earlier = fresh.get(interval.start) or passed.by_start.get(interval.start)
        if earlier is None:
            fresh[interval.start] = interval
        elif _reading(earlier) != _reading(interval):
            raise _contradiction(esi_id, earlier, interval, "two readings of one interval")
    new = [fresh[start] for start in sorted(fresh)]
    for interval in new:
        at = bisect.bisect(passed.starts, interval.start)
        before = passed.by_start[passed.starts[at - 1]] if at else None
        after = passed.by_start[passed.starts[at]] if at < len(passed.starts) else None
        if before is not None and before.end > interval.start:
            raise _contradiction(esi_id, before, interval, "intervals that overlap")
        if after is not None and interval.end > after.start:
            raise _contradiction(esi_id, interval, after, "intervals that overlap")
        passed.starts.insert(at, interval.start)
        passed.by_start[interval.start] = interval
    return new


def _reading(interval: Interval) -> tuple[Any, ...]:
    """What makes two answers for one interval the same reading (the store's revision test)."""
    return interval.end, interval.value, interval.unit, interval.cost


def _contradiction(
    esi_id: str, first: Interval, second: Interval, what: str
) -> InvalidResponseError:
    def span(interval: Interval) -> str:
        return f"{interval.start.isoformat()} to {interval.end.isoformat()}: {interval.value}"

    return InvalidResponseError(
        f"getPropertyMeasurements: the answer for ESI ID {esi_id} holds {what} ({span(first)} "
        f"{first.unit}; {span(second)} {second.unit}); nothing of it is kept, as any total of "
        "it would be wrong; try again later",
        operation_name="getPropertyMeasurements",
    )


def iter_usage_pages(
    client: UsageClient,
    account_number: str,
    start: date | datetime,
    end: date | datetime,
    **options: Unpack[UsageOptions],
) -> Iterator[UsagePage]:
    """Every page of the account's (or `esi_id=` one ESI ID's) intervals in the span, with a
    `SyncKrakenClient` (or any client with the generated operations)."""
    check_client(client, blocking=True)
    walk = _walk(account_number, start, end, **options)
    for emitted in iterate_sync(walk, partial(call_sync, client)):
        yield emitted.item


async def aiter_usage_pages(
    client: UsageClient,
    account_number: str,
    start: date | datetime,
    end: date | datetime,
    **options: Unpack[UsageOptions],
) -> AsyncIterator[UsagePage]:
    """`iter_usage_pages` with a `KrakenClient` (async)."""
    check_client(client, blocking=False)
    walk = _walk(account_number, start, end, **options)
    async for emitted in iterate_async(walk, partial(call_async, client)):
        yield emitted.item


def iter_usage(
    client: UsageClient,
    account_number: str,
    start: date | datetime,
    end: date | datetime,
    **options: Unpack[UsageOptions],
) -> Iterator[Interval]:
    """Every interval of the account (or `esi_id=` one ESI ID) in the span, oldest first per
    ESI ID; options as for `iter_usage_pages`."""
    for page in iter_usage_pages(client, account_number, start, end, **options):
        yield from page.intervals


async def aiter_usage(
    client: UsageClient,
    account_number: str,
    start: date | datetime,
    end: date | datetime,
    **options: Unpack[UsageOptions],
) -> AsyncIterator[Interval]:
    """`iter_usage` with a `KrakenClient` (async)."""
    async for page in aiter_usage_pages(client, account_number, start, end, **options):
        for interval in page.intervals:
            yield interval
