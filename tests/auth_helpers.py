"""The suite's fake Kraken, its clock, and the drivers that run one test on both clients.

- `FakeClock`: the time the client sees (its `clock=` keyword); tests move it by hand.
- `FakeKraken`: the one scripted Kraken endpoint of the suite. It answers by GraphQL operation
  name, issues real JWTs (with an `exp` claim from its clock) and records every request, so a
  test can count token requests and data requests exactly. It serves behind pytest-httpx
  (`handle`, `ahandle`), an httpx.MockTransport (`handle`), or a real loopback socket
  (`over_socket`, the answer of a `hostile_server.HostileServer`).
- `Driver`: runs the same test body against `KrakenClient` (awaiting) and `SyncKrakenClient`
  (calling directly, or from threads for concurrency).

Every secret here is a distinctive string, so the secrets test can look for it anywhere.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import threading
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import httpx
import jwt
from hostile_server import Request

from oeus_kraken import (
    APIKey,
    EmailPassword,
    FileTokenStore,
    KrakenClient,
    OrganizationSecretKey,
    RefreshToken,
    StoredTokens,
    SyncKrakenClient,
)

URL = "https://kraken.example.test/v1/graphql/"
START = 1_750_000_000.0  # the fake clock's first reading (Unix seconds)
TOKEN_LIFETIME = 3600  # what Kraken gives an access token (exp - iat)
MARGIN = 300  # the refresh_margin the tests give their clients
REFRESH_LIFETIME = 7 * 86400

# Distinctive secrets: if one of these strings turns up in a log or a repr, it leaked.
ORG_KEY = "sk_live_ORGSECRET-d41c9f0e7b"
API_KEY_VALUE = "APIKEYSECRET-5e8a21c7"
EMAIL = "ada@example.com"  # not a secret
PASSWORD = "PASSWORDSECRET-93b1f6"
REFRESH_TOKEN_VALUE = "REFRESHSECRET-given-0a7c"

CREDENTIALS = {
    "organization_secret_key": OrganizationSecretKey(ORG_KEY),
    "api_key": APIKey(API_KEY_VALUE),
    "email_password": EmailPassword(EMAIL, PASSWORD),
    "refresh_token": RefreshToken(REFRESH_TOKEN_VALUE),
}
# What each credential puts in the `input` variable of the token request.
TOKEN_INPUTS = {
    "organization_secret_key": {"organizationSecretKey": ORG_KEY},
    "api_key": {"APIKey": API_KEY_VALUE},
    "email_password": {"email": EMAIL, "password": PASSWORD},
    "refresh_token": {"refreshToken": REFRESH_TOKEN_VALUE},
}

# Signs the fake server's JWTs. The client never checks signatures (it cannot: the key is
# Kraken's), so any key works; long enough that PyJWT does not warn.
SIGNING_KEY = "oeus-kraken-test-suite-signing-key-0123456789"

OBTAIN = "getKrakenToken"
REFRESH = "refreshKrakenToken"
TOKEN_OPERATIONS = (OBTAIN, REFRESH)

VIEWER_DATA: dict[str, Any] = {
    "viewer": {
        "id": "1",
        "givenName": "Ada",
        "familyName": "Lovelace",
        "email": EMAIL,
        "accounts": [
            {"__typename": "AccountType", "number": "A-1234ABCD", "status": "ACTIVE", "balance": 0}
        ],
    }
}
PRODUCTS_DATA: dict[str, Any] = {
    "products": [
        {
            "id": "101",
            "code": "FREE-NIGHTS-12M",
            "displayName": "Free Nights",
            "fullName": "Free Nights 12",
            "description": "Free electricity at night",
            "term": 12,
            "prepay": False,
            "basedOnTimeOfUse": True,
            "isWholesale": False,
            "availableFrom": "2024-01-01T00:00:00+00:00",
            "availableTo": None,
            "generationCredit": None,
        }
    ]
}
PRODUCTS_WITH_RATES_DATA: dict[str, Any] = {
    "productsWithConciseApplicableRates": [
        {
            "id": "101",
            "displayName": "Free Nights",
            "fullName": "Free Nights 12",
            "description": None,
            "term": 12,
            "prepay": False,
            "rates": [
                {
                    "serviceProvider": "ONCOR",
                    "loadZone": "LZ_NORTH",
                    "kwhUsage": "1000",
                    "totalApplicableRate": "15.2",
                    "totalApplicableRateWithMonthlySubscriptionFees": "16.1",
                    "serviceProviderConsumptionRate": "4.5",
                    "serviceProviderStandingRate": "3.42",
                    "loadZoneConsumptionRate": "9.1",
                }
            ],
        }
    ]
}
TDSP_DATA: dict[str, Any] = {
    "tdspByPostalcode": [{"serviceProvider": "ONCOR", "loadZone": "LZ_NORTH"}]
}
DEFAULT_DATA: dict[str, dict[str, Any]] = {
    "getViewer": VIEWER_DATA,
    "getProducts": PRODUCTS_DATA,
    "getProductsWithRates": PRODUCTS_WITH_RATES_DATA,
    "getTdspByPostalCode": TDSP_DATA,
}


class FakeClock:
    """A clock the test moves by hand: `clock()` reads it, `clock.advance(s)` moves it."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_jwt(*, iat: float, exp: float, serial: int) -> str:
    claims = {
        "sub": "kraken|account-user:1234",
        "gty": "API-KEY",
        "tokenUse": "access",
        "iss": "https://api.oeus-kraken.energy/v1/graphql/",
        "iat": int(iat),
        "exp": int(exp),
        "origIat": int(iat),
        "serial": serial,  # makes every token distinct
    }
    return jwt.encode(claims, SIGNING_KEY, algorithm="HS256")


