"""`KrakenAuth`: Kraken authentication as an httpx auth flow, for our clients and anyone else's.

    httpx.Client(auth=KrakenAuth(APIKey("...")))          raw httpx, gql's HTTPXTransport,
    httpx.AsyncClient(auth=KrakenAuth(APIKey("...")))     an ariadne-codegen client, our clients

The flow for one request, as httpx drives it (each `yield` hands httpx a request to send and
receives its response; the token request goes to the request's own URL):

    request ──► store loaded? ── no ──► read the token store (a worker thread when async)
                    │
                    ▼
              TokenManager.decide ──► UseToken ──────────────────────────────┐
                    │         │                                              │
                    │         └─► WaitFor: another caller's token request:   │
                    │             wait for it (up to the call's deadline),   │
                    │             share its error, or decide again ──────────┤
                    ▼                                                        │
              RequestToken: yield getKrakenToken / refreshKrakenToken        │
              (no Authorization), read it, tell the manager, wake the        │
              waiters, save the token store ─────────────────────────────────┤
                                                                             ▼
              yield the request with `Authorization: <token>` ──► response
                    │
                    ├─ accepted ──► done (httpx returns the response)
                    └─ rejected (HTTP 401, KT-CT-1120/1124/1125/1126/1127/1143/1144):
                       forget that token, decide again, resend once; a second
                       rejection is returned for the caller to raise

Every decision is `TokenManager`'s (`_tokens`), made under one lock held only for those pure
calls. What needs I/O is a command the flow yields: an httpx request (sent by httpx), reading a
response body (capped, and cut at the deadline), waiting for another caller's token request, and
reading or writing the token store. `sync_auth_flow` and `async_auth_flow` carry out the
commands, blocking or awaiting: they are the only code that differs between sync and async.

Requests marked public (`PUBLIC_EXTENSION`, set by our clients for operations that need no
authentication) go out with no Authorization header and no token.

Our clients also run the auth of the http_client they were given, if it has one, after ours on
every request ours sends (`ThenTheirs`): the drivers step that auth's own flow as one more
command (`_Then`), so the flow above stays the one logic.

Every request pays for this flow, so its common case is short: a request to the URL it saw last
skips the endpoint check, and a fresh token held is used without `_token`'s commands (still the
token manager's decision: `usable_token`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
from pydantic_core import to_json

from . import _deadline
from ._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    check_credentials,
    check_max_response_bytes,
    check_refresh_margin,
)
from ._credentials import Credentials
from ._errors import APITimeoutError, ConfigurationError, InvalidResponseError, KrakenError
from ._responses import read_response, scrubbed, token_rejection, transport_error
from ._token_store import TokenStore, store_key
from ._tokens import (
    Flight,
    ReceivedToken,
    RequestToken,
    TokenInfo,
    TokenManager,
    TokenRequest,
    TokenUse,
    UseToken,
    WaitFor,
    say_seconds,
    token_claims,
)

if TYPE_CHECKING:
    import asyncio

    from oeus_kraken_generated.fragments import KrakenToken

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "PUBLIC_EXTENSION", "KrakenAuth"]

logger = logging.getLogger("oeus_kraken")

# A request extension: True sends the request with no token (an operation the API serves
# without authentication).
PUBLIC_EXTENSION = "oeus_kraken.public"
# A request extension: obtain a token if none is usable, and send nothing else (authenticate()).
TOKEN_ONLY_EXTENSION = "oeus_kraken.token_only"  # noqa: S105 (a name, not a secret)
# Set by the flow on a request as it hands it to httpx: a failure without it happened before
# (on the token request), so the request itself never left.
SENT_EXTENSION = "oeus_kraken.sent"

# How long a caller waits for another caller's token request when its call has no deadline.
DEFAULT_TOKEN_WAIT = 60.0

# Headers of the request that are not copied onto the token request made for it.
_NOT_COPIED = frozenset(
    {"authorization", "content-length", "content-type", "transfer-encoding", "cookie"}
)


class TokenReady(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by the flow of a token-only request when a usable token is already held, so
    there is nothing to send."""


# -- commands the flow yields besides requests --------------------------------------------------


