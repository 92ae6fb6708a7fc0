"""When to retry a failed GraphQL request, and after how long. No I/O: both clients ask
`RetryPolicy.delay` and sleep (or not) themselves.

Why not tenacity or httpx's transport retries: httpx retries only failed connects, and a generic
retry library knows neither which failures are safe to repeat for a *mutation* (only those where
the request provably never executed) nor that Kraken signals rate limits inside HTTP 200 bodies
(KT-CT-1199). The decision below is that knowledge; the waiting is one `sleep` call.

    queries    retried after: connection errors, timeouts, HTTP 5xx, 429, KT-CT-1199, CDN 403
    mutations  retried only after: a failed connect (the request never left), 429 or KT-CT-1199
               (refused before execution). Never after a timeout or a reset mid-response.

A failure of the token request a call needed is retried like a query's (the call itself never
left), at the moment every caller that shared it retries (`together`): when a rate-limit gate
opens (like a Retry-After), or when the failed request's retry wave is due.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import httpx

from ._errors import APIConnectionError, APIStatusError, KrakenError, RateLimitError

# httpx errors raised before a single byte of the request was sent.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def doubled(times: int) -> float:
    """2 ** times, the exponent capped at 64, for a backoff that doubles while failures go on:
    2.0 ** 1024 overflows (OverflowError, untyped), and a count of failures in a row reaches it
    in a long outage (or with a large max_retries). 2 ** 64 times any base delay is past every
    cap, so the wait is the same."""
    return 2.0 ** min(times, 64)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay: float = 0.5  # first backoff; doubles each attempt, with jitter
    max_delay: float = 8.0  # cap on a computed backoff
    max_retry_after: float = 30.0  # a longer Retry-After is returned to the caller, not slept

    def delay(
        self,
        retries_done: int,
        error: KrakenError,
        *,
        mutation: bool,
        rate_limits: bool = True,
        together: float | None = None,
    ) -> float | None:
        """Seconds to wait before retrying after `error`, or None to raise it. `rate_limits=False`
        raises a rate limit at once, for a caller that stops and resumes rather than waits;
        `together`: for a failed token request, when its callers retry together."""
        if retries_done >= self.max_retries or not self._retryable(error, mutation):
            return None
        if isinstance(error, RateLimitError):
            if not rate_limits:
                return None
            wait = error.retry_after if error.retry_after is not None else together
            if wait is not None:
                return None if wait > self.max_retry_after else float(wait)
        elif together is not None:
            return together
        backoff = min(self.max_delay, self.base_delay * doubled(retries_done))
        return backoff * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not cryptography)

    def may_have_run(self, error: KrakenError) -> bool:
        """Is `error` one a query is retried after but a mutation is not: the request left, and
        the API may have carried it out?"""
        return self._retryable(error, mutation=False) and not self._retryable(error, mutation=True)

    @staticmethod
    def _retryable(error: KrakenError, mutation: bool) -> bool:
        if isinstance(error, RateLimitError):
            # 429 / KT-CT-1199 are refused before execution; a CDN 403 page likewise.
            return True
        if isinstance(error, APIConnectionError):
            return not mutation or isinstance(error.__cause__, _NOT_SENT)
        if isinstance(error, APIStatusError):
            return not mutation and error.status_code is not None and error.status_code >= 500
        return False
