"""Effects, and the one stepper that carries them out, blocking or awaiting.

Logic that needs I/O is written once, as a generator that yields *effects* (send this request,
sleep, call this blocking function, wait for that signal) and receives their outcomes; it never
does the I/O itself. `run_sync` carries the effects out blocking, `run_async` awaiting, with a
`perform` function from whoever owns the I/O (a client sends with its http_client). An error
raised while performing an effect is thrown into the generator at the `yield` that asked for it,
so the logic, not the driver, decides what it means. `iterate_sync` / `iterate_async` hand some
effects out to their caller instead: a flow's `Emit(item)`s (usage pages, a connection's
nodes), or KrakenAuth's `Send`s, which httpx sends.

    calls, authenticate()   KrakenAuth on httpx   usage fetch and sync   pagination
             \\                      |                      |                 /
              `---- run_sync / run_async / iterate_sync / iterate_async ---'

Leaving a driver early (an error, Ctrl-C, a cancelled task) closes the flow, so that its
`finally` clauses run: a token request under way is ended for whoever waits for it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import httpx

if TYPE_CHECKING:
    import asyncio

_T = TypeVar("_T")


class Send(NamedTuple):
    """Send `request` and give back its answer, the body read (capped) before the deadline."""

    request: httpx.Request
    deadline: float | None  # the attempt's end, a time.monotonic() instant; None for none
    follow_redirects: bool = True  # False for token requests: their body holds a credential


class Sleep(NamedTuple):
    seconds: float


class Blocking(NamedTuple):
    """Call `function` (token store I/O): directly when blocking, in a worker thread when
    awaiting, so that a slow disk never stalls an event loop."""

    function: Callable[[], Any]


class Wait(NamedTuple):
    """Wait until `signal` is set, at most `seconds`; the outcome says whether it was."""

    signal: Signal
    seconds: float


class Emit(NamedTuple):
    """An item for the caller of iterate_sync / iterate_async."""

    item: Any


Effect = Send | Sleep | Blocking | Wait | Emit


class Signal:
    """A flag set once and waited for by threads, and by tasks of any event loops: one token
    request, awaited by every caller that needs its token. A task waits on a future of its own
    loop; the tasks of one loop are woken in one batch, and share one timer for their time
    limits (a thousand timers of their own cost a thousand heap entries, then as many
    cancellations). Under another loop library (trio) a task polls."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._tasks: dict[asyncio.AbstractEventLoop, _Waiters] = {}

    def set(self) -> None:
        with self._lock:
            self._event.set()
            tasks, self._tasks = self._tasks, {}
        here = _running_loop()
        for loop, waiters in tasks.items():
            if loop is here:
                waiters.wake()
            elif not loop.is_closed():  # (a closed loop has nobody left to wake)
                loop.call_soon_threadsafe(waiters.wake)

    def wait(self, seconds: float) -> bool:
        return self._event.wait(seconds)

    async def wait_async(self, seconds: float) -> bool:
        loop = _running_loop()
        if loop is None:
            import anyio

            end = time.monotonic() + seconds
            while not self._event.is_set() and time.monotonic() < end:  # noqa: ASYNC110
                await anyio.sleep(0.005)
            return self._event.is_set()
        with self._lock:
            if self._event.is_set():
                return True
            future = loop.create_future()
            waiters = self._tasks.get(loop) or self._tasks.setdefault(loop, _Waiters(loop))
            waiters.add(future, loop.time() + seconds)
        await future
        return self._event.is_set()