class _Read:
    """Read a response's body, decompressed, up to a size cap and the deadline."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.limit = limit
        self._chunks: list[bytes] = []
        self._size = 0

    def _add(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size > self.limit:
            raise InvalidResponseError(
                f"the answer is larger than max_response_bytes ({self.limit:,} bytes after "
                "decompression); it was not read further. Ask for less (smaller pages), or "
                "raise max_response_bytes=.",
                status_code=self.response.status_code,
            )
        self._chunks.append(chunk)
        left = _deadline.remaining()
        if left is not None and left <= 0:
            raise APITimeoutError(
                "the call's time limit passed while the answer was still arriving; retry "
                "later, or raise timeout=.",
                status_code=self.response.status_code,
            )

    def _done(self) -> httpx.Response:
        # httpx keeps a read body in `_content` (what Response.read() fills): set it the same
        # way, so that httpx and everyone after us find the body already read.
        self.response._content = b"".join(self._chunks)
        return self.response

    def run_sync(self) -> httpx.Response:
        if not hasattr(self.response, "_content"):
            for chunk in self.response.iter_bytes():
                self._add(chunk)
            self._done()
        return self.response

    async def run_async(self) -> httpx.Response:
        if not hasattr(self.response, "_content"):
            async for chunk in self.response.aiter_bytes():
                self._add(chunk)
            self._done()
        return self.response


class _Blocking:
    """Call `function` (token store I/O): directly when sync, in a worker thread when async."""

    def __init__(self, function: Callable[[], Any]) -> None:
        self.function = function

    def run_sync(self) -> Any:
        return self.function()

    async def run_async(self) -> Any:
        import anyio.to_thread  # httpx's own dependency; works under asyncio and trio

        return await anyio.to_thread.run_sync(self.function)


class _Wait:
    """Wait until another caller's token request ends, or the wait runs out."""

    def __init__(self, auth: KrakenAuth, flight: Flight) -> None:
        self.auth = auth
        self.flight = flight
        self.timeout = _deadline.shorten(DEFAULT_TOKEN_WAIT) or 0.0

    def run_sync(self) -> bool:
        with self.auth._lock:
            return self.auth._lock.wait_for(lambda: self.flight.done, self.timeout)

    async def run_async(self) -> bool:
        loop = _running_loop()
        if loop is None:  # another event loop library (trio): poll
            import anyio

            deadline = time.monotonic() + self.timeout
            # Polling, not an anyio.Event: the flight may be another thread's or loop's.
            while not self.flight.done and time.monotonic() < deadline:  # noqa: ASYNC110
                await anyio.sleep(0.005)
            return self.flight.done
        woken = loop.create_future()
        with self.auth._mutex:
            if self.flight.done:
                return True
            gates = self.auth._async_waiters.setdefault(self.flight, {})
            gate = gates.get(loop) or gates.setdefault(loop, _Gate(loop))
            gate.add(time.monotonic() + self.timeout, woken)
        await woken  # woken when the flight ends, or at this caller's deadline
        return self.flight.done


class _Gate:
    """The callers on one event loop waiting for one flight: each awaits its own future (a
    cancelled caller cancels only its own), and one timer serves all their deadlines (a
    thousand callers may wait at once: asyncio.wait_for would cost each a task and two more
    futures, a timer each a heap entry). Used from its loop's thread only."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: list[tuple[float, asyncio.Future[None]]] = []
        self.timer: asyncio.TimerHandle | None = None
        self.timer_at = math.inf

    def add(self, deadline: float, future: asyncio.Future[None]) -> None:
        self.waiting.append((deadline, future))
        if deadline < self.timer_at:
            self._arm(deadline)

    def _arm(self, deadline: float) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer_at = deadline
        self.timer = self.loop.call_later(max(0.0, deadline - time.monotonic()), self._expire)

    def _expire(self) -> None:
        """Wake the callers whose deadline has come (they find the flight not done)."""
        self.timer, self.timer_at = None, math.inf
        now = time.monotonic() + _TIMER_SLACK
        still = [(deadline, future) for deadline, future in self.waiting if deadline > now]
        for deadline, future in self.waiting:
            if deadline <= now:
                _resolve(future)
        self.waiting = still
        if still:
            self._arm(min(deadline for deadline, _ in still))

    def open(self) -> None:
        """The flight ended: wake everyone."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        for _, future in self.waiting:
            _resolve(future)
        self.waiting = []


