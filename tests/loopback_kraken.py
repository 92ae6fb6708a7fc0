"""The suite's fake Kraken on a real loopback socket, and the four ways of calling it, for the
auth safety suite (tests/test_auth_safety.py).

    kraken = scripted(token_faults=[cdn_403()] * 2)
    with HostileServer(kraken.over_socket) as server:
        caller = Caller.make("raw-sync", server.url)
        email = viewer_email(await caller.call())

`scripted` gives the suite's FakeKraken (auth_helpers) on real time: it answers the token
requests with its `token_faults` in turn, then with a fresh token; any other request with `data`
(the viewer by default; a redirect, a token, or NEVER: no answer at all); and everything with
HTTP 502 while `down`. It keeps the tokens it issued (`secrets_of`), so that a test can look for
them in what another server received. The HostileServer records every request exactly as it
arrived, body included.

`Caller` is one of KINDS: our two clients, and raw `httpx.AsyncClient` / `httpx.Client` with a
`KrakenAuth`; `call()` makes one viewer call, `concurrently(n)` n at once (asyncio tasks, or
threads). Blocking calls run in daemon threads with a time limit, so that a stuck call fails
its test instead of hanging the run.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from auth_helpers import (
    CREDENTIALS,
    OBTAIN,
    FakeKraken,
    Reply,
    json_response,
    run_in_threads,
    token_response,
)
from hostile_server import Answer, HostileServer, Request, at_once

from oeus_kraken import Credentials, KrakenAuth, KrakenClient, SyncKrakenClient

KINDS = ("async", "sync", "raw-async", "raw-sync")
CLIENT_KINDS = ("async", "sync")
RAW_KINDS = ("raw-async", "raw-sync")

# The credential the suite calls with by default: the example, a distinctive secret.
CREDENTIAL = CREDENTIALS["organization_secret_key"]

VIEWER_QUERY = "query getViewer { viewer { id givenName familyName email accounts { number } } }"
VIEWER_BODY = {"query": VIEWER_QUERY, "operationName": "getViewer"}

# Raw httpx clients' time limit: loopback servers answer at once, and httpx's 5 s default would
# only make a failing test slow (a TLS handshake with a plain HTTP server, say).
RAW_TIMEOUT = 2.0

# A call that takes longer than this is stuck: the test fails instead of hanging. A limit, not
# a sleep: passing tests never wait for it.
STUCK_AFTER = 20.0


def scripted(
    *, token_faults: Iterable[httpx.Response] = (), data: Reply | None = None
) -> FakeKraken:
    """The suite's FakeKraken on real time, to serve on a socket (`over_socket`): see above."""
    kraken = FakeKraken(time.time)
    kraken.queue(OBTAIN, *(lambda _sent, fault=fault: fault for fault in token_faults))
    kraken.data_reply = data
    return kraken


def token_late(seconds: float, data: dict[str, Any]) -> Answer:
    """A HostileServer answer: each token request answered `seconds` late, with a fresh token;
    any other request at once, with `data`."""

    def answer(request: Request) -> Iterator[tuple[bytes, float]]:
        if b"obtainKrakenToken" in request.body:
            yield b"", seconds
            yield from at_once(json.dumps(token_response()).encode())
            return
        yield from at_once(json.dumps({"data": data}).encode())

    return answer


# -- answers as CDNs, load balancers and Kraken give them ------------------------------------------


def html_page(status: int, title: str, **headers: str) -> httpx.Response:
    """An error page as a CDN or a load balancer sends it; `headers` by name, underscores for
    dashes (Retry_After=...)."""
    page = f"<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return httpx.Response(status, html=page, headers=named)


def kt_ct_1199() -> httpx.Response:
    """Kraken's rate limit: HTTP 200, the code in the GraphQL error, no Retry-After."""
    error = {
        "message": "Too many requests.",
        "path": ["obtainKrakenToken"],
        "extensions": {"errorType": "RATE_LIMIT", "errorCode": "KT-CT-1199"},
    }
    return json_response({"data": None, "errors": [error]})


def too_many_requests(retry_after: int) -> httpx.Response:
    return html_page(429, "429 Too Many Requests", Retry_After=str(retry_after))


def cdn_403() -> httpx.Response:
    return html_page(403, "403 Forbidden")


def redirect(status: int, location: str) -> httpx.Response:
    return httpx.Response(status, headers={"Location": location})


# -- what a server received ------------------------------------------------------------------------


def is_token_request(request: Request) -> bool:
    return b"obtainKrakenToken" in request.body


def token_requests(server: HostileServer) -> list[Request]:
    return [r for r in server.requests if is_token_request(r)]


def data_requests(server: HostileServer) -> list[Request]:
    return [r for r in server.requests if not is_token_request(r)]


def secrets_received(server: HostileServer, secrets: list[str]) -> list[tuple[str, Request]]:
    """(secret, request) for each secret found anywhere in a request the server received: its
    request line, any header, its body."""
    found = []
    for request in server.requests:
        text = f"{request.method} {request.path}\n{request.headers!r}\n"
        text += request.body.decode("utf-8", "replace")
        found += [(secret, request) for secret in secrets if secret in text]
    return found


