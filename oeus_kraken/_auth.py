"""`KrakenAuth`: the Kraken token of one credential at one endpoint, obtained, cached, refreshed
and attached; for our clients, and as an `httpx.Auth` for anyone else's.

    KrakenAuth(APIKey("..."), url=TEST_URL)      raw httpx, gql's HTTPXTransport, ariadne-codegen

It holds the token state (`_tokens.TokenState`, which decides) and runs one small flow of
effects (`_steps`) to have a token, `ensure_token`:

    store read yet? ── no ──► Blocking(store.load)
         ▼
    decide(now, wave) ─► UseToken ──► the token
                     ─► WaitFor  ──► Wait(its signal) ──► decide again
                     ─► Pause    ──► Sleep ──► decide again
                     ─► RequestToken ──► Send(the token request) ──► token_received or
                                         token_request_failed ──► Blocking(store.save)

`authorized` sends a caller's request with the token, and if the API rejects the token (HTTP
401, KT-CT-1124 and kin) forgets it and resends once with a new one. Our clients run these
flows inside each call (`_call`), so their retries and deadlines cover the token request too. On
another httpx client, `sync_auth_flow` / `async_auth_flow` run `authorized`, handing its requests
to httpx; that is all they do.

Trust at the edges: the credential goes to `url` and nowhere else. A request through KrakenAuth
to another origin is refused before anything is sent. A token request's body, which holds the
credential, can be sent once only, so no redirect can carry it elsewhere, and a redirect in
answer to it is an error; our clients never follow one for it at all.
"""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import math
import os
import re
import sys
import threading
import time
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic_core import to_json

from ._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REFRESH_MARGIN,
    PRODUCTION_URL,
    check_clock,
    check_credentials,
    check_max_response_bytes,
    check_refresh_margin,
    check_url,
    shown_url,
)
from ._credentials import Credentials
from ._durations import say_seconds
from ._errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    ConfigurationError,
    InvalidResponseError,
    KrakenError,
)
from ._kt_codes import Category, category_of
from ._responses import (
    aread_capped,
    may_have_errors,
    read_capped,
    read_response_masking,
    token_rejection,
    transport_error,
)
from ._steps import (
    Blocking,
    Effect,
    Send,
    Sleep,
    Wait,
    iterate_async,
    iterate_sync,
    perform_async,
    perform_sync,
)
from ._token_store import (
    StoredTokens,
    TokenStore,
    check_token_store,
    fits_a_header,
    forget_from,
    load_from,
    save_to,
    store_key,
)
from ._tokens import (
    Flight,
    Pause,
    ReceivedToken,
    TokenInfo,
    TokenRequest,
    TokenState,
    TokenUse,
    UseToken,
    WaitFor,
    token_claims,
)

__all__ = ["KrakenAuth", "TokenCaller"]

logger = logging.getLogger("oeus_kraken")

# How long a caller waits for another caller's token request when its call has no deadline.
DEFAULT_TOKEN_WAIT = 60.0
# A timeout this close to a call's deadline is that deadline's doing (timers fire a little early).
_AT_DEADLINE = 0.05
# A token request still under way this long after its sender's deadline has a sender that stopped
# running (an event loop left with the call pending, a frozen thread): nothing will end it.
_STALLED_AFTER = 1.0

# The token operations: ours, not generated (the core needs nothing generated). queries/auth.graphql
# holds the same documents, so that the clients have typed methods for them too.
_TOKEN_FIELDS = "obtainKrakenToken(input: $input) { token payload refreshToken refreshExpiresIn }"  # noqa: S105
TOKEN_DOCUMENTS = {
    use: f"mutation {use.value}($input: ObtainJSONWebTokenInput!) {{ {_TOKEN_FIELDS} }}"
    for use in TokenUse
}
# Headers of the caller's request that are not copied onto the token request made for it:
# its credentials, and whatever describes its body rather than the token request's. Every
# Content-* header is the body's (a Content-Encoding: gzip copied onto the token request's plain
# JSON made a server that decodes request bodies refuse every token request), and so are the
# body's digests.
_NOT_COPIED = frozenset(
    {b"authorization", b"cookie", b"transfer-encoding", b"digest", b"repr-digest"}
)
_NOT_COPIED_PREFIX = b"content-"