# A timer may fire a little early (the loop's clock resolution): callers whose deadline is this
# close count as due.
_TIMER_SLACK = 0.001


class _Then:
    """One step of the other auth's flow (`_Steps.then`): start it on `request`, or give it the
    answer to its last request. Its outcome: the next request it wants sent, or _THEN_DONE."""

    def __init__(
        self,
        steps: _Steps,
        request: httpx.Request | None,
        answer: httpx.Response | None = None,
    ) -> None:
        self.steps = steps
        self.request = request
        self.answer = answer

    def run_sync(self) -> object:
        steps, then = self.steps, self.steps.then
        assert then is not None
        try:
            if self.request is not None:
                steps.then_flow = then.sync_auth_flow(self.request)
                return next(steps.then_flow)
            return steps.then_flow.send(self.answer)
        except StopIteration:
            return _THEN_DONE

    async def run_async(self) -> object:
        steps, then = self.steps, self.steps.then
        assert then is not None
        try:
            if self.request is not None:
                steps.then_flow = then.async_auth_flow(self.request)
                return await steps.then_flow.__anext__()
            return await steps.then_flow.asend(self.answer)
        except StopAsyncIteration:
            return _THEN_DONE


_THEN_DONE = object()

_Command = httpx.Request | _Read | _Blocking | _Wait | _Then


class ThenTheirs(httpx.Auth):
    """A KrakenAuth followed by another auth on every request it sends: how our clients apply
    an auth set on the http_client they were given (ours attaches the Kraken token; theirs may
    add what their gateway or proxy wants, after it)."""

    def __init__(self, ours: KrakenAuth, theirs: httpx.Auth) -> None:
        self.ours = ours
        self.theirs = theirs

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        return self.ours.sync_auth_flow(request, self.theirs)

    def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        return self.ours.async_auth_flow(request, self.theirs)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _running_loop() -> asyncio.AbstractEventLoop | None:
    import asyncio

    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _interruption_cause(exc: BaseException | None) -> BaseException | None:
    """What made httpx close the flow: the error it was propagating, found under the
    GeneratorExit(s) of the close."""
    while isinstance(exc, GeneratorExit):
        exc = exc.__context__
    return exc


def _check_token(token: str) -> None:
    if not token or not token.isascii() or not token.isprintable() or " " in token:
        raise InvalidResponseError(
            "getKrakenToken: the API answered with a token that cannot be sent in an HTTP "
            "header (empty, or with spaces, control or non-ASCII characters); it was dropped.",
            operation_name="getKrakenToken",
        )


# Every KrakenAuth, so that a forked child can give each fresh locks (see _after_fork).
_instances: weakref.WeakSet[KrakenAuth] = weakref.WeakSet()