# HS256 wants a key of at least 32 bytes (PyJWT warns otherwise, and warnings are errors here).
# The client never verifies signatures, so any key will do.
FAKE_JWT_KEY = "oeus-kraken-tests-fake-signing-key-0123456789"


def make_kraken_jwt(*, expires_in: float = 3600, now: float | None = None, **claims: Any) -> str:
    """A JWT shaped like a Kraken token (signed with a test key, which the client never checks)."""
    issued_at = int(time.time() if now is None else now)
    payload = {
        "sub": "kraken|account-user:1",
        "gty": "EMAIL-AND-PASSWORD",
        "iss": "https://api.oeus-kraken.energy/v1/graphql/",
        "iat": issued_at,
        "exp": int(issued_at + expires_in),
        **claims,
    }
    return jwt.encode(payload, FAKE_JWT_KEY, algorithm="HS256")


def token_response(
    token: str | None = None,
    *,
    refresh_token: str | None = "fake-refresh-token",
    refresh_expires_in: float = 7 * 24 * 3600,
    now: float | None = None,
) -> dict[str, Any]:
    """The JSON body of an `obtainKrakenToken` answer (for getKrakenToken/refreshKrakenToken).

    `refresh_expires_in` is how long the refresh token lives from `now`: the API's
    `refreshExpiresIn` is the resulting absolute Unix time.
    """
    now = time.time() if now is None else now
    token = token or make_kraken_jwt(now=now)
    payload = jwt.decode(token, options={"verify_signature": False})
    return {
        "data": {
            "obtainKrakenToken": {
                "token": token,
                "payload": payload,
                "refreshToken": refresh_token,
                "refreshExpiresIn": int(now + refresh_expires_in),
            }
        }
    }