@dataclass(slots=True)
class TokenCaller:
    """What a caller brings to the token flows, and what they leave it."""

    request: httpx.Request  # the caller's request: its headers go on the token request too
    operation: str | None = None  # its operation's name, for messages
    deadline: float | None = None  # when this attempt ends (time.monotonic()); None: never
    wave: int = 0  # the first token request whose outcome it shares (0: from the next one)
    retries_left: int = 0  # of the caller's call: may it retry a failed token request?
    retry_in: float | None = None  # after a failed token request: when to retry with the others
    sent: bool = False  # did the request itself leave (not only its token request)?
    errors_ruled_out: bool = False  # its answer provably carries no `errors` (may_have_errors)
    # The token its request carries already (RequestBuilder's); a secret, so not in the repr.
    attached: str | None = field(default=None, repr=False)


# Every KrakenAuth, so that a forked child can give each a fresh lock (see _after_fork).
_instances: weakref.WeakSet[KrakenAuth] = weakref.WeakSet()


class KrakenAuth(httpx.Auth):
    """Obtains, caches, refreshes and attaches the Kraken token for requests to `url`.

    One instance serves one credential at one endpoint (`url`, production by default), from any
    number of threads or tasks at once: share it, so that they share one token. A request to
    another origin through it is refused. Options: `allow_insecure_http` (plain http:// off
    loopback), `refresh_margin` (seconds before expiry to refresh), `token_store` (keep tokens
    between runs), `max_response_bytes` (largest answer read), `clock` (for tests).
    """

    requires_request_body = True  # a rejected request is sent again

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        url: str = PRODUCTION_URL,
        allow_insecure_http: bool = False,
        refresh_margin: float = DEFAULT_REFRESH_MARGIN,
        token_store: TokenStore | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.credentials = check_credentials(credentials)
        self.url = check_url(url, allow_insecure_http=allow_insecure_http)
        self.refresh_margin = check_refresh_margin(refresh_margin)
        self.max_response_bytes = check_max_response_bytes(max_response_bytes)
        self.token_store = check_token_store(token_store)
        self._endpoint = httpx.URL(self.url)
        if self.credentials is not None and self._endpoint.userinfo:
            # (Not echoed: the user name and password are secrets too.)
            raise ConfigurationError(
                "url has a user name or password in it (user:password@); httpx sends them as "
                "HTTP Basic authentication in place of the Kraken token, so no call could "
                "authenticate. Remove them from the URL: the client authenticates with "
                "credentials= alone."
            )
        self._origin = _origin(self._endpoint)
        self._clock = check_clock(clock)
        self._state = TokenState(
            self.credentials, refresh_margin=self.refresh_margin, has_store=token_store is not None
        )
        self.accepted_token: str | None = None  # the token the API last answered a call made with
        self._lock = threading.Lock()
        # Saves in the order their states were taken (see _write).
        self._save_lock = threading.Lock()
        self._saves_taken = self._saves_written = 0
        _instances.add(self)

    def __reduce_ex__(self, _protocol: object) -> Any:
        """Refused in our words (pickle, copy): it holds locks and its token (see
        `unpicklable_message`)."""
        raise TypeError(unpicklable_message(type(self).__name__))

    def __repr__(self) -> str:
        return f"KrakenAuth(credentials={self.credentials!r}, url={shown_url(self.url)!r})"

    def token_info(self) -> TokenInfo:
        """The token held, described (its expiry and claims; the token stays out of the repr)."""
        with self._lock:
            return self._state.token_info()

    @property
    def secrets(self) -> list[str]:
        """The credential's secret values and the refresh tokens known, which an error must
        show as *** wherever an answer quotes them (read without the lock: attributes)."""
        return self._state.secrets

    def has_usable_token(self) -> bool:
        return self.fresh_token() is not None

    def fresh_token(self) -> str | None:
        """The token held, if it is not due for renewal (read without the lock: one attribute)."""
        held = self._state.held
        if held is not None and (held.refresh_at is None or self._clock() < held.refresh_at):
            return held.token
        return None

    # -- the flows -------------------------------------------------------------------------------

    def authorized(self, caller: TokenCaller) -> Generator[Effect, Any, httpx.Response]:
        """Send the caller's request with the token; if the API rejects that token, renew it and
        resend once. The last answer (a second rejection is the caller's to raise)."""
        request = caller.request
        token = self.fresh_token() or (yield from self.ensure_token(caller))
        resent = False
        while True:
            if token is not caller.attached:
                request.headers["Authorization"] = caller.attached = token
            caller.sent = True
            try:
                response: httpx.Response = yield Send(request, caller.deadline)
            except (httpx.HTTPStatusError, GeneratorExit) as exc:
                self._rejected_in_a_hook(token, exc)
                raise
            # (Scanned once for the caller too: the scan of a 40 KB answer costs ~25 µs.)
            caller.errors_ruled_out = not may_have_errors(response.content)
            reason = None
            if response.status_code == 401 or not caller.errors_ruled_out:
                reason = token_rejection(response)
                if reason is not None and response.history:
                    self._check_answered_here(response, caller.operation)
            if reason is None:
                if token is not self.accepted_token:
                    self._token_accepted(token)
                return response
            with self._lock:
                self._state.token_rejected(token, reason, self._clock())
            yield from self._save()
            if resent:
                return response
            resent = True
            token = self.fresh_token() or (yield from self.ensure_token(caller))

    def _rejected_in_a_hook(self, token: str, exc: BaseException) -> None:
        """A response event hook of the http_client raised for the answer (`raise_for_status()`,
        a common recipe) before this flow could see it: a 401 from this origin is still the API
        refusing the token, which is forgotten (no resend: the hook has had its say), or every
        later call would send it again until it expired."""
        cause = _interruption_cause(exc)
        if not isinstance(cause, httpx.HTTPStatusError) or cause.response.status_code != 401:
            return
        answer = cause.response
        if set(_origins(answer)) == {self._origin}:
            with self._lock:
                self._state.token_rejected(token, "HTTP 401", self._clock())

    def ensure_token(self, caller: TokenCaller) -> Generator[Effect, Any, str]:
        """Effects that end with a usable token, or raise why none can be had now (having set
        the caller's wave and `retry_in` for its retry)."""
        if caller.wave == 0:
            caller.wave = self._state.next_wave()
        try:
            while True:
                if not self._state.loaded:  # (read again after a refused refresh token)
                    yield from self._load()
                with self._lock:
                    decision = self._state.decide(self._clock(), caller.wave)
                if isinstance(decision, UseToken):
                    return decision.token
                if isinstance(decision, Pause):
                    yield Sleep(decision.seconds)
                elif isinstance(decision, WaitFor):  # it joins that request's wave
                    flight = decision.flight
                    caller.wave = min(caller.wave, flight.number)
                    yield from self._wait(flight, caller.deadline)
                    if flight.error is not None and not flight.shares(caller.deadline):
                        # Its sender ran out of time, and this caller has more: it decides
                        # again, from the next wave, rather than fail with that timeout.
                        caller.wave = max(caller.wave, flight.number + 1)
                    elif flight.cut_at is not None and flight.error is not None:
                        raise flight.error.copy()
                else:
                    token = yield from self._request_token(decision.flight, caller)
                    if token is not None:
                        return token
        except KrakenError:
            with self._lock:
                caller.wave = self._state.next_wave()
                caller.retry_in = self._state.join_retry(self._clock(), caller.retries_left)
            raise

    def _wait(self, flight: Flight, deadline: float | None) -> Generator[Effect, Any, None]:
        seconds = DEFAULT_TOKEN_WAIT
        if deadline is not None:
            seconds = max(0.0, min(seconds, deadline - time.monotonic()))
        if flight.sent_until is not None:
            stalled_in = flight.sent_until + _STALLED_AFTER - time.monotonic()
            if stalled_in < seconds:
                # Its sender's deadline would have ended it by then, had its sender still been
                # running: every caller, from any thread or event loop, waited for it until its
                # own time ran out, for good. Abandoned, so that this caller requests anew.
                if not (yield Wait(flight.signal, max(0.0, stalled_in))):
                    self._abandon(flight, None)
                return
        if not (yield Wait(flight.signal, seconds)):
            raise APITimeoutError(
                f"{flight.request.use.value}: no Kraken token arrived within "
                f"{say_seconds(seconds)}: the token request for this call has not been answered. "
                "Retry later.",
                operation_name=flight.request.use.value,
            )

    def _request_token(
        self, flight: Flight, caller: TokenCaller
    ) -> Generator[Effect, Any, str | None]:
        """Send `flight`'s token request: the token, or None to decide again."""
        what = flight.request
        logger.debug("Requesting a Kraken token (%s) with %s", what.use.value, what.credential)
        request = self._token_request(what, caller.request)
        flight.sent_until = caller.deadline
        stream = request.stream
        assert isinstance(stream, _SentOnce)
        try:
            failure: KrakenError | None = None
            try:
                response = yield Send(request, caller.deadline, follow_redirects=False)
            except httpx.HTTPError as exc:
                failure = transport_error(exc, what.use.value, what.secrets)
            if failure is not None:
                raise failure
            received = _received_token(response, what, self._origin)
            # Held before the flight ends: callers waiting for it wake to find the token, not an
            # ended request and no token (each of which would start a token request of its own).
            with self._lock:
                token = self._state.token_received(flight, received, self._clock())
        except KrakenError as error:
            deadline = caller.deadline
            # Timed out at (or within a moment of) its sender's deadline: the sender's timeout=,
            # not the API's failure (callers with more time try again).
            if (
                isinstance(error, APITimeoutError)
                and deadline is not None
                and time.monotonic() >= deadline - _AT_DEADLINE
            ):
                flight.cut_at = deadline
            with self._lock:
                again = self._state.token_request_failed(flight, error, self._clock())
            yield from self._save()
            if again:
                return None
            if flight.error is error:
                raise
            raise flight.error or error from None
        except GeneratorExit as closing:  # httpx gave up on it: its error is in the chain
            self._abandon(flight, _interruption_cause(closing) or _unanswered(what.use.value))
            raise
        finally:
            # Unsent (no connection, a cancellation), it is done with all the same: httpx's
            # error holds it (`.request`), and reading it must not give the credential.
            stream.spent()
            if not flight.done:  # anything else that ended this flow early
                self._abandon(flight, None)
        yield from self._save()
        return token

    def _token_request(self, what: TokenRequest, original: httpx.Request) -> httpx.Request:
        body = _token_request_body(what, what.variables)
        shown = _token_request_body(what, what.masked_variables)  # to a hook reading it once sent
        # No Authorization at all: a stale token sent with a login makes Kraken answer
        # "Signature of the JWT has expired".
        # As bytes: httpx would decode a value beyond ASCII (obs-text) as Latin-1 text, then
        # refuse to encode that text as ASCII (UnicodeEncodeError).
        headers = [
            (k, v)
            for k, v in original.headers.raw
            if k.lower() not in _NOT_COPIED and not k.lower().startswith(_NOT_COPIED_PREFIX)
        ]
        headers += [(b"Content-Type", b"application/json"), (b"Content-Length", b"%d" % len(body))]
        stream = _SentOnce(body, shown, what.use.value, self._origin)
        return _TokenRequest(
            "POST", self._endpoint, headers=headers, stream=stream, extensions=original.extensions
        )

    def _abandon(self, flight: Flight, cause: BaseException | None) -> None:
        error = cause if isinstance(cause, KrakenError) else None
        if isinstance(cause, httpx.HTTPError):
            error = transport_error(cause, flight.request.use.value, flight.request.secrets)
        with self._lock:
            if not flight.done:
                self._state.flight_abandoned(flight, error, self._clock())

    def _token_accepted(self, token: str) -> None:
        with self._lock:
            self._state.token_accepted(token)
            self.accepted_token = token

    # -- the token store -------------------------------------------------------------------------

    def _store_key(self) -> str:
        assert self.credentials is not None
        return store_key(self.url, self.credentials)

    def _load(self) -> Generator[Effect, Any, None]:
        store = self.token_store
        assert store is not None
        stored = yield Blocking(lambda: load_from(store, self._store_key()))
        with self._lock:
            self._state.load(stored, self._clock())

    def _save(self) -> Generator[Effect, Any, None]:
        store = self.token_store
        if store is None or self.credentials is None:
            return
        with self._lock:
            changed, tokens = self._state.pending_save()
            rejected = self._state.rejected
            self._saves_taken += 1
            number = self._saves_taken
        if changed:
            yield Blocking(lambda: self._write(store, number, tokens, rejected))

    def _write(
        self, store: TokenStore, number: int, tokens: StoredTokens | None, rejected: str | None
    ) -> None:
        """Write the `number`th state taken, unless a later one has been written already. Saves
        run outside the lock, in threads, and a store can be slow (a keyring, scrypt): written
        in any order, an older state (a refresh token since rotated, so spent) could land over
        a newer one and be all that the next run finds."""
        with self._save_lock:
            if number < self._saves_written:
                return
            self._saves_written = number
            if tokens is None and rejected is not None:
                # Only that token: a newer one another process saved meanwhile (with the refresh
                # token the API rotated for it) stays, for this client to take after its refusal.
                forget_from(store, self._store_key(), rejected)
            else:
                save_to(store, self._store_key(), tokens)

    # -- on another httpx client ------------------------------------------------------------------

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """httpx's blocking driver: `authorized`, its requests sent by httpx."""
        self.check_origin(request)
        request.read()
        steps = iterate_sync(self.authorized(TokenCaller(request)), perform_sync, outward=Send)
        yield from _through_httpx(steps, self.max_response_bytes)

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """httpx's async driver: `authorized`, its requests sent by httpx."""
        self.check_origin(request)
        await request.aread()
        flow = self.authorized(TokenCaller(request))
        steps = iterate_async(flow, perform_async, outward=Send)
        try:
            send = await steps.__anext__()
            while True:
                response = yield send.request
                await aread_capped(response, self.max_response_bytes)
                send = await steps.asend(response)
        except StopAsyncIteration:
            return
        finally:
            await steps.aclose()

    def _check_answered_here(self, response: httpx.Response, operation: str | None) -> None:
        """A rejection after a followed redirect took the request to another origin (httpx then
        drops its token, and does not put it back if a further redirect brings the request
        home) is not the API's verdict on the token: the token is kept, and the call ends."""
        hops = _origins(response)
        elsewhere = next((hop for hop in hops if hop != self._origin), None)
        if elsewhere is not None:
            answered_by = hops[-1]
            through = "" if answered_by == elsewhere else f" through {elsewhere} and back"
            raise APIStatusError(
                f"{operation or 'GraphQL request'}: HTTP {response.status_code} from "
                f"{answered_by}, where a redirect from {self._origin}{through} took the request; "
                f"the token goes to {self._origin} only, so it was not sent there. Point the "
                "client at the GraphQL endpoint itself.",
                operation_name=operation,
                status_code=response.status_code,
            )

    def check_origin(self, request: httpx.Request) -> None:
        """Refuse a request that would take the credential or the token elsewhere than `url`:
        where it connects (its URL), or the virtual host it asks for there (its Host header)."""
        origin = _origin(request.url)
        if origin == self._origin:
            origin = _addressed_to(request)
        if origin != self._origin:
            raise ConfigurationError(
                f"this KrakenAuth sends its credential and token to {self._origin} only; a "
                f"request to {origin} was refused before anything was sent. Use a KrakenAuth made "
                f"with url= that endpoint (tokens of one Kraken API are not valid at another)."
            )

    # -- fork safety ------------------------------------------------------------------------------

    def _after_fork_in_child(self) -> None:
        """In a forked child the parent's threads are gone: a lock one of them held would be
        held forever, and a token request one of them made never ends here."""
        self._lock = threading.Lock()
        self._save_lock = threading.Lock()
        self._state.forget_flight()