class KrakenAuth(httpx.Auth):
    """Obtains, caches, refreshes and attaches the Kraken token to each request.

    One instance serves one credential at one endpoint, from any number of threads (sync) or
    tasks (async) at once; share it rather than making one per request, so that they share
    one token. Options: `refresh_margin` (seconds before expiry to refresh), `token_store`
    (keep tokens between runs), `max_response_bytes` (largest answer read), `clock` (for
    tests and simulations).
    """

    requires_request_body = True  # a rejected request is sent again
    requires_response_body = True  # rejections are read from the body (KT-CT codes)

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        refresh_margin: float = 300.0,
        token_store: TokenStore | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.credentials = check_credentials(credentials)
        self.refresh_margin = check_refresh_margin(refresh_margin)
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self.token_store = token_store
        self._clock = clock or time.time
        self._manager = TokenManager(
            self.credentials,
            refresh_margin=self.refresh_margin,
            has_store=token_store is not None,
        )
        self._endpoint: str | None = None
        # The last URL found to be at _endpoint, as an object and as text (see _bind).
        self._bound_url: httpx.URL | None = None
        self._bound_text: str | None = None
        self._new_locks()
        _instances.add(self)

    def __repr__(self) -> str:
        return f"KrakenAuth(credentials={self.credentials!r})"

    def _new_locks(self) -> None:
        # One lock: `_mutex` for the short sections of every request (taking it is a C call;
        # entering the Condition is a Python one), `_lock`, the Condition over it, for waiting.
        self._mutex = threading.RLock()
        self._lock = threading.Condition(self._mutex)
        self._async_waiters: dict[Flight, dict[asyncio.AbstractEventLoop, _Gate]] = {}

    # -- what others may ask ------------------------------------------------------------------

    def token_info(self) -> TokenInfo:
        """The token held, described (its expiry and claims; the token stays out of the repr)."""
        with self._lock:
            return self._manager.token_info()

    def has_usable_token(self) -> bool:
        with self._lock:
            return self._manager.usable_token(self._clock()) is not None

    # -- the drivers: carry out the flow's commands -------------------------------------------

    def sync_auth_flow(
        self, request: httpx.Request, then: httpx.Auth | None = None
    ) -> Generator[httpx.Request, httpx.Response]:
        """httpx's blocking driver. `then`: another auth, run on each request this one sends
        (what our clients do with an http_client's own auth)."""
        request.read()
        with _Steps(self._flow(request), then) as steps:
            outgoing = steps.next_request_sync(None)
            while outgoing is not None:
                outgoing = steps.next_request_sync((yield outgoing))

    async def async_auth_flow(
        self, request: httpx.Request, then: httpx.Auth | None = None
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """httpx's async driver; `then` as for sync_auth_flow."""
        await request.aread()
        with _Steps(self._flow(request), then) as steps:
            outgoing = await steps.next_request_async(None)
            while outgoing is not None:
                outgoing = await steps.next_request_async((yield outgoing))

    # -- the flow: one logic for sync and async -----------------------------------------------

    def _flow(self, request: httpx.Request) -> Generator[_Command, Any, None]:
        if request.extensions.get(PUBLIC_EXTENSION):
            request.headers.pop("Authorization", None)
            request.extensions[SENT_EXTENSION] = True
            yield _Read((yield request), self.max_response_bytes)
            return
        self._bind(request.url)
        if request.extensions.get(TOKEN_ONLY_EXTENSION):
            yield from self._token(request)
            return
        resent = False
        while True:
            # Most requests find a fresh token held (the manager says so: `usable_token`), and
            # need none of `_token`'s commands.
            token = self._usable_token() or (yield from self._token(request))
            request.headers["Authorization"] = token
            request.extensions[SENT_EXTENSION] = True
            response = yield _Read((yield request), self.max_response_bytes)
            reason = token_rejection(response)
            if reason is None:
                if not self._manager.is_accepted(token):
                    with self._mutex:
                        self._manager.token_accepted(token)
                return
            with self._mutex:
                self._manager.token_rejected(token, reason, self._clock())
            yield from self._persist()
            if resent:
                return  # rejected again: the caller reads the response and raises
            resent = True

    def _bind(self, url: httpx.URL) -> None:
        # The URL of the last request (our clients send the same URL object every time; others
        # an equal one) was checked already: parsing it again would cost more than the rest
        # of the flow.
        if url is self._bound_url:
            return
        whole = str(url)
        if whole == self._bound_text:
            self._bound_url = url
            return
        endpoint = str(url.copy_with(query=None, fragment=None))
        if self._endpoint is None:
            self._endpoint = endpoint
        elif endpoint != self._endpoint:
            raise ConfigurationError(
                f"this KrakenAuth holds a token for {self._endpoint}; a request to {endpoint} "
                "needs its own KrakenAuth (tokens of one Kraken API are not valid at another)."
            )
        self._bound_url, self._bound_text = url, whole

    def _usable_token(self) -> str | None:
        if not self._manager.store_loaded:
            return None
        with self._mutex:
            return self._manager.usable_token(self._clock())

    def _token(self, request: httpx.Request) -> Generator[_Command, Any, str]:
        if not self._manager.store_loaded:
            store, endpoint = self.token_store, self._endpoint
            assert store is not None
            assert endpoint is not None
            assert self.credentials is not None
            key = store_key(endpoint, self.credentials)
            stored = yield _Blocking(lambda: store.load(key))
            with self._lock:
                self._manager.load(stored, self._clock())
        while True:
            with self._mutex:
                decision = self._manager.decide(self._clock())
            if isinstance(decision, UseToken):
                return decision.token
            if isinstance(decision, WaitFor):
                flight = decision.flight
                if not (yield _Wait(self, flight)):
                    raise APITimeoutError(
                        f"{flight.request.use.value}: no Kraken token arrived within "
                        f"{say_seconds(_deadline.shorten(DEFAULT_TOKEN_WAIT) or 0)}: the token "
                        "request for this call has not been answered. Retry later.",
                        operation_name=flight.request.use.value,
                    )
                if flight.error is not None:
                    raise flight.error.copy()
                continue
            assert isinstance(decision, RequestToken)
            token = yield from self._request_token(request, decision.flight)
            if token is not None:
                return token

    def _request_token(
        self, original: httpx.Request, flight: Flight
    ) -> Generator[_Command, Any, str | None]:
        """Send the token request of `flight`: the token, or None to decide again."""
        what = flight.request
        logger.debug("Requesting a Kraken token (%s) with %s", what.use.value, what.credential)
        try:
            try:
                response = yield self._token_http_request(original, what)
                response = yield _Read(response, self.max_response_bytes)
                received = _received_token(response, what)
            except KrakenError as error:
                with self._lock:
                    again = self._manager.token_request_failed(flight, error, self._clock())
                    self._wake(flight)
                yield from self._persist()
                if again:
                    return None
                raise flight.error or error from None
            with self._lock:
                token = self._manager.token_received(flight, received, self._clock())
                self._wake(flight)
            yield from self._persist()
            return token
        except GeneratorExit as exit_:
            # httpx gave up on the token request: its error (or a cancellation) is in the chain.
            cause = _interruption_cause(exit_)
            self._abandon(flight, cause)
            raise
        finally:
            if not flight.done:  # anything else that ended this flow early
                self._abandon(flight, None)

    def _abandon(self, flight: Flight, cause: BaseException | None) -> None:
        if flight.done:
            return
        error = None
        if isinstance(cause, (httpx.HTTPError, KrakenError)):
            error = (
                cause
                if isinstance(cause, KrakenError)
                else transport_error(cause, flight.request.use.value)
            )
            error.__cause__ = scrubbed(cause) if error is not cause else None
        with self._lock:
            self._manager.flight_abandoned(flight, error)
            self._wake(flight)

    def _wake(self, flight: Flight) -> None:
        """Wake whoever waits for `flight` (call with the lock held)."""
        self._lock.notify_all()
        gates = self._async_waiters.pop(flight, None)
        if not gates:
            return
        here = _running_loop()
        for loop, gate in gates.items():
            if loop is here:
                gate.open()  # this thread runs that loop: no need to write to its pipe
                continue
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody left to wake there
                loop.call_soon_threadsafe(gate.open)

    def _persist(self) -> Generator[_Command, Any, None]:
        store, endpoint, credentials = self.token_store, self._endpoint, self.credentials
        if store is None or endpoint is None or credentials is None:
            return
        with self._lock:
            changed, tokens = self._manager.pending_save()
        if changed:
            key = store_key(endpoint, credentials)
            yield _Blocking(lambda: store.save(key, tokens))

    def _token_http_request(self, original: httpx.Request, what: TokenRequest) -> httpx.Request:
        from oeus_kraken_generated.operations import (
            GET_KRAKEN_TOKEN_GQL,
            REFRESH_KRAKEN_TOKEN_GQL,
        )

        document = GET_KRAKEN_TOKEN_GQL if what.use is TokenUse.OBTAIN else REFRESH_KRAKEN_TOKEN_GQL
        body = to_json(
            {
                "query": document,
                "operationName": what.use.value,
                "variables": {"input": what.input.model_dump(by_alias=True, exclude_unset=True)},
            }
        )
        headers = [
            (k, v) for k, v in original.headers.multi_items() if k.lower() not in _NOT_COPIED
        ]
        # No Authorization at all: a stale token sent with a login makes Kraken answer
        # "Signature of the JWT has expired".
        headers.append(("Content-Type", "application/json"))
        extensions = {k: v for k, v in original.extensions.items() if not k.startswith("oeus_")}
        return httpx.Request(
            "POST", original.url, headers=headers, content=body, extensions=extensions
        )

    # -- fork safety --------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        """In a forked child, the parent's threads are gone: a lock one of them held would be
        held forever, and a token request one of them made will never end here."""
        self._new_locks()
        flight = self._manager.flight
        if flight is not None:
            self._manager.flight_abandoned(flight, None)


def _received_token(response: httpx.Response, what: TokenRequest) -> ReceivedToken:
    from oeus_kraken_generated.get_kraken_token import GetKrakenToken

    operation = what.use.value
    data = read_response(response, operation)
    try:
        result: KrakenToken | None = GetKrakenToken.model_validate(data).obtain_kraken_token
    except pydantic.ValidationError:
        result = None
    if result is None:
        raise InvalidResponseError(
            f"{operation}: the API answered without a usable token",
            operation_name=operation,
            status_code=response.status_code,
        )
    _check_token(result.token)
    return ReceivedToken(
        result.token,
        token_claims(result.token, result.payload),
        result.refresh_token,
        result.refresh_expires_in,
    )


class _Steps:
    """Steps a flow generator: its next command after each outcome. A KrakenError raised while
    carrying out a command is thrown into the flow at the yield that asked for it, so that the
    flow (not the driver) decides what it means. Leaving the `with` closes the flow, so that a
    flow httpx abandons still cleans up (its token request ends, its waiters wake).

    With `then` (another httpx.Auth), each request the flow asks to send goes through that
    auth's own flow first, one `_Then` command per step of it; the last answer it got is the
    flow's outcome."""

    def __init__(self, flow: Generator[_Command, Any, None], then: httpx.Auth | None) -> None:
        self.flow = flow
        self.sent_any = False
        self.then = then
        self.then_flow: Any = None  # then's flow for the request under way, while it runs
        self.then_answer: httpx.Response | None = None  # what its last request got

    def __enter__(self) -> _Steps:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.flow.close()
        if self.then_flow is not None and hasattr(self.then_flow, "close"):
            self.then_flow.close()  # (an async one has aclose: its event loop closes it)

    def _next(self, advance: Callable[[Any], _Command], value: Any) -> _Command | None:
        try:
            command = advance(value)
        except StopIteration:
            if not self.sent_any:
                raise TokenReady from None
            return None
        if isinstance(command, httpx.Request):
            self.sent_any = True
            if self.then is not None:
                return _Then(self, command)  # their auth starts on it
        return command

    def send(self, outcome: object) -> _Command | None:
        """The flow's next command after `outcome` (None to start it)."""
        if self.then_flow is not None:
            if isinstance(outcome, httpx.Response):  # to a request of then's flow
                self.then_answer = outcome
                return _Then(self, None, outcome)
            if isinstance(outcome, httpx.Request):  # then's flow asks for it to be sent
                return outcome
            self.then_flow = None  # then's flow is done: its last answer is ours
            if outcome is _THEN_DONE:
                outcome = self.then_answer
        if isinstance(outcome, _Failed):
            return self._next(self.flow.throw, outcome.error)
        return self._next(self.flow.send, outcome)

    def next_request_sync(self, outcome: object) -> httpx.Request | None:
        """Give the flow `outcome`, then carry out its commands, blocking, until it asks for a
        request to be sent (None: it is done)."""
        command = self.send(outcome)
        while command is not None and not isinstance(command, httpx.Request):
            command = self.send(_outcome_of(command.run_sync))
        return command

    async def next_request_async(self, outcome: object) -> httpx.Request | None:
        """Give the flow `outcome`, then carry out its commands, awaiting, until it asks for a
        request to be sent (None: it is done)."""
        command = self.send(outcome)
        while command is not None and not isinstance(command, httpx.Request):
            command = self.send(await _async_outcome_of(command.run_async))
        return command


def _outcome_of(function: Callable[[], Any]) -> Any:
    try:
        return function()
    except (KrakenError, httpx.HTTPError) as error:
        return _Failed(error)


async def _async_outcome_of(function: Callable[[], Awaitable[Any]]) -> Any:
    try:
        return await function()
    except (KrakenError, httpx.HTTPError) as error:
        return _Failed(error)


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def _after_fork() -> None:
    for auth in list(_instances):
        auth._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