# -- answers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """One request the fake server received, as it was sent (a resent request is the same,
    mutated object: this is a copy)."""

    method: str
    url: str
    headers: httpx.Headers  # (httpx's repr masks Authorization)
    # Out of the repr, which a failing assertion prints: they hold the token and the credential.
    header_items: tuple[tuple[str, str], ...] = field(repr=False)  # in the order sent
    content: bytes = field(repr=False)
    timeout: Any = None  # the request's timeout extension

    @classmethod
    def of(cls, request: httpx.Request) -> Sent:
        return cls(
            request.method,
            str(request.url),
            httpx.Headers(request.headers),
            tuple(request.headers.multi_items()),
            request.content,
            request.extensions.get("timeout"),
        )

    @property
    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.content)
        except ValueError:
            return {}
        return body if isinstance(body, dict) else {}

    @property
    def operation(self) -> str | None:
        name = self.body.get("operationName")
        return str(name) if name is not None else None

    operation_name = operation

    @property
    def query(self) -> str:
        return str(self.body.get("query", ""))

    @property
    def variables(self) -> dict[str, Any] | None:
        return self.body.get("variables")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")

    @property
    def is_token_request(self) -> bool:
        return self.operation in TOKEN_OPERATIONS


@dataclass(frozen=True)
class Delayed:
    """Answer `response` after `seconds` (asyncio.sleep for the async client, time.sleep for
    the sync one), so that concurrent calls really overlap."""

    seconds: float
    response: httpx.Response


Answer = Union[httpx.Response, Delayed, Awaitable[httpx.Response]]  # noqa: UP007 (runtime alias on 3.10)
Reply = Callable[[Sent], Answer]


def json_response(
    body: object, *, status: int = 200, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def data_response(data: dict[str, Any]) -> httpx.Response:
    return json_response({"data": data})


def error_response(
    code: str,
    *,
    message: str = "Kraken said no.",
    error_type: str = "AUTHORIZATION",
    data: dict[str, Any] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """A GraphQL error answer as Kraken sends it: HTTP 200, the KT-CT code in extensions."""
    error = {
        "message": message,
        "locations": [{"line": 2, "column": 3}],
        "path": ["obtainKrakenToken"],
        "extensions": {
            "errorType": error_type,
            "errorCode": code,
            "errorDescription": message,
        },
    }
    return json_response({"data": data, "errors": [error]}, status=status, headers=headers)


def error_reply(code: str, **options: Any) -> Reply:
    return lambda _sent: error_response(code, **options)


def response_reply(response: httpx.Response) -> Reply:
    return lambda _sent: response


# A reply that never answers (over a socket: the connection stays open, silent).
NEVER = httpx.Response(599, text="never answered")


class FakeKraken:
    """A scripted Kraken GraphQL endpoint.

    Each operation answers from its queue (`queue`) while it has entries, then with its default
    (`set_default`, or `answer`): token operations issue a fresh token, data operations return
    sample data (DEFAULT_DATA), and any other operation `data_reply` if set. While `down`,
    every request is answered HTTP 502. `strict`: no defaults at all, and a request nothing was
    scripted for fails the test.
    """

    def __init__(self, clock: Callable[[], float], *, strict: bool = False) -> None:
        self.clock = clock
        self.sent: list[Sent] = []
        self.issued_tokens: list[str] = []
        self.issued_refresh_tokens: list[str] = []
        # What the next issued token says: overridable per test.
        self.token_lifetime: float = TOKEN_LIFETIME
        self.refresh_lifetime: float | None = REFRESH_LIFETIME
        self.strict = strict
        self.down = False
        self.data_reply: Reply | None = None
        self._queues: dict[str, deque[Reply]] = defaultdict(deque)
        self._defaults: dict[str, Reply] = (
            {} if strict else {OBTAIN: self.issue_token, REFRESH: self.issue_token}
        )
        self._answers: dict[str, list[tuple[int, Any]]] = {}
        self._lock = threading.Lock()

    # -- scripting -------------------------------------------------------------------------

    def queue(self, operation: str, *replies: Reply) -> None:
        """Answer the next requests for `operation` with `replies`, in order."""
        self._queues[operation].extend(replies)

    def set_default(self, operation: str, reply: Reply) -> None:
        self._defaults[operation] = reply

    def answer(self, operation: str, body: Any, *, status_code: int = 200) -> None:
        """Answer `operation` with the JSON `body`: the bodies given for one operation are used
        in order, and the last one for every request after that."""
        answers = self._answers.setdefault(operation, [])
        answers.append((status_code, body))

        def in_order(_sent: Sent) -> httpx.Response:
            with self._lock:
                status, next_body = answers.pop(0) if len(answers) > 1 else answers[0]
            return json_response(next_body, status=status)

        self._defaults[operation] = in_order

    def answer_token(self, **options: Any) -> str:
        """Answer getKrakenToken with one token (a JWT on real time, as `token_response` makes
        it); returns the token, so a test can check that later requests carry it."""
        body = token_response(**options)
        self.answer(OBTAIN, body)
        return str(body["data"]["obtainKrakenToken"]["token"])

    def issue_token(self, _sent: Sent | None = None) -> httpx.Response:
        """A successful token answer: a fresh JWT, its claims as `payload`, a refresh token."""
        return data_response({"obtainKrakenToken": self.new_token()})

    def new_token(
        self,
        *,
        lifetime: float | None = None,
        token: str | None = None,
        payload: Any = ...,  # default: the token's claims
        refresh_expires_in: Any = ...,  # default: now + refresh_lifetime
    ) -> dict[str, Any]:
        """The `obtainKrakenToken` object for a newly issued token, recorded as issued."""
        now = self.clock()
        with self._lock:
            serial = len(self.issued_tokens) + 1
            exp = now + (self.token_lifetime if lifetime is None else lifetime)
            value = token or make_jwt(iat=now, exp=exp, serial=serial)
            refresh = f"REFRESHSECRET-issued-{serial:03d}"
            self.issued_tokens.append(value)
            self.issued_refresh_tokens.append(refresh)
        if payload is ...:
            payload = jwt.decode(value, options={"verify_signature": False})
        if refresh_expires_in is ...:
            refresh_expires_in = (
                None if self.refresh_lifetime is None else now + self.refresh_lifetime
            )
        return {
            "token": value,
            "payload": payload,
            "refreshToken": refresh,
            "refreshExpiresIn": None if refresh_expires_in is None else int(refresh_expires_in),
        }

    # -- what was sent ---------------------------------------------------------------------

    def requests(self, *operations: str) -> list[Sent]:
        """Requests received, all or only those for `operations`."""
        return [s for s in self.sent if not operations or s.operation in operations]

    @property
    def token_requests(self) -> list[Sent]:
        return [s for s in self.sent if s.is_token_request]

    @property
    def data_requests(self) -> list[Sent]:
        return [s for s in self.sent if not s.is_token_request]

    # -- pytest-httpx callbacks ------------------------------------------------------------

    def _receive(self, request: httpx.Request) -> tuple[Sent, Reply]:
        sent = Sent.of(request)
        operation = sent.operation or ""
        with self._lock:
            self.sent.append(sent)
            queue = self._queues[operation]
            reply = queue.popleft() if queue else self._defaults.get(operation)
        if self.down:
            return sent, response_reply(httpx.Response(502, html=BAD_GATEWAY_PAGE))
        if reply is None and self.strict:
            raise AssertionError(f"fake Kraken: nothing scripted for operation {operation!r}")
        if reply is None and not sent.is_token_request and self.data_reply is not None:
            reply = self.data_reply
        if reply is None:
            data = DEFAULT_DATA.get(operation)
            if data is None:
                return sent, response_reply(httpx.Response(599, text=f"unscripted {sent}"))
            reply = response_reply(data_response(data))
        return sent, reply

    def handle(self, request: httpx.Request) -> httpx.Response:
        sent, reply = self._receive(request)
        answer = reply(sent)
        if isinstance(answer, Delayed):
            time.sleep(answer.seconds)
            answer = answer.response
        assert isinstance(answer, httpx.Response), "an async reply given to the sync client"
        return answer

    async def ahandle(self, request: httpx.Request) -> httpx.Response:
        sent, reply = self._receive(request)
        answer = reply(sent)
        if isinstance(answer, Delayed):
            await asyncio.sleep(answer.seconds)
            answer = answer.response
        if inspect.isawaitable(answer):
            answer = await answer
        return answer

    def over_socket(self, request: Request) -> list[tuple[bytes, float]]:
        """The answer of a `hostile_server.HostileServer`: this Kraken on a real socket, each
        reply sent as raw HTTP/1.1 (NEVER: nothing at all)."""
        host = request.headers.get("host", "kraken.invalid")
        answer = self.handle(
            httpx.Request(
                request.method,
                f"http://{host}{request.path}",
                # (As the bytes received: a value beyond ASCII is no text httpx encodes.)
                headers={name: value.encode("latin-1") for name, value in request.headers.items()},
                content=request.body,
            )
        )
        return [] if answer is NEVER else [(raw_http(answer), 0.0)]


BAD_GATEWAY_PAGE = "<html><head><title>502 Bad Gateway</title></head><body>502</body></html>"


def raw_http(response: httpx.Response) -> bytes:
    """`response` as the bytes of an HTTP/1.1 answer."""
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}"]
    headers = httpx.Headers(response.headers)
    headers["content-length"] = str(len(response.content))
    headers.pop("transfer-encoding", None)
    lines += [f"{name}: {value}" for name, value in headers.multi_items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.content


def meeting_point(kind: str, parties: int, then: Reply, *, timeout: float = 1.0) -> Reply:
    """A reply that answers only once `parties` requests are in flight at the same time, then
    answers each with `then`. If they never are (the client serialises requests), it gives up
    after `timeout` and answers HTTP 500, so the test fails instead of hanging."""
    too_late = httpx.Response(500, text="the requests did not overlap: the client serialised them")
    if kind == "async":
        arrived = 0
        everyone: asyncio.Event | None = None

        async def async_reply(sent: Sent) -> httpx.Response:
            nonlocal arrived, everyone
            if everyone is None:
                everyone = asyncio.Event()
            arrived += 1
            if arrived >= parties:
                everyone.set()
            try:
                await asyncio.wait_for(everyone.wait(), timeout)
            except asyncio.TimeoutError:
                return too_late
            answer = then(sent)
            assert isinstance(answer, httpx.Response)
            return answer

        return async_reply

    barrier = threading.Barrier(parties, timeout=timeout)

    def sync_reply(sent: Sent) -> httpx.Response:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return too_late
        answer = then(sent)
        assert isinstance(answer, httpx.Response)
        return answer

    return sync_reply


# -- running one test against both clients ---------------------------------------------------


# A call that takes longer than this is stuck (a deadlock in the client): the test fails instead
# of hanging. A timeout, not a sleep: passing tests never wait for it.
STUCK_AFTER = 5.0


def run_in_threads(
    count: int, call: Callable[[], Any], *, limit: float = STUCK_AFTER
) -> list[tuple[Any, BaseException | None]]:
    """Run `call` in `count` daemon threads released together; (result, exception) for each.
    Daemon threads, so that a deadlocked call fails the test (after `limit` seconds) and does
    not hang pytest's exit."""
    start = threading.Barrier(count, timeout=limit)
    outcomes: list[tuple[Any, BaseException | None]] = [(None, None)] * count

    def one(i: int) -> None:
        try:
            start.wait()
            outcomes[i] = (call(), None)
        except BaseException as exc:  # handed to the test thread
            outcomes[i] = (None, exc)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + limit
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in threads)
    assert not stuck, f"{stuck} of {count} calls did not finish within {limit} s (deadlock?)"
    return outcomes