def _through_httpx(
    steps: Generator[Any, Any, None], limit: int
) -> Generator[httpx.Request, httpx.Response]:
    """Hand each Send of `steps` to httpx, and the answer back, its body read (capped)."""
    try:
        send = next(steps)
        while True:
            response = yield send.request
            read_capped(response, limit)
            send = steps.send(response)
    except StopIteration:
        return
    finally:
        steps.close()


class _SentOnce(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A token request's body. It holds the credential, so it can be sent once only: httpx
    follows a 307 or 308 redirect with the same body, and that second sending fails here."""

    def __init__(self, body: bytes, shown: bytes, operation: str, origin: str) -> None:
        self._body: bytes | None = body
        self.shown = shown  # the body with the credential as ***
        self._operation = operation
        self._origin = origin

    def __iter__(self) -> Iterator[bytes]:
        yield self._take()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._take()

    def peek(self) -> bytes:
        """The body for reading (`_TokenRequest.read`), which is not sending: before it is sent
        (a request hook, a mock transport), the body; once sent (a response hook that logs the
        request), the body with the credential as ***, which no redirect can carry anywhere."""
        return self.shown if self._body is None else self._body

    def spent(self) -> None:
        """No more sending: reading gives the body with the credential as *** from now on."""
        self._body = None

    def _take(self) -> bytes:
        body, self._body = self._body, None
        if body is None:
            raise APIStatusError(
                f"{self._operation}: the token request was to be sent a second time: after a "
                "redirect, by an http_client auth that resends requests (DigestAuth), or by a "
                "transport that retries; its body holds the credential, which goes to "
                f"{self._origin} once only. Point the client at the GraphQL endpoint itself, "
                "with an http_client whose auth and transport do not resend (the client "
                "retries by itself: max_retries=).",
                operation_name=self._operation,
            )
        return body


class _TokenRequest(httpx.Request):
    """A token request, whose body stays one-shot when it is read. httpx's own `read()` keeps a
    copy of a stream it reads, which then replaces the stream: a followed 307/308 would re-POST
    the credential to the Location, and the copy would stay on the request. Reading here peeks,
    keeping nothing. (A transport that reads the body instead of sending the stream, as a mock
    does, is not covered: nothing then leaves by the network.)"""

    @property
    def content(self) -> bytes:
        return self.read()

    def read(self) -> bytes:
        stream = self.stream
        if isinstance(stream, _SentOnce):
            return stream.peek()
        if "shown_body" in self.__dict__:  # a copy (copy, pickle: httpx gives it no stream)
            return self.__dict__["shown_body"]  # type: ignore[no-any-return]
        return super().read()  # a stream an event hook put in place of ours: read as httpx does

    def __getstate__(self) -> dict[str, Any]:
        """For copy and pickle (a hook may keep a copy: a log, a recorder): the body with the
        credential as ***, whether or not the request was sent."""
        state = super().__getstate__()
        if isinstance(self.stream, _SentOnce):
            state["shown_body"] = self.stream.shown
        return state

    async def aread(self) -> bytes:
        if isinstance(self.stream, _SentOnce) or "shown_body" in self.__dict__:
            return self.read()
        return await super().aread()  # (a hook's stream may be async only)


def _origin(url: httpx.URL) -> str:
    """scheme://host:port, the unit of trust (no userinfo, path or query). httpx lowers the
    case and spells an IDNA host one way; an IP address is spelt here one way too."""
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    host = url.host
    with contextlib.suppress(ValueError):  # (a name, not an address)
        host = ipaddress.ip_address(host).compressed
    host = f"[{host}]" if ":" in host else host
    return f"{url.scheme}://{host}" + ("" if port is None else f":{port}")


def _origins(response: httpx.Response) -> list[str]:
    """The origins a response's request went to, redirect by redirect, ending where it was
    answered."""
    return [_origin(hop.url) for hop in (*response.history, response)]


def _token_request_body(what: TokenRequest, variables: dict[str, str]) -> bytes:
    return to_json(
        {
            "query": TOKEN_DOCUMENTS[what.use],
            "operationName": what.use.value,
            "variables": {"input": variables},
        }
    )


def _addressed_to(request: httpx.Request) -> str:
    """The origin a request goes to: its URL's, unless its Host header names another host, which
    a shared server or a CDN routes it to."""
    host = request.headers.get("host")
    if host is None:
        return _origin(request.url)
    # Only host[:port]: parsed as a URL's authority, "other@host", "host/x", "host?x" and
    # "host#x" would read as the host, while a server routing by the header's text does not.
    if _HOST_HEADER.fullmatch(host):
        with contextlib.suppress(httpx.InvalidURL, ValueError):
            return _origin(httpx.URL(f"{request.url.scheme}://{host}/"))
    return f"the host {host!r} (its Host header)"


# A Host header's host (a name, an IPv4 address, or an IPv6 one in brackets) and port.
_HOST_HEADER = re.compile(r"(?:\[[0-9A-Za-z:.%]+\]|[^\s\[\]:@/?#\\]+)(?::[0-9]*)?")


def _received_token(response: httpx.Response, what: TokenRequest, endpoint: str) -> ReceivedToken:
    """The token a token request's answer carries, or the KrakenError it is."""
    operation = what.use.value
    # (Not any history: an http_client's own auth of several steps leaves some too.)
    hops = [hop for hop in (*response.history, response) if hop.has_redirect_location]
    if hops:
        target = _target(hops[0])
        kept = (
            "a token request is never redirected, so it was not sent again"
            if target == endpoint
            else f"the credential goes to {endpoint} only, and was not sent there"
        )
        raise APIStatusError(
            f"{operation}: HTTP {hops[0].status_code}: the API answered the token request with a "
            f"redirect to {target}; {kept}. Point the client at the GraphQL endpoint itself.",
            operation_name=operation,
            status_code=hops[0].status_code,
        )
    if response.status_code == 401 and what.use is TokenUse.OBTAIN:
        # A token request carries no token: its 401 is something in front of the API asking for
        # HTTP authentication (a gateway, a staging site's password), not the API's verdict on
        # the credential, which comes in a GraphQL error (KT-CT-1138 and kin). (A refresh
        # token answered 401 is dropped, as README says: the primary credential then obtains.)
        raise APIStatusError(
            f"{operation}: HTTP 401 Unauthorized in answer to the token request, which carries no "
            f"token: something at {endpoint} asks for HTTP authentication before any Kraken "
            f"operation, and the {what.credential} was not judged. Check that the URL is the "
            "Kraken GraphQL endpoint itself.",
            operation_name=operation,
            status_code=401,
        )
    try:
        data = read_response_masking(response, operation, what.secrets)
    except AuthenticationError as error:
        added = _added_authorization(response, what, error)
        if added is None:
            raise
        raise added from None
    result = data.get("obtainKrakenToken")
    token = result.get("token") if isinstance(result, dict) else None
    if not isinstance(result, dict) or not isinstance(token, str):
        raise InvalidResponseError(
            f"{operation}: the API answered without a usable token",
            operation_name=operation,
            status_code=response.status_code,
        )
    if not fits_a_header(token):
        raise InvalidResponseError(
            f"{operation}: the API answered with a token that cannot be sent in an HTTP header "
            "(empty, or with spaces, control or non-ASCII characters); it was dropped.",
            operation_name=operation,
        )
    refresh = result.get("refreshToken")
    return ReceivedToken(
        token,
        token_claims(token, result.get("payload")),
        refresh if isinstance(refresh, str) else None,
        result.get("refreshExpiresIn"),
    )


def _added_authorization(
    response: httpx.Response, what: TokenRequest, error: AuthenticationError
) -> ConfigurationError | None:
    """We send a token request with no Authorization: if the API refused it as a bad token, the
    http_client put one there (its auth=, an event hook), and the credential was not judged."""
    added = "authorization" in response.request.headers  # (as sent, the http_client's auth run)
    if not added or category_of(error.error_code) is not Category.TOKEN_REJECTED:
        return None
    return ConfigurationError(
        f"{what.use.value}: the API refused the token request for its Authorization header "
        f"({error.error_code}), which the client does not send with it: the http_client's own "
        f"auth= or an event hook added it. The {what.credential} was not judged. Give an "
        "http_client that adds no Authorization header.",
        operation_name=what.use.value,
        status_code=error.status_code,
        error_code=error.error_code,
    )


def _target(redirect: httpx.Response) -> str:
    """The origin a redirect points to."""
    try:
        return _origin(redirect.url.join(redirect.headers["location"]))
    except (httpx.InvalidURL, ValueError):
        return "an address that is not a URL"


def _interruption_cause(exc: BaseException | None) -> BaseException | None:
    """What made httpx close the flow: the error it was propagating, under the GeneratorExit(s)
    of the close."""
    while isinstance(exc, GeneratorExit):
        exc = exc.__context__
    return exc


def _unanswered(operation: str) -> KrakenError | None:
    """The outcome of a token request httpx gave up on without a trace of why: an async
    generator closed by httpx (`aclose`) carries none of the error httpx was raising, nearly
    always a transport error. Shared by its waiters, who would otherwise each send one anew.
    None if its task is being cancelled (asyncio on Python 3.11+, and trio, say so): the
    waiters then decide again."""
    asyncio = sys.modules.get("asyncio")
    with contextlib.suppress(RuntimeError):  # (no event loop running here)
        task = asyncio.current_task() if asyncio is not None else None
        if task is not None and getattr(task, "cancelling", lambda: 0)() > 0:
            return None
    trio = sys.modules.get("trio")  # (httpx runs under trio too; loaded if it does)
    with contextlib.suppress(RuntimeError):  # (not in a trio task)
        # A cancelled scope around the task makes its effective deadline minus infinity.
        if trio is not None and trio.current_effective_deadline() == -math.inf:
            return None
    return APIConnectionError(
        f"{operation}: the token request got no answer: the HTTP client gave up on it (a "
        "timeout, or a refused or lost connection). Check the URL and the network; retry later.",
        operation_name=operation,
    )


def unpicklable_message(kind: str) -> str:
    """Why a client or a KrakenAuth cannot go to another process, and what to send instead."""
    return (
        f"a {kind} cannot be pickled or copied: it holds locks and its token (a client, its "
        "connections too). To call Kraken from another process (multiprocessing's spawn or "
        "forkserver, a Pool's arguments), send the credentials, which pickle, and make a client "
        f"there; with the fork start method, a {kind} made before the fork works in the child as "
        "it is (a global, not an argument)."
    )


def _after_fork() -> None:
    for auth in list(_instances):
        auth._after_fork_in_child()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
