"""The time limit of the request under way, shared by the layers that must respect it.

A client call sets a deadline (a `time.monotonic()` instant) for each attempt; the auth flow
stops waiting for another caller's token request at it, body reads stop at it, and our transport
shortens each socket operation to it (`_transport`). A context variable carries it: each thread
and each asyncio task has its own, so concurrent calls never see each other's deadline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_deadline: ContextVar[float | None] = ContextVar("oeus_kraken_deadline", default=None)


def current() -> float | None:
    """The deadline of the request under way (monotonic seconds), or None for none."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left before the deadline (0 once passed), or None when there is none."""
    deadline = _deadline.get()
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def shorten(timeout: float | None) -> float | None:
    """`timeout` (seconds, None for none), cut to what is left before the deadline."""
    left = remaining()
    if left is None:
        return timeout
    return left if timeout is None else min(timeout, left)


@contextmanager
def limit(seconds: float | None) -> Iterator[None]:
    """Everything inside runs under a deadline `seconds` from now (an earlier deadline already
    set is kept); None sets none."""
    if seconds is None:
        yield
        return
    deadline = time.monotonic() + seconds
    outer = _deadline.get()
    token = _deadline.set(deadline if outer is None else min(outer, deadline))
    try:
        yield
    finally:
        _deadline.reset(token)