@dataclass
class Driver:
    """One client under test, whichever kind, driven the same way."""

    kind: str  # "async" or "sync"
    client: KrakenClient | SyncKrakenClient
    server: FakeKraken

    async def call(self, method: str = "get_viewer", *args: Any, **kwargs: Any) -> Any:
        """Call an operation method: awaited on the async client, in a thread on the sync one
        (so that a stuck call fails the test instead of hanging it)."""
        if self.kind == "async":
            call = getattr(self.client, method)(*args, **kwargs)
            return await asyncio.wait_for(call, STUCK_AFTER)
        ((result, error),) = run_in_threads(
            1, lambda: getattr(self.client, method)(*args, **kwargs)
        )
        if error is not None:
            raise error
        return result

    async def concurrently(
        self, count: int, method: str = "get_viewer", *, return_exceptions: bool = False
    ) -> list[Any]:
        """`count` calls at once: asyncio tasks on the async client, threads on the sync one.
        Returns their results; raises the first exception unless `return_exceptions`."""
        if self.kind == "async":
            calls = (self.call(method) for _ in range(count))
            return list(await asyncio.gather(*calls, return_exceptions=return_exceptions))
        outcomes = run_in_threads(count, getattr(self.client, method))
        if not return_exceptions:
            for _, error in outcomes:
                if error is not None:
                    raise error
        return [error if error is not None else result for result, error in outcomes]

    async def close(self) -> None:
        if isinstance(self.client, KrakenClient):
            await self.client.aclose()
        else:
            self.client.close()


