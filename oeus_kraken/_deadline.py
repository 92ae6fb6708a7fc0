"""The time limit of the request under way, shared by the layers that must respect it.

A client call sets a deadline (a `time.monotonic()` instant) for each attempt; the auth flow
stops waiting for another caller's token request at it, body reads stop at it, and our transport
shortens each socket operation to it (`_transport`). A context variable carries it: each thread
and each asyncio task has its own, so concurrent calls never see each other's deadline.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token

# The deadline itself, for the hot paths that read it without a call (ContextVar.get is C).
DEADLINE: ContextVar[float | None] = ContextVar("oeus_kraken_deadline", default=None)
_deadline = DEADLINE


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


class limit:  # noqa: N801 (used as a function: `with limit(seconds):`)
    """Everything inside runs under a deadline `seconds` from now (an earlier deadline already
    set is kept); None sets none. A class rather than a @contextmanager: it is entered on every
    request, and this is several times cheaper."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None) -> None:
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        if self._seconds is None:
            return
        deadline = time.monotonic() + self._seconds
        outer = _deadline.get()
        self._token = _deadline.set(deadline if outer is None else min(outer, deadline))

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _deadline.reset(self._token)
            self._token = None