class _Waiters:
    """The tasks of one loop waiting for a Signal: their futures, each with its time limit, and
    one timer, due at the earliest limit. Used only in its loop's thread."""

    __slots__ = ("_futures", "_loop", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._futures: list[tuple[float, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None

    def add(self, future: asyncio.Future[None], due: float) -> None:
        self._futures.append((due, future))
        if self._timer is None or due < self._timer.when():
            self._arm(due)

    def wake(self) -> None:
        self._arm(None)
        _resolve(*(future for _, future in self._futures))

    def _arm(self, due: float | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None if due is None else self._loop.call_at(due, self._expire)

    def _expire(self) -> None:
        """Time is up for some: wake them, and arm the timer for the rest."""
        now = self._loop.time() + 0.001  # (a loop runs a timer that is due within its clock's step)
        expired = [future for due, future in self._futures if due <= now]
        self._futures = [(due, f) for due, f in self._futures if due > now and not f.done()]
        self._arm(min((due for due, _ in self._futures), default=None))
        _resolve(*expired)


def _resolve(*futures: asyncio.Future[None]) -> None:
    for future in futures:
        if not future.done():
            future.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    asyncio = sys.modules.get("asyncio")  # not loaded: no loop runs (and none is loaded here)
    try:
        return None if asyncio is None else asyncio.get_running_loop()
    except RuntimeError:
        return None


# -- the drivers: each sends outcomes in and throws failures in, until the flow returns ---------


def run_sync(flow: Generator[Any, Any, _T], perform: Callable[[Any], Any]) -> _T:
    outcome: Any = None
    failure: Exception | None = None
    try:
        while True:
            try:
                effect = flow.send(outcome) if failure is None else flow.throw(failure)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            failure = None
            try:
                outcome = perform(effect)
            except Exception as exc:
                failure = exc
    finally:
        flow.close()


async def run_async(flow: Generator[Any, Any, _T], perform: Callable[[Any], Awaitable[Any]]) -> _T:
    outcome: Any = None
    failure: Exception | None = None
    try:
        while True:
            try:
                effect = flow.send(outcome) if failure is None else flow.throw(failure)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
            failure = None
            try:
                outcome = await perform(effect)
            except Exception as exc:
                failure = exc
    finally:
        flow.close()


def iterate_sync(
    flow: Generator[Any, Any, Any], perform: Callable[[Any], Any], outward: type = Emit
) -> Generator[Any, Any, None]:
    """run_sync, but each `outward` effect is yielded to the caller, and what the caller sends
    back (None from a for loop) is its outcome."""
    outcome: Any = None
    failure: Exception | None = None
    try:
        while True:
            try:
                effect = flow.send(outcome) if failure is None else flow.throw(failure)
            except StopIteration:
                return
            failure = None
            try:
                outcome = (yield effect) if type(effect) is outward else perform(effect)
            except Exception as exc:
                failure = exc
    finally:
        flow.close()


async def iterate_async(
    flow: Generator[Any, Any, Any], perform: Callable[[Any], Awaitable[Any]], outward: type = Emit
) -> AsyncGenerator[Any, Any]:
    """iterate_sync, awaiting."""
    outcome: Any = None
    failure: Exception | None = None
    try:
        while True:
            try:
                effect = flow.send(outcome) if failure is None else flow.throw(failure)
            except StopIteration:
                return
            failure = None
            try:
                outcome = (yield effect) if type(effect) is outward else await perform(effect)
            except Exception as exc:
                failure = exc
    finally:
        flow.close()


# -- the effects every owner of I/O performs alike ----------------------------------------------

sleep: Callable[[float], None] = time.sleep  # (tests replace these two to record the waits)


async def asleep(seconds: float) -> None:
    if _running_loop() is None:  # another loop library (trio), as httpx may run under
        import anyio

        await anyio.sleep(seconds)
        return
    import asyncio

    await asyncio.sleep(seconds)


def perform_sync(effect: Sleep | Blocking | Wait) -> Any:
    if isinstance(effect, Sleep):
        return sleep(effect.seconds)
    if isinstance(effect, Blocking):
        return effect.function()
    return effect.signal.wait(effect.seconds)


async def perform_async(effect: Sleep | Blocking | Wait) -> Any:
    if isinstance(effect, Sleep):
        return await asleep(effect.seconds)
    if isinstance(effect, Blocking):
        import anyio.to_thread  # httpx's own dependency; works under asyncio and trio

        return await anyio.to_thread.run_sync(effect.function)
    return await effect.signal.wait_async(effect.seconds)