# -- faults and secrets (tests/test_faults.py, tests/test_token_store.py) ----------------------


class Raising:
    """A reply that raises an httpx transport error instead of answering, as pytest-httpx's
    `add_exception` does (a refused connection, a reset, a timeout). Keeps every exception it
    raised, so a test can check that the client's error was raised `from` it."""

    def __init__(self, error: type[httpx.TransportError], message: str) -> None:
        self.error = error
        self.message = message
        self.raised: list[httpx.TransportError] = []

    def __call__(self, _sent: Sent) -> httpx.Response:
        exc = self.error(self.message)
        self.raised.append(exc)
        raise exc


# Every secret a FakeKraken test can involve besides the tokens the server issues.
CREDENTIAL_SECRETS = (ORG_KEY, API_KEY_VALUE, PASSWORD, REFRESH_TOKEN_VALUE)


def secrets_of(server: FakeKraken) -> list[str]:
    """The credentials, and every access token (and its JWT signature) and refresh token the
    server has issued so far."""
    return [
        *CREDENTIAL_SECRETS,
        *server.issued_tokens,
        *(token.rsplit(".", 1)[-1] for token in server.issued_tokens),
        *server.issued_refresh_tokens,
    ]


def leaked_secrets(
    records: list[logging.LogRecord], secrets: list[str], *texts: str
) -> list[tuple[str, str]]:
    """(secret, where) for each secret found in a log record (message, arguments, traceback)
    or in one of `texts` (error messages and reprs). Empty if nothing leaked."""
    places = {f"text {i}": text for i, text in enumerate(texts)}
    for i, record in enumerate(records):
        where = f"log record {i} ({record.name} {record.levelname})"
        places[where] = record.getMessage()
        places[f"{where} args"] = repr(record.args)
        if record.exc_info:
            places[f"{where} traceback"] = logging.Formatter().formatException(record.exc_info)
    return [
        (secret, where) for secret in secrets for where, text in places.items() if secret in text
    ]