def origin(url: str) -> str:
    """scheme://host:port, as an error message names an origin."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


# -- the four ways of calling ----------------------------------------------------------------------


@dataclass
class Caller:
    """Our async or sync client, or a raw httpx client with a KrakenAuth, at one Kraken URL."""

    kind: str
    url: str
    client: KrakenClient | SyncKrakenClient | None = None  # our clients
    http: httpx.AsyncClient | httpx.Client | None = None  # raw, or the http_client given to ours

    @classmethod
    def make(
        cls,
        kind: str,
        url: str,
        credentials: Credentials = CREDENTIAL,
        *,
        follow_redirects: bool | None = None,
        max_retries: int | None = None,
        reads_bodies: bool = False,
        **options: Any,
    ) -> Caller:
        """`follow_redirects`: for our clients, None lets them make their own http_client, a
        bool gives them one made with it; raw httpx clients get it as given (False if None).
        `reads_bodies`: the http_client has a request event hook that reads each request's
        body, as a hook that logs or signs bodies does. `max_retries` applies to our clients
        only (raw httpx does not retry). `options` go to our clients' constructor, or to
        KrakenAuth's."""
        is_async = kind in ("async", "raw-async")
        http_class = httpx.AsyncClient if is_async else httpx.Client
        hooks = {"request": [_aread if is_async else _read]} if reads_bodies else {}
        if kind in RAW_KINDS:
            auth = KrakenAuth(credentials, url=url, **options)
            http = http_class(
                auth=auth,
                follow_redirects=bool(follow_redirects),
                timeout=RAW_TIMEOUT,
                event_hooks=hooks,
            )
            return cls(kind, url, http=http)
        http = None
        if follow_redirects is not None or reads_bodies:
            http = http_class(follow_redirects=bool(follow_redirects), event_hooks=hooks)
        if max_retries is not None:
            options["max_retries"] = max_retries
        client_class = KrakenClient if is_async else SyncKrakenClient
        client = client_class(url, credentials=credentials, http_client=http, **options)
        return cls(kind, url, client=client, http=http)

    @property
    def is_async(self) -> bool:
        return self.kind in ("async", "raw-async")

    def _call_now(self) -> Any:
        """One viewer call (a coroutine when async): the GetViewer model from our clients, the
        httpx.Response from a raw client."""
        if self.client is not None:
            return self.client.get_viewer()
        assert self.http is not None
        return self.http.post(self.url, json=VIEWER_BODY)

    async def call(self) -> Any:
        return await self.run(self._call_now)

    async def concurrently(self, count: int) -> list[Any]:
        """`count` viewer calls at once: each one's result, or the exception it raised."""
        if self.is_async:
            calls = asyncio.gather(
                *(self._call_now() for _ in range(count)), return_exceptions=True
            )
            return list(await asyncio.wait_for(calls, STUCK_AFTER))
        return in_threads(count, self._call_now)

    async def execute(self, query: str, operation_name: str | None) -> Any:
        """The base clients' public execute(): what every generated method calls."""
        assert self.client is not None
        client = self.client
        return await self.run(lambda: client.execute(query, operation_name, {}))

    async def run(self, call: Callable[[], Any]) -> Any:
        """`call()`, awaited if async, in a daemon thread if blocking; raises what it raised."""
        if self.is_async:
            return await asyncio.wait_for(call(), STUCK_AFTER)
        (outcome,) = in_threads(1, call)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    async def post_with_its_auth(self, url: str) -> httpx.Response:
        """POST the viewer query to `url` through this caller's KrakenAuth: the raw client's,
        or our client's own (`client.auth`, in a raw httpx client of the same kind)."""
        if self.client is None:
            assert self.http is not None
            http = self.http
            return await self.run(lambda: http.post(url, json=VIEWER_BODY))
        http_class = httpx.AsyncClient if self.is_async else httpx.Client
        borrower = Caller(
            self.kind, url, http=http_class(auth=self.client.auth, timeout=RAW_TIMEOUT)
        )
        try:
            return await borrower.run(lambda: borrower.http.post(url, json=VIEWER_BODY))
        finally:
            await borrower.close()

    async def close(self) -> None:
        if isinstance(self.client, KrakenClient):
            await self.client.aclose()
        elif self.client is not None:
            self.client.close()
        if isinstance(self.http, httpx.AsyncClient):
            await self.http.aclose()
        elif self.http is not None:
            self.http.close()


def _read(request: httpx.Request) -> None:
    request.read()


async def _aread(request: httpx.Request) -> None:
    await request.aread()


def viewer_email(result: Any) -> str:
    """The viewer's email from a call's result: a GetViewer model, or a raw httpx.Response."""
    if isinstance(result, httpx.Response):
        assert result.status_code == 200, (result.status_code, result.text[:200])
        return str(result.json()["data"]["viewer"]["email"])
    return str(result.viewer.email)


def in_threads(count: int, call: Callable[[], Any]) -> list[Any]:
    """`call` in `count` daemon threads released together: each one's result, or the exception
    it raised."""
    outcomes = run_in_threads(count, call, limit=STUCK_AFTER)
    return [result if error is None else error for result, error in outcomes]
