"""Fault switches and request counters, shared by the server thread and the test that drives it.

    server.set_faults(token_rate_limit=2)     # the next 2 token requests get KT-CT-1199
    server.stats.count("getKrakenToken")      # how many requests carried that operation name

Counted faults (`token_rate_limit`, `data_rate_limit`, `bad_gateway`, `too_many_requests`) are
used up one per request; `delay`, `retry_after` and `points_allowance` stay until changed or reset.
`points_allowance` sets every caller's hourly points budget (the one `rateLimitInfo` reports and
KT-CT-1199 enforces once spent), so a test can run a budget down in a few requests.

The usage knobs (late and revised intervals, the gap) are not faults: see SandboxState.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

__all__ = ["FaultSwitches", "Faults", "SandboxStats"]


@dataclass(frozen=True)
class Faults:
    """What the server does wrong, on purpose."""

    token_rate_limit: int = 0  # the next N obtainKrakenToken calls: KT-CT-1199
    data_rate_limit: int = 0  # the next N other GraphQL requests: KT-CT-1199
    bad_gateway: int = 0  # the next N GraphQL requests: HTTP 502 with an HTML body
    too_many_requests: int = 0  # the next N GraphQL requests: HTTP 429 with Retry-After
    retry_after: int = 30  # seconds, for the 429 answers
    delay: float = 0.0  # seconds added before every GraphQL answer
    # Points a caller may spend per hour (see _limits.py); 0: Kraken's own allowances (50,000
    # for an account user, 100,000 for an organisation).
    points_allowance: int = 0
    # The complexity cap a request must stay under (KT-CT-1188); 0: Kraken's 200. Lower it to see
    # a client split what it asks for.
    complexity_limit: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


_COUNTED = ("token_rate_limit", "data_rate_limit", "bad_gateway", "too_many_requests")
_FIELDS = {f.name for f in fields(Faults)}


def _checked(name: str, value: object) -> int | float:
    if name not in _FIELDS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(_FIELDS))}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"fault {name!r} must be a number >= 0, got {value!r}")
    # NaN passes `< 0` (a NaN delay made every GET of the faults a 500), and JSON as Python
    # reads it has Infinity (an endless delay; int(inf) raised OverflowError, a 500).
    if not math.isfinite(value):
        raise ValueError(f"fault {name!r} must be a finite number >= 0, got {value!r}")
    if name == "delay":
        return float(value)
    if value != int(value):
        raise ValueError(f"fault {name!r} must be a whole number, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class SandboxStats:
    """A snapshot of what the server has been asked since the last reset."""

    operations: dict[str, int] = field(default_factory=dict)  # GraphQL POSTs by operation name
    token_requests: int = 0  # obtainKrakenToken executions, however the operation was named

    @property
    def requests(self) -> int:
        return sum(self.operations.values())

    def count(self, operation_name: str) -> int:
        return self.operations.get(operation_name, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "operations": dict(self.operations),
            "tokenRequests": self.token_requests,
            "requests": self.requests,
        }


class FaultSwitches:
    """The live fault settings and counters, behind one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults = Faults()
        self._operations: Counter[str] = Counter()
        self._token_requests = 0
        self._answering = 0  # GraphQL requests being answered now (never reset: they are)

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def set(self, **changes: object) -> Faults:
        checked = {name: _checked(name, value) for name, value in changes.items()}
        with self._lock:
            self._faults = Faults(**(asdict(self._faults) | checked))
            return self._faults

    def take(self, name: str) -> bool:
        """Use up one of a counted fault; True if it applies to this request."""
        if name not in _COUNTED:
            raise ValueError(f"{name!r} is not a counted fault")
        with self._lock:
            remaining = getattr(self._faults, name)
            if remaining <= 0:
                return False
            self._faults = replace(self._faults, **{name: remaining - 1})
            return True

    def record_request(self, operation_name: str) -> None:
        with self._lock:
            self._operations[operation_name] += 1

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around the answer to one GraphQL request, so that `in_flight` counts it."""
        with self._lock:
            self._answering += 1
        try:
            yield
        finally:
            with self._lock:
                self._answering -= 1

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._answering

    def record_token_request(self) -> None:
        with self._lock:
            self._token_requests += 1

    @property
    def stats(self) -> SandboxStats:
        with self._lock:
            return SandboxStats(dict(self._operations), self._token_requests)

    def reset(self) -> None:
        with self._lock:
            self._faults = Faults()
            self._operations.clear()
            self._token_requests = 0