# -- the clients' waits between attempts ------------------------------------------------------


class Waits:
    """The client's waits between attempts, recorded instead of slept. Each returns at once and
    moves the fake clock on by its length, as if the waits happened one after another."""

    def __init__(self, clock: Callable[[], float] | Any) -> None:
        self.clock = clock
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def _waited(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)
            self.clock.advance(seconds)

    def sleep(self, seconds: float) -> None:
        self._waited(seconds)

    async def asleep(self, seconds: float) -> None:
        self._waited(seconds)
        await _real_asyncio_sleep(0)  # still a suspension point, as a real sleep is


_real_asyncio_sleep = asyncio.sleep


def record_waits(monkeypatch: Any, clock: Any) -> Waits:
    """Replace the sleeps the clients make between attempts (and only those)."""
    import oeus_kraken._steps

    recorded = Waits(clock)
    monkeypatch.setattr(oeus_kraken._steps, "sleep", recorded.sleep)
    monkeypatch.setattr(oeus_kraken._steps, "asleep", recorded.asleep)
    return recorded


class SavesHeldBack:
    """A FileTokenStore whose saves wait, while `holding`, until `release()`: the saves of a
    process that is slower to write than another is to read."""

    def __init__(self, path: Path) -> None:
        self.store = FileTokenStore(path)
        self.holding = False
        self._held: list[tuple[str, StoredTokens | None]] = []

    def load(self, key: str) -> StoredTokens | None:
        return self.store.load(key)

    def save(self, key: str, tokens: StoredTokens | None) -> None:
        if self.holding:
            self._held.append((key, tokens))
        else:
            self.store.save(key, tokens)

    def release(self) -> None:
        self.holding = False
        for key, tokens in self._held:
            self.store.save(key, tokens)
